"""The database goes away mid-campaign: a SQLite write lock held by another process, or every
PostgreSQL connection terminated (what a restart does to its clients). Workers wait or reconnect,
the campaign finishes and the chaos audit of `bench/chaos.py` holds.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from bench.chaos import run_chaos
from bench.chaos_audit import render
from bench.chaos_plan import ChaosPlan
from panel.db import is_sqlite

OUTAGE_BASE = ChaosPlan(
    recipients=1500,
    rate_per_s=250,
    batch_size=100,
    seed=23,
    storms=0,
    kills=1,
    flushes=0,
    timeout_s=75.0,
)


async def test_the_database_going_away_mid_campaign_is_waited_out(
    database_url: str, redis_url: str, redis: Any, engine: Any, tmp_path: Path
) -> None:
    # The outage each database really has: SQLite is locked by another process for 5 s;
    # PostgreSQL drops every client connection (what a restart does to them), four times.
    sqlite = is_sqlite(database_url)
    plan = (
        dataclasses.replace(OUTAGE_BASE, lock_sqlite_s=5.0)
        if sqlite
        else dataclasses.replace(OUTAGE_BASE, terminate_postgres=4)
    )

    report = await asyncio.wait_for(
        run_chaos(plan, database_url=database_url, redis_url=redis_url, work_dir=tmp_path), timeout=120
    )

    assert report.breaches == [], f"{render(report.figures)}\n{report.worker_logs}"
    outage = next(str(f.value) for f in report.figures if f.name == "database outages")
    if sqlite:
        assert outage == "SQLite locked 5 s"
    else:
        assert int(outage.split()[0]) > 0, outage  # the workers' connections were among them
