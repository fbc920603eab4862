"""The demo's running parts: the simulator standing in for Telegram, a fresh SQLite database with the
demo bot and its users, Redis, the control bot's dispatcher polling, and an arq worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.filters import CommandStart
from aiogram.types import Message
from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.aiogram_bot import fetch_identity, make_bot
from bot.app import create_control_bot, create_dispatcher, set_commands
from broadcast_tracker import Tracker, setup_tracker
from cli.users_import import import_users
from jobs.worker import close_worker, create_worker
from linktracker.serve import link_service
from panel.bots import add_bot
from panel.db import create_engine, create_sessionmaker
from panel.migrations import upgrade
from panel.queue import connect
from panel.secrets import generate_key, token_box
from panel.settings import Settings, SettingsError, load_settings
from tgsim.settings import FaultSettings, LimitSettings, SimSettings
from tgsim.simulator import Simulator

CONTROL_TOKEN = "700000001:DEMO-control-bot-token-not-real"
TARGET_TOKEN = "700000002:DEMO-target-bot-token-not-real"
ADMIN_ID = 5550001
FIRST_CHAT_ID = 10_000_000


@dataclass(slots=True)
class Audience:
    """How the demo target bot's simulated users are made up."""

    size: int
    blocked_share: float = 0.08
    deactivated_share: float = 0.03
    never_started_share: float = 0.02


@dataclass(slots=True)
class Stack:
    """Every running part of the demo."""

    sim: Simulator
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    pool: ArqRedis
    control_bot: Bot
    dispatcher: Dispatcher
    target_bot: Bot
    target_dispatcher: Dispatcher
    tracker: Tracker
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def running_stack(*, users: int, rate_per_s: int, database: Path) -> AsyncIterator[Stack]:
    """Start every part of the demo on a fresh SQLite file at `database`; stop them all on the way out."""
    sim_settings = SimSettings(
        seed=7,
        limits=LimitSettings(global_rate=30, paid_rate=1000),
        faults=FaultSettings(),
    )
    async with Simulator(sim_settings) as sim, contextlib.AsyncExitStack() as exits:
        sim.add_bot(CONTROL_TOKEN, username="broadcast_panel_bot", first_name="Broadcast Panel")
        sim.add_bot(
            TARGET_TOKEN,
            username="demo_news_bot",
            first_name="Demo News",
            paid_broadcast=rate_per_s > 30,
            # A real network: 80 ms ± 10 ms per request (the jitter the default pacing is sized
            # for), and one answer in 200 is a 502.
            faults=FaultSettings(latency_mean_s=0.08, latency_jitter_s=0.01, server_error_share=0.005),
        )
        sim.add_user(CONTROL_TOKEN, ADMIN_ID, first_name="Ada", username="ada_admin", language_code="en")
        # Ada has started the demo bot (so "Test to me" reaches her) but is not in its audience.
        sim.add_user(TARGET_TOKEN, ADMIN_ID, first_name="Ada", username="ada_admin", language_code="en")
        audience = Audience(size=users)
        chat_ids = _populate(sim, audience)

        _fresh_sqlite_file(database)
        demo_values: dict[str, Any] = {
            "bot_token": CONTROL_TOKEN,
            "admin_ids": str(ADMIN_ID),
            "database_url": f"sqlite+aiosqlite:///{database}",
            "telegram_api_url": sim.base_url,
            "queue_name": f"broadcast:demo:{uuid.uuid4().hex[:8]}",
            # A key of the demo's own (bot tokens are stored encrypted, links signed under it),
            # and the link service on a free local port.
            "secret_key": os.environ.get("SECRET_KEY") or generate_key(),
        }
        settings = load_settings(**demo_values)
        engine = create_engine(settings.database_url)
        await upgrade(engine)
        links = await exits.enter_async_context(link_service(settings, host="127.0.0.1", port=0))
        settings = load_settings(**demo_values, links_base_url=f"http://127.0.0.1:{links.addresses[0][1]}")
        sessionmaker = create_sessionmaker(engine)
        identity = await fetch_identity(TARGET_TOKEN, api_url=sim.base_url)
        async with sessionmaker.begin() as session:
            target = await add_bot(
                session,
                codename="demo-news",
                token=TARGET_TOKEN,
                identity=identity,
                box=token_box(settings),
                rate_per_s=rate_per_s,
                paid_broadcast=rate_per_s > 30,
            )
        with tempfile.TemporaryDirectory() as tmp:
            csv_path = Path(tmp) / "users.csv"
            csv_path.write_text(
                "chat_id,first_name,language_code\n"
                + "".join(f"{chat_id},User{chat_id % 10_000},en\n" for chat_id in chat_ids),
                encoding="utf-8",
            )
            await import_users(engine, csv_path, bot_id=target.id)

        redis: Redis = Redis.from_url(settings.redis_url)
        try:
            await redis.ping()
        except OSError as exc:
            raise SettingsError(f"REDIS_URL: Redis at {settings.redis_url} does not answer ({exc})") from None
        pool = await connect(settings.redis_url)
        control_bot = create_control_bot(CONTROL_TOKEN, api_url=sim.base_url)
        dispatcher = create_dispatcher(settings, sessionmaker=sessionmaker, arq_pool=pool, redis=redis)
        # The demo bot itself: an aiogram bot of its own with the tracker installed, as a team
        # would run theirs, so blocks, returns and newcomers reach the users table by themselves.
        target_bot = make_bot(TARGET_TOKEN, api_url=sim.base_url)
        target_dispatcher = Dispatcher()
        target_dispatcher.message.register(_welcome, CommandStart())
        tracker = setup_tracker(target_dispatcher, engine, bot_id=target.id, flush_interval_s=0.2)
        stack = Stack(
            sim,
            settings,
            engine,
            sessionmaker,
            redis,
            pool,
            control_bot,
            dispatcher,
            target_bot,
            target_dispatcher,
            tracker,
        )
        worker = create_worker(settings)
        try:
            await set_commands(control_bot)
            for polled, bot in ((dispatcher, control_bot), (target_dispatcher, target_bot)):
                stack.tasks.append(
                    asyncio.create_task(polled.start_polling(bot, handle_signals=False, polling_timeout=1))
                )
            stack.tasks.append(asyncio.create_task(worker.async_run()))
            yield stack
        finally:
            for polled in (dispatcher, target_dispatcher):
                with contextlib.suppress(Exception):
                    await polled.stop_polling()
            await close_worker(worker)
            for task in stack.tasks:
                task.cancel()
            await asyncio.gather(*stack.tasks, return_exceptions=True)
            await control_bot.session.close()
            await target_bot.session.close()
            await pool.aclose()
            await _forget_demo_keys(redis, settings)
            await redis.aclose()
            await engine.dispose()


