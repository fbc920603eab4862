"""End-to-end helpers: the simulator in the test's loop, real worker processes, real Redis and DB.

Workers are `python -m jobs` subprocesses configured through the environment, exactly like
`broadcast worker`; each test gets its own arq queue name so nothing leaks between tests.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Campaign, CampaignStatus, Delivery, DeliveryStatus, TargetBot, User
from panel import campaigns
from panel.content import MessageContent
from panel.queue import connect
from tgsim.settings import LimitSettings, SimSettings
from tgsim.simulator import Simulator
from tgsim.world import UserState

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TARGET_TOKEN = "200001:AAengineTargetBotToken"
CONTROL_TOKEN = "200009:AAengineControlBotToken"
ADMIN_CHAT_ID = 777_000
TEST_RATE = 300
FINAL_CAMPAIGN_STATUSES = (CampaignStatus.COMPLETED, CampaignStatus.FAILED, CampaignStatus.CANCELLED)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A simulator whose target bot may send `TEST_RATE` messages per second (paid broadcast)."""
    limits = LimitSettings(global_rate=30, paid_rate=TEST_RATE, retry_after_s=1)
    async with Simulator(SimSettings(seed=11, limits=limits, keep_bot_messages=True)) as simulator:
        simulator.add_bot(TARGET_TOKEN, username="engine_target", paid_broadcast=True)
        simulator.add_bot(CONTROL_TOKEN, username="engine_control")
        simulator.add_user(CONTROL_TOKEN, ADMIN_CHAT_ID, first_name="Admin")
        yield simulator


PR_SET_PDEATHSIG = 1
try:
    _prctl: Any = ctypes.CDLL(None, use_errno=True).prctl  # loaded here, not after the fork
except (OSError, AttributeError):  # not Linux
    _prctl = None


def _ends_with_parent() -> None:
    """In a worker about to start: be killed when the test process dies (a killed pytest run
    would otherwise leave workers behind, sending on until someone finds them)."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Workers:
    """Worker subprocesses of one test."""

    env: dict[str, str]
    log_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, count: int = 1, **settings: object) -> list[subprocess.Popen[bytes]]:
        """Start `count` workers; `settings` override environment settings (e.g. at_least_once=True)."""
        env = dict(self.env)
        env.update({key.upper(): str(value) for key, value in settings.items()})
        started = []
        for _ in range(count):
            log = open(self.log_dir / f"worker-{len(self.processes)}.log", "wb")  # noqa: SIM115
            process = subprocess.Popen(
                [sys.executable, "-m", "jobs"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_ends_with_parent,
            )
            log.close()
            self.processes.append(process)
            started.append(process)
        return started

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL one worker: no cleanup of any kind."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        """Stop every worker still running."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self) -> str:
        """Every worker's output, for failure messages."""
        return "\n".join(
            path.read_text(errors="replace")[-4000:] for path in sorted(self.log_dir.glob("*.log"))
        )


@pytest.fixture
def queue_name() -> str:
    """An arq queue of this test alone."""
    return f"test:engine:{uuid.uuid4().hex[:10]}"


@pytest.fixture
def workers(
    database_url: str, redis_url: str, sim: Simulator, queue_name: str, tmp_path: Path, engine: Any
) -> Iterator[Workers]:
    """Start worker processes against the test database, Redis db and simulator."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.isupper()
        or key in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH"}
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "TELEGRAM_API_URL": sim.base_url,
            "BOT_TOKEN": CONTROL_TOKEN,
            "QUEUE_NAME": queue_name,
            "BATCH_SIZE": "100",
            "SEND_CONCURRENCY": "32",
            "WORKER_LEASE_S": "2",
            "CRON_INTERVAL_S": "1",
            "PROGRESS_INTERVAL_S": "1",
            "REQUEST_TIMEOUT_S": "5",
            "RETRY_BACKOFF_S": "0.1",
            "MAX_ATTEMPTS": "6",
            # The simulator shares this test process: its pauses (the test's own database reads,
            # a loaded CI machine) stamp requests at its rate gate late, in bunches no sender
            # made. 0.97 leaves them room; `bench/engine_bench.py` measures the default (0.985).
            "PACING_FACTOR": "0.97",
            "PYTHONUNBUFFERED": "1",
        }
    )
    log_dir = tmp_path / "workers"
    log_dir.mkdir()
    harness = Workers(env=env, log_dir=log_dir)
    yield harness
    harness.stop_all()


@pytest.fixture
async def pool(redis_url: str, redis: Any) -> AsyncIterator[ArqRedis]:
    """An arq pool on the test Redis database (flushed by the `redis` fixture)."""
    arq_pool = await connect(redis_url)
    yield arq_pool
    await arq_pool.aclose()


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
            token=token,
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
) -> int:
    """A DRAFT campaign by the test admin; with `progress`, its progress goes to the admin's chat."""
    async with sessionmaker.begin() as session:
        campaign = await campaigns.create_campaign(
            session, bot_id=bot_id, content=MessageContent(text=text), created_by=ADMIN_CHAT_ID
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
