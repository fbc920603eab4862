"""The arq jobs of a campaign's life: start, send a batch, resume, finalize; and the two crons.

Every job is idempotent: arq may run a job twice, two workers may race, Redis may be flushed.
Status changes are compare-and-set; the reconciler repairs whatever a crash left behind.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta
from typing import Any

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix
from arq.worker import Retry
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.batch import BatchRun, tracked_links
from jobs.context import EngineContext, is_transient_db_error
from jobs.engine import deliveries
from jobs.engine.snapshot import CampaignSnapshot, load_snapshot
from jobs.progress import admin_language, notify_admin, send_progress_message, send_summary, update_progress
from models import ACTIVE_CAMPAIGN_STATUSES, FINAL_CAMPAIGN_STATUSES, Campaign, CampaignStatus, utcnow
from panel import abtest, actions, after_send, approval, expiry, groups, i18n, link_stats, metrics, texts
from panel.audit import SCHEDULER
from panel.links import link_targets
from panel.queue import batch_job_id, enqueue_batch, enqueue_finalize, parse_batch_job_id
from panel.transitions import unschedule

logger = logging.getLogger(__name__)

RETRY_DEFER_CAP_S = 30.0
BUSY_WAIT_S = 3.0
"""A batch waits this long, up to twice as long (drawn per wait), for a free place among its token's
running batches. Drawn, because batches queued together that all gave up at once left no one
waiting when the running ones ended: 1.6 s without a send at 1000/s (bench/RESULTS.md)."""
BUSY_DEFER_S = 0.5
ROUTE_DEFER_S = 1.0
"""A batch that found Telegram out of reach comes back after this, up to twice as long (drawn);
then at the probes' turns, 1 s doubling up to 10 s (`jobs.engine.route`)."""
ABANDONED_MARGIN_S = 5.0
"""Beyond a worker's lease and one request timeout: a claim this old, in no running batch, is abandoned."""


def _engine(ctx: dict[str, Any]) -> EngineContext:
    engine: EngineContext = ctx["engine"]
    return engine


def _pool(ctx: dict[str, Any]) -> ArqRedis:
    pool: ArqRedis = ctx["redis"]
    return pool


async def enqueue_pending_batches(ectx: EngineContext, pool: ArqRedis, campaign_id: int) -> int:
    """Queue every batch of a campaign that still has pending rows; returns how many were new."""
    batch_size = ectx.settings.batch_size

    async def ranges(session: AsyncSession) -> list[tuple[int, int]]:
        return await deliveries.pending_batch_ranges(session, campaign_id, batch_size)

    queued = 0
    for first_id, last_id in await ectx.in_transaction(ranges):
        if await enqueue_batch(pool, campaign_id, first_id, last_id, queue_name=ectx.settings.queue_name):
            queued += 1
    return queued


async def start_campaign(ctx: dict[str, Any], campaign_id: int) -> str:
    """Freeze the audience of a DRAFT/SCHEDULED campaign and queue its batches (once).

    A campaign of a group (`panel.groups`) starts its whole group: every sibling's audience is
    frozen in one transaction, in the admin's order of bots, each leaving out the chats an
    earlier sibling holds, so every person gets one copy whichever sibling's job ran first."""
    ectx = _engine(ctx)

    async def freeze(session: AsyncSession) -> list[tuple[int, deliveries.Started]] | int:
        group = await groups.siblings(session, campaign_id)
        for campaign in group:
            scheduled = campaign.status is CampaignStatus.SCHEDULED
            if scheduled and (await approval.need_of(session, campaign)).blocks:
                # Never sent without the approval it needs: back to draft, and the admin is told.
                for sibling in group:
                    await unschedule(session, sibling.id, reason=texts.NEEDS_APPROVAL_REASON)
                return campaign.progress_chat_id or campaign.created_by or 0
        ids = [campaign.id for campaign in group]
        return [
            (sibling_id, await deliveries.freeze_audience(session, sibling_id, after_siblings=ids[:index]))
            for index, sibling_id in enumerate(ids)
        ]

    frozen = await ectx.in_transaction(freeze)
    if not isinstance(frozen, list):
        with i18n.speaking(await admin_language(ectx, frozen or None)):
            notice = texts.NEEDS_APPROVAL_UNSCHEDULED.format(campaign_id=campaign_id)
        await notify_admin(ectx, frozen or None, notice)
        return "needs approval"
    outcomes = []
    for sibling_id, started in frozen:
        if started.started:
            outcomes.append(await _after_freeze(ctx, sibling_id, started))
    return "; ".join(outcomes) or "not startable"


