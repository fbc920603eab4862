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

The plan is `bench/chaos_plan.py`, the processes `bench/chaos_processes.py`, the database's part
`bench/chaos_database.py`; the audit (`bench/chaos_audit.py`) is a pure function of three
records, so the suite's shorter chaos tests (tests/chaos/) check exactly what this script checks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/chaos.py`: bench.cores

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.chaos_audit import Figure, RunRecord, SimulatorRecord, audit, breaches, render
from bench.chaos_database import (
    add_audience,
    new_campaign,
    prepare_database,
    read_database_record,
    read_progress,
    rows_claimed_by_pid,
    unfinished_rows,
    with_retries,
)
from bench.chaos_plan import TARGET_TOKEN, ChaosEvent, ChaosPlan, draw_events
from bench.chaos_processes import (
    WorkerSlots,
    hold_sqlite_lock,
    restart_postgres,
    start_simulator,
    terminate_postgres_backends,
)
from bench.cores import split_cores
from bench.secret import secret_key
from jobs.launch import WorkerProcesses, worker_environment
from models import FINAL_CAMPAIGN_STATUSES, CampaignStatus
from panel.db import create_engine, create_sessionmaker, is_sqlite
from panel.queue import connect, enqueue_start
from tgsim.launch import SimulatorProcess

logger = logging.getLogger("bench.chaos")

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"


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
async def _running(
    plan: ChaosPlan, work_dir: Path, *, database_url: str, redis_url: str, queue_name: str
) -> AsyncIterator[tuple[SimulatorProcess, WorkerSlots]]:
    """The simulator, running, and the workers' slots (none started yet); both stopped on the way out."""
    simulator = await start_simulator(plan, work_dir / "simulator.log")
    env = worker_environment(
        database_url=database_url,
        redis_url=redis_url,
        telegram_api_url=simulator.base_url,
        queue_name=queue_name,
        secret_key=secret_key(),
        bot_token="",
        **plan.worker_settings(),
    )
    workers = WorkerProcesses(env=env, log_dir=work_dir)
    try:
        yield simulator, WorkerSlots(workers)
    finally:
        workers.stop_all()
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
        async with _running(
            plan, work_dir, database_url=database_url, redis_url=redis_url, queue_name=queue_name
        ) as (simulator, fleet):
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
            run.crashed_workers = fleet.processes.crashed()
            await asyncio.sleep(0.5)  # let the simulator answer anything still in its hands
            sim_record = SimulatorRecord.from_stats(await simulator.stats(TARGET_TOKEN))
            db_record = await with_retries(lambda: read_database_record(sessionmaker, campaign_id, bot_id))
            figures = audit(db_record, sim_record, run)
            return ChaosReport(
                figures=figures, work_dir=work_dir, worker_logs=fleet.processes.logs(tail_chars=3000)
            )
    finally:
        await pool.aclose()
        await engine.dispose()


async def _drive(
    plan: ChaosPlan,
    events: list[ChaosEvent],
    run: RunRecord,
    fleet: WorkerSlots,
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
        f"chaos run: {plan.recipients} recipients ({plan.blocked_share:.0%} blocked) "
        f"at {plan.rate_per_s}/s on "
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
