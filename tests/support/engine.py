"""End-to-end helpers: the simulator in the test's loop, real worker processes, real Redis and DB.

Workers are `python -m jobs` subprocesses configured through the environment, exactly like
`broadcast worker`; each test gets its own arq queue name so nothing leaks between tests.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.launch import WorkerProcesses, worker_environment
from models import (
    FINAL_CAMPAIGN_STATUSES,
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    TargetBot,
    User,
)
from panel import campaigns
from panel.content import MessageContent
from panel.send_options import SendOptions
from panel.settings import Settings, load_settings
from tests.support.keys import sealed
from tgsim.simulator import Simulator
from tgsim.world import UserState

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TARGET_TOKEN = "200001:AAengineTargetBotToken"
CONTROL_TOKEN = "200009:AAengineControlBotToken"
ADMIN_CHAT_ID = 777_000
TEST_RATE = 300


Workers = WorkerProcesses


class LinkHarness:
    """The link service of one test: its public base URL and its settings."""

    def __init__(self, settings: Settings, base_url: str) -> None:
        self.settings = settings
        self.base_url = base_url


def link_settings(database_url: str, base_url: str = "http://127.0.0.1:9") -> Settings:
    """Settings of a link service on the test database, signing under the suite's key."""
    return load_settings(
        _env_file=None,
        database_url=database_url,
        secret_key=os.environ["SECRET_KEY"],
        links_base_url=base_url,
    )


def engine_workers(
    *, database_url: str, redis_url: str, sim: Simulator, queue_name: str, log_dir: Path, **overrides: Any
) -> Workers:
    """Worker processes (not started) against the test's database, Redis db and simulator, with
    the engine tests' short leases and intervals; `overrides` are further settings."""
    env = worker_environment(
        **{
            "database_url": database_url,
            "redis_url": redis_url,
            "telegram_api_url": sim.base_url,
            "queue_name": queue_name,
            "secret_key": os.environ["SECRET_KEY"],
            "bot_token": CONTROL_TOKEN,
            "batch_size": 100,
            "send_concurrency": 32,
            "worker_lease_s": 2,
            "cron_interval_s": 1,
            "request_timeout_s": 5,
            # The simulator shares this test process: its pauses (the test's own database reads,
            # a loaded CI machine) stamp requests at its rate gate late, in bunches no sender
            # made. 0.97 leaves them room; `bench/engine_bench.py` measures the default (0.985).
            "pacing_factor": 0.97,
            **overrides,
        }
    )
    log_dir.mkdir(exist_ok=True)
    return Workers(env=env, log_dir=log_dir)


"""The worker processes of one test (the `workers` fixture)."""


async def add_audience(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    *,
    active: int,
    states: dict[UserState, int] | None = None,
    unknown: int = 0,
    rate_per_s: int = TEST_RATE,
    token: str = TARGET_TOKEN,
    first_chat_id: int = 1_000_000,
) -> int:
    """A target bot with users in the DB and the simulator; returns the bot id.

    `states` adds users in other states (blocked, ...); `unknown` adds users the simulator has
    never seen (the Bot API answers "chat not found").
    """
    chat_ids: list[int] = []
    next_id = first_chat_id
    plan = [(UserState.ACTIVE, active), *((states or {}).items())]
    for state, count in plan:
        ids = list(range(next_id, next_id + count))
        next_id += count
        if token in sim.world.bots:
            sim.add_users(token, ids, state=state)
        chat_ids.extend(ids)
    chat_ids.extend(range(next_id, next_id + unknown))
    async with sessionmaker.begin() as session:
        bot = TargetBot(
            codename=f"bot{uuid.uuid4().hex[:6]}",
            sealed_token=sealed(token),
            rate_per_s=rate_per_s,
            paid_broadcast=rate_per_s > 30,
        )
        session.add(bot)
        await session.flush()
        session.add_all(User(bot_id=bot.id, chat_id=chat_id) for chat_id in chat_ids)
        return bot.id


