"""The control bot for fuzzing: the production dispatcher polling one simulator for many examples.

Hypothesis runs many examples inside one test function, so the simulator, the dispatcher and
the log watcher live for the whole test; each example resets Redis and the campaign rows.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir
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
from tests.support.log_watch import LogWatch
from tgsim.settings import LimitSettings, SimSettings
from tgsim.simulator import Simulator

# Hypothesis keeps caches in ./.hypothesis by default; keep the work tree clean.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "broadcast-panel-hypothesis")


@pytest.fixture
def log_watch() -> Iterator[LogWatch]:
    """A `LogWatch` on the root logger, with aiogram's per-update log line switched on."""
    watch = LogWatch()
    root = logging.getLogger()
    event_logger = logging.getLogger("aiogram.event")
    previous = event_logger.level
    event_logger.setLevel(logging.INFO)
    root.addHandler(watch)
    try:
        yield watch
    finally:
        root.removeHandler(watch)
        event_logger.setLevel(previous)


@pytest.fixture
async def fuzz_sim() -> AsyncIterator[Simulator]:
    """The simulator with the control bot, two target bots, the admin, two strangers and recipients."""
    fast = LimitSettings(
        global_rate=100_000,
        chat_burst=100_000,
        chat_refill_per_s=100_000,
        edit_burst=100_000,
        edit_refill_per_s=100_000,
    )
    async with Simulator(SimSettings(seed=7, limits=fast)) as simulator:
        simulator.add_bot(CONTROL_TOKEN, username="panel_bot", first_name="Panel")
        simulator.add_bot(NEWS_TOKEN, username="news_bot", first_name="News")
        simulator.add_bot(SHOP_TOKEN, username="shop_bot", first_name="Shop")
        simulator.add_user(CONTROL_TOKEN, ADMIN_ID, first_name="Ada", username="ada")
        simulator.add_user(CONTROL_TOKEN, STRANGER_ID, first_name="Eve", username="eve")
        simulator.add_user(CONTROL_TOKEN, STRANGER_ID + 1, first_name="Mallory", username=None)
        simulator.add_users(NEWS_TOKEN, NEWS_USERS)
        simulator.add_user(NEWS_TOKEN, ADMIN_ID, first_name="Ada", username="ada")
        yield simulator


@pytest.fixture
async def fuzz_control(
    fuzz_sim: Simulator,
    database_url: str,
    redis_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    log_watch: LogWatch,
) -> AsyncIterator[ControlBot]:
    """The control bot (production factory) polling the simulator, news and shop bots registered."""
    arq_pool = await queue.connect(redis_url)
    harness = ControlBot(
        sim=fuzz_sim,
        settings=control_settings(fuzz_sim, database_url, redis_url),
        sessionmaker=sessionmaker,
        redis=redis,
        arq_pool=arq_pool,
    )
    harness.bots = await add_target_bots(sessionmaker, with_shop=True)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
        await arq_pool.aclose()
