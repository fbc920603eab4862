"""Build and run the control bot: the dispatcher with its routers, storage and dependencies."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramUnauthorizedError
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import BotCommandScopeAllPrivateChats
from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.aiogram_bot import make_bot
from bot.commands import command_menu
from bot.flood_wait import install_flood_wait
from bot.handlers import (
    abtest,
    admins,
    approval,
    audit,
    campaigns,
    common,
    compose,
    errors,
    expiry,
    fallback,
    language,
    progress,
    reports,
    schedule,
    segment_builder,
    segments,
    sendnow,
    sent_edits,
    topics,
)
from bot.middlewares import AdminOnlyMiddleware
from panel import i18n, queue
from panel.admins import list_admins
from panel.db import create_engine, create_sessionmaker
from panel.keys import RedisKeys
from panel.settings import Settings, SettingsError

__all__ = ["create_control_bot", "create_dispatcher", "install_flood_wait", "run_bot", "set_commands"]

logger = logging.getLogger(__name__)

FSM_TTL_S = 14 * 24 * 3600


def create_dispatcher(
    settings: Settings,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
    redis: Redis,
) -> Dispatcher:
    """The control bot's dispatcher: admins only, conversation state in Redis.

    Handlers receive `settings`, `sessionmaker`, `arq_pool`, `redis` and (from the admin
    middleware) `admin_timezone` by parameter name.
    """
    storage = RedisStorage(
        redis,
        # Under the deployment's queue name, like every other key of this deployment.
        key_builder=DefaultKeyBuilder(prefix=RedisKeys(settings.queue_name).fsm_prefix, with_bot_id=True),
        state_ttl=FSM_TTL_S,
        data_ttl=FSM_TTL_S,
    )
    dispatcher = Dispatcher(
        storage=storage,
        settings=settings,
        sessionmaker=sessionmaker,
        arq_pool=arq_pool,
        redis=redis,
    )
    dispatcher.update.outer_middleware(AdminOnlyMiddleware(settings, sessionmaker, redis))
    # /cancel, /start and /help come first so they work at any step; fallback comes last.
    # Routers are built per dispatcher: a router belongs to one dispatcher, and a process may
    # build several (a restart inside one process, as in tests).
    dispatcher.include_routers(
        errors.create_router(),  # answers any update whose handler below failed
        segment_builder.create_router(),  # before common: its /cancel goes back to building
        common.create_router(),
        compose.create_router(),
        sendnow.create_router(),
        schedule.create_router(),
        campaigns.create_router(),
        sent_edits.create_router(),
        expiry.create_router(),
        abtest.create_router(),
        segments.create_router(),
        topics.create_router(),
        progress.create_router(),
        reports.create_router(),
        audit.create_router(),
        admins.create_router(),
        approval.create_router(),
        language.create_router(),
        fallback.create_router(),
    )
    return dispatcher


def create_control_bot(token: str, *, api_url: str) -> Bot:
    """The control bot's `Bot`: it waits out short flood limits on its replies."""
    return install_flood_wait(make_bot(token, api_url=api_url))


async def set_commands(bot: Bot) -> None:
    """Publish the command menu (private chats) with `setMyCommands`: English for every client,
    and each other language for the clients set to it (`language_code`)."""
    for code in i18n.LANGUAGES:
        with i18n.speaking(code):
            menu = command_menu()
        await bot.set_my_commands(
            menu,
            scope=BotCommandScopeAllPrivateChats(),
            language_code=None if code == i18n.ENGLISH else code,
        )


async def run_bot(settings: Settings) -> None:
    """Run the control bot with long polling until interrupted."""
    token = settings.require_bot_token()
    engine = create_engine(settings.database_url)
    redis: Redis = Redis.from_url(settings.redis_url)
    arq_pool = await queue.connect(settings.redis_url)
    control_bot = create_control_bot(token, api_url=settings.telegram_api_url)
    try:
        sessionmaker = create_sessionmaker(engine)
        dispatcher = create_dispatcher(settings, sessionmaker=sessionmaker, arq_pool=arq_pool, redis=redis)
        try:
            me = await control_bot.get_me()
        except TelegramUnauthorizedError:
            raise SettingsError("BOT_TOKEN: Telegram refused it (revoked or mistyped?)") from None
        await set_commands(control_bot)
        async with sessionmaker() as session:
            if not settings.admin_ids and not await list_admins(session):
                logger.warning("nobody is an admin yet: set ADMIN_IDS or run `broadcast admins add`")
        logger.info("control bot @%s is polling %s", me.username, settings.telegram_api_url)
        await dispatcher.start_polling(control_bot, handle_signals=True, close_bot_session=True)
    finally:
        await control_bot.session.close()
        await arq_pool.aclose()
        await redis.aclose()
        await engine.dispose()