async def _after_freeze(ctx: dict[str, Any], campaign_id: int, started: deliveries.Started) -> str:
    """A campaign just moved to SENDING: its progress message, then its batches (or its end)."""
    ectx = _engine(ctx)
    logger.info("campaign %s started: %s recipients", campaign_id, started.total)
    await send_progress_message(ectx, campaign_id)
    if started.total == 0:
        await finalize(ectx, campaign_id)
        return "empty audience"
    await enqueue_pending_batches(ectx, _pool(ctx), campaign_id)
    return f"started {started.total}"


async def _sends_version_of(ectx: EngineContext, job_id: str, edit_mark: bytes | None) -> None:
    """Tell an edit's run (`jobs.edit`) that this batch sends the version of edit `edit_mark` or
    later, so it need not wait for the batch to end."""
    if edit_mark is None:
        return
    await ectx.redis.set(
        ectx.keys.batch_edit_seen(job_id), edit_mark, ex=max(int(ectx.settings.batch_job_timeout_s), 1)
    )


async def send_batch(ctx: dict[str, Any], campaign_id: int, first_id: int, last_id: int) -> str:
    """Send the pending rows with ids `first_id..last_id` of a SENDING campaign."""
    ectx = _engine(ctx)
    job_id = batch_job_id(campaign_id, first_id, last_id, queue_name=ectx.settings.queue_name)
    await ectx.hold_lease(job_id)
    room: asyncio.Semaphore | None = None
    try:
        known_key = ectx.campaign_rate_keys.get(campaign_id)
        if known_key is not None:
            # Its token already sends its fill here: wait for room before reading anything, so a
            # queued batch of a busy token costs no database transaction each time it comes back.
            room = await _room_for(ectx.batch_room(known_key))

        async def read(session: AsyncSession) -> Any:
            loaded = await load_snapshot(session, campaign_id)
            for group in loaded[0].groups() if loaded is not None else ():
                if tracked_links(group, ectx.settings) is not None:
                    # Before the first tracked link goes out, the service must be able to resolve it.
                    targets = link_targets(group.content, first_index=group.link_first_index)
                    await link_stats.save_targets(session, campaign_id, targets)
            return loaded

        # Read before the snapshot: an edit committed after it changes the mark, and the run restarts.
        edit_mark = await ectx.redis.get(ectx.keys.content_edit(campaign_id))
        loaded = await ectx.in_transaction(read)
        if loaded is None:
            return "no such campaign"
        snapshot, status = loaded
        await _sends_version_of(ectx, job_id, edit_mark)
        if status is CampaignStatus.SENDING:
            # Telegram can't be reached: back to the queue until the next probe's turn (the slot
            # is free for other jobs meanwhile), unless this batch's probe finds the route back.
            wait_s = await ectx.route.check(
                ectx.open_token(snapshot.sealed_token), ectx.target_bot(snapshot.sealed_token)
            )
            if wait_s > 0:
                raise Retry(defer=wait_s * random.uniform(1.0, 1.5))
            rate_key = ectx.rate_key(snapshot.sealed_token)
            ectx.campaign_rate_keys[campaign_id] = rate_key
            room_here = ectx.batch_room(rate_key, snapshot.rate_per_s)
            if room is not room_here:
                if room is not None:
                    room.release()
                    room = None
                room = await _room_for(room_here)

            def make_room() -> None:
                """The last rows are claimed: the next batch of the token may start now, while
                they go out, instead of after (a gap of its start-up at a batch's end)."""
                nonlocal room
                if room is not None:
                    room.release()
                    room = None

            # An A/B test's groups each go with their own message, one after the other.
            groups = snapshot.groups()
            for index, group in enumerate(groups):
                last = index == len(groups) - 1
                early = make_room if last else None
                run = BatchRun(ectx, group, first_id, last_id, edit_mark=edit_mark, on_drained=early)
                await run.run()
                while run.edited:  # the campaign's message was edited: the rest gets the new one
                    edit_mark = await ectx.redis.get(ectx.keys.content_edit(campaign_id))
                    loaded = await ectx.in_transaction(read)
                    if loaded is None or loaded[1] is not CampaignStatus.SENDING:
                        break
                    group = _same_group(loaded[0], group.variant)
                    await _sends_version_of(ectx, job_id, edit_mark)
                    run = BatchRun(ectx, group, first_id, last_id, edit_mark=edit_mark)
                    await run.run()
                if run.status is not CampaignStatus.SENDING:
                    break  # paused or stopped: the other groups wait for the resume
            make_room()
            if run.route_down:
                ectx.spawn(update_progress(ectx, campaign_id))  # the reason, if the control bot gets through
                raise Retry(defer=ROUTE_DEFER_S * random.uniform(1.0, 2.0))
        await finalize(ectx, campaign_id)
        return "done"
    except Exception as exc:
        # The run released its unsent rows and recorded its results; the rest is tried again
        # later (arq keeps the job id, so the batch still runs at most once at a time).
        if not is_retryable(exc):
            raise
        job_try = int(ctx.get("job_try") or 1)
        defer_s = min(2.0 ** min(job_try, 5), RETRY_DEFER_CAP_S)
        logger.warning("batch %s failed (%s: %s); again in %.0f s", job_id, type(exc).__name__, exc, defer_s)
        raise Retry(defer=defer_s) from exc
    finally:
        if room is not None:
            room.release()
        await ectx.drop_lease(job_id)


