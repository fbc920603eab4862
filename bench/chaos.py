"""Chaos run: one campaign through the simulator while its workers are killed, Redis is flushed,
Telegram storms and hangs, and (optionally) the database goes away; then an audit of every recipient.

Everything is real and in its own process: the Bot API simulator (`broadcast sandbox serve`), two
worker processes (`python -m jobs`), Redis and the database. One worker is SIGKILLed and restarted
at seeded moments; one FLUSHDB empties the run's own Redis database (10 by default, so nothing else
on the machine is touched). At the end the simulator's record is compared with the database and
each figure is printed; the exit code is 1 on any breach.

    .venv/bin/python bench/chaos.py                        # 20,000 recipients, fresh SQLite file
    .venv/bin/python bench/chaos.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/chaos
    .venv/bin/python bench/chaos.py --quick --lock-sqlite 5
    .venv/bin/python bench/chaos.py --database-url postgresql+asyncpg://... --restart-postgres

The audit (`audit`) is a pure function of three records — the database's, the simulator's and the
run's — so the suite's shorter chaos tests (tests/chaos/) check exactly what this script checks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/chaos.py`: bench.cores

import aiohttp
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.cores import SENDER_CORES, pin, place_simulator, split_cores
from jobs.engine.deliveries import WORKER_LOST
from models import CampaignStatus, Delivery, DeliveryStatus, TargetBot, User
from panel import campaigns
from panel.content import MessageContent
from panel.db import create_engine, create_sessionmaker, is_sqlite
from panel.migrations import upgrade
from panel.queue import connect, enqueue_start

logger = logging.getLogger("bench.chaos")

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TARGET_TOKEN = "424242:AAchaosTargetBotToken"
FIRST_CHAT_ID = 5_000_000
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"
FINAL_CAMPAIGN_STATUSES = (CampaignStatus.COMPLETED, CampaignStatus.FAILED, CampaignStatus.CANCELLED)
COUNTER_COLUMNS = {
    DeliveryStatus.SENT: "successful_sents",
    DeliveryStatus.FAILED: "failed_sents",
    DeliveryStatus.UNAVAILABLE: "unavailable_count",
    DeliveryStatus.UNCONFIRMED: "unconfirmed_count",
    DeliveryStatus.CANCELLED: "cancelled_count",
}


# ---------------------------------------------------------------------------------------- the plan


@dataclass(frozen=True, slots=True)
class ChaosPlan:
    """What the chaos run does: audience, faults, crashes and the worker settings it runs with."""

    recipients: int = 20_000
    blocked_share: float = 0.10
    rate_per_s: int = 800
    """The target bot's rate (a paid broadcast bot)."""
    seed: int = 7
    server_error_share: float = 0.05
    hang_share: float = 0.02
    hang_s: float = 4.0
    """How long a hanging request hangs: past `request_timeout_s`, so the worker gives up on it."""
    latency_ms: float = 20.0
    jitter_ms: float = 10.0
    storms: int = 2
    storm_s: float = 3.0
    storm_retry_after_s: int = 2
    kills: int = 5
    flushes: int = 1
    lock_sqlite_s: float = 0.0
    """Another process holds `BEGIN EXCLUSIVE` on the SQLite file this long, once (0: never)."""
    terminate_postgres: int = 0
    """Rounds of `pg_terminate_backend` on every other connection to the database (0: none)."""
    restart_postgres: bool = False
    """Restart the PostgreSQL cluster once, mid-campaign (needs root and pg_ctlcluster)."""
    workers: int = 2
    timeout_s: float = 300.0
    # Worker settings (environment of `python -m jobs`).
    request_timeout_s: float = 2.0
    send_concurrency: int = 32
    worker_max_jobs: int = 4
    batch_size: int = 500
    worker_lease_s: float = 3.0
    cron_interval_s: int = 1
    max_attempts: int = 8
    retry_backoff_s: float = 0.2

    @property
    def in_flight_cap(self) -> int:
        """Requests one worker process can have in flight: its senders (and HTTP connections)."""
        return self.send_concurrency * self.worker_max_jobs

    def worker_env(self) -> dict[str, str]:
        """The engine settings of the worker processes."""
        return {
            "REQUEST_TIMEOUT_S": str(self.request_timeout_s),
            "SEND_CONCURRENCY": str(self.send_concurrency),
            "WORKER_MAX_JOBS": str(self.worker_max_jobs),
            "BATCH_SIZE": str(self.batch_size),
            "WORKER_LEASE_S": str(self.worker_lease_s),
            "CRON_INTERVAL_S": str(self.cron_interval_s),
            "MAX_ATTEMPTS": str(self.max_attempts),
            "RETRY_BACKOFF_S": str(self.retry_backoff_s),
            "PROGRESS_INTERVAL_S": "1",
        }


