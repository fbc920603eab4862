"""Engine benchmark: real worker processes against the simulator (in its own process).

    .venv/bin/python bench/engine_bench.py [--quick] [--skip-scale] [--route NAME ...] [--repeat N]

Scenarios: N recipients at 30/s, and M recipients (10% blocked) at 1000/s with paid broadcast,
each with 1 and 2 worker processes, plus a reference sender (aiolimiter + fixed concurrency)
against an identical bot. Every request has 100 ms latency (± jitter) in the simulator.
Printed per run: limit use (requests that passed the simulator's rate gate per second, first to
last, over the configured rate), 429s as a share of sends, duplicates, the busiest 1-s window,
CPU seconds per 1,000 messages and the workers' peak memory. The scale run times freezing a
1,000,000-recipient audience on SQLite and compares worker memory at 10,000 and 1,000,000.

The simulator stands in for Telegram's servers: on a machine of two or more cores it gets the
first core to itself and every sender (workers, reference) the others (`--pin`: other splits).
`--profile` prints each run's gate passes per second, to see where limit use is lost.

`--route` (repeatable) runs every row over a named route of issue 18 instead (`ROUTES`: spreads
of 10, 25 and 50 ms at the gate, a latency drifting from 40 to 160 ms over the run, a 200 ms stall
every 5 s), `--repeat N` times each, and ends with a summary per route and row: every run's
limit use and 429 share against the issue's goal for that route.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiogram.exceptions import TelegramRetryAfter  # noqa: E402
from aiolimiter import AsyncLimiter  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.cores import SENDER_CORES, pin, place_simulator, split_cores  # noqa: E402
from bench.secret import sealed, secret_key  # noqa: E402
from bot.aiogram_bot import make_bot  # noqa: E402
from jobs.engine import deliveries  # noqa: E402
from jobs.engine.sendclient import BotAPI  # noqa: E402
from jobs.launch import WorkerProcesses, worker_environment  # noqa: E402
from models import Campaign, CampaignStatus, TargetBot  # noqa: E402
from panel import campaigns  # noqa: E402
from panel.content import MessageContent  # noqa: E402
from panel.db import create_engine, create_sessionmaker  # noqa: E402
from panel.greetings import PERSONALISED_KEY  # noqa: E402
from panel.migrations import upgrade  # noqa: E402
from panel.queue import connect, enqueue_start  # noqa: E402
from tgsim.launch import SimulatorProcess  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
LATENCY_S = 0.1
GOAL_429_SHARE = 0.005
"""Issue 18: at most 0.5% of sends answered 429, on every run."""


@dataclass(frozen=True, slots=True)
class Route:
    """A network route from the senders to the simulator's rate gate, and the goal on it."""

    name: str
    jitter_s: float
    """± around the mean; half the latency is before the gate, so the spread there is this much."""
    goal_use: float
    """Issue 18's limit-use goal on every run (drift, stall, unpinned: the spread-10 goal)."""
    goal_note: str
    drift_from_s: float | None = None
    """The mean latency moves from this to `drift_to_s` over the run (from its first send)."""
    drift_to_s: float | None = None
    stall_every_s: float = 0.0
    stall_s: float = 0.0

    def faults(self, run_s: float) -> dict[str, Any]:
        """The simulator's fault settings for a run expected to send for `run_s` seconds."""
        faults: dict[str, Any] = {"latency_mean_s": LATENCY_S, "latency_jitter_s": self.jitter_s}
        if self.drift_from_s is not None and self.drift_to_s is not None:
            faults |= {
                "latency_mean_s": self.drift_from_s,
                "latency_drift_to_s": self.drift_to_s,
                "latency_drift_over_s": run_s,
            }
        if self.stall_every_s > 0:
            faults |= {"stall_every_s": self.stall_every_s, "stall_s": self.stall_s}
        return faults

    def describe(self) -> str:
        """The route in words."""
        if self.drift_from_s is not None and self.drift_to_s is not None:
            latency = f"{self.drift_from_s * 1000:.0f}→{self.drift_to_s * 1000:.0f} ms over the run"
        else:
            latency = f"{LATENCY_S * 1000:.0f} ms"
        stall = (
            f", a {self.stall_s * 1000:.0f} ms stall every {self.stall_every_s:.0f} s"
            if self.stall_every_s > 0
            else ""
        )
        spread_ms = self.jitter_s * 1000
        return f"{latency} ± {spread_ms:.0f} ms (spread {spread_ms:.0f} ms at the gate){stall}"