async def _room_for(room: asyncio.Semaphore) -> asyncio.Semaphore:
    """A place among the running batches of one token in this process, held on return.

    A few batches of a token already send as fast as it allows: wait a moment for one to end,
    else back to the queue, behind other campaigns' batches.
    """
    try:
        await asyncio.wait_for(room.acquire(), BUSY_WAIT_S * random.uniform(1.0, 2.0))
    except TimeoutError:
        raise Retry(defer=BUSY_DEFER_S) from None
    return room


def _same_group(snapshot: CampaignSnapshot, variant: str | None) -> CampaignSnapshot:
    """`snapshot`'s group `variant` (the campaign itself when it is no A/B test)."""
    return next((group for group in snapshot.groups() if group.variant == variant), snapshot)


def is_retryable(exc: BaseException) -> bool:
    """Whether a batch that failed with `exc` should run again: database or Redis unavailable.

    A `Retry` of the job's own (no room behind its token, Telegram out of reach) is not: it keeps
    its own defer (the TimeoutError it is raised from would read as a lost connection).
    """
    if isinstance(exc, Retry):
        return False
    return is_transient_db_error(exc) or isinstance(
        exc, RedisError | OSError | ConnectionError | TimeoutError
    )


async def resume_campaign(ctx: dict[str, Any], campaign_id: int) -> str:
    """Queue the batches of a campaign that was resumed (it is SENDING again)."""
    ectx = _engine(ctx)

    async def status(session: AsyncSession) -> CampaignStatus | None:
        value = await session.scalar(select(Campaign.status).where(Campaign.id == campaign_id))
        return None if value is None else CampaignStatus(value)

    if await ectx.in_transaction(status) is not CampaignStatus.SENDING:
        return "not sending"
    queued = await enqueue_pending_batches(ectx, _pool(ctx), campaign_id)
    ectx.spawn(update_progress(ectx, campaign_id, final=True))
    await finalize(ectx, campaign_id)
    return f"queued {queued}"


async def finalize(ectx: EngineContext, campaign_id: int) -> None:
    """Complete a campaign whose rows are all final and send its summary, once however often called."""

    async def settle(session: AsyncSession) -> bool:
        await deliveries.complete_if_done(session, campaign_id)
        await deliveries.cancel_leftovers(session, campaign_id)
        return await deliveries.claim_summary(session, campaign_id)

    if await ectx.in_transaction(settle):
        logger.info("campaign %s ended", campaign_id)
        await send_summary(ectx, campaign_id)


async def finalize_campaign(ctx: dict[str, Any], campaign_id: int) -> str:
    """The job form of `finalize`."""
    await finalize(_engine(ctx), campaign_id)
    return "ok"


