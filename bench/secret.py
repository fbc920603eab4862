"""The benchmarks' SECRET_KEY: target bot tokens are stored encrypted, as in production."""

from __future__ import annotations

import os

from panel.secrets import TokenBox, generate_key


def secret_key() -> str:
    """SECRET_KEY; a benchmark run without one makes one for itself and the workers it starts."""
    return os.environ.setdefault("SECRET_KEY", generate_key())


def sealed(token: str) -> str:
    """`token` sealed under SECRET_KEY's writing key."""
    return TokenBox(secret_key().split(",")).seal(token)
