"""Fixtures of the report and export tests: the control bot over the simulator, as in tests/bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.control import ControlBot, add_target_bots, control_settings, control_world
from tests.support.sim import SimWorld
from tgsim.simulator import Simulator


@pytest.fixture
def sim_world() -> SimWorld:
    """The control bot, the news bot with its 12 recipients, the admin."""
    return control_world()


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
