"""The control bot for fuzzing: the production dispatcher polling one simulator for many examples.

Hypothesis runs many examples inside one test function, so the simulator, the dispatcher and
the log watcher live for the whole test; each example resets Redis and the campaign rows.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from panel import queue
from tests.bot.conftest import (
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

HANDLED_PREFIX = "Update id="

# Hypothesis keeps caches in ./.hypothesis by default; keep the work tree clean.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "broadcast-panel-hypothesis")


class LogWatch(logging.Handler):
    """Which updates the dispatcher finished, and every ERROR record from any logger.

    aiogram logs "Update id=N is handled/not handled" when it is done with an update (after the
    handler, even one that raised) and logs a handler's exception instead of raising it.
    """

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.handled: set[int] = set()
        self.errors: list[str] = []
        self._changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "aiogram.event" and str(record.msg).startswith(HANDLED_PREFIX) and record.args:
            self.handled.add(int(record.args[0]))  # type: ignore[index, call-overload]
        elif record.levelno >= logging.ERROR:
            rendered = record.getMessage()
            if record.exc_info:
                rendered += "\n" + logging.Formatter().formatException(record.exc_info)
            self.errors.append(f"{record.name}: {rendered}")
        self._changed.set()

    async def wait_handled(self, update_id: int, *, timeout_s: float = 15.0) -> None:
        """Wait until the dispatcher is done with `update_id`."""
        deadline = time.monotonic() + timeout_s
        while update_id not in self.handled:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"update {update_id} was not handled within {timeout_s} s")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))
            except TimeoutError:
                continue


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
