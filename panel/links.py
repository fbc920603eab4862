"""Tracked links: per-recipient redirect links in place of a campaign's URL buttons and text links.

A tracked link is `LINKS_BASE_URL/c/<token>`. The token names (campaign id, chat id, link
index) and authenticates them, so the link service needs no row per link and no database read
to tell a real link from a forged one:

    token = base64url(tag ‖ payload ⊕ HMAC(k_enc, tag)[:len(payload)])
    tag   = HMAC-SHA256(k_mac, payload)[:12]          (96 bits)
    payload = varint(campaign id) ‖ varint(zigzag(chat id)) ‖ varint(link index)

`k_mac` and `k_enc` are derived from `Settings.derived_key("links")`. The construction is a
deterministic authenticated encryption (SIV with HMAC as the PRF): the token is opaque (a
recipient's chat id cannot be read out of a link they forward) and any change to it fails the
tag. A typical token is 28 characters.

Link indexes: the URL buttons, row by row, left to right, get 0, 1, 2...; then every distinct
http(s) target of the text's links (`text_link` and `url` entities), in order of first
appearance. `link_targets` lists them; the workers keep that list in `link_targets` (a table
that outlives the campaign) before the first send, and the link service reads it from there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from panel.buttons import Buttons
from panel.content import unsubscribe_rows
from panel.settings import Settings

TAG_BYTES = 12
"""The tag is HMAC-SHA256 truncated to 96 bits: a forger's chance per try is 2**-96."""
MAX_PAYLOAD_BYTES = 10 + 10 + 5
"""Two 64-bit varints and a 32-bit one."""
TRACKED_SCHEMES = ("http://", "https://")
"""Only web links go through the tracker (a tg:// link opens in the app, not in a browser)."""
LINK_PATH = "/c/"
_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class LinkRef:
    """What one tracked link stands for: a link of a campaign as one recipient got it."""

    campaign_id: int
    chat_id: int
    link_index: int


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """One tracked link of a campaign: where it leads, and the button's label (None: a text link)."""

    link_index: int
    url: str
    label: str | None = None


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varints(data: bytes, count: int) -> list[int] | None:
    """Exactly `count` canonical varints filling `data`, or None."""
    values: list[int] = []
    position = 0
    for _ in range(count):
        value = shift = 0
        while True:
            if position >= len(data) or shift > 63:
                return None
            byte = data[position]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                if byte == 0 and shift > 7:  # a padded varint: not what `_varint` writes
                    return None
                break
        values.append(value)
    return values if position == len(data) else None


def _xor(data: bytes, mask: bytes) -> bytes:
    return (int.from_bytes(data, "little") ^ int.from_bytes(mask, "little")).to_bytes(len(data), "little")


def _zigzag(value: int) -> int:
    return value * 2 if value >= 0 else -value * 2 - 1


def _unzigzag(value: int) -> int:
    return value // 2 if value % 2 == 0 else -(value + 1) // 2


class LinkSigner:
    """Makes and checks tracked-link tokens under one 32-byte key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("a link signing key has at least 32 bytes")
        self._mac_key = hmac.digest(key, b"tag", hashlib.sha256)
        self._enc_key = hmac.digest(key, b"mask", hashlib.sha256)

    # `hmac.digest` is the one-shot C path: a few times faster than `hmac.new(...).digest()`.
    def _tag(self, payload: bytes) -> bytes:
        return hmac.digest(self._mac_key, payload, "sha256")[:TAG_BYTES]

    def _mask(self, tag: bytes, size: int) -> bytes:
        return hmac.digest(self._enc_key, tag, "sha256")[:size]

    def token(self, ref: LinkRef) -> str:
        """The url-safe token of `ref` (no padding)."""
        if ref.campaign_id < 0 or ref.link_index < 0:
            raise ValueError("campaign ids and link indexes are not negative")
        payload = _varint(ref.campaign_id) + _varint(_zigzag(ref.chat_id)) + _varint(ref.link_index)
        tag = self._tag(payload)
        hidden = _xor(payload, self._mask(tag, len(payload)))
        return base64.urlsafe_b64encode(tag + hidden).rstrip(b"=").decode("ascii")

    def verify(self, token: str) -> LinkRef | None:
        """What `token` stands for, or None when it is not one of ours (forged, mangled, cut)."""
        if not 0 < len(token) <= 2 * (TAG_BYTES + MAX_PAYLOAD_BYTES) or not _B64_ALPHABET.issuperset(token):
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            return None
        if len(raw) <= TAG_BYTES + 2 or len(raw) > TAG_BYTES + MAX_PAYLOAD_BYTES:
            return None
        if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
            return None  # stray bits in the last character: not a token we wrote
        tag, hidden = raw[:TAG_BYTES], raw[TAG_BYTES:]
        payload = _xor(hidden, self._mask(tag, len(hidden)))
        if not hmac.compare_digest(tag, self._tag(payload)):
            return None
        values = _read_varints(payload, 3)
        if values is None:
            return None
        campaign_id, chat_id, link_index = values
        return LinkRef(campaign_id, _unzigzag(chat_id), link_index)


def signer_for(settings: Settings) -> LinkSigner:
    """The signer of this deployment's links (its key derived from SECRET_KEY)."""
    return LinkSigner(settings.derived_key("links"))


def tracking_on(track_links: bool | None, settings: Settings) -> bool:
    """Whether a campaign's links go through the tracker: its own choice (None: on) when
    LINKS_BASE_URL is set; never without it."""
    return settings.links_base_url is not None and track_links is not False


def is_tracked_url(url: str) -> bool:
    """Whether a link is one the tracker redirects to (http or https)."""
    return url.lower().startswith(TRACKED_SCHEMES)