@dataclass(frozen=True, slots=True)
class ChaosEvent:
    """Something done to the system once the campaign's progress reaches `at` (a share of recipients)."""

    at: float
    kind: str
    """"kill", "storm", "flush", "lock-sqlite", "terminate-postgres" or "restart-postgres"."""
    pause_s: float = 0.0
    """For a kill: how long the worker stays dead before it is started again."""


def _spread(rng: random.Random, count: int, low: float, high: float) -> list[float]:
    """`count` random points in `low..high`, one in each of `count` equal parts (so they do not bunch)."""
    width = (high - low) / max(count, 1)
    return [rng.uniform(low + i * width, low + (i + 1) * width) for i in range(count)]


def draw_events(plan: ChaosPlan) -> list[ChaosEvent]:
    """The seeded schedule of the run's events, by progress."""
    rng = random.Random(plan.seed)
    events = [
        ChaosEvent(at, "kill", pause_s=rng.uniform(0.2, 1.5)) for at in _spread(rng, plan.kills, 0.05, 0.85)
    ]
    events += [ChaosEvent(at, "storm") for at in _spread(rng, plan.storms, 0.1, 0.75)]
    events += [ChaosEvent(at, "flush") for at in _spread(rng, plan.flushes, 0.2, 0.7)]
    if plan.lock_sqlite_s > 0:
        events.append(ChaosEvent(rng.uniform(0.25, 0.5), "lock-sqlite"))
    if plan.terminate_postgres > 0:
        events.append(ChaosEvent(rng.uniform(0.25, 0.5), "terminate-postgres"))
    if plan.restart_postgres:
        events.append(ChaosEvent(rng.uniform(0.25, 0.5), "restart-postgres"))
    return sorted(events, key=lambda event: event.at)


# ---------------------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class DeliveryFact:
    """One delivery row as the audit needs it."""

    chat_id: int
    user_id: int
    status: DeliveryStatus
    last_error: str | None


@dataclass(frozen=True, slots=True)
class DatabaseRecord:
    """What the database says at the end of the run."""

    campaign_status: CampaignStatus
    total_recipients: int
    counters: dict[DeliveryStatus, int]
    deliveries: list[DeliveryFact]
    audience_users: int
    """Users of the target bot when the campaign started (none were unavailable then)."""
    unavailable_chat_ids: frozenset[int]
    """Users of the target bot marked `is_unavailable`."""


@dataclass(frozen=True, slots=True)
class SimulatorRecord:
    """What the simulator saw."""

    delivered_per_chat: dict[int, int]
    duplicates: int
    too_many_requests: int
    server_errors: int
    hangs: int
    storm_refusals: int
    peak_per_second: int
    requests: int

    @classmethod
    def from_stats(cls, stats: dict[str, Any]) -> SimulatorRecord:
        """From the JSON of `/sim/stats` (or `StatsSnapshot.to_json()`)."""
        faults = stats.get("faults", {})
        return cls(
            delivered_per_chat={int(chat): int(count) for chat, count in stats["delivered_per_chat"].items()},
            duplicates=int(stats["duplicates"]),
            too_many_requests=int(stats["too_many_requests"]),
            server_errors=int(faults.get("server_error", 0)),
            hangs=int(faults.get("hang_before_delivery", 0)) + int(faults.get("hang_after_delivery", 0)),
            storm_refusals=int(faults.get("storm", 0)),
            peak_per_second=int(stats["peak_per_second"]),
            requests=int(stats.get("requests", {}).get("sendmessage", 0)),
        )


@dataclass(slots=True)
class RunRecord:
    """What the chaos harness did, and saw of its workers."""

    blocked_chat_ids: frozenset[int]
    in_flight_cap: int
    kills_planned: int = 0
    storms_planned: int = 0
    flushes_planned: int = 0
    outages_planned: int = 0
    stranded_at_kills: list[int] = field(default_factory=list)
    """Rows each killed worker held claimed (in flight, about to be sent, or sent but unrecorded)."""
    storms: int = 0
    flushes: int = 0
    outages: list[str] = field(default_factory=list)
    crashed_workers: int = 0
    """Worker processes that ended without being killed by the harness."""
    finished_in_time: bool = False
    duration_s: float = 0.0

    @property
    def kills(self) -> int:
        """Worker processes SIGKILLed."""
        return len(self.stranded_at_kills)


@dataclass(frozen=True, slots=True)
class Figure:
    """One line of the audit: a figure and, for a check, its limit and whether it holds."""

    name: str
    value: object
    limit: str = ""
    ok: bool | None = None
    """None: only reported."""