async def check_scheduled_campaigns(ctx: dict[str, Any]) -> int:
    """Start due SCHEDULED campaigns; ones overdue past the lateness cutoff go back to DRAFT."""
    ectx = _engine(ctx)
    now = utcnow()
    cutoff = timedelta(seconds=ectx.settings.lateness_cutoff_s)

    async def due(session: AsyncSession) -> list[tuple[int, Any, str | None, int | None]]:
        rows = await session.execute(
            select(Campaign.id, Campaign.scheduled_at, Campaign.name, Campaign.created_by).where(
                Campaign.status == CampaignStatus.SCHEDULED, Campaign.scheduled_at <= now
            )
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]

    started = 0
    for campaign_id, scheduled_at, name, created_by in await ectx.in_transaction(due):
        late = now - scheduled_at
        if late > cutoff:
            # The reason stored on the campaign and the notice read in its admin's language.
            with i18n.speaking(await admin_language(ectx, created_by)):
                reason = texts.UNSCHEDULED_REASON.format(
                    late=texts.duration(late), cutoff=texts.duration(cutoff)
                )
                notice = texts.NOTICE_UNSCHEDULED.format(
                    campaign_id=campaign_id,
                    name=f" “{name}”" if name else "",
                    due=scheduled_at.strftime("%Y-%m-%d %H:%M UTC"),
                    cutoff=texts.duration(cutoff),
                )

            async def back_to_draft(
                session: AsyncSession, campaign_id: int = campaign_id, reason: str = reason
            ) -> bool:
                return await unschedule(session, campaign_id, reason=reason)

            if await ectx.in_transaction(back_to_draft):
                logger.warning("campaign %s missed its time by %s: back to draft", campaign_id, late)
                await notify_admin(ectx, created_by, notice)
            continue
        if await start_campaign(ctx, campaign_id) != "not startable":
            started += 1
    await start_expiry_recalls(ctx)
    await decide_ab_tests(ctx)
    return started


async def decide_ab_tests(ctx: dict[str, Any]) -> int:
    """Pick the winner of each A/B test whose window is over, by its measure, and send it to
    the rest (`panel.actions.pick_ab_winner`, as the scheduler); tell the admin."""
    ectx = _engine(ctx)

    async def due(session: AsyncSession) -> list[tuple[int, str | None, int | None, str, str]]:
        found = []
        for campaign in await abtest.due_decisions(session):
            figures = await abtest.ab_figures(session, campaign)
            if figures is not None and figures.variants:
                found.append(
                    (
                        campaign.id,
                        campaign.name,
                        campaign.progress_chat_id or campaign.created_by,
                        figures.leader(),
                        figures.measure.value,
                    )
                )
        return found

    decided = 0
    for campaign_id, name, chat_id, label, measure in await ectx.in_transaction(due):
        released = await actions.pick_ab_winner(
            ectx.sessionmaker,
            _pool(ctx),
            campaign_id,
            label,
            queue_name=ectx.settings.queue_name,
            actor=SCHEDULER,
        )
        if released is None:
            continue  # another worker (or an admin) decided a moment ago
        decided += 1
        logger.info("campaign %s: variant %s won; %s recipients get it", campaign_id, label, released)
        with i18n.speaking(await admin_language(ectx, chat_id)):  # like every notice to an admin
            notice = texts.NOTICE_AB_WINNER.format(
                campaign_id=campaign_id,
                name=f" “{name}”" if name else "",
                label=label,
                measure=texts.AB_MEASURES[measure],
                released=texts.number(released),
            )
        await notify_admin(ectx, chat_id, notice)
    return decided