_SPREAD10_GOAL = "the spread-10 goal"
ROUTES = {
    "spread10": Route("spread10", 0.01, 0.97, "spread 10 ms"),
    "spread25": Route("spread25", 0.025, 0.955, "spread 25 ms"),
    "spread50": Route("spread50", 0.05, 0.93, "spread 50 ms"),
    "drift": Route("drift", 0.01, 0.97, _SPREAD10_GOAL, drift_from_s=0.04, drift_to_s=0.16),
    "stall": Route("stall", 0.01, 0.97, _SPREAD10_GOAL, stall_every_s=5.0, stall_s=0.2),
}


@dataclass
class Result:
    """One benchmark run."""

    label: str
    rate: int
    recipients: int
    use: float
    share_429: float
    duplicates: int
    peak: int
    cpu_per_1000: float
    peak_mb: float
    seconds: float
    per_second: list[int] = field(default_factory=list)
    slow_gaps: list[tuple[float, float]] = field(default_factory=list)
    refused_at: list[float] = field(default_factory=list)
    first_gate_at: float = 0.0

    def row(self) -> str:
        """A table row."""
        return (
            f"{self.label:<40} {self.recipients:>8,} {self.rate:>6}/s {self.use * 100:>7.1f}% "
            f"{self.share_429 * 100:>7.2f}% {self.duplicates:>5} {self.peak:>6} "
            f"{self.cpu_per_1000:>9.3f} {self.peak_mb:>8.1f} {self.seconds:>7.1f}"
        )

    def profile(self) -> str:
        """Gate passes in each second from the first: where limit use is lost (start, middle, end)."""
        lines = [f"{self.label}: per second " + " ".join(str(count) for count in self.per_second)]
        if self.slow_gaps:
            interval = 1 / self.rate
            lost = sum(gap - interval for _, gap in self.slow_gaps)
            worst = sorted(self.slow_gaps, key=lambda g: -g[1])[:12]
            lines.append(
                f"  {len(self.slow_gaps)} gaps over 1.6 intervals, {lost:.3f} s beyond one interval; largest "
                + " ".join(f"{gap * 1000:.0f}ms@{at - self.first_gate_at:.1f}s" for at, gap in worst)
            )
        if self.refused_at:
            lines.append(
                f"  429s at (s from the first pass; monotonic {self.first_gate_at:.3f}) "
                + " ".join(f"{at - self.first_gate_at:.3f}" for at in self.refused_at[:20])
            )
        return "\n".join(lines)


HEADER = (
    f"{'run':<40} {'recips':>8} {'rate':>8} {'use':>8} {'429s':>8} {'dups':>5} {'peak1s':>6} "
    f"{'cpu/1000':>9} {'peakMB':>8} {'secs':>7}"
)


async def start_simulator() -> tuple[SimulatorProcess, str]:
    """The benchmark's tuned simulator (`bench/engine_sim.py`) in its own process, on its own core,
    answering; and where and at what priority it runs, as read back from the system."""
    sim = SimulatorProcess.spawn(lambda port: [str(ROOT / "bench" / "engine_sim.py"), str(port)], cwd=ROOT)
    place_simulator(sim.pid)
    await sim.start()
    return sim, placement(sim.pid)


