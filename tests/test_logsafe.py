"""Bot tokens never reach a log handler."""

from __future__ import annotations

import io
import logging

from panel.logsafe import RedactTokens, redact

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_redact_masks_tokens_in_urls_and_text() -> None:
    line = f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed; token={TOKEN}"
    cleaned = redact(line)
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in cleaned
    assert "bot123456789:***/sendMessage" in cleaned


def test_filter_cleans_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactTokens())
    logger = logging.getLogger("test.logsafe")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("calling %s", f"/bot{TOKEN}/getMe")
        try:
            raise RuntimeError(f"boom with {TOKEN}")
        except RuntimeError:
            logger.exception("it failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "calling /bot123456789:***/getMe" in output
    assert "boom with 123456789:***" in output
    assert TOKEN not in output