def _utf16_slice(text: str, offset: int, length: int) -> str:
    units = text.encode("utf-16-le")
    return units[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")


def entity_target(entity: Mapping[str, Any], text: str) -> str | None:
    """Where a `text_link` or `url` entity leads (a bare `example.com` reads as http://), if a
    web link; None for any other entity."""
    kind = entity.get("type")
    if kind == "text_link":
        url = str(entity.get("url") or "")
    elif kind == "url":
        url = _utf16_slice(text, int(entity.get("offset", 0)), int(entity.get("length", 0))).strip()
        if "://" not in url:
            url = "http://" + url
    else:
        return None
    return url if is_tracked_url(url) else None


def _text_of(content: Mapping[str, Any]) -> tuple[str, list[Mapping[str, Any]]]:
    """The text and entities of the message that carries the text links (a channel post: none)."""
    if isinstance(content.get("channel_post"), dict):
        return "", []
    return str(content.get("text") or ""), [
        e for e in content.get("entities") or () if isinstance(e, Mapping)
    ]


def link_targets(content: Mapping[str, Any], *, first_index: int = 0) -> list[LinkTarget]:
    """Every tracked link of a stored message (`MessageContent.to_json()`) by its index, counted
    from `first_index` (an A/B test's variants each have their own range)."""
    found: list[LinkTarget] = []
    for row in Buttons.from_json(content.get("buttons")).rows:
        for button in row:
            found.append(LinkTarget(first_index + len(found), button.url, button.label))
    text, entities = _text_of(content)
    seen: set[str] = set()
    for entity in entities:
        url = entity_target(entity, text)
        if url is not None and url not in seen:
            seen.add(url)
            found.append(LinkTarget(first_index + len(found), url, None))
    return found


def has_links(content: Mapping[str, Any]) -> bool:
    """Whether a stored message has anything to track."""
    return any(is_tracked_url(target.url) for target in link_targets(content))


class TrackedLinks:
    """One campaign's links rewritten per recipient, for the senders (built once per batch)."""

    def __init__(
        self,
        content: Mapping[str, Any],
        *,
        campaign_id: int,
        base_url: str,
        signer: LinkSigner,
        first_index: int = 0,
    ) -> None:
        self.campaign_id = campaign_id
        self._prefix = base_url.rstrip("/") + LINK_PATH
        self._signer = signer
        targets = link_targets(content, first_index=first_index)
        buttons = Buttons.from_json(content.get("buttons"))
        self._rows: list[list[tuple[str, str, int | None]]] = []
        index = first_index
        for row in buttons.rows:
            own: list[tuple[str, str, int | None]] = []
            for button in row:
                own.append((button.label, button.url, index if is_tracked_url(button.url) else None))
                index += 1
            self._rows.append(own)
        self._text_index = {target.url: target.link_index for target in targets[index - first_index :]}
        self._tail = unsubscribe_rows(content)
        """The unsubscribe button's row (opt-outs by topic), under the URL buttons as it is."""
        text, entities = _text_of(content)
        self.first_text_target = next(
            (url for url in (entity_target(e, text) for e in entities) if url is not None), None
        )
        """The first web link of the text: the link preview shows it, not the tracker."""

    @property
    def has_buttons(self) -> bool:
        return bool(self._rows)

    @property
    def has_text_links(self) -> bool:
        return bool(self._text_index)

    def url(self, chat_id: int, link_index: int) -> str:
        """The tracked link of `link_index` for one recipient."""
        return self._prefix + self._signer.token(LinkRef(self.campaign_id, chat_id, link_index))

    def reply_markup(self, chat_id: int) -> dict[str, Any]:
        """The URL buttons for one recipient: web links through the tracker, others as they are."""
        return {
            "inline_keyboard": [
                [
                    {"text": label, "url": url if index is None else self.url(chat_id, index)}
                    for label, url, index in row
                ]
                for row in self._rows
            ]
            + self._tail
        }

    def entities(
        self, chat_id: int, text: str, entities: Iterable[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """`entities` of `text` (as this recipient gets it) with web links through the tracker: a
        `text_link` keeps its words, a `url` becomes a `text_link` that shows the same address."""
        out: list[dict[str, Any]] = []
        for entity in entities:
            url = entity_target(entity, text)
            index = self._text_index.get(url) if url is not None else None
            if index is None:
                out.append(dict(entity))
                continue
            own = {key: value for key, value in entity.items() if key != "url"}
            own["type"] = "text_link"
            own["url"] = self.url(chat_id, index)
            out.append(own)
        return out

    def preview_options(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """`link_preview_options` that keep the preview on the real page (without it Telegram
        would fetch every recipient's own tracked link), or None to leave the call as it is."""
        if not self._text_index or self.first_text_target is None:
            return None
        current = dict(params.get("link_preview_options") or {})
        if current.get("is_disabled"):
            return None
        current.setdefault("url", self.first_text_target)
        return current


def tracked_call_params(
    links: TrackedLinks,
    params: Mapping[str, Any],
    chat_id: int,
    *,
    text_field: str | None,
    entities_field: str | None,
) -> dict[str, Any]:
    """A Bot API call's parameters as one recipient gets them with tracked links."""
    own = dict(params)
    if links.has_buttons and "reply_markup" in own:
        own["reply_markup"] = links.reply_markup(chat_id)
    if text_field is not None and entities_field is not None and links.has_text_links:
        entities: Sequence[Mapping[str, Any]] = own.get(entities_field) or ()
        if entities:
            own[entities_field] = links.entities(chat_id, str(own.get(text_field) or ""), entities)
        if text_field == "text":
            preview = links.preview_options(own)
            if preview is not None:
                own["link_preview_options"] = preview
    return own
