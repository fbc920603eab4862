"""What an update whose handler failed still gets: an answer to the tap, a line in the log.

A button press that is never answered leaves the admin's client spinning, so every failed
update that came from a button gets a short answer saying to try again (nothing about what
failed: that is for the log), and an admin's message gets the same short reply.
"""

from __future__ import annotations

import contextlib
import logging

from aiogram import Bot, Router
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import ErrorEvent

from panel import texts

logger = logging.getLogger(__name__)


# Telegram being slow, unreachable or asking for a long pause: the next tap will likely work,
# and there is nothing in our code to fix. Anything else is a bug and is logged as one.
TRANSIENT = (TelegramRetryAfter, TelegramNetworkError, TelegramServerError)


async def failed_update(event: ErrorEvent, bot: Bot, admin_timezone: str | None = None) -> bool:
    """Log a handler's exception and answer the update that raised it, once, in a few words.

    `admin_timezone` is set once the admin gate let the update through: only then does a
    message get a reply (a stranger's message gets nothing but the refusal).
    """
    update, error = event.update, event.exception
    if isinstance(error, TRANSIENT):
        logger.warning(
            "update %s (%s): Telegram refused a reply: %s",
            update.update_id,
            update.event_type,
            type(error).__name__,
        )
    else:
        logger.error(
            "update %s (%s) failed: %s",
            update.update_id,
            update.event_type,
            type(error).__name__,
            exc_info=error,
        )
    # A query the handler answered before failing refuses a second answer; that is fine.
    with contextlib.suppress(TelegramAPIError):
        if update.callback_query is not None:
            await bot.answer_callback_query(update.callback_query.id, text=texts.SOMETHING_WENT_WRONG)
        elif update.message is not None and admin_timezone is not None:
            await bot.send_message(update.message.chat.id, texts.SOMETHING_WENT_WRONG)
    return True


def create_router() -> Router:
    """The handler of failed updates, on a new router (each dispatcher gets its own)."""
    router = Router(name="errors")
    router.errors.register(failed_update)
    return router
