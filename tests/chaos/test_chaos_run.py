"""A shorter chaos run in the suite: faults, a 429 storm, two SIGKILLed workers and a Redis flush.

The run and its audit are the chaos script's own (`bench.chaos.run_chaos`, `bench.chaos_audit.audit`):
the simulator and two worker processes are real processes, Redis and the database are the
suite's (SQLite, or PostgreSQL when TEST_DATABASE_URL names it).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench.chaos import run_chaos
from bench.chaos_audit import render
from bench.chaos_plan import ChaosPlan

SHORT_CHAOS = ChaosPlan(
    recipients=2000,
    rate_per_s=300,
    batch_size=100,
    seed=11,
    storms=1,
    storm_s=2.0,
    storm_retry_after_s=1,
    kills=2,
    flushes=1,
    timeout_s=75.0,
)


async def test_chaos_every_recipient_ends_in_one_state_and_nobody_gets_two_messages(
    database_url: str, redis_url: str, redis: Any, engine: Any, tmp_path: Path
) -> None:
    report = await asyncio.wait_for(
        run_chaos(SHORT_CHAOS, database_url=database_url, redis_url=redis_url, work_dir=tmp_path), timeout=120
    )

    assert report.breaches == [], f"{render(report.figures)}\n{report.worker_logs}"