async def _welcome(message: Message) -> None:
    """The demo bot's one feature: it greets whoever starts it."""
    await message.answer("Welcome to Demo News! Announcements will reach you here.")


def _fresh_sqlite_file(database: Path) -> None:
    database.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


async def _forget_demo_keys(redis: Redis, settings: Settings) -> None:
    """Leave the shared Redis as the demo found it: every key of the demo lives under its queue name."""
    with contextlib.suppress(Exception):
        keys = [key async for key in redis.scan_iter(match=f"{settings.queue_name}*", count=1000)]
        if keys:
            await redis.delete(*keys)


def _populate(sim: Simulator, audience: Audience) -> list[int]:
    """Add the demo bot's users to the simulator, some blocked, deleted or never started."""
    rng = random.Random(2026)
    chat_ids = list(range(FIRST_CHAT_ID, FIRST_CHAT_ID + audience.size))
    states: dict[str, list[int]] = {"active": [], "blocked": [], "deactivated": [], "not_started": []}
    for chat_id in chat_ids:
        roll = rng.random()
        if roll < audience.blocked_share:
            states["blocked"].append(chat_id)
        elif roll < audience.blocked_share + audience.deactivated_share:
            states["deactivated"].append(chat_id)
        elif roll < audience.blocked_share + audience.deactivated_share + audience.never_started_share:
            states["not_started"].append(chat_id)
        else:
            states["active"].append(chat_id)
    for state, ids in states.items():
        sim.add_users(TARGET_TOKEN, ids, state=state)
    return chat_ids