def _check(name: str, value: int, *, at_most: int) -> Figure:
    return Figure(name, value, f"≤ {at_most}" if at_most else "= 0", value <= at_most)


def audit(db: DatabaseRecord, sim: SimulatorRecord, run: RunRecord) -> list[Figure]:
    """Compare the simulator's record with the database's; every check a figure with its limit."""
    rows = db.deliveries
    by_status = Counter(row.status for row in rows)
    sent = {row.chat_id for row in rows if row.status is DeliveryStatus.SENT}
    unconfirmed_rows = [row for row in rows if row.status is DeliveryStatus.UNCONFIRMED]
    unconfirmed = {row.chat_id for row in unconfirmed_rows}
    worker_lost = sum(1 for row in unconfirmed_rows if row.last_error == WORKER_LOST)
    worker_lost_delivered = sum(
        1
        for row in unconfirmed_rows
        if row.last_error == WORKER_LOST and sim.delivered_per_chat.get(row.chat_id, 0)
    )
    timed_out = len(unconfirmed_rows) - worker_lost
    delivered = sim.delivered_per_chat
    blocked = run.blocked_chat_ids
    ambiguous_or_failed = {
        row.chat_id for row in rows if row.status in (DeliveryStatus.UNCONFIRMED, DeliveryStatus.FAILED)
    }
    unavailable_rows = {row.chat_id for row in rows if row.status is DeliveryStatus.UNAVAILABLE}
    kill_bound = run.kills * run.in_flight_cap
    counters_off = sorted(
        status.value for status in COUNTER_COLUMNS if db.counters.get(status, 0) != by_status.get(status, 0)
    )

    figures = [
        Figure("duration", f"{run.duration_s:.1f} s"),
        Figure(
            "finished within the time limit",
            "yes" if run.finished_in_time else "no",
            "yes",
            run.finished_in_time,
        ),
        Figure(
            "campaign status",
            db.campaign_status.value,
            "completed",
            db.campaign_status is CampaignStatus.COMPLETED,
        ),
        Figure("recipients (audience)", db.audience_users),
        Figure(
            "delivery rows",
            len(rows),
            f"= {db.total_recipients} (total_recipients)",
            len(rows) == db.total_recipients == db.audience_users,
        ),
        Figure(
            "recipients with two rows",
            len(rows) - len({row.user_id for row in rows}),
            "= 0",
            len(rows) == len({row.user_id for row in rows}),
        ),
        _check(
            "rows not final (pending/sending)",
            by_status[DeliveryStatus.PENDING] + by_status[DeliveryStatus.SENDING],
            at_most=0,
        ),
        Figure(
            "counters = rows (sent/failed/unavail/unconf/cancelled)",
            " / ".join(f"{db.counters.get(s, 0)}" for s in COUNTER_COLUMNS),
            "= " + " / ".join(f"{by_status.get(s, 0)}" for s in COUNTER_COLUMNS),
            not counters_off,
        ),
        Figure("sent", by_status[DeliveryStatus.SENT]),
        Figure("failed", by_status[DeliveryStatus.FAILED]),
        Figure("unavailable", by_status[DeliveryStatus.UNAVAILABLE]),
        _check("cancelled", by_status[DeliveryStatus.CANCELLED], at_most=0),
        Figure("messages delivered (simulator)", sum(delivered.values())),
        _check("sent rows delivered twice", sum(1 for chat in sent if delivered.get(chat, 0) > 1), at_most=0),
        _check(
            "sent rows never delivered", sum(1 for chat in sent if delivered.get(chat, 0) == 0), at_most=0
        ),
        _check(
            "chats that got the message twice", sum(1 for count in delivered.values() if count > 1), at_most=0
        ),
        _check("duplicates (simulator)", sim.duplicates, at_most=0),
        _check(
            "delivered, not recorded sent or unconfirmed",
            sum(1 for chat in delivered if chat not in sent and chat not in unconfirmed),
            at_most=0,
        ),
        Figure("unconfirmed", len(unconfirmed_rows)),
        Figure("  of them delivered", sum(1 for chat in unconfirmed if delivered.get(chat, 0) > 0)),
        _check("  timed out (request_timeout_s)", timed_out, at_most=sim.hangs),
        Figure("  hanging requests injected", sim.hangs),
        Figure(
            "worker kills (SIGKILL + restart)",
            run.kills,
            f"= {run.kills_planned}",
            run.kills == run.kills_planned,
        ),
        Figure("  rows claimed by the killed workers", "+".join(map(str, run.stranded_at_kills)) or "0"),
        _check("  unconfirmed: worker lost", worker_lost, at_most=kill_bound),
        Figure("    of them delivered (the message arrived)", worker_lost_delivered),
        Figure("    most rows one killed worker held", max(run.stranded_at_kills, default=0)),
        Figure("  bound: kills × in-flight cap", f"{run.kills} × {run.in_flight_cap} = {kill_bound}"),
        Figure("Redis FLUSHDB", run.flushes, f"= {run.flushes_planned}", run.flushes == run.flushes_planned),
        Figure("429 storms", run.storms, f"= {run.storms_planned}", run.storms == run.storms_planned),
        Figure("429 answers", sim.too_many_requests),
        Figure("5xx answers", sim.server_errors),
        Figure("sendMessage requests", sim.requests),
        Figure("busiest second (requests through the gate)", sim.peak_per_second),
        Figure("blocked users", len(blocked)),
        Figure("  marked unavailable", len(blocked & db.unavailable_chat_ids)),
        _check(
            "  neither marked nor unconfirmed/failed",
            len(blocked - db.unavailable_chat_ids - ambiguous_or_failed),
            at_most=0,
        ),
        _check(
            "unavailable rows whose user is not marked",
            len(unavailable_rows - db.unavailable_chat_ids),
            at_most=0,
        ),
        _check(
            "users marked unavailable that are not blocked", len(db.unavailable_chat_ids - blocked), at_most=0
        ),
        _check("worker processes that crashed", run.crashed_workers, at_most=0),
    ]
    if run.outages_planned:
        figures.append(
            Figure(
                "database outages",
                ", ".join(run.outages) or "none",
                f"{run.outages_planned}",
                len(run.outages) == run.outages_planned,
            )
        )
    return figures


