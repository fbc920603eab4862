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
from arq.connections import ArqRedis
from hypothesis.configuration import set_hypothesis_home_dir
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.control import (
    CONTROL_TOKEN,
    NEWS_TOKEN,
    STRANGER_ID,
    ControlBot,
    add_control_world,
    add_target_bots,
    control_settings,
)
from tests.support.log_watch import LogWatch
from tests.support.sim import SimWorld
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


def _add_fuzz_world(simulator: Simulator) -> None:
    add_control_world(simulator)
    simulator.add_user(CONTROL_TOKEN, STRANGER_ID + 1, first_name="Mallory", username=None)
    # A channel the news bot reads and one no target bot can, with a post each to forward.
    for channel_id, readers in ((READABLE_CHANNEL, [NEWS_TOKEN]), (UNREADABLE_CHANNEL, [])):
        simulator.add_channel(channel_id, title=f"Channel {channel_id}", readers=readers)
        simulator.add_channel_post(channel_id, "Post with {first_name} 😀", entities=[BOLD_POST])


READABLE_CHANNEL = -100_500_001
UNREADABLE_CHANNEL = -100_500_002
CHANNEL_POST_ID = 1
"""Each fuzz channel's one post (a channel's posts are numbered from 1)."""
BOLD_POST = {"type": "bold", "offset": 0, "length": 4}


@pytest.fixture
def sim_world() -> SimWorld:
    """The bot tests' world plus a second stranger, with no flood limit a fuzz step could reach."""
    fast = LimitSettings(
        global_rate=100_000,
        chat_burst=100_000,
        chat_refill_per_s=100_000,
        edit_burst=100_000,
        edit_refill_per_s=100_000,
    )
    return SimWorld(SimSettings(seed=7, limits=fast), _add_fuzz_world)


@pytest.fixture
async def fuzz_control(
    sim: Simulator,
    database_url: str,
    redis_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    arq_pool: ArqRedis,
    log_watch: LogWatch,
) -> AsyncIterator[ControlBot]:
    """The control bot (production factory) polling the simulator, news and shop bots registered."""
    harness = ControlBot(
        sim=sim,
        settings=control_settings(sim, database_url, redis_url),
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
