"""Outer middleware: only admins reach the handlers; everyone else gets one short refusal."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.permissions import Requirement, requirement
from models import Campaign, CampaignAction
from panel import i18n, metrics, texts
from panel.admins import admin_language, admin_timezone, follow_telegram_language
from panel.claims import claim_once
from panel.groups import group_bots_query
from panel.roles import GRANTED_BY, Access, Permission, access_of
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
    """Let admins' updates through, with `admin_timezone`, `admin_language` and `access` (their
    role and scope) in the handler data; refuse the rest. A button or command beyond the admin's
    role gets one short refusal naming the role it needs; one acting on another scope's campaign
    or bot is answered as a stranger's would be (a campaign number, as one that does not exist).

    Everything said while handling the update is in the admin's language: the one they chose
    with /language, else their Telegram client's (`language_code`).

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
        metrics.UPDATES.labels(event.event_type).inc()
        if event.message is not None and event.message.chat.type != "private":
            return None  # never talk about campaigns in a group, whoever asks
        need = requirement(event)
        async with self._sessionmaker() as session:
            access = await access_of(session, user.id, self._settings.admin_ids)
            timezone = await admin_timezone(session, user.id, self._settings.timezone) if access else ""
            language = i18n.from_telegram(user.language_code)
            stored = await admin_language(session, user.id) if access else None
            if stored is not None and stored.chosen:
                language = stored.language
            elif access is not None and (stored is None or stored.language != language):
                await follow_telegram_language(session, user.id, language)
                await session.commit()
            in_scope = access is not None and (need is None or await _in_scope(session, access, need))
        with i18n.speaking(language):
            return await self._answer(handler, event, data, user, access, need, timezone, in_scope)

    async def _answer(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: Update,
        data: dict[str, Any],
        user: User,
        access: Access | None,
        need: Requirement | None,
        timezone: str,
        in_scope: bool,
    ) -> Any:
        if access is not None and in_scope:
            if need is not None and not access.can(need.permission):
                return await self._refuse_role(event, need.permission)
            data["admin_timezone"] = timezone
            data["admin_language"] = i18n.current()
            data["access"] = access
            return await handler(event, data)
        if access is not None and need is not None and need.campaign_id is not None and event.message:
            # Another scope's campaign number: the same answer as for one that does not exist.
            await event.message.answer(texts.NO_SUCH_CAMPAIGN.format(campaign_id=need.campaign_id))
            return None
        logger.warning("refused user %s (@%s): %s", user.id, user.username or "-", _describe(event))
        if event.callback_query is not None:
            await event.callback_query.answer(texts.NOT_ALLOWED_ANSWER)
        elif event.message is not None and await claim_once(
            self._redis, f"refused:{user.id}", ttl_s=REFUSAL_INTERVAL_S, namespace=self._settings.queue_name
        ):
            await event.message.answer(texts.NOT_ALLOWED)
        return None

    async def _refuse_role(self, event: Update, permission: Permission) -> None:
        """One short refusal naming the role that would allow it; nothing else happens."""
        role = GRANTED_BY[permission]
        if event.callback_query is not None:
            await event.callback_query.answer(texts.ROLE_REFUSED_ANSWER.format(role=role), show_alert=True)
        elif event.message is not None:
            await event.message.answer(texts.ROLE_REFUSED.format(role=role))


async def _in_scope(session: AsyncSession, access: Access, need: Requirement) -> bool:
    """Whether what `need` acts on belongs to a bot of the admin's scope (one that does not exist
    is left to the handler, which says so)."""
    if access.bot_ids is None:
        return True
    bot_id = need.bot_id
    if need.campaign_id is not None:
        # A campaign of a group (`panel.groups`) is acted on with its siblings: every bot counts.
        group_bots = (await session.scalars(group_bots_query(need.campaign_id))).all()
        return all(access.sees(int(group_bot)) for group_bot in group_bots)
    if need.recall_id is not None:
        bot_id = await session.scalar(
            select(Campaign.bot_id)
            .join(CampaignAction, CampaignAction.campaign_id == Campaign.id)
            .where(CampaignAction.id == need.recall_id)
        )
    return bot_id is None or access.sees(bot_id)
