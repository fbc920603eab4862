"""What one message costs the engine: database statements and rows written, Redis round trips,
bytes on the wire to Telegram, and worker CPU, per recipient of a plain campaign.

    .venv/bin/python bench/cost_bench.py [--recipients 5000] [--rate 1000]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/costbench]

One worker runs in this process (the production `create_worker`), the simulator in its own
(`bench/engine_sim.py`). The campaign runs twice on a fresh database each time: once untouched,
for the CPU and the time, and once counted: every statement the worker's engine executes (and the
rows its writes change, and the time spent in them), every command or pipeline the worker writes
to Redis, every request body to Telegram and its answer. This process's own reads (waiting for
the end) go through an engine of their own and are not counted. docs/scaling.md derives the
ceilings from these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from redis.asyncio.connection import AbstractConnection  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench.engine_bench import (  # noqa: E402
    REDIS_URL,
    WorkerGroup,
    add_bot,
    limit_use,
    prepare_database,
    start_simulator,
    worker_env,
)
from bench.secret import secret_key  # noqa: E402
from jobs.engine.sendclient import BotAPI  # noqa: E402
from jobs.worker import close_worker, create_worker  # noqa: E402
from models import Campaign, CampaignStatus  # noqa: E402
from panel.db import create_engine, create_sessionmaker  # noqa: E402
from panel.queue import connect, enqueue_start  # noqa: E402
from panel.settings import load_settings  # noqa: E402


@dataclass
class Counts:
    """What the worker did while counting was on."""

    statements: Counter[str] = field(default_factory=Counter)
    rows_written: int = 0
    commits: int = 0
    db_seconds: float = 0.0
    redis_round_trips: int = 0
    redis_bytes_out: int = 0
    redis_commands: Counter[str] = field(default_factory=Counter)
    """Round trips by their first command (a script by its first key's last part)."""
    http_requests: Counter[str] = field(default_factory=Counter)
    http_bytes_out: int = 0
    http_bytes_in: int = 0
    statement_seconds: dict[str, float] = field(default_factory=dict)
    """Driver time per statement text (whitespace folded), to find the costly ones."""
    statement_calls: Counter[str] = field(default_factory=Counter)


class Meter:
    """Hooks on SQLAlchemy's engine events, Redis's connection and the send client, switched on
    for one run; statements of `ignored` engines (this benchmark's own reads) are not counted."""

    def __init__(self) -> None:
        self.counts = Counts()
        self.on = False
        self.ignored: set[int] = set()
        self._started: dict[int, float] = {}

    def install(self) -> None:
        meter = self

        def before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
            if meter.on and id(conn.engine) not in meter.ignored:
                meter._started[id(cursor)] = time.perf_counter()

        def after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
            began = meter._started.pop(id(cursor), None)
            if began is None:
                return
            counts = meter.counts
            spent = time.perf_counter() - began
            counts.db_seconds += spent
            folded = " ".join(statement.split())[:160]
            counts.statement_seconds[folded] = counts.statement_seconds.get(folded, 0.0) + spent
            counts.statement_calls[folded] += 1
            verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
            counts.statements[verb + (" (many)" if many else "")] += 1
            if verb in ("INSERT", "UPDATE", "DELETE") and (cursor.rowcount or 0) > 0:
                counts.rows_written += int(cursor.rowcount)

        def commit(conn: Any) -> None:
            if meter.on and id(conn.engine) not in meter.ignored:
                meter.counts.commits += 1

        event.listen(Engine, "before_cursor_execute", before)
        event.listen(Engine, "after_cursor_execute", after)
        event.listen(Engine, "commit", commit)

        send_packed = AbstractConnection.send_packed_command

        async def counted_send(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
            if meter.on:
                meter.counts.redis_round_trips += 1
                parts = [command] if isinstance(command, (bytes, str, memoryview)) else command
                meter.counts.redis_bytes_out += sum(len(part) for part in parts)
                meter.counts.redis_commands[_command_name(parts)] += 1
            await send_packed(self, command, check_health)

        AbstractConnection.send_packed_command = counted_send  # type: ignore[method-assign]

        request = BotAPI._request

        async def counted_request(self: BotAPI, method: str, url: Any, **kwargs: Any) -> tuple[int, bytes]:
            status, raw = await request(self, method, url, **kwargs)
            if meter.on:
                data = kwargs.get("data")
                meter.counts.http_requests[str(url).rsplit("/", 1)[-1]] += 1
                meter.counts.http_bytes_out += len(data) if isinstance(data, (bytes, bytearray)) else 0
                meter.counts.http_bytes_in += len(raw)
            return status, raw

        BotAPI._request = counted_request  # type: ignore[method-assign]


def _command_name(parts: Any) -> str:
    """The command of a packed RESP request and the kind of its key: `GET lease`, `EVALSHA rate`."""
    raw = b"".join(bytes(part) if not isinstance(part, str) else part.encode() for part in parts)
    words = raw.split(b"\r\n")[2::2]
    if not words:
        return "?"
    name = words[0].decode(errors="replace").upper()
    key_at = 3 if name in ("EVALSHA", "EVAL") else 1
    if len(words) > key_at and name != "MULTI":
        segments = words[key_at].decode(errors="replace").split(":")[1:]
        name += " " + next((part for part in segments if re.fullmatch(r"[a-z_]+", part)), "?")
    return name


@dataclass
class Run:
    """One campaign to its end with one in-process worker."""

    seconds: float
    cpu_s: float
    sent: int
    counts: Counts | None


async def run_once(
    sim: Any,
    database_url: str,
    *,
    recipients: int,
    rate: int,
    label: str,
    meter: Meter | None,
    bots: int = 1,
) -> Run:
    """`bots` target bots of `recipients` users each, their campaigns all started at once."""
    campaign_ids = []
    for index in range(bots):
        token = f"{(abs(hash(label)) + index) % 900000 + 100000}:AAcost{label[:20]}x{index}"
        base = 30_000_000 + index * 1_000_000
        chat_ids = range(base, base + recipients)
        await add_bot(
            sim, token, rate=rate, paid=rate > 30, chat_ids=chat_ids, blocked=range(0), jitter_s=0.01
        )
        campaign_ids.append(
            await prepare_database(database_url, token, rate=rate, chat_ids=chat_ids, blocked=range(0))
        )
    queue = f"cost:{os.getpid()}:{label}"
    settings = load_settings(
        database_url=database_url,
        redis_url=REDIS_URL,
        telegram_api_url=sim.base_url,
        queue_name=queue,
        secret_key=secret_key(),
        bot_token=None,
    )
    worker = create_worker(settings)
    poll_engine = create_engine(database_url)
    if meter is not None:
        meter.ignored.add(id(poll_engine.sync_engine))
    sessionmaker = create_sessionmaker(poll_engine)
    pool = await connect(REDIS_URL)
    task = asyncio.create_task(worker.async_run())
    try:
        await asyncio.sleep(2.0)  # the worker's startup is not the messages' cost
        if meter is not None:
            meter.counts = Counts()
            meter.on = True
        cpu_before, started = time.process_time(), time.monotonic()
        for campaign_id in campaign_ids:
            await enqueue_start(pool, campaign_id, queue_name=queue)
        deadline = started + recipients / rate * 3 + 60
        done: list[Campaign] = []
        while time.monotonic() < deadline:
            async with sessionmaker() as session:
                done = [
                    campaign
                    for campaign_id in campaign_ids
                    if (campaign := await session.get(Campaign, campaign_id, populate_existing=True))
                    is not None
                    and campaign.status is CampaignStatus.COMPLETED
                ]
            if len(done) == len(campaign_ids):
                break
            await asyncio.sleep(0.25)
        else:
            raise RuntimeError(f"{label}: {len(done)} of {len(campaign_ids)} campaigns completed")
        seconds, cpu_s = time.monotonic() - started, time.process_time() - cpu_before
        if meter is not None:
            meter.on = False
        sent = sum(campaign.successful_sents for campaign in done)
        return Run(seconds, cpu_s, sent, meter.counts if meter is not None else None)
    finally:
        await close_worker(worker)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pool.aclose()
        await poll_engine.dispose()


def report(name: str, plain: Run, counted: Run) -> list[str]:
    counts = counted.counts
    assert counts is not None
    per = max(counted.sent, 1)
    statements = sum(counts.statements.values())
    kinds = ", ".join(f"{kind} {count / per:.3f}" for kind, count in counts.statements.most_common())
    requests = ", ".join(
        f"{method} {count / per:.3f}" for method, count in counts.http_requests.most_common()
    )
    return [
        f"{name}: {plain.sent:,} sent in {plain.seconds:.1f} s ({plain.sent / plain.seconds:,.0f}/s), "
        f"worker CPU {plain.cpu_s / max(plain.sent, 1) * 1000:.3f} ms a message "
        f"({plain.cpu_s / max(plain.sent, 1) * 1e6 / 1000:.3f} s per 1,000); counted run "
        f"{counted.seconds:.1f} s, CPU {counted.cpu_s / per * 1000:.3f} ms a message with the meters on",
        f"  database: {statements / per:.3f} statements a message ({kinds}); "
        f"{counts.rows_written / per:.2f} rows written; {counts.commits / per:.3f} commits; "
        f"{counts.db_seconds / per * 1000:.3f} ms in the driver",
        f"  Redis: {counts.redis_round_trips / per:.3f} round trips a message, "
        f"{counts.redis_bytes_out / per:.0f} bytes out ("
        + ", ".join(f"{name} {count / per:.3f}" for name, count in counts.redis_commands.most_common(8))
        + ")",
        f"  Telegram: {sum(counts.http_requests.values()) / per:.3f} requests a message ({requests}); "
        f"{counts.http_bytes_out / per:.0f} bytes of body out, {counts.http_bytes_in / per:.0f} in",
        "  the statements that took most of the driver's time:",
        *(
            f"    {spent / counts.db_seconds:5.1%} {counts.statement_calls[text] / per:7.3f} a message, "
            f"{spent / counts.statement_calls[text] * 1000:6.2f} ms each: {text}"
            for text, spent in sorted(counts.statement_seconds.items(), key=lambda item: -item[1])[:8]
        ),
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL to measure too (recreated)")
    parser.add_argument(
        "--bots", type=int, default=1, help="target bots of --recipients each, their campaigns at once"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="with --database-url: instead, N worker processes and N paid bots at --rate each, all "
        "at once on PostgreSQL (the ceiling check)",
    )
    args = parser.parse_args()
    if args.workers:
        if not args.database_url:
            parser.error("--workers needs --database-url")
        sim, priority = await start_simulator()
        try:
            print(
                await ceiling(
                    sim, args.database_url, workers=args.workers, rate=args.rate, each=args.recipients
                )
            )
        finally:
            await sim.stop()
        return
    meter = Meter()
    meter.install()
    sim, priority = await start_simulator()
    lines = [
        f"cost per message, {args.bots} bot(s) of {args.recipients:,} recipients at {args.rate}/s "
        f"(simulator {priority})"
    ]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            targets = ["SQLite"] + (["PostgreSQL"] if args.database_url else [])
            for name in targets:
                runs = []
                for index, counted in enumerate((False, True)):
                    url = (
                        args.database_url
                        if name == "PostgreSQL"
                        else f"sqlite+aiosqlite:///{tmp}/c{index}.db"
                    )
                    if name == "PostgreSQL":
                        await recreate_postgres(url)
                    runs.append(
                        await run_once(
                            sim,
                            url,
                            recipients=args.recipients,
                            rate=args.rate,
                            label=f"{name[:2]}{index}",
                            meter=meter if counted else None,
                            bots=args.bots,
                        )
                    )
                lines += report(name, runs[0], runs[1])
    finally:
        await sim.stop()
    print("\n".join(lines))


async def ceiling(sim: Any, database_url: str, *, workers: int, rate: int, each: int) -> str:
    """`workers` worker processes, one paid bot each with `each` users, all campaigns at once on one
    PostgreSQL: the aggregate rate, each token's limit use, worker CPU, and what the database
    server counted (pg_stat_database) per message."""
    import asyncpg

    await recreate_postgres(database_url)
    campaign_ids, tokens = [], []
    for index in range(workers):
        token = f"{700000 + index}:AAceiling{index}"
        chat_ids = range(40_000_000 + index * 1_000_000, 40_000_000 + index * 1_000_000 + each)
        await add_bot(
            sim, token, rate=rate, paid=rate > 30, chat_ids=chat_ids, blocked=range(0), jitter_s=0.01
        )
        campaign_ids.append(
            await prepare_database(database_url, token, rate=rate, chat_ids=chat_ids, blocked=range(0))
        )
        tokens.append(token)
    queue = f"ceiling:{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        group = WorkerGroup(workers, worker_env(database_url, sim, queue), Path(tmp))
        engine = create_engine(database_url)
        sessionmaker = create_sessionmaker(engine)
        pool = await connect(REDIS_URL)
        dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
        name = dsn.rpartition("/")[2]
        stats_sql = (
            "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted, tup_returned + tup_fetched "
            "FROM pg_stat_database WHERE datname = $1"
        )
        try:
            await asyncio.sleep(3.0)
            server = await asyncpg.connect(dsn.rpartition("/")[0] + "/postgres")
            await server.execute("SELECT pg_stat_clear_snapshot()")
            before = await server.fetchrow(stats_sql, name)
            cpu_before, started = group.cpu(), time.monotonic()
            for campaign_id in campaign_ids:
                await enqueue_start(pool, campaign_id, queue_name=queue)
            deadline = started + each / rate * 5 + 120
            while time.monotonic() < deadline:
                group.sample()
                async with sessionmaker() as session:
                    done = [
                        (await session.get(Campaign, cid, populate_existing=True)) for cid in campaign_ids
                    ]
                if all(c is not None and c.status is CampaignStatus.COMPLETED for c in done):
                    break
                await asyncio.sleep(0.5)
            else:
                raise RuntimeError("the campaigns did not complete")
            seconds, cpu = time.monotonic() - started, group.cpu() - cpu_before
            await asyncio.sleep(1.0)  # the statistics collector reports with a delay
            await server.execute("SELECT pg_stat_clear_snapshot()")
            after = await server.fetchrow(stats_sql, name)
            await server.close()
        finally:
            group.stop()
            await pool.aclose()
            await engine.dispose()
    sent = workers * each
    uses = [limit_use(await sim.stats(token), rate) for token in tokens]
    delta = [int(b) - int(a) for a, b in zip(before, after, strict=True)]
    return (
        f"ceiling check: {workers} workers, {workers} paid bots at {rate}/s, {each:,} recipients each, "
        f"PostgreSQL\n  {sent:,} sent in {seconds:.1f} s: {sent / seconds:,.0f}/s in all; limit use per "
        f"token {' '.join(f'{u:.1%}' for u in uses)}; worker CPU {cpu / sent * 1000:.3f} ms a message; "
        f"peak worker memory {group.peak_rss / 1e6:.0f} MB\n"
        f"  the server counted per message: {delta[0] / sent:.3f} commits, {delta[1] / sent:.2f} rows "
        f"inserted, {delta[2] / sent:.2f} updated, {delta[3] / sent:.2f} deleted, {delta[4] / sent:.1f} read"
    )


async def recreate_postgres(url: str) -> None:
    """Drop and create the benchmark's PostgreSQL database (it must not be a database in use)."""
    import asyncpg

    base, _, name = url.replace("postgresql+asyncpg://", "postgresql://").rpartition("/")
    connection = await asyncpg.connect(f"{base}/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


if __name__ == "__main__":
    asyncio.run(main())
