"""Count and freeze segments of 1,000,000 users (default) on a fresh database, with the query plan.

    python bench/segment_bench.py [--users N] [--database-url URL]

Fills one bot's users with languages, join dates, last-seen times and a `plan` attribute, then
times `count_segment` for a few expressions and `freeze_audience` for a campaign with one, and
prints each statement's plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.secret import sealed
from jobs.engine.deliveries import freeze_audience
from models import Campaign, TargetBot, User, utcnow
from panel.db import create_engine, create_sessionmaker
from panel.migrations import upgrade
from panel.segments import count_segment, segment_where

EXPRESSIONS = (
    "language in (ru, uk)",
    "language in (ru, uk) and active within 30d",
    "plan = pro or joined after 2026-06-01",
    "not language = en and not plan = free",
)
LANGUAGES = ("en", "de", "ru", "uk", "es", "pt-br")
CHUNK = 50_000


async def fill(engine: AsyncEngine, users: int) -> int:
    await upgrade(engine)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker.begin() as session:
        bot = TargetBot(codename="bench", sealed_token=sealed("100001:BENCH-token"))
        session.add(bot)
        await session.flush()
        bot_id = bot.id
    now = utcnow()
    statement = text(
        "INSERT INTO users (bot_id, platform, chat_id, is_unavailable, created_at, last_seen_at, "
        "language_code, attributes) VALUES (:bot_id, 'telegram', :chat_id, false, :created, :seen, "
        ":language, :attributes)"
    )
    for start in range(0, users, CHUNK):
        rows = [
            {
                "bot_id": bot_id,
                "chat_id": 100_000_000 + n,
                "created": now - timedelta(days=n % 700),
                "seen": now - timedelta(days=n % 90),
                "language": LANGUAGES[n % len(LANGUAGES)],
                "attributes": json.dumps({"plan": "pro" if n % 7 == 0 else "free"}),
            }
            for n in range(start, min(start + CHUNK, users))
        ]
        async with engine.begin() as connection:
            await connection.execute(statement, rows)
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
    return bot_id


async def plan(engine: AsyncEngine, bot_id: int, expression: str) -> str:
    query = select(User.id).where(
        User.bot_id == bot_id, User.is_unavailable.is_(False), segment_where(expression)
    )
    compiled = query.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    async with engine.connect() as connection:
        rows = (await connection.execute(text(prefix + str(compiled)))).all()
    return " | ".join(str(row[-1]) for row in rows)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'segments.sqlite3'}"
        engine = create_engine(url)
        if engine.dialect.name == "postgresql":
            async with engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
        started = time.perf_counter()
        bot_id = await fill(engine, args.users)
        print(f"{engine.dialect.name}: {args.users:,} users filled in {time.perf_counter() - started:.1f} s")
        sessionmaker = create_sessionmaker(engine)
        for expression in EXPRESSIONS:
            async with sessionmaker() as session:
                started = time.perf_counter()
                counts = await count_segment(session, [bot_id], expression)
                seconds = time.perf_counter() - started
            print(f"count  {seconds:6.3f} s  {counts[bot_id]:>9,}  {expression}")
            print(f"       plan: {await plan(engine, bot_id, expression)}")
        async with sessionmaker.begin() as session:
            campaign = Campaign(bot_id=bot_id, content={"text": "x"}, audience_filter=EXPRESSIONS[1])
            session.add(campaign)
            await session.flush()
            campaign_id = campaign.id
        async with sessionmaker.begin() as session:
            started = time.perf_counter()
            frozen = await freeze_audience(session, campaign_id)
        seconds = time.perf_counter() - started
        print(f"freeze {seconds:6.3f} s  {frozen.total:>9,}  {EXPRESSIONS[1]}")
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
