"""A target bot (the news bot) as its owner runs it: an aiogram dispatcher with the tracker installed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiogram import Dispatcher
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.aiogram_bot import make_bot
from broadcast_tracker import Tracker, setup_tracker
from tests.support.control import NEWS_TOKEN, add_target_bots, control_world
from tests.support.sim import SimWorld
from tgsim.simulator import Simulator


@pytest.fixture
def sim_world() -> SimWorld:
    return control_world()


@dataclass
class TargetBot:
    bot_id: int
    tracker: Tracker
    dispatcher: Dispatcher


@pytest.fixture
async def news(
    sim: Simulator, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[TargetBot]:
    bots = await add_target_bots(sessionmaker, with_shop=False)
    dp = Dispatcher()

    @dp.message()
    async def echo(message: object) -> None:
        return None

    tracker = setup_tracker(dp, engine, bot_id=bots["news"], flush_interval_s=0.05)
    bot = make_bot(NEWS_TOKEN, api_url=sim.base_url)
    polling = asyncio.create_task(dp.start_polling(bot, polling_timeout=1, handle_signals=False))
    try:
        yield TargetBot(bots["news"], tracker, dp)
    finally:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(polling, 10)
