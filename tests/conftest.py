"""Fixtures shared by the whole suite: a migrated database, a clean Redis, the Bot API simulator.

The database is SQLite unless TEST_DATABASE_URL names another (CI runs the suite again with
PostgreSQL). A database or Redis that does not answer fails the run: it never skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from panel import queue
from panel.db import create_engine, create_sessionmaker, is_sqlite
from panel.migrations import upgrade
from tests.support.keys import install_test_key
from tests.support.sim import SimWorld, target_bots_world
from tgsim.simulator import Simulator

install_test_key()


def _xdist_index() -> int:
    """Which of pytest-xdist's processes this is (gw0 is 0); 0 without xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw") or 0)


def _own_redis_url(url: str, index: int) -> str:
    """Each xdist process flushes its own Redis database: the given one, then the ones below it."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    if index > base:
        raise pytest.UsageError(
            f"TEST_REDIS_URL {url}: database {base} leaves no room for {index + 1} processes"
        )
    return urlunsplit(parts._replace(path=f"/{base - index}"))


def _own_database_url(url: str, index: int) -> str:
    """Each xdist process empties its own PostgreSQL database: the given one with `_gwN` after it."""
    if not url or is_sqlite(url) or "PYTEST_XDIST_WORKER" not in os.environ:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path}_gw{index}"))


TEST_DATABASE_URL = _own_database_url(os.environ.get("TEST_DATABASE_URL", ""), _xdist_index())
TEST_REDIS_URL = _own_redis_url(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), _xdist_index())


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    """A database URL for one test: a fresh SQLite file, or the emptied PostgreSQL test database."""
    if TEST_DATABASE_URL and not is_sqlite(TEST_DATABASE_URL):
        await reset_database(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    return f"sqlite+aiosqlite:///{tmp_path / f'test-{uuid.uuid4().hex[:8]}.sqlite3'}"


async def reset_database(url: str) -> None:
    """Drop everything in a PostgreSQL test database (SQLite tests get a new file instead)."""
    if is_sqlite(url):
        return
    await _create_database_once(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    except OSError as exc:  # pragma: no cover - the environment, not the code
        pytest.fail(f"PostgreSQL at {url} does not answer: {exc}")
    finally:
        await engine.dispose()


_created: set[str] = set()


async def _create_database_once(url: str) -> None:
    """Create an xdist process's own PostgreSQL database, from the one CI names, if missing."""
    if url in _created or "PYTEST_XDIST_WORKER" not in os.environ:
        return
    parts = urlsplit(url)
    name = parts.path.strip("/")
    admin = create_async_engine(
        urlunsplit(parts._replace(path=f"/{name.rsplit('_gw', 1)[0]}")), isolation_level="AUTOCOMMIT"
    )
    try:
        async with admin.connect() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OSError as exc:  # pragma: no cover - the environment, not the code
        pytest.fail(f"PostgreSQL at {url} does not answer: {exc}")
    finally:
        await admin.dispose()
    _created.add(url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a freshly migrated database."""
    engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test database, made as production makes them."""
    return create_sessionmaker(engine)


@pytest.fixture
def redis_url() -> str:
    """The Redis URL tests use (database 15 by default, flushed per test)."""
    return TEST_REDIS_URL


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A clean Redis database."""
    client: Redis = Redis.from_url(redis_url)
    try:
        await client.flushdb()
    except OSError as exc:  # pragma: no cover - the environment, not the code
        pytest.fail(f"Redis at {redis_url} does not answer: {exc}")
    yield client
    await client.aclose()


@pytest.fixture
async def arq_pool(redis: Redis, redis_url: str) -> AsyncIterator[ArqRedis]:
    """An arq pool on the test Redis (flushed by the `redis` fixture first)."""
    pool = await queue.connect(redis_url)
    yield pool
    await pool.aclose()


@pytest.fixture
def sim_world() -> SimWorld:
    """The world `sim` starts; a directory whose tests need another overrides this fixture."""
    return target_bots_world()


@pytest.fixture
async def sim(sim_world: SimWorld) -> AsyncIterator[Simulator]:
    """The Bot API simulator serving in the test's loop, with the bots and users of `sim_world`."""
    async with Simulator(sim_world.settings) as simulator:
        sim_world.populate(simulator)
        yield simulator


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run only the tests that use a database.

    The suite runs once on SQLite and again on PostgreSQL; a test that never touches the
    database would only repeat itself, so the second pass leaves it out (and says so).
    """
    if not TEST_DATABASE_URL or is_sqlite(TEST_DATABASE_URL):
        return
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        (kept if "database_url" in getattr(item, "fixturenames", ()) else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
