"""The control bot as production runs it: the real dispatcher polling the simulator, real Redis and DB."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from panel import queue
from tests.support.control import (
    ADMIN_ID,
    CONTROL_TOKEN,
    NEWS_TOKEN,
    NEWS_USERS,
    SHOP_TOKEN,
    STRANGER_ID,
    ControlBot,
    add_target_bots,
    control_settings,
)
from tgsim.settings import LimitSettings, SimSettings
from tgsim.simulator import Simulator


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """The Bot API simulator with the control bot, two target bots, the admin and recipients."""
    fast = LimitSettings(
        global_rate=1000, chat_burst=1000, chat_refill_per_s=1000, edit_burst=1000, edit_refill_per_s=1000
    )
    async with Simulator(SimSettings(seed=3, limits=fast)) as simulator:
        simulator.add_bot(CONTROL_TOKEN, username="panel_bot", first_name="Panel")
        simulator.add_bot(NEWS_TOKEN, username="news_bot", first_name="News")
        simulator.add_bot(SHOP_TOKEN, username="shop_bot", first_name="Shop")
        simulator.add_user(CONTROL_TOKEN, ADMIN_ID, first_name="Ada", username="ada")
        simulator.add_user(CONTROL_TOKEN, STRANGER_ID, first_name="Eve", username="eve")
        simulator.add_users(NEWS_TOKEN, NEWS_USERS)
        simulator.add_user(NEWS_TOKEN, ADMIN_ID, first_name="Ada", username="ada")
        yield simulator


@pytest.fixture
async def arq_pool(redis: Redis, redis_url: str) -> AsyncIterator[ArqRedis]:
    """An arq pool on the test Redis (flushed by the `redis` fixture first)."""
    pool = await queue.connect(redis_url)
    yield pool
    await pool.aclose()


@pytest.fixture
async def control(
    sim: Simulator,
    database_url: str,
    redis_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    arq_pool: ArqRedis,
) -> AsyncIterator[ControlBot]:
    """The control bot running against the simulator, with the news bot registered."""
    harness = ControlBot(
        sim=sim,
        settings=control_settings(sim, database_url, redis_url),
        sessionmaker=sessionmaker,
        redis=redis,
        arq_pool=arq_pool,
    )
    harness.bots = await add_target_bots(sessionmaker, with_shop=False)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