def breaches(figures: Iterable[Figure]) -> list[Figure]:
    """The checks that do not hold."""
    return [figure for figure in figures if figure.ok is False]


def render(figures: Sequence[Figure]) -> str:
    """The figures as a compact table."""
    width = max(len(figure.name) for figure in figures)
    value_width = max(len(str(figure.value)) for figure in figures)
    lines = []
    for figure in figures:
        mark = "" if figure.ok is None else ("ok" if figure.ok else "BREACH")
        line = f"{figure.name:<{width}}  {figure.value!s:>{value_width}}  {figure.limit:<28} {mark}"
        lines.append(line.rstrip())
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------- processes


def _clean_environment() -> dict[str, str]:
    """This process's environment without project settings that would leak into children."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH"}
    return {key: value for key, value in os.environ.items() if not key.isupper() or key in keep}


@dataclass
class WorkerFleet:
    """`python -m jobs` worker processes, each in a slot; a slot's worker can be killed and restarted."""

    env: dict[str, str]
    log_dir: Path
    slots: list[subprocess.Popen[bytes]] = field(default_factory=list)
    every: list[subprocess.Popen[bytes]] = field(default_factory=list)
    killed: set[int] = field(default_factory=set)
    logs_by_pid: dict[int, Path] = field(default_factory=dict)

    def _spawn(self) -> subprocess.Popen[bytes]:
        path = self.log_dir / f"worker-{len(self.every)}.log"
        with open(path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "jobs"],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        pin(process.pid, SENDER_CORES)
        self.every.append(process)
        self.logs_by_pid[process.pid] = path
        return process

    def start(self, count: int) -> None:
        """Start `count` workers in new slots."""
        for _ in range(count):
            self.slots.append(self._spawn())

    def is_ready(self, slot: int) -> bool:
        """Whether the slot's worker has finished starting (it logged that it is ready)."""
        process = self.slots[slot]
        return process.poll() is None and b"ready on queue" in self.logs_by_pid[process.pid].read_bytes()

    def kill(self, slot: int) -> int:
        """SIGKILL the slot's worker (no cleanup of any kind); returns its pid."""
        process = self.slots[slot]
        self.killed.add(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        return process.pid

    def restart(self, slot: int) -> None:
        """A new worker in the slot, as a supervisor would start one."""
        self.slots[slot] = self._spawn()

    def crashed(self) -> int:
        """Workers that ended although nobody killed them."""
        return sum(1 for p in self.every if p.poll() is not None and p.pid not in self.killed)

    def stop_all(self) -> None:
        """SIGTERM every worker still running, SIGKILL any that does not stop within 10 s."""
        for process in self.every:
            if process.poll() is None:
                self.killed.add(process.pid)
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.every:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self, tail_chars: int = 3000) -> str:
        """The end of every worker's log, for failure messages."""
        return "\n".join(
            f"--- {path.name} ---\n{path.read_text(errors='replace')[-tail_chars:]}"
            for path in sorted(self.logs_by_pid.values())
        )


def _open_log(path: Path) -> Any:
    return path.open("wb")


