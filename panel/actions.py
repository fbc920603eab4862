"""What an admin can do to a campaign, from the control bot or the CLI: one function per action.

start, pause, resume, cancel, schedule, unschedule, duplicate and delete. Each commits its own
change (a compare-and-set from `panel.transitions`, so a caller that lost a race gets False)
and only then enqueues the work the change needs, so a worker always sees the change before
it acts on the job. Which actions a status allows is answered by the `can_*` functions, so
the bot's buttons and the actions themselves follow one rule.

The workers change statuses through the same `panel.transitions`, inside their own retrying
transactions.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    CANCELLABLE_CAMPAIGN_STATUSES,
    DELETABLE_CAMPAIGN_STATUSES,
    UNSTARTED_CAMPAIGN_STATUSES,
    Campaign,
    CampaignStatus,
)
from panel import abtest, approval, audit, campaigns, groups, transitions
from panel.audit import Actor, AuditAction
from panel.buttons import Buttons
from panel.claims import claim_once, release_claim
from panel.queue import enqueue_finalize, enqueue_resume, enqueue_start

logger = logging.getLogger(__name__)

# Long enough to absorb double taps and two admins confirming together; short enough that a
# start lost with a stopped worker can be confirmed again (the engine's start is a CAS anyway).
START_CLAIM_TTL_S = 60


class StartOutcome(enum.StrEnum):
    """What happened when an admin asked to send a campaign now."""

    STARTED = "started"
    ALREADY_CLAIMED = "already_claimed"
    MOVED_ON = "moved_on"
    MISSING = "missing"
    NEEDS_APPROVAL = "needs_approval"


def can_start(status: CampaignStatus) -> bool:
    """Whether a campaign in `status` may be sent now (a draft, or scheduled)."""
    return status in UNSTARTED_CAMPAIGN_STATUSES


def can_schedule(status: CampaignStatus) -> bool:
    """Whether a campaign in `status` may be (re)scheduled, which also means it has not started."""
    return status in UNSTARTED_CAMPAIGN_STATUSES


def can_pause(status: CampaignStatus) -> bool:
    """Whether a campaign in `status` may be paused."""
    return status is CampaignStatus.SENDING


def can_resume(status: CampaignStatus) -> bool:
    """Whether a campaign in `status` may be resumed."""
    return status is CampaignStatus.PAUSED


def can_cancel(status: CampaignStatus) -> bool:
    """Whether a campaign in `status` may be cancelled (anything not over yet)."""
    return status in CANCELLABLE_CAMPAIGN_STATUSES


def can_delete(status: CampaignStatus) -> bool:
    """Whether a campaign in `status` may be deleted (a draft: nothing sent to account for)."""
    return status in DELETABLE_CAMPAIGN_STATUSES


async def start(
    sessionmaker: async_sessionmaker[AsyncSession],
    pool: ArqRedis,
    campaign_id: int,
    *,
    queue_name: str,
    actor: Actor,
    progress_chat_id: int | None = None,
) -> StartOutcome:
    """Send a DRAFT or SCHEDULED campaign now, its live progress in `progress_chat_id` if given.

    Claims the start in Redis for `START_CLAIM_TTL_S` (a double tap, two admins: one start),
    commits the progress chat, then enqueues `start_campaign`; the worker's move to SENDING
    is the compare-and-set. A start that does not happen gives its claim back.
    """
    if not campaigns.is_row_id(campaign_id):
        return StartOutcome.MISSING
    claim = f"start:{campaign_id}"
    if not await claim_once(pool, claim, ttl_s=START_CLAIM_TTL_S, namespace=queue_name):
        return StartOutcome.ALREADY_CLAIMED
    try:
        async with sessionmaker() as session, session.begin():
            # A campaign of a group starts with its siblings (`panel.groups`): one freeze for all.
            group = await groups.siblings(session, campaign_id)
            startable = [c for c in group if can_start(c.status)]
            if not group:
                outcome = StartOutcome.MISSING
            elif not startable:
                outcome = StartOutcome.MOVED_ON
            elif any([(await approval.need_of(session, c)).blocks for c in startable]):
                outcome = StartOutcome.NEEDS_APPROVAL
            else:
                for campaign in startable:
                    if progress_chat_id is not None:
                        await campaigns.set_progress_target(session, campaign.id, progress_chat_id)
                    await audit.record(
                        session, actor, AuditAction.START, campaign_id=campaign.id, bot_id=campaign.bot_id
                    )
                outcome = StartOutcome.STARTED
        if outcome is StartOutcome.STARTED:
            await enqueue_start(pool, startable[0].id, queue_name=queue_name)
            logger.info("campaign %s: start requested, progress to chat %s", campaign_id, progress_chat_id)
        else:
            await release_claim(pool, claim, namespace=queue_name)
        return outcome
    except BaseException:
        await release_claim(pool, claim, namespace=queue_name)
        raise


async def _change_then_enqueue(
    sessionmaker: async_sessionmaker[AsyncSession],
    campaign_id: int,
    change: Callable[[AsyncSession, int], Awaitable[bool]],
    enqueue: Callable[[int], Awaitable[None]],
    *,
    actor: Actor,
    action: AuditAction,
    done: str,
) -> bool:
    """Commit `change` (and its audit entry) on the campaign and its group's siblings; for each
    it changed, enqueue the job it needs."""
    if not campaigns.is_row_id(campaign_id):
        return False
    changed = await _change_group(sessionmaker, campaign_id, change, actor=actor, action=action)
    for sibling_id in changed:
        await enqueue(sibling_id)
        logger.info("campaign %s: %s", sibling_id, done)
    return bool(changed)


async def _change_group(
    sessionmaker: async_sessionmaker[AsyncSession],
    campaign_id: int,
    change: Callable[[AsyncSession, int], Awaitable[bool]],
    *,
    actor: Actor,
    action: AuditAction,
    details: dict[str, Any] | None = None,
) -> list[int]:
    """In one transaction, `change` each campaign of `campaign_id`'s group (`panel.groups`: an
    action on one sibling is an action on the announcement) with an audit entry each; the ids
    it changed."""
    async with sessionmaker() as session, session.begin():
        changed = []
        for sibling_id in await groups.sibling_ids(session, campaign_id):
            if await change(session, sibling_id):
                await audit.record(session, actor, action, campaign_id=sibling_id, details=details)
                changed.append(sibling_id)
    return changed


async def _change(
    sessionmaker: async_sessionmaker[AsyncSession],
    campaign_id: int,
    change: Callable[[AsyncSession, int], Awaitable[bool]],
    *,
    actor: Actor,
    action: AuditAction,
    details: dict[str, Any] | None = None,
) -> bool:
    """Commit `change` on the campaign and its siblings, with their audit entries; enqueues nothing."""
    if not campaigns.is_row_id(campaign_id):
        return False
    return bool(
        await _change_group(sessionmaker, campaign_id, change, actor=actor, action=action, details=details)
    )


async def pause(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int, *, actor: Actor) -> bool:
    """Pause a SENDING campaign: commits PAUSED, enqueues nothing (its batches stop within a second)."""
    return await _change(
        sessionmaker,
        campaign_id,
        lambda session, sibling_id: transitions.pause(session, sibling_id),
        actor=actor,
        action=AuditAction.PAUSE,
    )


async def resume(
    sessionmaker: async_sessionmaker[AsyncSession],
    pool: ArqRedis,
    campaign_id: int,
    *,
    queue_name: str,
    actor: Actor,
) -> bool:
    """Resume a PAUSED campaign: commits SENDING, then enqueues `resume_campaign` (its batches)."""
    return await _change_then_enqueue(
        sessionmaker,
        campaign_id,
        lambda session, sibling_id: transitions.resume(session, sibling_id),
        lambda sibling_id: enqueue_resume(pool, sibling_id, queue_name=queue_name),
        actor=actor,
        action=AuditAction.RESUME,
        done="resume requested",
    )


async def cancel(
    sessionmaker: async_sessionmaker[AsyncSession],
    pool: ArqRedis,
    campaign_id: int,
    *,
    queue_name: str,
    actor: Actor,
    reason: str | None = None,
) -> bool:
    """Cancel a campaign that is not over: commits CANCELLED with its unsent rows cancelled,
    then enqueues `finalize_campaign` (the summary goes out once the in-flight sends are in)."""
    return await _change_then_enqueue(
        sessionmaker,
        campaign_id,
        lambda session, sibling_id: transitions.cancel(session, sibling_id, reason=reason),
        lambda sibling_id: enqueue_finalize(pool, sibling_id, queue_name=queue_name),
        actor=actor,
        action=AuditAction.CANCEL,
        done="cancelled",
    )


async def schedule(
    sessionmaker: async_sessionmaker[AsyncSession],
    campaign_id: int,
    when: datetime,
    *,
    actor: Actor,
    progress_chat_id: int | None = None,
) -> bool:
    """Schedule a draft (or move a scheduled campaign) to `when`: commits SCHEDULED and the chat
    its live progress will go to; enqueues nothing (the workers' cron starts it when due).

    Raises `CampaignError` when `when` is not in the future.
    """
    if not campaigns.is_row_id(campaign_id):
        return False

    async def change(session: AsyncSession, sibling_id: int) -> bool:
        scheduled = await transitions.schedule(session, sibling_id, when)
        if scheduled and progress_chat_id is not None:
            await campaigns.set_progress_target(session, sibling_id, progress_chat_id)
        return scheduled

    details = {"for": when.isoformat(timespec="minutes")}
    return bool(
        await _change_group(
            sessionmaker, campaign_id, change, actor=actor, action=AuditAction.SCHEDULE, details=details
        )
    )


async def unschedule(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int, *, actor: Actor
) -> bool:
    """Take a scheduled campaign back to DRAFT: commits, enqueues nothing."""
    return await _change(
        sessionmaker,
        campaign_id,
        lambda session, sibling_id: transitions.unschedule(session, sibling_id),
        actor=actor,
        action=AuditAction.UNSCHEDULE,
    )


async def duplicate(
    sessionmaker: async_sessionmaker[AsyncSession],
    campaign_id: int,
    *,
    actor: Actor,
    created_by: int | None = None,
) -> Campaign:
    """A new draft with the message, target bot and name of `campaign_id`: commits it,
    enqueues nothing. Raises `CampaignError` when there is no such campaign."""
    async with sessionmaker() as session, session.begin():
        # A campaign of a group is copied with its siblings, as a new group in the same order.
        copies = []
        for sibling_id in await groups.sibling_ids(session, campaign_id):
            copy = await campaigns.duplicate(session, sibling_id, created_by=created_by)
            await audit.record(
                session,
                actor,
                AuditAction.DUPLICATE,
                campaign_id=copy.id,
                bot_id=copy.bot_id,
                details={"from": sibling_id},
            )
            copies.append(copy)
        if len(copies) > 1:
            for position, copy in enumerate(copies):
                copy.group_id, copy.group_position = copies[0].id, position
            await session.flush()
        return copies[0]


def can_edit_buttons(status: CampaignStatus) -> bool:
    """A campaign's buttons change only while it is a draft."""
    return status is CampaignStatus.DRAFT


async def set_buttons(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int, buttons: Buttons, *, actor: Actor
) -> bool:
    """Replace (or, with none, remove) a draft's URL buttons: commits, enqueues nothing."""
    return await _change(
        sessionmaker,
        campaign_id,
        lambda session, sibling_id: campaigns.set_draft_buttons(session, sibling_id, buttons),
        actor=actor,
        action=AuditAction.SET_BUTTONS,
        details={"buttons": buttons.count},
    )


async def delete(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int, *, actor: Actor) -> bool:
    """Delete a draft: commits, enqueues nothing; False for any other campaign."""
    return await _change(
        sessionmaker,
        campaign_id,
        lambda session, sibling_id: campaigns.delete_draft(session, sibling_id),
        actor=actor,
        action=AuditAction.DELETE,
    )


# ---------------------------------------------------------------- A/B tests (issue 17)


async def set_ab_test(
    sessionmaker: async_sessionmaker[AsyncSession],
    campaign_id: int,
    *,
    contents: Sequence[Mapping[str, Any]],
    split: abtest.Split,
    window: timedelta,
    measure: abtest.Measure,
    actor: Actor,
) -> bool:
    """Make a draft an A/B test (`panel.abtest.configure`): commits, enqueues nothing. False when
    it is no longer a draft; `AbTestError` for a test that can't be."""
    details = {
        "split": list(split.shares),
        "holdout": split.holdout,
        "window_s": int(window.total_seconds()),
        "measure": measure.value,
    }
    return await _change(
        sessionmaker,
        campaign_id,
        # A group's announcement is tested as one: each bot's part gets the same variants and split.
        lambda session, sibling_id: abtest.configure(
            session, sibling_id, contents=contents, split=split, window=window, measure=measure
        ),
        actor=actor,
        action=AuditAction.SET_AB_TEST,
        details=details,
    )


async def pick_ab_winner(
    sessionmaker: async_sessionmaker[AsyncSession],
    pool: ArqRedis,
    campaign_id: int,
    label: str,
    *,
    queue_name: str,
    actor: Actor,
) -> int | None:
    """Make `label` the winner of a sending (or paused) A/B test and release the rest to it:
    commits, then enqueues `resume_campaign` (which queues their batches while it sends).
    The number of recipients released; None when the test has a winner already or is none."""
    if not campaigns.is_row_id(campaign_id):
        return None
    async with sessionmaker() as session, session.begin():
        released = await abtest.decide(session, campaign_id, label)
        if released is not None:
            await audit.record(
                session,
                actor,
                AuditAction.PICK_AB_WINNER,
                campaign_id=campaign_id,
                details={"winner": label.strip().upper(), "released": released},
            )
    if released is not None:
        await enqueue_resume(pool, campaign_id, queue_name=queue_name)
        logger.info("campaign %s: variant %s won", campaign_id, label)
    return released
