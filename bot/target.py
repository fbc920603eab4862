"""Talking to a target bot from the control bot: the "Test to me" send."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramUnauthorizedError,
)

from panel.content import MessageContent
from panel.telegram import make_bot

logger = logging.getLogger(__name__)


class TestSendResult(enum.StrEnum):
    """How a test send through a target bot went."""

    SENT = "sent"
    NOT_STARTED = "not_started"
    UNAUTHORIZED = "unauthorized"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class TestSend:
    """The result of a test send and Telegram's words when it failed."""

    result: TestSendResult
    detail: str = ""


async def send_test(token: str, *, api_url: str, chat_id: int, content: MessageContent) -> TestSend:
    """Send `content` to `chat_id` through the target bot with `token`, as recipients will get it."""
    target_bot = make_bot(token, api_url=api_url, timeout_s=15.0, limit=1)
    try:
        await target_bot.send_message(chat_id=chat_id, **content.send_kwargs())
    except TelegramForbiddenError as exc:
        return TestSend(TestSendResult.NOT_STARTED, exc.message)
    except TelegramBadRequest as exc:
        if "chat not found" in exc.message.lower():
            return TestSend(TestSendResult.NOT_STARTED, exc.message)
        return TestSend(TestSendResult.FAILED, exc.message)
    except TelegramUnauthorizedError as exc:
        return TestSend(TestSendResult.UNAUTHORIZED, exc.message)
    except TelegramAPIError as exc:  # network errors included
        logger.warning("test send to %s failed: %s", chat_id, exc.message)
        return TestSend(TestSendResult.FAILED, exc.message)
    finally:
        await target_bot.session.close()
    return TestSend(TestSendResult.SENT)
