"""Fixtures of the engine tests (the helpers live in `tests.support.engine`)."""

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from arq.connections import ArqRedis

from linktracker.serve import link_service
from tests.support.engine import (
    ADMIN_CHAT_ID,
    CONTROL_TOKEN,
    TARGET_TOKEN,
    TEST_RATE,
    LinkHarness,
    Workers,
    engine_workers,
    link_settings,
)
from tests.support.sim import SimWorld
from tgsim.settings import LimitSettings, SimSettings
from tgsim.simulator import Simulator


def _add_engine_world(simulator: Simulator) -> None:
    simulator.add_bot(TARGET_TOKEN, username="engine_target", paid_broadcast=True)
    simulator.add_bot(CONTROL_TOKEN, username="engine_control")
    simulator.add_user(CONTROL_TOKEN, ADMIN_CHAT_ID, first_name="Admin")


@pytest.fixture
def sim_world() -> SimWorld:
    """A target bot that may send `TEST_RATE` messages per second (paid broadcast), a control bot."""
    limits = LimitSettings(global_rate=30, paid_rate=TEST_RATE, retry_after_s=1)
    return SimWorld(SimSettings(seed=11, limits=limits, keep_bot_messages=True), _add_engine_world)


@pytest.fixture
def queue_name() -> str:
    """An arq queue of this test alone."""
    return f"test:engine:{uuid.uuid4().hex[:10]}"


@pytest.fixture
def workers(
    database_url: str, redis_url: str, sim: Simulator, queue_name: str, tmp_path: Path, engine: Any
) -> Iterator[Workers]:
    """Start worker processes against the test database, Redis db and simulator."""
    harness = engine_workers(
        database_url=database_url,
        redis_url=redis_url,
        sim=sim,
        queue_name=queue_name,
        log_dir=tmp_path / "workers",
        progress_interval_s=1,
        retry_backoff_s=0.1,
        max_attempts=6,
    )
    yield harness
    harness.stop_all()


@pytest.fixture
def pool(arq_pool: ArqRedis) -> ArqRedis:
    """The engine tests' name for the root `arq_pool`."""
    return arq_pool


@pytest.fixture
def cli_env(database_url: str, redis_url: str, queue_name: str, sim: Simulator) -> dict[str, str]:
    """The environment of a `broadcast` command in a real process, on this test's database,
    Redis queue and simulator, with the control bot and its admin (for uploads)."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QUEUE_NAME": queue_name,
        "TELEGRAM_API_URL": sim.base_url,
        "BOT_TOKEN": CONTROL_TOKEN,
        "ADMIN_IDS": str(ADMIN_CHAT_ID),
    }


@pytest.fixture
async def links(database_url: str, engine: Any) -> AsyncIterator[LinkHarness]:
    """The link service on a free port of 127.0.0.1, on the test database."""
    async with link_service(link_settings(database_url), host="127.0.0.1", port=0) as runner:
        base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        yield LinkHarness(link_settings(database_url, base_url), base_url)
