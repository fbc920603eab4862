"""Recovery paths found by the chaos run: a PostgreSQL restart, a batch whose helper task died,
rows a stopped batch left claimed, a flushed limiter key, and the worker's own entry point."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from jobs import lifecycle
from jobs.batch import BatchRun
from jobs.context import EngineContext
from jobs.engine import deliveries
from jobs.engine.ratelimit import TokenRateLimiter
from jobs.engine.snapshot import load_snapshot
from models import Campaign, CampaignStatus, Delivery, DeliveryStatus, utcnow
from panel.keys import RedisKeys
from panel.settings import Settings
from tests.support.engine import (
    PROJECT_ROOT,
    TARGET_TOKEN,
    Workers,
    add_audience,
    assert_counters_match_rows,
    delivered,
    new_campaign,
    rows,
    status_counts,
    wait_for_status,
)
from tgsim.simulator import Simulator


class _DriverError(Exception):
    """What SQLAlchemy's asyncpg adapter puts in `exc.orig`: the driver error with its SQLSTATE."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _wrapped(kind: type[DBAPIError], message: str, sqlstate: str | None) -> DBAPIError:
    return kind("SELECT 1", {}, _DriverError(message, sqlstate))


async def test_the_limiter_never_rewinds_when_its_key_vanishes(redis: Redis) -> None:
    limiter = TokenRateLimiter(redis, keys=RedisKeys("test:recovery"), lookahead_s=0.5)
    key = limiter.key_for("test-vanish")
    # Reserve ahead up to the lookahead, as a busy sender does.
    loop = asyncio.get_running_loop()
    last_due = loop.time()
    for _ in range(200):
        reservation = await limiter.reserve(key, 200)
        if not reservation.granted:
            break
        last_due = max(last_due, loop.time() + reservation.wait_s)
    assert last_due - loop.time() > 0.4
    await redis.delete(key)  # FLUSHDB, as far as this key is concerned
    assert await limiter.acquire(key, 200)
    # The new slot comes after every slot handed out before the flush, not at "now" again.
    assert loop.time() >= last_due + 1 / 200 - 0.005


async def test_a_batch_whose_status_watcher_fails_still_sends_and_releases(
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    sim: Simulator,
    redis: Redis,
    database_url: str,
    redis_url: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=40)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    async with sessionmaker.begin() as session:
        await deliveries.freeze_audience(session, campaign_id)
        low, high = await deliveries.delivery_id_bounds(session, campaign_id) or (0, 0)
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        telegram_api_url=sim.base_url,
        status_check_interval_s=0.05,
    )
    ectx = EngineContext(
        settings=settings,
        db=engine,
        sessionmaker=sessionmaker,
        redis=redis,
        limiter=TokenRateLimiter(redis, keys=RedisKeys(settings.queue_name)),
        worker_id="in-test",
        control_bot=None,
    )
    async with sessionmaker() as session:
        loaded = await load_snapshot(session, campaign_id)
    assert loaded is not None
    run = BatchRun(ectx, loaded[0], low, high)
    checks = 0

    async def database_gone() -> CampaignStatus | None:
        nonlocal checks
        checks += 1
        raise _wrapped(OperationalError, "the database system is shutting down", "57P03")

    run._read_status = database_gone  # type: ignore[method-assign]
    try:
        await run.run()
    finally:
        for bot in ectx.target_bots.values():
            await bot.close()
    assert checks >= 2  # the watcher kept watching after the first failure
    assert ectx.active_batches[run.rate_key] == 0
    counts = await status_counts(sessionmaker, campaign_id)
    assert counts == {DeliveryStatus.SENT: 40}
    assert len(delivered(sim)) == 40


async def test_rows_left_claimed_by_a_live_worker_are_settled(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    redis: Redis,
    queue_name: str,
) -> None:
    """A batch that failed mid-send on a worker that lives on: its claimed rows do not hang forever."""
    bot_id = await add_audience(sessionmaker, sim, active=30)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    async with sessionmaker.begin() as session:
        await deliveries.freeze_audience(session, campaign_id)
        low, high = await deliveries.delivery_id_bounds(session, campaign_id) or (0, 0)
        claimed = await deliveries.claim(
            session, campaign_id, low, high, worker_id="alive-elsewhere", limit=5
        )
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_([r.delivery_id for r in claimed]))
            .values(claimed_at=utcnow() - timedelta(minutes=10))
        )
    # Its worker keeps its heartbeat.
    await redis.set(RedisKeys(queue_name).worker("alive-elsewhere"), b"1", ex=600)
    workers.start(1)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers, timeout_s=60)
    assert campaign.status is CampaignStatus.COMPLETED
    by_row = {row.id: row for row in await rows(sessionmaker, campaign_id)}
    assert {by_row[r.delivery_id].status for r in claimed} == {DeliveryStatus.UNCONFIRMED}
    assert sum(row.status is DeliveryStatus.SENT for row in by_row.values()) == 25
    await assert_counters_match_rows(sessionmaker, campaign_id)
    assert sim.stats(TARGET_TOKEN).duplicates == 0


