"""Flood control shared by two workers, 429 storms, 5xx, timeouts, content errors and a bad token."""

from __future__ import annotations

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import CampaignStatus, DeliveryStatus
from panel.queue import enqueue_start
from tests.support.engine import (
    ADMIN_CHAT_ID,
    CONTROL_TOKEN,
    TARGET_TOKEN,
    Workers,
    add_audience,
    assert_counters_match_rows,
    delivered,
    delivered_at_least,
    new_campaign,
    rows,
    status_counts,
    wait_for_status,
    wait_until,
)
from tgsim.simulator import Simulator

RATE = 120


async def test_two_workers_together_hold_the_token_limit(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    # The simulator would admit twice the bot's rate: its busiest second shows our own pacing.
    # 100 ms ± 10 ms, as the benchmark (the harness's pacing factor leaves the simulator's own
    # pauses room too: it runs in this process).
    sim.set_limits(TARGET_TOKEN, paid_rate=2 * RATE)
    sim.set_faults(TARGET_TOKEN, latency_mean_s=0.1, latency_jitter_s=0.01)
    bot_id = await add_audience(sessionmaker, sim, active=600, rate_per_s=RATE)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(2)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)

    stats = sim.stats(TARGET_TOKEN)
    assert campaign.successful_sents == 600
    assert stats.peak_per_second <= RATE
    assert stats.too_many_requests == 0
    assert stats.duplicates == 0
    claimers = {row.claimed_by for row in await rows(sessionmaker, campaign_id)}
    assert claimers == {None}  # recorded rows release their claim


async def test_a_429_storm_pauses_the_token_and_every_recipient_still_gets_one_message(
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
    stats = sim.stats(TARGET_TOKEN)
    assert (campaign.status, campaign.successful_sents, campaign.failed_sents) == (
        CampaignStatus.COMPLETED,
        600,
        0,
    )
    assert set(delivered(sim).values()) == {1}
    # Every worker obeyed the pause: a handful of 429s per storm second, not one per sender.
    assert 0 < stats.too_many_requests <= 40
    by_row = await rows(sessionmaker, campaign_id)
    assert max(row.attempts for row in by_row) == 1  # a 429 is not an attempt


async def test_server_errors_are_retried_until_sent(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    sim.set_faults(TARGET_TOKEN, server_error_share=0.3)
    bot_id = await add_audience(sessionmaker, sim, active=300)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(1, max_attempts=12)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert (campaign.status, campaign.successful_sents) == (CampaignStatus.COMPLETED, 300)
    assert set(delivered(sim).values()) == {1}
    assert any(row.attempts > 1 for row in await rows(sessionmaker, campaign_id))
    await assert_counters_match_rows(sessionmaker, campaign_id)


async def test_server_errors_past_max_attempts_fail(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    sim.set_faults(TARGET_TOKEN, server_error_share=1.0)
    bot_id = await add_audience(sessionmaker, sim, active=20)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(1, max_attempts=3)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert (campaign.status, campaign.failed_sents) == (CampaignStatus.COMPLETED, 20)
    assert {row.attempts for row in await rows(sessionmaker, campaign_id)} == {3}


async def test_timeouts_are_unconfirmed_never_resent(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    sim.set_faults(TARGET_TOKEN, hang_share=0.1, hang_s=4.0)
    bot_id = await add_audience(sessionmaker, sim, active=200)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(1, request_timeout_s=1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    counts = await status_counts(sessionmaker, campaign_id)
    assert campaign.status is CampaignStatus.COMPLETED
    assert counts.get(DeliveryStatus.UNCONFIRMED, 0) > 0
    assert counts[DeliveryStatus.SENT] + counts[DeliveryStatus.UNCONFIRMED] == 200
    assert max(delivered(sim).values()) == 1
    assert sim.stats(TARGET_TOKEN).duplicates == 0


async def test_timeouts_are_retried_when_at_least_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    sim.set_faults(TARGET_TOKEN, hang_share=0.1, hang_s=4.0)
    bot_id = await add_audience(sessionmaker, sim, active=100)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(1, request_timeout_s=1, at_least_once=True, max_attempts=20)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert (campaign.successful_sents, campaign.unconfirmed_count) == (100, 0)
    assert set(delivered(sim)) == set(range(1_000_000, 1_000_100))


async def test_a_content_error_streak_pauses_the_campaign_and_tells_the_admin(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=300)
    too_long = {"kind": "text", "text": "x" * 5000, "entities": []}  # stored under other rules
    campaign_id = await new_campaign(sessionmaker, bot_id, content=too_long)
    workers.start(1, content_error_streak=5)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, (CampaignStatus.PAUSED,), workers=workers)
    assert campaign.status_reason and "message is too long" in campaign.status_reason
    notice = await sim.wait_for_message(CONTROL_TOKEN, ADMIN_CHAT_ID, lambda m: "paused" in (m.text or ""))
    assert "message is too long" in (notice.text or "")

    async def settled() -> bool:
        counts = await status_counts(sessionmaker, campaign_id)
        return not counts.get(DeliveryStatus.SENDING)

    await wait_until(settled, what="in-flight rows recorded", logs=workers)
    counts = await status_counts(sessionmaker, campaign_id)
    # The refused rows went back to pending: nobody's delivery was written off.
    assert counts.get(DeliveryStatus.FAILED, 0) == 0
    assert counts[DeliveryStatus.PENDING] == 300
    assert sim.stats(TARGET_TOKEN).delivered_total == 0


async def test_a_revoked_target_token_fails_the_campaign_at_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=300, token="200077:AAunknownToTheSimulator")
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert campaign.status is CampaignStatus.FAILED
    assert campaign.status_reason and "401" in campaign.status_reason
    await assert_counters_match_rows(sessionmaker, campaign_id)
    assert campaign.failed_sents >= 1
    assert campaign.failed_sents + campaign.cancelled_count == 300, await status_counts(
        sessionmaker, campaign_id
    )
