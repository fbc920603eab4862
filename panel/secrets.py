"""Target bot tokens, encrypted at rest under SECRET_KEY (Fernet, from `cryptography`).

A stored token is `fernet:` and a Fernet token: AES-128-CBC with an HMAC-SHA256 over it, so a
copied backup leaks nothing and a tampered row is refused rather than misread. SECRET_KEY holds
one key or several, comma-separated: the first encrypts, every one decrypts, so a new key goes
first and `broadcast secrets rotate` re-encrypts every row under it before the old one is dropped.

A token is decrypted only where a call to Telegram needs it (the workers' senders, the control
bot's test send and channel check, the CLI's getMe); nothing else reads it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from panel.settings import Settings

SEALED_PREFIX = "fernet:"


class TokenError(Exception):
    """A stored token cannot be opened with SECRET_KEY's keys; the text says why, never the token."""


class TokenBox:
    """Seals and opens bot tokens with an ordered set of Fernet keys (the first one writes)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("a TokenBox needs at least one key")
        self._fernets = [Fernet(key.encode("ascii")) for key in keys]
        self._multi = MultiFernet(self._fernets)

    def seal(self, token: str) -> str:
        """The form a token is stored in."""
        return SEALED_PREFIX + self._multi.encrypt(token.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        """The token a stored value holds; `TokenError` when no key opens it."""
        if not is_sealed(sealed):
            raise TokenError(
                "a target bot's token is stored unencrypted; run `broadcast db upgrade` with SECRET_KEY set"
            )
        try:
            return self._multi.decrypt(sealed.removeprefix(SEALED_PREFIX).encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise TokenError(
                "a target bot's token cannot be decrypted with SECRET_KEY's keys"
                " (written under another key, or altered)"
            ) from None

    def is_current(self, sealed: str) -> bool:
        """Whether the writing key opens `sealed` (no rotation needed)."""
        if not is_sealed(sealed):
            return False
        try:
            self._fernets[0].decrypt(sealed.removeprefix(SEALED_PREFIX).encode("ascii"))
        except InvalidToken:
            return False
        return True

    def reseal(self, sealed: str) -> str:
        """`sealed` re-encrypted under the writing key (a plaintext legacy value is sealed)."""
        return self.seal(self.open(sealed) if is_sealed(sealed) else sealed)


def is_sealed(value: str) -> bool:
    """Whether a stored value is an encrypted token (not a legacy plaintext one)."""
    return value.startswith(SEALED_PREFIX)


@functools.lru_cache(maxsize=8)
def _box(keys: tuple[str, ...]) -> TokenBox:
    return TokenBox(keys)


def token_box(settings: Settings) -> TokenBox:
    """The box of SECRET_KEY's keys (`SettingsError` naming SECRET_KEY when it is missing)."""
    return _box(settings.require_secret_keys())


def seal_token(settings: Settings, token: str) -> str:
    """A token as it is stored."""
    return token_box(settings).seal(token)


def open_token(settings: Settings, sealed: str) -> str:
    """A stored token, decrypted for a call to Telegram."""
    return token_box(settings).open(sealed)


def generate_key() -> str:
    """A new random key for SECRET_KEY."""
    return Fernet.generate_key().decode("ascii")