async def test_the_reconciler_never_takes_its_own_worker_for_dead(
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    sim: Simulator,
    redis: Redis,
    pool: ArqRedis,
    database_url: str,
    redis_url: str,
    queue_name: str,
) -> None:
    """A stall can let a worker's heartbeat key lapse while its reconciler runs: the rows that worker
    holds stay its own, while a worker that is really gone has its rows settled."""
    bot_id = await add_audience(sessionmaker, sim, active=10)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    async with sessionmaker.begin() as session:
        await deliveries.freeze_audience(session, campaign_id)
        await session.execute(
            update(Campaign).where(Campaign.id == campaign_id).values(status=CampaignStatus.SENDING)
        )
        low, high = await deliveries.delivery_id_bounds(session, campaign_id) or (0, 0)
        mine = await deliveries.claim(session, campaign_id, low, high, worker_id="in-test", limit=5)
        gone = await deliveries.claim(session, campaign_id, low, high, worker_id="gone", limit=5)
        # Older than the lease (dead workers' claims), younger than a live worker's abandon age.
        await session.execute(
            update(Delivery)
            .where(Delivery.campaign_id == campaign_id)
            .values(claimed_at=utcnow() - timedelta(seconds=20))
        )
    settings = Settings(
        database_url=database_url, redis_url=redis_url, telegram_api_url=sim.base_url, queue_name=queue_name
    )
    ectx = EngineContext(
        settings=settings,
        db=engine,
        sessionmaker=sessionmaker,
        redis=redis,
        limiter=TokenRateLimiter(redis, keys=RedisKeys(settings.queue_name)),
        worker_id="in-test",
        control_bot=None,
    )
    assert not await redis.exists(ectx.keys.worker("in-test"))  # its heartbeat has lapsed

    report = await lifecycle.reconcile({"engine": ectx, "redis": pool})

    assert report["settled"] == 5
    by_row = {row.id: row for row in await rows(sessionmaker, campaign_id)}
    assert {by_row[r.delivery_id].status for r in mine} == {DeliveryStatus.SENDING}
    assert {by_row[r.delivery_id].claimed_by for r in mine} == {"in-test"}
    assert {by_row[r.delivery_id].status for r in gone} == {DeliveryStatus.UNCONFIRMED}


def test_python_m_jobs_reports_a_bad_setting_in_one_line() -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": "mysql://nope",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "jobs"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: DATABASE_URL: must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
    ]


async def test_settle_leaves_rows_of_running_batches_alone(
    sessionmaker: async_sessionmaker[AsyncSession], sim: Simulator
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=6)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    async with sessionmaker.begin() as session:
        await deliveries.freeze_audience(session, campaign_id)
        low, high = await deliveries.delivery_id_bounds(session, campaign_id) or (0, 0)
        await deliveries.claim(session, campaign_id, low, high, worker_id="w", limit=6)
    async with sessionmaker.begin() as session:
        later = utcnow() + timedelta(seconds=1)
        settled = await deliveries.settle_stale_claims(
            session,
            campaign_id,
            ["w"],
            claimed_before=later,
            at_least_once=False,
            running_ranges=[(low, low + 2)],
        )
    assert settled == 3
    assert (await status_counts(sessionmaker, campaign_id)) == {
        DeliveryStatus.SENDING: 3,
        DeliveryStatus.UNCONFIRMED: 3,
    }


async def test_one_round_trip_reserves_consecutive_slots(redis: Redis) -> None:
    limiter = TokenRateLimiter(redis, keys=RedisKeys("test:recovery"), lookahead_s=0.5)
    key = limiter.key_for("test-group")
    # A key never seen (or flushed) starts one lookahead out: senders of other processes may hold
    # slots up to there.
    start = await limiter.reserve(key, 1000, 10)
    assert start.granted and start.count == 1 and start.wait_s > 0.49
    await asyncio.sleep(start.wait_s)
    first = await limiter.reserve(key, 1000, 10)
    second = await limiter.reserve(key, 1000, 10)
    assert first.granted and second.granted and (first.count, second.count) == (10, 10)
    # The second group starts where the first ended: ten slots of 1 ms each later.
    assert abs((second.wait_s - first.wait_s) - 0.010) < 0.003
    # Never beyond the lookahead: a big ask is cut to what fits.
    rest = await limiter.reserve(key, 1000, 10_000)
    assert rest.granted and rest.count <= 500
