"""Scheduled campaigns and the reconciler run on time however many batches wait (issue 18)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import CampaignStatus, utcnow
from panel import transitions
from panel.queue import enqueue_start
from tests.support.engine import (
    Workers,
    add_audience,
    get_campaign,
    new_campaign,
    wait_until,
)
from tgsim.simulator import Simulator

pytestmark = pytest.mark.slow  # twenty campaigns queued

ON_TIME_TOKEN = "200002:AAengineOnTimeBotToken"
BUSY_CAMPAIGNS = 20
"""As in the issue's run: 20 campaigns on 2 workers, 10 batches each, all behind one slow token."""
SETTLE_S = 15.0


async def test_a_scheduled_campaign_starts_on_time_behind_hundreds_of_waiting_batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    busy_bot = await add_audience(sessionmaker, sim, active=1000, rate_per_s=5)
    busy = [await new_campaign(sessionmaker, busy_bot) for _ in range(BUSY_CAMPAIGNS)]
    workers.start(2)
    for campaign_id in busy:
        await enqueue_start(pool, campaign_id, queue_name=queue_name)

    async def all_sending() -> bool:
        for campaign_id in busy:
            if (await get_campaign(sessionmaker, campaign_id)).status is not CampaignStatus.SENDING:
                return False
        return True

    await wait_until(all_sending, timeout_s=60, what="every busy campaign sending", logs=workers)
    # A while for the batches to settle into waiting: the running ones send at 5/s, the other
    # 190-odd wait for room behind the token, going back to the queue and coming out again.
    await asyncio.sleep(SETTLE_S)

    sim.add_bot(ON_TIME_TOKEN, username="engine_on_time")
    on_time_bot = await add_audience(
        sessionmaker, sim, active=5, rate_per_s=30, token=ON_TIME_TOKEN, first_chat_id=5_000_000
    )
    scheduled_id = await new_campaign(sessionmaker, on_time_bot, text="On time")
    async with sessionmaker.begin() as session:
        now = utcnow()
        due_at = now + timedelta(seconds=2)
        await transitions.schedule(session, scheduled_id, due_at, now=now)

    async def started() -> bool:
        return (await get_campaign(sessionmaker, scheduled_id)).started_at is not None

    await wait_until(started, timeout_s=120, what="the scheduled campaign started", logs=workers)
    campaign = await get_campaign(sessionmaker, scheduled_id)
    assert campaign.started_at is not None
    late_s = (campaign.started_at - due_at).total_seconds()
    # The cron looks every second (the fixture's cron_interval_s): a few seconds at most
    # (36.6 s late when the crons shared the batches' queue).
    assert late_s < 4.0, f"{late_s:.1f} s late\n{workers.logs()}"