@dataclass
class SimulatorProcess:
    """`broadcast sandbox serve` in its own process, driven over its `/sim/...` endpoints."""

    plan: ChaosPlan
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    base_url: str = ""
    http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Start the simulator with the plan's faults and wait for its address."""
        plan = self.plan
        with _open_log(self.log_path) as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "cli.main", "sandbox", "serve", "--port", "0",
                "--bot", f"{TARGET_TOKEN}:chaos_target", "--paid", "--seed", str(plan.seed),
                "--error-share", str(plan.server_error_share), "--hang-share", str(plan.hang_share),
                "--hang-s", str(plan.hang_s), "--latency-ms", str(plan.latency_ms), "--jitter-ms", str(plan.jitter_ms),
                cwd=PROJECT_ROOT, env=_clean_environment(), stdout=asyncio.subprocess.PIPE, stderr=log,
            )  # fmt: skip
        place_simulator(self.process.pid)
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        words = line.decode().split()
        url = next((word for word in words if word.startswith("http://")), None)
        if url is None:
            raise RuntimeError(f"the simulator did not start: {line!r}; see {self.log_path}")
        self.base_url = url
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))

    async def call(self, method: str, path: str, **body: Any) -> Any:
        """One `/sim/...` call; returns its result."""
        assert self.http is not None
        if method == "GET":
            request = self.http.get(f"{self.base_url}{path}", params=body)
        else:
            request = self.http.post(f"{self.base_url}{path}", json=body)
        async with request as response:
            answer = await response.json()
        if not answer.get("ok"):
            raise RuntimeError(f"simulator {path}: {answer}")
        return answer["result"]

    async def stop(self) -> None:
        """Stop the simulator process."""
        if self.http is not None:
            await self.http.close()
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


# ---------------------------------------------------------------------------------------- database


async def prepare_database(database_url: str, *, fresh: bool) -> None:
    """Create a PostgreSQL database if missing, empty it when `fresh`, and migrate it to head."""
    if not is_sqlite(database_url):
        url = make_url(database_url)
        admin = create_engine(url.set(database="postgres").render_as_string(hide_password=False))
        try:
            async with admin.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
                exists = await connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
                )
                if not exists:
                    await connection.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
        finally:
            await admin.dispose()
        if fresh:
            engine = create_engine(database_url)
            try:
                async with engine.begin() as connection:
                    await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                    await connection.execute(text("CREATE SCHEMA public"))
            finally:
                await engine.dispose()
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def with_retries(work: Callable[[], Awaitable[T]], *, give_up_s: float = 120.0) -> T:
    """Run a read of the harness again while the database is away (the harness is a client too)."""
    deadline = time.monotonic() + give_up_s
    while True:
        try:
            return await work()
        except Exception as exc:
            if time.monotonic() > deadline:
                raise
            logger.info("harness read failed (%s); retrying", type(exc).__name__)
            await asyncio.sleep(0.5)


async def add_audience(
    sessionmaker: async_sessionmaker[AsyncSession], plan: ChaosPlan
) -> tuple[int, list[int], frozenset[int]]:
    """A paid target bot and its users; returns (bot id, every chat id, the blocked chat ids)."""
    chat_ids = list(range(FIRST_CHAT_ID, FIRST_CHAT_ID + plan.recipients))
    rng = random.Random(plan.seed)
    blocked = frozenset(rng.sample(chat_ids, round(plan.recipients * plan.blocked_share)))
    async with sessionmaker.begin() as session:
        bot = TargetBot(
            codename=f"chaos{uuid.uuid4().hex[:6]}",
            token=TARGET_TOKEN,
            rate_per_s=plan.rate_per_s,
            paid_broadcast=True,
        )
        session.add(bot)
        await session.flush()
        bot_id = bot.id
        for start in range(0, len(chat_ids), 5000):
            await session.execute(
                insert(User),
                [{"bot_id": bot_id, "chat_id": chat_id} for chat_id in chat_ids[start : start + 5000]],
            )
    return bot_id, chat_ids, blocked


async def new_campaign(sessionmaker: async_sessionmaker[AsyncSession], bot_id: int) -> int:
    """A DRAFT campaign to the bot's users."""
    async with sessionmaker.begin() as session:
        campaign = await campaigns.create_campaign(
            session,
            bot_id=bot_id,
            content=MessageContent(text="Chaos run: every recipient exactly once"),
            name="chaos",
        )
        return campaign.id


async def read_progress(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int
) -> tuple[CampaignStatus, int, int]:
    """(status, recipients in a final state, total) from the campaign's counters."""
    async with sessionmaker() as session:
        campaign = await campaigns.get_campaign(session, campaign_id)
        assert campaign is not None
        return campaign.status, campaign.finished_count, campaign.total_recipients


async def unfinished_rows(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int) -> int:
    """Rows still pending or sending."""
    async with sessionmaker() as session:
        counts = await campaigns.delivery_counts(session, campaign_id)
    return counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)