def placement(pid: int) -> str:
    """Process `pid`'s cores, scheduling policy and nice value, read from the system (not assumed)."""
    try:
        cores = sorted(os.sched_getaffinity(pid))
        # (without the reset-on-fork flag, which a policy may carry)
        policy = os.sched_getscheduler(pid) & ~getattr(os, "SCHED_RESET_ON_FORK", 0)
        nice = os.getpriority(os.PRIO_PROCESS, pid)
    except (AttributeError, OSError) as error:
        return f"placement unknown ({error})"
    every_core = len(cores) >= (os.cpu_count() or len(cores))
    names = {os.SCHED_OTHER: "SCHED_OTHER", os.SCHED_FIFO: "SCHED_FIFO", os.SCHED_RR: "SCHED_RR"}
    return (
        f"cores {cores}{' (not pinned)' if every_core else ''}, "
        f"{names.get(policy, str(policy))}{' (normal priority)' if policy == os.SCHED_OTHER else ''}, "
        f"nice {nice}"
    )


async def add_bot(
    sim: SimulatorProcess,
    token: str,
    *,
    rate: int,
    paid: bool,
    chat_ids: range,
    blocked: range,
    jitter_s: float,
    faults: dict[str, Any] | None = None,
) -> None:
    """A bot of the simulator with the given limit, latency (or `faults`, a route's) and users."""
    limits = {"global_rate": min(rate, 30), "paid_rate": rate, "retry_after_s": 1}
    faults = faults or {"latency_mean_s": LATENCY_S, "latency_jitter_s": jitter_s}
    await sim.call("POST", "/sim/bots", token=token, paid_broadcast=paid, limits=limits, faults=faults)
    await sim.call("POST", "/sim/users", token=token, start=chat_ids.start, count=len(chat_ids))
    if len(blocked):
        await sim.call(
            "POST", "/sim/users", token=token, start=blocked.start, count=len(blocked), state="blocked"
        )


def limit_use(stats: dict[str, Any], rate: int) -> float:
    """Requests through the gate per second, first to last, over the configured rate."""
    passed = int(stats["passed_gate"])
    first, last = stats["first_passed_at"], stats["last_passed_at"]
    if passed < 2 or not first or not last or last <= first:
        return 0.0
    return (passed - 1) / (last - first) / rate


def checked(stats: dict[str, Any], label: str) -> dict[str, Any]:
    """The stats of a run that sent through the gate at all (a run with none is a broken run)."""
    if int(stats["passed_gate"]) == 0:
        raise RuntimeError(f"{label}: no request passed the simulator's gate (a wrong token?)")
    return stats


def share_429(stats: dict[str, Any]) -> float:
    """429 answers over send requests."""
    sends = sum(count for method, count in stats["requests"].items() if method.startswith("send"))
    return int(stats["too_many_requests"]) / max(sends, 1)


async def prepare_database(
    url: str, token: str, *, rate: int, chat_ids: range, blocked: range, personalised: bool = False
) -> int:
    """A migrated database with one bot and its users; returns the campaign id (a draft).

    `personalised`: every user has a first name and a username, and the message greets each one
    by name (placeholders before a bold word, filled per recipient at send time).
    """
    engine = create_engine(url)
    await upgrade(engine)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker.begin() as session:
        bot = TargetBot(
            codename=f"b{token[:6]}", sealed_token=sealed(token), rate_per_s=rate, paid_broadcast=rate > 30
        )
        session.add(bot)
        await session.flush()
        bot_id = bot.id
    await bulk_users(engine, bot_id, [*chat_ids, *blocked], named=personalised)
    async with sessionmaker.begin() as session:
        campaign = await campaigns.create_campaign(
            session, bot_id=bot_id, content=MessageContent(text="Benchmark")
        )
        if personalised:
            greeting = "Hi {first_name|friend}, news for {username|you}: big sale"
            bold = {"type": "bold", "offset": greeting.index("big"), "length": 8}
            campaign.content = {**MessageContent(greeting, (bold,)).to_json(), PERSONALISED_KEY: True}
        campaign_id = campaign.id
    await engine.dispose()
    return campaign_id


