"""The suite's SECRET_KEY: every test process, and every process a test starts, seals tokens with it."""

from __future__ import annotations

import os

from panel.secrets import TokenBox

TEST_SECRET_KEY = "dGVzdC1zZWNyZXQta2V5LWZvci1icm9hZGNhc3QtMDE="
"""32 bytes of url-safe base64 (Fernet's key form), fixed so a failing run can be replayed."""


def install_test_key() -> None:
    """Set SECRET_KEY for this process and its children, unless the caller chose one."""
    os.environ.setdefault("SECRET_KEY", TEST_SECRET_KEY)


def sealed(token: str) -> str:
    """A token as the panel stores it under the test key."""
    return TokenBox([os.environ.get("SECRET_KEY", TEST_SECRET_KEY).split(",")[0]]).seal(token)
