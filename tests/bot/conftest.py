"""The control bot as production runs it: the real dispatcher polling the simulator, real Redis and DB."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.control import (
    ControlBot,
    add_target_bots,
    control_settings,
    control_world,
    engine_worker_running,
)
from tests.support.sim import SimWorld
from tgsim.simulator import Simulator


@pytest.fixture
def sim_world() -> SimWorld:
    """The simulator of the bot tests: the control bot, two target bots, the admin and recipients."""
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


@pytest.fixture
async def worker(control: ControlBot) -> AsyncIterator[Worker]:
    """The engine's worker, built by its own factory, running in this process."""
    async with engine_worker_running(control.settings) as engine_worker:
        yield engine_worker