async def bulk_users(engine: Any, bot_id: int, chat_ids: list[int], *, named: bool = False) -> None:
    """Insert users fast (plain executemany in chunks); `named`: each with a first name and username."""
    now = datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as the tables keep it
    async with engine.begin() as connection:
        for start in range(0, len(chat_ids), 50_000):
            chunk = chat_ids[start : start + 50_000]
            await connection.execute(
                text(
                    "INSERT INTO users (bot_id, platform, chat_id, is_unavailable, created_at, "
                    "first_name, username) "
                    "VALUES (:bot_id, 'telegram', :chat_id, false, :now, :first_name, :username)"
                ),
                [
                    {
                        "bot_id": bot_id,
                        "chat_id": chat_id,
                        "now": now,
                        "first_name": f"Name😀{chat_id % 997}" if named else None,
                        "username": f"user{chat_id}" if named else None,
                    }
                    for chat_id in chunk
                ],
            )


class WorkerGroup:
    """Worker processes on the sender cores, with CPU and peak memory sampled by psutil."""

    def __init__(self, count: int, env: dict[str, str], log_dir: Path) -> None:
        # BENCH_PROFILE=1: cProfile each worker (its profile written when it stops).
        self.workers = WorkerProcesses(
            env=env, log_dir=log_dir, profile=bool(os.environ.get("BENCH_PROFILE"))
        )
        processes = self.workers.start(count)
        self.handles = [psutil.Process(p.pid) for p in processes]
        for process in processes:
            pin(process.pid, SENDER_CORES)
        self.peak_rss = 0

    def cpu(self) -> float:
        """CPU seconds used so far by all workers."""
        total = 0.0
        for handle in self.handles:
            with contextlib.suppress(psutil.Error):
                times = handle.cpu_times()
                total += times.user + times.system
        return total

    def sample(self) -> None:
        """Record the largest resident memory of any worker."""
        for handle in self.handles:
            with contextlib.suppress(psutil.Error):
                self.peak_rss = max(self.peak_rss, handle.memory_info().rss)

    def stop(self) -> None:
        """Stop them."""
        self.workers.stop_all(timeout_s=15)


def worker_env(database_url: str, sim: SimulatorProcess, queue: str, **extra: str) -> dict[str, str]:
    """Environment of a benchmark worker."""
    return worker_environment(
        database_url=database_url,
        redis_url=REDIS_URL,
        telegram_api_url=sim.base_url,
        queue_name=queue,
        secret_key=secret_key(),
        **extra,
    )


async def run_bot(
    sim: SimulatorProcess,
    label: str,
    kind: str,
    *,
    rate: int,
    audience: int,
    blocked_share: float,
    jitter_s: float,
    route: Route | None,
) -> tuple[str, range, range]:
    """The simulator's bot of one run (`kind`: bench or ref): its token, active and blocked chats."""
    token = f"{abs(hash(label)) % 900000 + 100000}:AA{kind}{label.replace(' ', '').replace('/', '')[:20]}"
    blocked_count = int(audience * blocked_share)
    chat_ids = range(10_000_000, 10_000_000 + audience - blocked_count)
    blocked = range(20_000_000, 20_000_000 + blocked_count)
    await add_bot(
        sim,
        token,
        rate=rate,
        paid=rate > 30,
        chat_ids=chat_ids,
        blocked=blocked,
        jitter_s=jitter_s,
        faults=route.faults(audience / rate) if route else None,
    )
    return token, chat_ids, blocked