async def rows_claimed_by_pid(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int, pid: int
) -> int:
    """Rows in `sending` claimed by the worker process `pid` (worker ids read `host:pid:nonce`)."""
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).where(
                Delivery.campaign_id == campaign_id,
                Delivery.status == DeliveryStatus.SENDING,
                Delivery.claimed_by.like(f"%:{pid}:%"),
            )
        )
    return int(count or 0)


async def read_database_record(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int, bot_id: int
) -> DatabaseRecord:
    """Everything the audit needs from the database."""
    async with sessionmaker() as session:
        campaign = await campaigns.get_campaign(session, campaign_id)
        assert campaign is not None
        result = await session.execute(
            select(Delivery.chat_id, Delivery.user_id, Delivery.status, Delivery.last_error).where(
                Delivery.campaign_id == campaign_id
            )
        )
        deliveries = [DeliveryFact(int(c), int(u), DeliveryStatus(s), e) for c, u, s, e in result.all()]
        users = (
            await session.execute(select(User.chat_id, User.is_unavailable).where(User.bot_id == bot_id))
        ).all()
    return DatabaseRecord(
        campaign_status=CampaignStatus(campaign.status),
        total_recipients=campaign.total_recipients,
        counters={status: int(getattr(campaign, column)) for status, column in COUNTER_COLUMNS.items()},
        deliveries=deliveries,
        audience_users=len(users),
        unavailable_chat_ids=frozenset(int(chat) for chat, unavailable in users if unavailable),
    )


# ---------------------------------------------------------------------------------------- outages


