"""Time `broadcast campaigns export` of a large finished campaign and measure its peak memory.

    python bench/export_bench.py [--rows N] [--database-url URL]

Builds a fresh database (a SQLite file by default; a PostgreSQL database given with
`--database-url` is EMPTIED first) with a target bot, N users (default 1,000,000) and two
finished campaigns: one of 10,000 recipients and one of N. Then it runs the export of each as a
user runs it, in a process of its own, and prints the rows per second and the process's peak
RSS (from `wait4`): a streaming export has about the same peak for both.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, literal, select, text

from bench.secret import sealed
from models import Campaign, CampaignStatus, Delivery, DeliveryStatus, TargetBot, User
from panel.db import create_engine, create_sessionmaker, is_sqlite
from panel.migrations import upgrade

SMALL_ROWS = 10_000
INSERT_CHUNK = 20_000


async def prepare(database_url: str, rows: int) -> tuple[int, int]:
    """The bench database; the ids of the small and the large campaign."""
    engine = create_engine(database_url)
    if not is_sqlite(database_url):
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    start = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    async with create_sessionmaker(engine).begin() as session:
        bot = TargetBot(
            codename="bench", sealed_token=sealed("100001:BENCH-token"), rate_per_s=1000, paid_broadcast=True
        )
        session.add(bot)
        await session.flush()
        for first in range(0, rows, INSERT_CHUNK):
            await session.execute(
                insert(User),
                [
                    {"bot_id": bot.id, "chat_id": 100_000_000 + n}
                    for n in range(first, min(first + INSERT_CHUNK, rows))
                ],
            )
        ids = []
        for size in (SMALL_ROWS, rows):
            campaign = Campaign(
                bot_id=bot.id,
                name=f"bench {size}",
                content={"text": "hello"},
                status=CampaignStatus.COMPLETED,
                total_recipients=size,
                successful_sents=size,
                started_at=start,
                completed_at=start + timedelta(seconds=size / 1000),
            )
            session.add(campaign)
            await session.flush()
            ids.append(campaign.id)
            users = select(
                literal(campaign.id),
                User.id,
                User.chat_id,
                literal(DeliveryStatus.SENT.value),
                literal(1),
                User.id,
                literal(start),
            ).where(User.id <= select(User.id).order_by(User.id).offset(size - 1).limit(1).scalar_subquery())
            await session.execute(
                insert(Delivery).from_select(
                    [
                        "campaign_id",
                        "user_id",
                        "chat_id",
                        "status",
                        "attempts",
                        "telegram_message_id",
                        "finished_at",
                    ],
                    users,
                )
            )
    await engine.dispose()
    return ids[0], ids[1]


def export(url: str, campaign_id: int, out: Path) -> tuple[float, int]:
    """Run the export in its own process; its wall time (s) and peak RSS (bytes)."""
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "cli.main", "campaigns", "export", str(campaign_id), "--csv", str(out)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        print(stderr.decode().strip(), file=sys.stderr)
        raise SystemExit(process.returncode)
    print(stdout.decode().strip())
    return elapsed, usage.ru_maxrss * 1024  # Linux reports kilobytes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url", default=None, help="default: a fresh SQLite file (PostgreSQL: emptied)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
        started = time.perf_counter()
        small_id, large_id = asyncio.run(prepare(url, args.rows))
        print(f"prepared {args.rows:,} users and deliveries in {time.perf_counter() - started:.1f} s")
        timings = []
        for campaign_id, rows in ((small_id, SMALL_ROWS), (large_id, args.rows)):
            out = workdir / f"campaign-{campaign_id}.csv"
            elapsed, peak = export(url, campaign_id, out)
            lines = sum(1 for _ in out.open(encoding="utf-8")) - 1
            assert lines == rows, f"{lines} rows written, {rows} expected"
            print(
                f"export of {rows:,} rows: {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s), "
                f"{out.stat().st_size / 1e6:.0f} MB, peak RSS {peak / 1e6:.0f} MB"
            )
            timings.append(elapsed)
        # The command's start (imports, settings, connecting) is in both runs: the difference is
        # what the rows themselves cost.
        streamed = (args.rows - SMALL_ROWS) / max(timings[1] - timings[0], 1e-9)
        print(f"streaming rate, start-up cost taken out: {streamed:,.0f} rows/s")


if __name__ == "__main__":
    main()
