"""The control bot waits out a short flood limit on its own replies instead of dropping them.

Telegram lets a bot write about one message a second to a chat (a burst of a few, then 429).
An admin who taps quickly through cards and confirmations reaches that, and without this the
reply, edit or callback answer that got the 429 raises `TelegramRetryAfter` in the handler:
the tap then seems to do nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram.methods import Response, TelegramMethod

logger = logging.getLogger(__name__)

MAX_WAIT_S = 10.0
MAX_RETRIES = 2


class FloodWait(BaseRequestMiddleware):
    """Retry a request refused with a short `retry after N` (N ≤ `max_wait_s`) after N seconds.

    This is the control bot's conversation, not the broadcast. The broadcast sender must never
    sleep on a 429 and call again by itself: a 429 is for the whole token, so the engine's
    shared limiter pauses every worker sending through it. Here one admin waits for one reply
    to their own tap; a reply a second or two late is what they expect from Telegram, one that
    never comes is a broken button. So the wait is bounded: at most `retries` more tries, and a
    long wait (Telegram telling the bot to stop for a while) is raised at once, not slept.
    """

    def __init__(self, *, max_wait_s: float = MAX_WAIT_S, retries: int = MAX_RETRIES) -> None:
        self.max_wait_s = max_wait_s
        self.retries = retries

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        retries_left = self.retries
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if retries_left <= 0 or error.retry_after > self.max_wait_s:
                    raise
                retries_left -= 1
                logger.warning("%s: flood limit, retrying in %s s", type(method).__name__, error.retry_after)
                await asyncio.sleep(error.retry_after)


def install_flood_wait(
    control_bot: Bot, *, max_wait_s: float = MAX_WAIT_S, retries: int = MAX_RETRIES
) -> Bot:
    """Make `control_bot` wait out short flood limits on its replies (once per bot); returns it."""
    if not any(isinstance(middleware, FloodWait) for middleware in control_bot.session.middleware):
        control_bot.session.middleware(FloodWait(max_wait_s=max_wait_s, retries=retries))
    return control_bot