LOCK_SCRIPT = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
print("released", flush=True)
"""


async def hold_sqlite_lock(database_url: str, hold_s: float) -> None:
    """Another process (plain sqlite3) holds the database's write lock for `hold_s` seconds."""
    path = make_url(database_url).database
    assert path
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCK_SCRIPT, path, str(hold_s), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        locked = await asyncio.wait_for(process.stdout.readline(), 60)
        if locked.strip() != b"locked":
            raise RuntimeError("the lock holder could not take the lock")
        logger.info("SQLite write lock held by pid %s for %.1f s", process.pid, hold_s)
        await asyncio.wait_for(process.wait(), hold_s + 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def terminate_postgres_backends(database_url: str, rounds: int) -> int:
    """Drop every other connection to the database, `rounds` times: what a restart does to clients.

    Returns how many connections were terminated in all.
    """
    engine = create_engine(database_url)
    total = 0
    try:
        async with engine.connect() as connection:
            for _ in range(rounds):
                terminated = await connection.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                await connection.commit()
                total += int(terminated or 0)
                logger.info("terminated %s PostgreSQL connections", terminated)
                await asyncio.sleep(0.4)
    finally:
        await engine.dispose()
    return total


async def restart_postgres() -> None:
    """Restart the local PostgreSQL cluster (`pg_ctlcluster VERSION main restart`)."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    process = await asyncio.create_subprocess_exec(
        "pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"
    )
    if await asyncio.wait_for(process.wait(), 120) != 0:
        raise RuntimeError("pg_ctlcluster restart failed")
    logger.info("PostgreSQL %s restarted", version)


# ---------------------------------------------------------------------------------------- the run


@dataclass(slots=True)
class ChaosReport:
    """The audit of one chaos run, and where its logs are."""

    figures: list[Figure]
    work_dir: Path
    worker_logs: str

    @property
    def breaches(self) -> list[Figure]:
        """Checks that do not hold."""
        return breaches(self.figures)


@contextlib.asynccontextmanager
async def _running(plan: ChaosPlan, work_dir: Path) -> AsyncIterator[tuple[SimulatorProcess, WorkerFleet]]:
    simulator = SimulatorProcess(plan, work_dir / "simulator.log")
    fleet = WorkerFleet(env={}, log_dir=work_dir)
    try:
        await simulator.start()
        yield simulator, fleet
    finally:
        fleet.stop_all()
        await simulator.stop()


async def run_chaos(
    plan: ChaosPlan, *, database_url: str, redis_url: str, work_dir: Path, queue_name: str | None = None
) -> ChaosReport:
    """Run one campaign under `plan`'s chaos against a migrated database; returns the audit.

    Every process started here is stopped before this returns (or raises, or is cancelled).
    """
    queue_name = queue_name or f"chaos:{uuid.uuid4().hex[:8]}"
    engine = create_engine(database_url)
    sessionmaker = create_sessionmaker(engine)
    pool = await connect(redis_url)
    started = time.monotonic()
    try:
        async with _running(plan, work_dir) as (simulator, fleet):
            bot_id, chat_ids, blocked = await add_audience(sessionmaker, plan)
            blocked_ids = [chat for chat in chat_ids if chat in blocked]
            await simulator.call(
                "POST", "/sim/users", token=TARGET_TOKEN, chat_ids=[c for c in chat_ids if c not in blocked]
            )
            await simulator.call(
                "POST", "/sim/users", token=TARGET_TOKEN, chat_ids=blocked_ids, state="blocked"
            )
            campaign_id = await new_campaign(sessionmaker, bot_id)
            run = RunRecord(blocked_chat_ids=blocked, in_flight_cap=plan.in_flight_cap)
            events = draw_events(plan)
            run.kills_planned = sum(1 for e in events if e.kind == "kill")
            run.storms_planned = sum(1 for e in events if e.kind == "storm")
            run.flushes_planned = sum(1 for e in events if e.kind == "flush")
            run.outages_planned = sum(
                1 for e in events if e.kind.endswith("-sqlite") or e.kind.endswith("-postgres")
            )

            fleet.env = {
                **_clean_environment(),
                **plan.worker_env(),
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "TELEGRAM_API_URL": simulator.base_url,
                "BOT_TOKEN": "",
                "QUEUE_NAME": queue_name,
                "PYTHONUNBUFFERED": "1",
            }
            fleet.start(plan.workers)
            started = time.monotonic()
            await enqueue_start(pool, campaign_id, queue_name=queue_name)
            run.finished_in_time = await _drive(
                plan,
                events,
                run,
                fleet,
                simulator,
                sessionmaker,
                pool,
                campaign_id,
                database_url=database_url,
            )
            run.duration_s = time.monotonic() - started
            run.crashed_workers = fleet.crashed()
            await asyncio.sleep(0.5)  # let the simulator answer anything still in its hands
            sim_record = SimulatorRecord.from_stats(
                await simulator.call("GET", "/sim/stats", token=TARGET_TOKEN)
            )
            db_record = await with_retries(lambda: read_database_record(sessionmaker, campaign_id, bot_id))
            figures = audit(db_record, sim_record, run)
            return ChaosReport(figures=figures, work_dir=work_dir, worker_logs=fleet.logs())
    finally:
        await pool.aclose()
        await engine.dispose()


async def _drive(
    plan: ChaosPlan,
    events: list[ChaosEvent],
    run: RunRecord,
    fleet: WorkerFleet,
    simulator: SimulatorProcess,
    sessionmaker: async_sessionmaker[AsyncSession],
    pool: Any,
    campaign_id: int,
    *,
    database_url: str,
) -> bool:
    """Fire the events as progress reaches them; True once the campaign is over with every row final."""
    pending = list(events)
    outages: list[asyncio.Task[None]] = []
    deadline = time.monotonic() + plan.timeout_s
    last_report = 0.0
    storm_over_at = 0.0
    try:
        while time.monotonic() < deadline:
            status, finished, total = await with_retries(lambda: read_progress(sessionmaker, campaign_id))
            progress = finished / total if total else 0.0
            if status in FINAL_CAMPAIGN_STATUSES and not await with_retries(
                lambda: unfinished_rows(sessionmaker, campaign_id)
            ):
                return True
            if time.monotonic() - last_report > 5:
                logger.info("progress %d/%d (%s)", finished, total, status.value)
                last_report = time.monotonic()
            while pending and status is CampaignStatus.SENDING and progress >= pending[0].at:
                event = pending[0]
                if event.kind == "kill":
                    if not fleet.is_ready(0):
                        break  # the restarted worker is still starting: kill it once it works
                    pid = fleet.kill(0)

                    async def stranded_rows(pid: int = pid) -> int:
                        return await rows_claimed_by_pid(sessionmaker, campaign_id, pid)

                    stranded = await with_retries(stranded_rows)
                    run.stranded_at_kills.append(stranded)
                    logger.info(
                        "killed worker %s at %.0f%% holding %d claimed rows", pid, progress * 100, stranded
                    )
                    await asyncio.sleep(event.pause_s)
                    fleet.restart(0)
                elif event.kind == "storm":
                    if time.monotonic() < storm_over_at:
                        break  # one storm at a time: the next starts once the last one has passed
                    storm_over_at = time.monotonic() + plan.storm_s + plan.storm_retry_after_s + 1
                    await simulator.call(
                        "POST", "/sim/storm", token=TARGET_TOKEN, duration_s=plan.storm_s,
                        retry_after_s=plan.storm_retry_after_s,
                    )  # fmt: skip
                    run.storms += 1
                    logger.info("429 storm for %.1f s at %.0f%%", plan.storm_s, progress * 100)
                elif event.kind == "flush":
                    await pool.flushdb()
                    run.flushes += 1
                    logger.info("Redis FLUSHDB at %.0f%%", progress * 100)
                else:
                    outages.append(asyncio.create_task(_outage(event.kind, plan, database_url, run)))
                pending.pop(0)
            await asyncio.sleep(0.1)
        return False
    finally:
        for task in outages:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 180)


async def _outage(kind: str, plan: ChaosPlan, database_url: str, run: RunRecord) -> None:
    if kind == "lock-sqlite":
        await hold_sqlite_lock(database_url, plan.lock_sqlite_s)
        run.outages.append(f"SQLite locked {plan.lock_sqlite_s:g} s")
    elif kind == "terminate-postgres":
        terminated = await terminate_postgres_backends(database_url, plan.terminate_postgres)
        run.outages.append(f"{terminated} connections terminated in {plan.terminate_postgres} rounds")
    elif kind == "restart-postgres":
        await restart_postgres()
        run.outages.append("PostgreSQL restarted")


# ---------------------------------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument(
        "--redis-url", default=DEFAULT_REDIS_URL, help="its database is FLUSHed (default db 10)"
    )
    parser.add_argument("--recipients", type=int, help="default 20,000 (3,000 with --quick)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--kills", type=int, help="SIGKILL + restart of one worker (default 5, 2 with --quick)"
    )
    parser.add_argument("--rate", type=int, help="the target bot's messages per second (default 800)")
    parser.add_argument(
        "--quick", action="store_true", help="a short run: 3,000 recipients, 2 kills, 1 storm"
    )
    parser.add_argument(
        "--lock-sqlite",
        type=float,
        default=0.0,
        metavar="S",
        help="another process holds the SQLite write lock for S seconds mid-campaign",
    )
    parser.add_argument(
        "--terminate-postgres",
        type=int,
        default=0,
        metavar="N",
        help="terminate every other PostgreSQL connection N times mid-campaign",
    )
    parser.add_argument(
        "--restart-postgres",
        action="store_true",
        help="restart the PostgreSQL cluster mid-campaign (pg_ctlcluster, as root)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, SQLite file)")
    parser.add_argument(
        "--no-pin", action="store_true", help="let the simulator share cores with the workers"
    )
    return parser.parse_args(argv)


def plan_from_args(args: argparse.Namespace) -> ChaosPlan:
    """The plan the options ask for."""
    plan = ChaosPlan(seed=args.seed, timeout_s=args.timeout)
    if args.quick:
        plan = dataclasses.replace(plan, recipients=3000, kills=2, storms=1, rate_per_s=400, batch_size=200)
    changes: dict[str, Any] = {
        "lock_sqlite_s": args.lock_sqlite,
        "terminate_postgres": args.terminate_postgres,
        "restart_postgres": args.restart_postgres,
    }
    if args.recipients is not None:
        changes["recipients"] = args.recipients
    if args.kills is not None:
        changes["kills"] = args.kills
    if args.rate is not None:
        changes["rate_per_s"] = args.rate
    return dataclasses.replace(plan, **changes)


async def amain(args: argparse.Namespace) -> int:
    """Run, print the audit, and return the exit code."""
    plan = plan_from_args(args)
    work_dir = Path(tempfile.mkdtemp(prefix="chaos-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{work_dir / 'chaos.sqlite3'}"
    if plan.lock_sqlite_s and not is_sqlite(database_url):
        raise SystemExit("--lock-sqlite needs a SQLite database")
    if (plan.restart_postgres or plan.terminate_postgres) and is_sqlite(database_url):
        raise SystemExit("--restart-postgres/--terminate-postgres need a PostgreSQL database")
    await prepare_database(database_url, fresh=True)
    print(
        f"chaos run: {plan.recipients} recipients ({plan.blocked_share:.0%} blocked) at {plan.rate_per_s}/s on "
        f"{make_url(database_url).get_backend_name()}, seed {plan.seed}; {plan.server_error_share:.0%} 5xx, "
        f"{plan.hang_share:.0%} hangs ({plan.hang_s:g} s vs request timeout {plan.request_timeout_s:g} s), "
        f"{plan.storms} storm(s), {plan.workers} workers, {plan.kills} kill(s), {plan.flushes} FLUSHDB",
        flush=True,
    )
    report = await run_chaos(plan, database_url=database_url, redis_url=args.redis_url, work_dir=work_dir)
    print(render(report.figures))
    failed = report.breaches
    if failed:
        print(f"\n{len(failed)} BREACH(ES): " + "; ".join(figure.name.strip() for figure in failed))
        print(f"logs kept in {work_dir}")
        return 1
    print("\nall checks hold")
    if not args.keep:
        shutil.rmtree(work_dir, ignore_errors=True)
    else:
        print(f"logs kept in {work_dir}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    if not args.no_pin:
        split_cores()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
