"""`broadcast demo` as a newcomer runs it: a subprocess, its transcript, and the database it leaves."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from panel.db import create_engine, create_sessionmaker


async def _read_campaign(database: Path) -> tuple[Campaign, dict[DeliveryStatus, int]]:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with create_sessionmaker(engine)() as session:
            campaign = (await session.execute(select(Campaign))).scalar_one()
            rows = await session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.campaign_id == campaign.id)
                .group_by(Delivery.status)
            )
            return campaign, {DeliveryStatus(status): count for status, count in rows.all()}
    finally:
        await engine.dispose()


def test_demo_runs_to_the_end_and_leaves_a_consistent_campaign(tmp_path: Path, redis_url: str) -> None:
    database = tmp_path / "demo.sqlite3"
    env = {**os.environ, "REDIS_URL": redis_url, "NO_COLOR": "1"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "demo",
            "--users",
            "400",
            "--rate",
            "200",
            "--database",
            str(database),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    transcript = result.stdout
    assert result.returncode == 0, transcript[-3000:] + result.stderr[-3000:]
    # What the admin saw: the conversation, the test copy, the live progress, the summary.
    assert "Ada (admin) →\n  │ /new" in transcript
    assert "Demo News bot" in transcript
    assert "Ada taps [✅ Confirm]" in transcript
    assert "edited" in transcript
    assert "🏁" in transcript
    # Tracked links: simulated recipients open the changelog link, redirected and counted.
    assert "40 people opened it 50 times; each got a 302 to the changelog" in transcript
    assert "📊 Clicks: 40 people · 50 opens" in transcript
    # The demo bot's tracker: blocks, returns and newcomers reach the table and the next card.
    assert "30 people block it, 15 who had blocked it come back, 5 newcomers send /start" in transcript
    assert "the card counts" in transcript and "users: yes" in transcript
    assert "Traceback" not in result.stderr

    campaign, rows = asyncio.run(_read_campaign(database))
    assert campaign.status is CampaignStatus.COMPLETED
    assert campaign.total_recipients == sum(rows.values()) == 400
    assert campaign.successful_sents == rows.get(DeliveryStatus.SENT, 0) > 0
    assert campaign.unavailable_count == rows.get(DeliveryStatus.UNAVAILABLE, 0) > 0
    assert campaign.finished_count == campaign.total_recipients
    assert f"counters: sent {campaign.successful_sents:,}" in transcript