async def new_campaign(
    sessionmaker: async_sessionmaker[AsyncSession],
    bot_id: int,
    *,
    text: str = "Hello from the engine tests",
    progress: bool = False,
    content: dict[str, Any] | None = None,
    options: SendOptions | None = None,
) -> int:
    """A DRAFT campaign by the test admin; with `progress`, its progress goes to the admin's chat."""
    async with sessionmaker.begin() as session:
        campaign = await campaigns.create_campaign(
            session,
            bot_id=bot_id,
            content=MessageContent(text=text),
            created_by=ADMIN_CHAT_ID,
            options=options,
        )
        if content is not None:
            campaign.content = content
        if progress:
            campaign.progress_chat_id = ADMIN_CHAT_ID
        await session.flush()
        return campaign.id


async def read(
    sessionmaker: async_sessionmaker[AsyncSession], query: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """Run a read in its own session."""
    async with sessionmaker() as session:
        return await query(session)


async def get_campaign(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int) -> Campaign:
    """A fresh copy of a campaign."""
    campaign = await read(sessionmaker, lambda s: campaigns.get_campaign(s, campaign_id))
    assert campaign is not None
    return campaign


async def wait_until(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout_s: float = 40.0,
    what: str = "condition",
    logs: Workers | None = None,
) -> T:
    """Poll `probe` until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            detail = f"\n--- worker logs ---\n{logs.logs()}" if logs is not None else ""
            raise AssertionError(f"timed out waiting for {what}{detail}")
        await asyncio.sleep(0.1)


async def delivered_at_least(sim: Simulator, count: int, token: str = TARGET_TOKEN) -> bool:
    """Whether the simulator has delivered `count` messages of `token` so far (a `wait_until` probe)."""
    return sim.stats(token).delivered_total >= count


async def wait_for_status(
    sessionmaker: async_sessionmaker[AsyncSession],
    campaign_id: int,
    statuses: Collection[CampaignStatus] = FINAL_CAMPAIGN_STATUSES,
    *,
    workers: Workers | None = None,
    timeout_s: float = 40.0,
) -> Campaign:
    """Wait until the campaign is in one of `statuses` with all rows final; returns it."""

    async def probe() -> Campaign | None:
        campaign = await get_campaign(sessionmaker, campaign_id)
        if campaign.status not in statuses:
            return None
        if campaign.status in FINAL_CAMPAIGN_STATUSES:
            counts = await status_counts(sessionmaker, campaign_id)
            if counts.get(DeliveryStatus.PENDING) or counts.get(DeliveryStatus.SENDING):
                return None
            # Read again: the first read may predate the commit that settled the last rows (and
            # their counters), which the count above saw.
            return await get_campaign(sessionmaker, campaign_id)
        return campaign

    return await wait_until(
        probe, timeout_s=timeout_s, what=f"campaign {campaign_id} in {statuses}", logs=workers
    )


async def status_counts(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int
) -> dict[DeliveryStatus, int]:
    """Delivery rows by status."""
    return await read(sessionmaker, lambda s: campaigns.delivery_counts(s, campaign_id))


async def rows(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int) -> list[Delivery]:
    """Every delivery row of a campaign."""

    async def query(session: AsyncSession) -> list[Delivery]:
        result = await session.execute(
            select(Delivery).where(Delivery.campaign_id == campaign_id).order_by(Delivery.id)
        )
        return list(result.scalars().all())

    return await read(sessionmaker, query)


async def assert_counters_match_rows(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int
) -> Campaign:
    """The campaign's counters equal its delivery rows by final status, and add up to the total."""
    campaign = await get_campaign(sessionmaker, campaign_id)
    counts = await status_counts(sessionmaker, campaign_id)
    assert campaign.successful_sents == counts.get(DeliveryStatus.SENT, 0)
    assert campaign.failed_sents == counts.get(DeliveryStatus.FAILED, 0)
    assert campaign.unavailable_count == counts.get(DeliveryStatus.UNAVAILABLE, 0)
    assert campaign.unconfirmed_count == counts.get(DeliveryStatus.UNCONFIRMED, 0)
    assert campaign.cancelled_count == counts.get(DeliveryStatus.CANCELLED, 0)
    total_rows = await read(
        sessionmaker,
        lambda s: s.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.campaign_id == campaign_id)
        ),
    )
    assert campaign.total_recipients == total_rows
    return campaign


def delivered(sim: Simulator, token: str = TARGET_TOKEN) -> dict[int, int]:
    """Messages the simulator delivered, per chat."""
    return sim.stats(token).delivered_per_chat