async def start_expiry_recalls(ctx: dict[str, Any]) -> int:
    """Recall the ended campaigns whose expiry ("Delete after…") is due, and tell their admin.

    The recall is asked for first and the expiry marked started after: a worker dying between the
    two leaves the mark unset, and the next look finds the recall running (or done) and marks it.
    """
    ectx = _engine(ctx)

    async def due(session: AsyncSession) -> list[tuple[int, str | None, int | None, int]]:
        return [
            (campaign.id, campaign.name, campaign.created_by, int(campaign.expire_after_s or 0))
            for campaign in await expiry.due_expiries(session)
        ]

    started = 0
    for campaign_id, name, created_by, after_s in await ectx.in_transaction(due):
        outcome, _ = await after_send.recall(
            ectx.sessionmaker,
            _pool(ctx),
            campaign_id,
            queue_name=ectx.settings.queue_name,
            actor=SCHEDULER,
            progress_chat_id=created_by,
        )
        if outcome is after_send.RecallOutcome.RUNNING:
            continue  # asked for a moment ago (another worker, or a double tap): mark it next time

        async def mark(session: AsyncSession, campaign_id: int = campaign_id) -> bool:
            return await expiry.claim_expiry(session, campaign_id)

        await ectx.in_transaction(mark)
        if outcome is after_send.RecallOutcome.STARTED:
            started += 1
            logger.info("campaign %s expired: recall started", campaign_id)
            with i18n.speaking(await admin_language(ectx, created_by)):
                notice = texts.NOTICE_EXPIRED.format(
                    campaign_id=campaign_id,
                    name=f" “{name}”" if name else "",
                    after=texts.duration(timedelta(seconds=after_s)),
                )
            await notify_admin(ectx, created_by, notice)
    return started


async def _revive_orphaned_batches(ectx: EngineContext, in_progress_ms: int) -> int:
    """Let arq run again the batch jobs whose worker died (in progress, but no live lease)."""
    redis = ectx.redis
    grace_ms = int(ectx.settings.worker_lease_s * 1000)
    revived = 0
    async for raw in redis.scan_iter(
        match=f"{in_progress_key_prefix}{ectx.keys.batch_job_prefix()}*", count=500
    ):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        job_id = key[len(in_progress_key_prefix) :]
        if parse_batch_job_id(job_id, queue_name=ectx.settings.queue_name) is None or await redis.exists(
            ectx.keys.lease(job_id)
        ):
            continue
        remaining_ms = await redis.pttl(key)
        if remaining_ms < 0 or in_progress_ms - remaining_ms < grace_ms:
            continue  # just started: its lease may not be written yet
        # The job is still in arq's queue; without its in-progress marker another worker takes it.
        await redis.delete(key)
        revived += 1
        logger.warning("batch job %s lost its worker: queued again", job_id)
    return revived


async def _running_ranges(ectx: EngineContext, campaign_id: int) -> list[tuple[int, int]]:
    """Delivery id ranges of a campaign's batches that hold a live lease (running somewhere)."""
    queue_name = ectx.settings.queue_name
    ranges = []
    async for raw in ectx.redis.scan_iter(
        match=ectx.keys.lease(f"{ectx.keys.batch_job_prefix()}{campaign_id}:*"), count=500
    ):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        parsed = parse_batch_job_id(key[len(ectx.keys.lease("")) :], queue_name=queue_name)
        if parsed is not None and parsed[0] == campaign_id:
            ranges.append((parsed[1], parsed[2]))
    return ranges


async def _settle_abandoned_claims(ectx: EngineContext, campaign_id: int, live_workers: list[str]) -> int:
    """Settle rows that live workers claimed long ago in batches no longer running (a batch that
    failed or was cancelled between claiming and recording)."""
    settings = ectx.settings
    age_s = settings.worker_lease_s + settings.request_timeout_s + ABANDONED_MARGIN_S
    # Leases first, then the rows: a batch starting in between only holds fresh claims.
    running = await _running_ranges(ectx, campaign_id)
    claimed_before = utcnow() - timedelta(seconds=age_s)

    async def settle(session: AsyncSession) -> int:
        return await deliveries.settle_stale_claims(
            session,
            campaign_id,
            live_workers,
            claimed_before=claimed_before,
            at_least_once=settings.at_least_once,
            running_ranges=running,
        )

    settled = await ectx.in_transaction(settle)
    if settled:
        logger.warning("campaign %s: %s rows abandoned by a stopped batch settled", campaign_id, settled)
    return settled


async def _active_campaigns(session: AsyncSession) -> list[tuple[int, CampaignStatus, int, int]]:
    """Each campaign sending or paused: id, status, recipients and how many are settled."""
    rows = await session.execute(
        select(
            Campaign.id,
            Campaign.status,
            Campaign.total_recipients,
            Campaign.successful_sents
            + Campaign.failed_sents
            + Campaign.unavailable_count
            + Campaign.unconfirmed_count
            + Campaign.cancelled_count,
        ).where(Campaign.status.in_(list(ACTIVE_CAMPAIGN_STATUSES)))
    )
    return [(int(i), CampaignStatus(s), int(t or 0), int(f or 0)) for i, s, t, f in rows.all()]