async def run_engine(
    sim: SimulatorProcess,
    workdir: Path,
    *,
    label: str,
    rate: int,
    audience: int,
    blocked_share: float,
    workers: int,
    jitter_s: float,
    extra_env: dict[str, str] | None = None,
    personalised: bool = False,
    route: Route | None = None,
) -> Result:
    """One engine run: fresh database and bot, `workers` processes, until the campaign completes."""
    token, chat_ids, blocked = await run_bot(
        sim,
        label,
        "bench",
        rate=rate,
        audience=audience,
        blocked_share=blocked_share,
        jitter_s=jitter_s,
        route=route,
    )
    database_url = f"sqlite+aiosqlite:///{workdir / (label.replace(' ', '_').replace('/', '') + '.sqlite3')}"
    campaign_id = await prepare_database(
        database_url, token, rate=rate, chat_ids=chat_ids, blocked=blocked, personalised=personalised
    )
    queue = f"bench:{os.getpid()}:{label}"
    log_dir = workdir / label.replace(" ", "_").replace("/", "")
    log_dir.mkdir()
    group = WorkerGroup(workers, worker_env(database_url, sim, queue, **(extra_env or {})), log_dir)
    engine = create_engine(database_url)
    sessionmaker = create_sessionmaker(engine)
    pool = await connect(REDIS_URL)
    try:
        await asyncio.sleep(2.5)  # let the workers import and connect before the clock starts
        cpu_before = group.cpu()
        started = time.monotonic()
        await enqueue_start(pool, campaign_id, queue_name=queue)
        deadline = started + audience / rate * 3 + 60
        while time.monotonic() < deadline:
            group.sample()
            async with sessionmaker() as session:
                campaign = await session.get(Campaign, campaign_id, populate_existing=True)
            if campaign is not None and campaign.status is CampaignStatus.COMPLETED:
                break
            await asyncio.sleep(0.5)
        else:
            raise RuntimeError(f"{label}: did not complete; see {log_dir}")
        elapsed = time.monotonic() - started
        cpu = group.cpu() - cpu_before
        group.sample()
    finally:
        group.stop()
        await pool.aclose()
        await engine.dispose()
    stats = checked(await sim.stats(token), label)
    return Result(
        label=label,
        rate=rate,
        recipients=audience,
        use=limit_use(stats, rate),
        share_429=share_429(stats),
        duplicates=int(stats["duplicates"]),
        peak=int(stats["peak_per_second"]),
        cpu_per_1000=cpu / audience * 1000,
        peak_mb=group.peak_rss / 1e6,
        seconds=elapsed,
        per_second=list(stats.get("passed_per_second", [])),
        slow_gaps=[(float(a), float(g)) for a, g in stats.get("slow_gaps", [])],
        refused_at=[float(a) for a in stats.get("refused_at", [])],
        first_gate_at=float(stats.get("first_gate_at") or 0.0),
    )


async def run_reference(
    sim: SimulatorProcess,
    *,
    label: str,
    rate: int,
    audience: int,
    blocked_share: float,
    jitter_s: float,
    route: Route | None = None,
) -> Result:
    """The reference: aiolimiter at the full rate and a fixed number of concurrent senders."""
    token, chat_ids, blocked = await run_bot(
        sim,
        label,
        "ref",
        rate=rate,
        audience=audience,
        blocked_share=blocked_share,
        jitter_s=jitter_s,
        route=route,
    )
    limiter = AsyncLimiter(rate, 1)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for chat_id in [*chat_ids, *blocked]:
        queue.put_nowait(chat_id)
    bot = make_bot(token, api_url=sim.base_url, limit=1000)
    paid: bool | None = True if rate > 30 else None  # (None: the field is left out)

    async def sender() -> None:
        while not queue.empty():
            chat_id = queue.get_nowait()
            while True:
                async with limiter:
                    try:
                        await bot.send_message(chat_id=chat_id, text="Benchmark", allow_paid_broadcast=paid)
                    except TelegramRetryAfter as exc:
                        await asyncio.sleep(exc.retry_after)
                        continue
                    except Exception:
                        pass
                break

    concurrency = max(8, math.ceil(rate * 0.3))
    cpu_before = time.process_time()
    started = time.monotonic()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    cpu = time.process_time() - cpu_before
    await bot.session.close()
    stats = checked(await sim.stats(token), label)
    return Result(
        label=label,
        rate=rate,
        recipients=audience,
        use=limit_use(stats, rate),
        share_429=share_429(stats),
        duplicates=int(stats["duplicates"]),
        peak=int(stats["peak_per_second"]),
        cpu_per_1000=cpu / audience * 1000,
        peak_mb=psutil.Process().memory_info().rss / 1e6,
        seconds=elapsed,
        per_second=list(stats.get("passed_per_second", [])),
        slow_gaps=[(float(a), float(g)) for a, g in stats.get("slow_gaps", [])],
        refused_at=[float(a) for a in stats.get("refused_at", [])],
        first_gate_at=float(stats.get("first_gate_at") or 0.0),
    )


