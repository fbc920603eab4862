"""Keep bot tokens out of logs: a filter that masks anything shaped like a token."""

from __future__ import annotations

import logging
import re

TOKEN_PATTERN = re.compile(r"(\d{3,15}):[A-Za-z0-9_-]{20,}")


def redact(text: str) -> str:
    """`text` with every bot token replaced by `<id>:***`."""
    return TOKEN_PATTERN.sub(r"\1:***", text)


class RedactTokens(logging.Filter):
    """Rewrite each record's final message so that no bot token reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, redacted, so the handler does not render the raw one.
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


def install(root: logging.Logger | None = None) -> None:
    """Add the redacting filter to every handler of `root` (the root logger by default)."""
    root = root or logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactTokens) for f in handler.filters):
            handler.addFilter(RedactTokens())
