"""What the report chart marks, recorded by real workers: a 429 storm's waits (one per pause),
an admin's pause and resume, and a tracked campaign's clicks per time bucket."""

from __future__ import annotations

import itertools
from datetime import timedelta

from arq.connections import ArqRedis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import CampaignEvent, CampaignEventKind, CampaignStatus, Delivery
from models.tables import LinkClick, LinkTargetRow
from panel import actions
from panel.audit import CLI
from panel.exports import outcome_series
from panel.queue import enqueue_start
from panel.report_chart import OutcomeSeries
from tests.support.engine import (
    TARGET_TOKEN,
    Workers,
    add_audience,
    delivered_at_least,
    get_campaign,
    new_campaign,
    read,
    rows,
    wait_for_status,
    wait_until,
)
from tgsim.simulator import Simulator


async def _events(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int, kind: CampaignEventKind
) -> list[CampaignEvent]:
    async def query(session: AsyncSession) -> list[CampaignEvent]:
        statement = (
            select(CampaignEvent)
            .where(CampaignEvent.campaign_id == campaign_id, CampaignEvent.kind == kind)
            .order_by(CampaignEvent.at)
        )
        return list((await session.scalars(statement)).all())

    return await read(sessionmaker, query)


async def _series(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int) -> OutcomeSeries:
    async def query(session: AsyncSession) -> OutcomeSeries:
        return await outcome_series(session, await get_campaign(sessionmaker, campaign_id))

    return await read(sessionmaker, query)


async def test_a_429_storm_records_one_flood_wait_per_pause_and_the_chart_ticks_them(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    sim.set_faults(TARGET_TOKEN, latency_mean_s=0.02)
    bot_id = await add_audience(sessionmaker, sim, active=600)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(2)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    await wait_until(lambda: delivered_at_least(sim, 100), what="some sent", logs=workers)
    sim.storm(TARGET_TOKEN, duration_s=1.5, retry_after_s=1)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert campaign.status is CampaignStatus.COMPLETED

    async def recorded() -> list[CampaignEvent]:
        return await _events(sessionmaker, campaign_id, CampaignEventKind.FLOOD_WAIT)

    waits = await wait_until(recorded, timeout_s=10, what="flood waits recorded", logs=workers)
    too_many = sim.stats(TARGET_TOKEN).too_many_requests
    # Two workers' senders met many 429s; a 1.5 s storm of 1 s waits is two pauses, or three
    # when a retry lands on its very end: one row each, never one per 429.
    assert 1 <= len(waits) <= 3 < too_many
    assert all(wait.seconds == 1 for wait in waits)
    for earlier, later in itertools.pairwise(waits):
        assert later.at >= earlier.at + timedelta(seconds=earlier.seconds or 0)  # no pause twice
    series = await _series(sessionmaker, campaign_id)
    assert series.start is not None
    assert [(round(at_s, 3), seconds) for at_s, seconds in series.flood_waits] == [
        (round((wait.at - series.start).total_seconds(), 3), 1.0) for wait in waits
    ]
    assert series.clicks is None  # no tracked links
    assert not series.pauses


async def test_a_paused_and_resumed_campaign_has_its_pause_in_the_chart(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=120, rate_per_s=30)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    await wait_until(lambda: delivered_at_least(sim, 30), what="some sent", logs=workers)
    assert await actions.pause(sessionmaker, campaign_id, actor=CLI)
    await wait_for_status(sessionmaker, campaign_id, {CampaignStatus.PAUSED}, workers=workers)
    await wait_until(
        lambda: _events(sessionmaker, campaign_id, CampaignEventKind.PAUSED), what="the pause recorded"
    )
    delivered_before = sim.stats(TARGET_TOKEN).delivered_total
    assert delivered_before < 120
    assert await actions.resume(sessionmaker, pool, campaign_id, queue_name=queue_name, actor=CLI)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert (campaign.status, campaign.successful_sents) == (CampaignStatus.COMPLETED, 120)

    [paused] = await _events(sessionmaker, campaign_id, CampaignEventKind.PAUSED)
    [resumed] = await _events(sessionmaker, campaign_id, CampaignEventKind.RESUMED)
    series = await _series(sessionmaker, campaign_id)
    assert series.start is not None
    [(from_s, to_s)] = series.pauses
    assert from_s == max((paused.at - series.start).total_seconds(), 0.0)
    assert to_s == (resumed.at - series.start).total_seconds()
    assert to_s > from_s


async def test_a_tracked_campaigns_clicks_are_counted_per_time_bucket(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=30)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    await wait_for_status(sessionmaker, campaign_id, workers=workers)
    ledger = await rows(sessionmaker, campaign_id)
    start = min(row.finished_at for row in ledger if row.finished_at is not None)
    # The ledger spread over 3 s (a row every 0.1 s), and clicks at known moments: 2 in the first
    # second, 1 in the third, and 1 an hour later, after the chart's end.
    async with sessionmaker.begin() as session:
        for index, row in enumerate(ledger):
            await session.execute(
                update(Delivery)
                .where(Delivery.id == row.id)
                .values(finished_at=start + timedelta(seconds=index / 10))
            )
        session.add(LinkTargetRow(campaign_id=campaign_id, link_index=0, url="https://example.com/a"))
        for chat_id, after_s in ((1_000_000, 0.2), (1_000_001, 0.9), (1_000_000, 2.5), (1_000_002, 3600)):
            session.add(
                LinkClick(
                    campaign_id=campaign_id,
                    chat_id=chat_id,
                    link_index=0,
                    clicked_at=start + timedelta(seconds=after_s),
                )
            )

    series = await _series(sessionmaker, campaign_id)
    assert (series.start, series.bucket_s, series.buckets) == (start, 1, 3)
    assert series.clicks == [2, 0, 1]
    assert series.clicks_later == 1