async def scale(sim: SimulatorProcess, workdir: Path, *, sizes: tuple[int, ...], send_s: float) -> list[str]:
    """Freeze time and worker memory for growing audiences (SQLite), sending for `send_s` each."""
    lines = []
    for size in sizes:
        token = f"{size % 900000 + 100000}:AAscale{size}"
        chat_ids = range(30_000_000, 30_000_000 + size)
        await add_bot(sim, token, rate=1000, paid=True, chat_ids=chat_ids, blocked=range(0), jitter_s=0.02)
        url = f"sqlite+aiosqlite:///{workdir / f'scale{size}.sqlite3'}"
        campaign_id = await prepare_database(url, token, rate=1000, chat_ids=chat_ids, blocked=range(0))
        engine = create_engine(url)
        sessionmaker = create_sessionmaker(engine)
        started = time.monotonic()
        async with sessionmaker.begin() as session:
            frozen = await deliveries.freeze_audience(session, campaign_id)
        freeze_s = time.monotonic() - started
        # Back to a draft-like start for the worker: the batches are queued by the reconciler.
        queue = f"bench:{os.getpid()}:scale{size}"
        log_dir = workdir / f"scale{size}"
        log_dir.mkdir()
        group = WorkerGroup(1, worker_env(url, sim, queue, CRON_INTERVAL_S="1"), log_dir)
        deadline = time.monotonic() + 3 + send_s
        while time.monotonic() < deadline:
            group.sample()
            await asyncio.sleep(0.25)
        group.stop()
        await engine.dispose()
        stats = await sim.stats(token)
        lines.append(
            f"audience {frozen.total:>9,}: freeze {freeze_s:5.1f} s, "
            f"worker peak {group.peak_rss / 1e6:6.1f} MB, "
            f"sent {stats['delivered_total']:,} in ~{send_s:.0f} s"
        )
    return lines