async def _observe(ectx: EngineContext, pool: ArqRedis) -> None:
    """The metrics the reconciler refreshes: queue depth and lag, the active campaigns' progress."""
    try:
        queue = ectx.settings.queue_name
        metrics.QUEUE_DEPTH.set(await pool.zcard(queue))
        oldest = await pool.zrange(queue, 0, 0, withscores=True)
        due_ms = oldest[0][1] if oldest else None
        now_ms = utcnow().timestamp() * 1000
        metrics.JOB_LAG_SECONDS.set(max(0.0, (now_ms - due_ms) / 1000) if due_ms is not None else 0.0)

        active = await ectx.in_transaction(_active_campaigns)
    except Exception as exc:  # metrics never stop the repairs
        logger.debug("metrics not refreshed: %s", exc)
        return
    metrics.CAMPAIGNS_ACTIVE.set(len(active))
    metrics.CAMPAIGN_PROGRESS.clear()  # finished campaigns leave the gauge
    for campaign_id, _, total, finished in active:
        metrics.CAMPAIGN_PROGRESS.labels(str(campaign_id)).set(finished / total if total else 0.0)


async def reconcile(ctx: dict[str, Any]) -> dict[str, int]:
    """Repair what crashes left: dead workers' claims, lost batch jobs, unsent summaries."""
    ectx = _engine(ctx)
    pool = _pool(ctx)
    settings = ectx.settings
    report = {"revived": 0, "settled": 0, "requeued": 0, "finalized": 0}
    report["revived"] = await _revive_orphaned_batches(ectx, int(ctx.get("in_progress_ms", 0)))

    claimed_before = utcnow() - timedelta(seconds=settings.worker_lease_s)
    for campaign_id, status, _, finished in await ectx.in_transaction(_active_campaigns):

        async def workers(session: AsyncSession, campaign_id: int = campaign_id) -> list[str]:
            return await deliveries.claimers(session, campaign_id)

        claiming = await ectx.in_transaction(workers)
        # This worker is alive whatever its heartbeat key says (a stall may have let it lapse).
        dead = [
            w for w in claiming if w != ectx.worker_id and not await ectx.redis.exists(ectx.keys.worker(w))
        ]
        live = [w for w in claiming if w not in dead]
        if live:
            report["settled"] += await _settle_abandoned_claims(ectx, campaign_id, live)
        if dead:

            async def settle(
                session: AsyncSession, campaign_id: int = campaign_id, dead: list[str] = dead
            ) -> int:
                return await deliveries.settle_stale_claims(
                    session,
                    campaign_id,
                    dead,
                    claimed_before=claimed_before,
                    at_least_once=settings.at_least_once,
                )

            settled = await ectx.in_transaction(settle)
            report["settled"] += settled
            if settled:
                logger.warning("campaign %s: %s rows of dead workers settled", campaign_id, settled)
        if status is not CampaignStatus.SENDING:
            continue
        # A campaign that made progress since the last look has live batches; only a stalled
        # one (or one we know nothing about, e.g. after a Redis flush) gets its batches queued.
        seen_key = ectx.keys.seen(campaign_id)
        seen = await ectx.redis.get(seen_key)
        await ectx.redis.set(seen_key, finished, ex=3600)
        if seen is not None and int(seen) != finished:
            continue
        report["requeued"] += await enqueue_pending_batches(ectx, pool, campaign_id)
        await finalize(ectx, campaign_id)

    async def unsettled(session: AsyncSession) -> list[int]:
        rows = await session.execute(
            select(Campaign.id).where(
                Campaign.status.in_(list(FINAL_CAMPAIGN_STATUSES)), Campaign.summary_sent_at.is_(None)
            )
        )
        return [int(i) for (i,) in rows.all()]

    for campaign_id in await ectx.in_transaction(unsettled):
        await enqueue_finalize(pool, campaign_id, queue_name=settings.queue_name)
        report["finalized"] += 1
    await _observe(ectx, pool)
    return report
