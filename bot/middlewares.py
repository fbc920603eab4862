"""Outer middleware: only admins reach the handlers; everyone else gets one short refusal."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from panel import texts
from panel.admins import admin_timezone, is_admin
from panel.claims import claim_once
from panel.settings import Settings

logger = logging.getLogger(__name__)

REFUSAL_INTERVAL_S = 60


def _describe(update: Update) -> str:
    """What a stranger tried, without anything they typed beyond a command name."""
    if update.message is not None:
        text = update.message.text or ""
        if text.startswith("/"):
            return f"command {text.split()[0][:32]}"
        return f"{update.message.content_type} message"
    if update.callback_query is not None:
        return f"button {(update.callback_query.data or '')[:16].split(':')[0]}"
    return update.event_type


class AdminOnlyMiddleware(BaseMiddleware):
    """Let admins' updates through, with `admin_timezone` in the handler data; refuse the rest.

    A stranger's message gets a refusal at most once a minute (so the bot cannot be made to
    spam), a stranger's button press only a short callback answer; both are logged.
    """

    def __init__(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
    ) -> None:
        self._settings = settings
        self._sessionmaker = sessionmaker
        self._redis = redis

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or not isinstance(event, Update):
            return None
        if event.message is not None and event.message.chat.type != "private":
            return None  # never talk about campaigns in a group, whoever asks
        async with self._sessionmaker() as session:
            allowed = await is_admin(session, user.id, self._settings.admin_ids)
            timezone = await admin_timezone(session, user.id, self._settings.timezone) if allowed else ""
        if allowed:
            data["admin_timezone"] = timezone
            return await handler(event, data)
        logger.warning("refused user %s (@%s): %s", user.id, user.username or "-", _describe(event))
        if event.callback_query is not None:
            await event.callback_query.answer(texts.NOT_ALLOWED_ANSWER)
        elif event.message is not None and await claim_once(
            self._redis, f"refused:{user.id}", ttl_s=REFUSAL_INTERVAL_S, namespace=self._settings.queue_name
        ):
            await event.message.answer(texts.NOT_ALLOWED)
        return None