async def client_cost(sim: SimulatorProcess, *, sends: int = 4000, concurrency: int = 50) -> list[str]:
    """CPU milliseconds per sendMessage of aiogram's Bot and of the workers' lean client, in this
    process, against the simulator with no latency and no effective limit, and the resident
    memory a fresh interpreter needs to import each client (and the whole worker)."""
    lines: list[str] = []
    for name in ("aiogram", "lean"):
        token = f"{555000 + len(lines)}:AAcost{name}"
        await add_bot(
            sim, token, rate=1_000_000, paid=True, chat_ids=range(1, sends + 1), blocked=range(0), jitter_s=0
        )
        await sim.call("POST", "/sim/faults", token=token, latency_mean_s=0, latency_jitter_s=0)
        queue = list(range(1, sends + 1))
        if name == "aiogram":
            bot = make_bot(token, api_url=sim.base_url, limit=concurrency)

            async def send_one(chat_id: int, bot: Any = bot) -> None:
                await bot.send_message(chat_id=chat_id, text="Benchmark", allow_paid_broadcast=True)

        else:
            lean = BotAPI(token, api_url=sim.base_url, limit=concurrency)

            async def send_one(chat_id: int, bot: Any = lean) -> None:
                await bot.send_message(chat_id, "Benchmark", allow_paid_broadcast=True)

        async def sender(queue: list[int] = queue) -> None:
            while queue:
                await send_one(queue.pop())

        cpu_before = time.process_time()
        started = time.monotonic()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        cpu = time.process_time() - cpu_before
        elapsed = time.monotonic() - started
        if name == "aiogram":
            await bot.session.close()
        else:
            await lean.close()
        stats = await sim.stats(token)
        lines.append(
            f"{name:<8} client: {cpu / sends * 1000:.3f} ms CPU per send "
            f"({sends:,} sends, {sends / elapsed:,.0f}/s, "
            f"{stats['delivered_total']:,} delivered)"
        )
    for label, module in (
        ("import psutil only", "psutil"),
        ("import aiogram", "aiogram; import aiogram.methods"),
        ("import jobs.engine.sendclient", "jobs.engine.sendclient"),
        ("import jobs.worker", "jobs.worker"),
    ):
        probe = (
            # Current RSS, not ru_maxrss: Linux carries ru_maxrss over from the forking parent.
            f"import psutil, sys; import {module}; "
            "print(psutil.Process().memory_info().rss / 1e6, "
            "sum(m.split('.')[0] == 'aiogram' for m in sys.modules))"
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", probe, cwd=ROOT, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await process.communicate()
        rss, aiogram_modules = out.decode().split()
        lines.append(f"{label:<22} RSS {float(rss):6.1f} MB, aiogram modules loaded: {aiogram_modules}")
    return lines


async def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller audiences (about 2 minutes)")
    parser.add_argument("--skip-scale", action="store_true", help="skip the 1,000,000-recipient run")
    parser.add_argument("--keep", action="store_true", help="keep databases and worker logs")
    parser.add_argument("--only", choices=["30", "1000"], default=None, help="run one rate only")
    parser.add_argument(
        "--jitter",
        type=float,
        default=0.01,
        help="latency jitter in seconds (±), as netem's 'delay 100ms 10ms'",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a worker setting, e.g. PACING_FACTOR=0.97",
    )
    parser.add_argument(
        "--workers", type=int, action="append", default=None, help="worker counts to run (default 1 and 2)"
    )
    parser.add_argument("--no-reference", action="store_true", help="skip the aiolimiter reference")
    parser.add_argument(
        "--personalised",
        action="store_true",
        help="also run each engine row with a message greeting every recipient by name",
    )
    parser.add_argument("--profile", action="store_true", help="print gate passes per second of each run")
    parser.add_argument(
        "--pin",
        choices=["split", "simulator", "none"],
        default="split",
        help="split: simulator on the first core, senders on the others; simulator: only it is pinned",
    )
    parser.add_argument(
        "--client-cost", action="store_true", help="only measure CPU/send and memory of the clients"
    )
    parser.add_argument(
        "--route",
        action="append",
        choices=sorted(ROUTES),
        default=[],
        help="run every row over this route of issue 18 (repeatable; default: 100 ms ± --jitter)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="run each row this many times")
    args = parser.parse_args()
    if args.pin != "none":
        split_cores(senders_too=args.pin == "split")
    if args.client_cost:
        sim, _ = await start_simulator()
        try:
            for line in await client_cost(sim):
                print(line)
        finally:
            await sim.stop()
        return
    slow_n, fast_n = (600, 5000) if args.quick else (3000, 20000)
    extra_env = dict(item.split("=", 1) for item in args.set)
    routes: list[Route | None] = [ROUTES[name] for name in args.route] or [None]
    sim, simulator_placement = await start_simulator()
    where = f"simulator: {simulator_placement}; senders on cores {SENDER_CORES or 'any'} (--pin {args.pin})"
    print(where, flush=True)
    print(HEADER, flush=True)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="engine-bench-") as tmp:
        workdir = Path(tempfile.mkdtemp(prefix="engine-bench-")) if args.keep else Path(tmp)
        try:
            # Repeats outermost, so every route and row sees the machine's load of the same minutes.
            for number in range(1, args.repeat + 1):
                for route in routes:
                    for rate, audience, blocked in ((30, slow_n, 0.0), (1000, fast_n, 0.1)):
                        if args.only and int(args.only) != rate:
                            continue
                        # (The label goes into the bot's token: no '#', which would end its URL.)
                        prefix = (
                            f"{route.name} run{number} "
                            if route
                            else (f"run{number} " if args.repeat > 1 else "")
                        )
                        for workers in args.workers or (1, 2):
                            for personalised in (False, True) if args.personalised else (False,):
                                row = f"engine {rate}/s {workers} worker(s){' named' if personalised else ''}"
                                result = await run_engine(
                                    sim,
                                    workdir,
                                    label=prefix + row,
                                    rate=rate,
                                    audience=audience,
                                    blocked_share=blocked,
                                    workers=workers,
                                    jitter_s=args.jitter,
                                    extra_env=extra_env,
                                    personalised=personalised,
                                    route=route,
                                )
                                runs.append(Run(route, row, number, result))
                                print(result.row(), flush=True)
                        if args.no_reference:
                            continue
                        row = f"reference {rate}/s aiolimiter"
                        result = await run_reference(
                            sim,
                            label=prefix + row,
                            rate=rate,
                            audience=audience,
                            blocked_share=blocked,
                            jitter_s=args.jitter,
                            route=route,
                        )
                        runs.append(Run(route, row, number, result))
                        print(result.row(), flush=True)
            scale_lines: list[str] = []
            if not args.skip_scale:
                sizes = (10_000, 200_000) if args.quick else (10_000, 1_000_000)
                scale_lines = await scale(sim, workdir, sizes=sizes, send_s=8 if args.quick else 15)
        finally:
            await sim.stop()
    print()
    if routes == [None]:
        print(
            f"latency {LATENCY_S * 1000:.0f} ms ± {args.jitter * 1000:.0f} ms; "
            "limit use = gate passes/s ÷ rate"
        )
    else:
        for route in routes:
            assert route is not None
            print(f"route {route.name}: {route.describe()}")
        print("limit use = gate passes/s ÷ rate")
    print(where)
    print(HEADER)
    for run in runs:
        print(run.result.row())
    if args.profile:
        for run in runs:
            print(run.result.profile())
    for line in scale_lines:
        print(line)
    if routes != [None]:
        print()
        for line in summary(runs, unpinned=args.pin == "none"):
            print(line)


@dataclass(slots=True)
class Run:
    """One run of one row over one route (None: the default route)."""

    route: Route | None
    row: str
    number: int
    result: Result


def summary(runs: list[Run], *, unpinned: bool) -> list[str]:
    """Per route and row: every run's limit use / 429 share, and whether issue 18's goal held on
    every run (its limit use and 429 share, and ahead of the same repeat's reference on both)."""
    lines = [
        "summary: each run 'limit use / 429 share'; goal: limit use at least the route's goal and "
        f"429s at most {GOAL_429_SHARE * 100:.1f}% on every run, and (engine rows) ahead of the "
        "same repeat's reference on both at once (higher use, no more 429s)"
    ]
    references = {
        (run.route.name if run.route else "", run.result.rate, run.number): run.result
        for run in runs
        if run.row.startswith("reference")
    }
    for route in dict.fromkeys(run.route for run in runs):
        if route is None:
            continue
        note = route.goal_note + ("; the simulator not pinned, at normal priority" if unpinned else "")
        lines.append(
            f"route {route.name}, {route.describe()}: goal limit use ≥ {route.goal_use * 100:.1f}% ({note})"
        )
        for row in dict.fromkeys(run.row for run in runs if run.route == route):
            results = [run for run in runs if run.route == route and run.row == row]
            held = [
                run.result.use >= route.goal_use and run.result.share_429 <= GOAL_429_SHARE for run in results
            ]
            figures = "  ".join(
                f"{run.result.use * 100:.1f}%/{run.result.share_429 * 100:.2f}%" for run in results
            )
            verdict = f"goal {'held' if all(held) else 'NOT held'} ({sum(held)}/{len(held)} runs)"
            if not row.startswith("reference"):
                ahead = []
                for run in results:
                    reference = references.get((route.name, run.result.rate, run.number))
                    if reference is not None:
                        ahead.append(
                            run.result.use > reference.use and run.result.share_429 <= reference.share_429
                        )
                if ahead:
                    verdict += f"; ahead of the reference in {sum(ahead)}/{len(ahead)} runs"
            lines.append(f"  {row:<28} {figures}  | {verdict}")
    return lines


if __name__ == "__main__":
    asyncio.run(main())
