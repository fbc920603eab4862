"""Pause, resume, cancel, scheduling, and the live progress message, through real workers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from arq.connections import ArqRedis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callbacks import ProgressAction, ProgressCallback
from models import Campaign, CampaignStatus, DeliveryStatus, utcnow
from panel import actions, transitions
from panel.audit import CLI
from panel.queue import enqueue_start
from tests.processes import broadcast_cli
from tests.support.engine import (
    ADMIN_CHAT_ID,
    CONTROL_TOKEN,
    TARGET_TOKEN,
    Workers,
    add_audience,
    assert_counters_match_rows,
    delivered,
    delivered_at_least,
    get_campaign,
    new_campaign,
    rows,
    status_counts,
    wait_for_status,
    wait_until,
)
from tgsim.simulator import ChatEntry, Simulator


async def _errors(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int
) -> list[tuple[str, str | None]]:
    return [(str(r.status), r.last_error) for r in await rows(sessionmaker, campaign_id) if r.last_error]


async def test_pause_stops_sending_and_resume_finishes(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    sim.set_faults(TARGET_TOKEN, latency_mean_s=0.03)
    bot_id = await add_audience(sessionmaker, sim, active=900)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(2)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    await wait_until(lambda: delivered_at_least(sim, 150), what="some sent", logs=workers)

    assert await actions.pause(sessionmaker, campaign_id, actor=CLI)
    await wait_for_status(sessionmaker, campaign_id, (CampaignStatus.PAUSED,))
    await asyncio.sleep(1.5)  # in-flight sends finish and get recorded
    settled = sim.stats(TARGET_TOKEN).delivered_total
    await asyncio.sleep(1.5)
    assert sim.stats(TARGET_TOKEN).delivered_total == settled  # nothing new while paused
    paused = await get_campaign(sessionmaker, campaign_id)
    assert paused.status is CampaignStatus.PAUSED
    assert paused.successful_sents == settled < 900

    assert await actions.resume(sessionmaker, pool, campaign_id, queue_name=queue_name, actor=CLI)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert (campaign.status, campaign.successful_sents) == (CampaignStatus.COMPLETED, 900)
    assert set(delivered(sim).values()) == {1}
    await assert_counters_match_rows(sessionmaker, campaign_id)


async def test_cancel_marks_the_rest_cancelled_and_sends_a_summary(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    sim.set_faults(TARGET_TOKEN, latency_mean_s=0.03)
    bot_id = await add_audience(sessionmaker, sim, active=900)
    campaign_id = await new_campaign(sessionmaker, bot_id, progress=True)
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    await wait_until(lambda: delivered_at_least(sim, 100), what="some sent", logs=workers)

    assert await actions.cancel(sessionmaker, pool, campaign_id, queue_name=queue_name, actor=CLI)
    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)

    assert campaign.status is CampaignStatus.CANCELLED
    await assert_counters_match_rows(sessionmaker, campaign_id)
    assert campaign.cancelled_count > 0
    # Every row was sent or cancelled; only a request that outlived its timeout on a loaded
    # machine may be left unconfirmed (it may or may not have arrived), never failed.
    counts = await status_counts(sessionmaker, campaign_id)
    detail = (counts, await _errors(sessionmaker, campaign_id))
    assert set(counts) <= {DeliveryStatus.SENT, DeliveryStatus.CANCELLED, DeliveryStatus.UNCONFIRMED}, detail
    assert campaign.unconfirmed_count <= 32, detail  # at most the sends in flight (SEND_CONCURRENCY)
    assert campaign.successful_sents + campaign.cancelled_count + campaign.unconfirmed_count == 900
    delivered_total = sim.stats(TARGET_TOKEN).delivered_total
    assert (
        campaign.successful_sents <= delivered_total <= campaign.successful_sents + campaign.unconfirmed_count
    )
    summary = await sim.wait_for_message(CONTROL_TOKEN, ADMIN_CHAT_ID, lambda m: "finished" in (m.text or ""))
    assert "Cancelled: " in (summary.text or "")


async def test_live_progress_message_is_edited_and_summarised(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    sim.set_faults(TARGET_TOKEN, latency_mean_s=0.02)
    bot_id = await add_audience(sessionmaker, sim, active=900)
    campaign_id = await new_campaign(sessionmaker, bot_id, progress=True)
    workers.start(2)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)
    assert campaign.progress_message_id is not None
    summary = await sim.wait_for_message(CONTROL_TOKEN, ADMIN_CHAT_ID, lambda m: "finished" in (m.text or ""))
    assert "Sent: 900" in (summary.text or "")
    chat = sim.chat(CONTROL_TOKEN, ADMIN_CHAT_ID)
    progress = next(m for m in chat.bot_messages if m.message_id == campaign.progress_message_id)
    assert "Completed" in (progress.text or "") and progress.buttons == []
    assert progress.edit_count >= 1
    # Only the progress message, the summary and its chart: edits happen in place.
    await sim.wait_for_message(CONTROL_TOKEN, ADMIN_CHAT_ID, lambda m: m.media_kind == "photo", timeout_s=30)
    chat = sim.chat(CONTROL_TOKEN, ADMIN_CHAT_ID)
    assert len(chat.bot_messages) == 3
    # The control bot's edits stayed within its own per-message limit.
    assert sim.stats(CONTROL_TOKEN).too_many_requests == 0


async def test_progress_buttons_carry_the_campaign(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    sim.set_faults(TARGET_TOKEN, latency_mean_s=0.05)
    bot_id = await add_audience(sessionmaker, sim, active=900)
    campaign_id = await new_campaign(sessionmaker, bot_id, progress=True)
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    async def first_message() -> ChatEntry | None:
        chat = sim.chat(CONTROL_TOKEN, ADMIN_CHAT_ID)
        return chat.bot_messages[0] if chat.bot_messages else None

    message = await wait_until(first_message, what="progress message", logs=workers)
    datas = [data for _, data in message.buttons]
    assert ProgressCallback(action=ProgressAction.PAUSE, campaign_id=campaign_id).pack() in datas
    assert ProgressCallback(action=ProgressAction.CANCEL, campaign_id=campaign_id).pack() in datas
    await wait_for_status(sessionmaker, campaign_id, workers=workers)


async def test_due_scheduled_campaign_starts_and_a_too_late_one_goes_back_to_draft(
    sessionmaker: async_sessionmaker[AsyncSession], sim: Simulator, workers: Workers
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=50)
    due_id = await new_campaign(sessionmaker, bot_id, text="On time")
    late_id = await new_campaign(sessionmaker, bot_id, text="Far too late")
    async with sessionmaker.begin() as session:
        now = utcnow()
        await transitions.schedule(session, due_id, now + timedelta(seconds=1), now=now)
        await transitions.schedule(session, late_id, now + timedelta(seconds=1), now=now)
        # As if every worker had been down for two hours when it came due.
        await session.execute(
            update(Campaign).where(Campaign.id == late_id).values(scheduled_at=now - timedelta(hours=2))
        )
    workers.start(1, lateness_cutoff_s=3600)

    due = await wait_for_status(sessionmaker, due_id, workers=workers)
    assert (due.status, due.successful_sents) == (CampaignStatus.COMPLETED, 50)
    late = await wait_for_status(sessionmaker, late_id, (CampaignStatus.DRAFT,), workers=workers)
    assert late.scheduled_at is None and late.status_reason and "late" in late.status_reason
    notice = await sim.wait_for_message(CONTROL_TOKEN, ADMIN_CHAT_ID, lambda m: "not sent" in (m.text or ""))
    assert f"#{late_id}" in (notice.text or "")


async def test_the_cli_sends_pauses_resumes_and_cancels_through_real_workers(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    queue_name: str,
    tmp_path: Path,
    cli_env: dict[str, str],
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=2000, rate_per_s=50)
    campaign_id = await new_campaign(sessionmaker, bot_id)

    async def cli(action: str) -> tuple[int, str, str]:
        return await broadcast_cli("campaigns", action, str(campaign_id), env=cli_env, cwd=tmp_path)

    assert await cli("pause") == (1, "", f"broadcast: campaign #{campaign_id} is draft: cannot pause it\n")
    assert (await cli("send"))[:2] == (0, f"campaign #{campaign_id}: send requested\n")
    # A second send before any worker took the first is the same request, not an error.
    assert (await cli("send"))[:2] == (0, f"campaign #{campaign_id}: send requested\n")
    workers.start(1)
    await wait_for_status(sessionmaker, campaign_id, {CampaignStatus.SENDING})
    # Sending already: a send inside the first one's claim is refused all the same.
    code, _, err = await cli("send")
    assert code == 1 and "is sending: cannot send it" in err
    assert (await cli("pause"))[0] == 0
    await wait_for_status(sessionmaker, campaign_id, {CampaignStatus.PAUSED})
    assert (await cli("resume"))[0] == 0
    assert (await cli("cancel"))[0] == 0
    # The campaign is settled: no row left pending, the summary claimed once.
    await wait_for_status(sessionmaker, campaign_id, {CampaignStatus.CANCELLED})
    await wait_until(lambda: _summary_claimed(sessionmaker, campaign_id))
    await assert_counters_match_rows(sessionmaker, campaign_id)
    counts = await status_counts(sessionmaker, campaign_id)
    assert sum(counts.values()) == 2000 and counts.get(DeliveryStatus.PENDING, 0) == 0


async def _summary_claimed(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int) -> bool:
    return (await get_campaign(sessionmaker, campaign_id)).summary_sent_at is not None
