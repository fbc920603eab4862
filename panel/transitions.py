"""Every change of a campaign's status, each one compare-and-set, for the actions and the workers.

`compare_and_set` is the one statement that writes `campaigns.status`: `UPDATE ... WHERE id = :id
AND status IN (:expected)`. A caller that finds nothing to change gets False and stops quietly
(another admin, a worker or the clock got there first). Functions take an `AsyncSession` and
never commit, so a caller groups several steps in one transaction: `panel.actions` commits
an admin's change, a worker's `in_transaction` commits (and retries) its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import ColumnElement, CursorResult, exists, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ACTIVE_CAMPAIGN_STATUSES,
    CANCELLABLE_CAMPAIGN_STATUSES,
    FINAL_CAMPAIGN_STATUSES,
    STOPPED_CAMPAIGN_STATUSES,
    UNFINISHED_DELIVERY_STATUSES,
    UNSTARTED_CAMPAIGN_STATUSES,
    Campaign,
    CampaignEventKind,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    utcnow,
)
from panel import campaign_events
from panel.campaigns import CampaignError


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)


async def compare_and_set(
    session: AsyncSession,
    campaign_id: int,
    *,
    expected: Iterable[CampaignStatus],
    new: CampaignStatus | None,
    where: Iterable[ColumnElement[bool]] = (),
    values: Mapping[str, object] | None = None,
    now: datetime | None = None,
) -> bool:
    """Set `new` status (and `values`) on a campaign in one of `expected` statuses, if `where`
    holds too; whether this caller made the change.

    With `new` None the status stays and only `values` are set: a claim on a campaign in one of
    `expected` (the right to send its summary).
    """
    changes = dict(values or {})
    if new is not None:
        changes |= {"status": new, "updated_at": now or utcnow()}
    statement = (
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status.in_(list(expected)), *where)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(await session.execute(statement)) == 1


def _no_unfinished_rows(campaign_id: int) -> ColumnElement[bool]:
    return ~exists().where(
        Delivery.campaign_id == campaign_id, Delivery.status.in_(list(UNFINISHED_DELIVERY_STATUSES))
    )


async def begin_sending(session: AsyncSession, campaign_id: int, *, now: datetime | None = None) -> bool:
    """Move a DRAFT or SCHEDULED campaign to SENDING (the engine then freezes its audience)."""
    now = now or utcnow()
    return await compare_and_set(
        session,
        campaign_id,
        expected=UNSTARTED_CAMPAIGN_STATUSES,
        new=CampaignStatus.SENDING,
        values={"started_at": now, "status_reason": None},
        now=now,
    )


async def schedule(
    session: AsyncSession, campaign_id: int, when: datetime, *, now: datetime | None = None
) -> bool:
    """Schedule a draft (or move a scheduled campaign) to `when`, which must be in the future."""
    if when.tzinfo is None:
        raise CampaignError("The time has no time zone.")
    if when <= (now or utcnow()):
        raise CampaignError("That time is in the past.")
    return await compare_and_set(
        session,
        campaign_id,
        expected=UNSTARTED_CAMPAIGN_STATUSES,
        new=CampaignStatus.SCHEDULED,
        values={"scheduled_at": when, "status_reason": None},
    )


async def unschedule(session: AsyncSession, campaign_id: int, *, reason: str | None = None) -> bool:
    """Take a scheduled campaign back to DRAFT (`reason` says why, when it was not the admin)."""
    return await compare_and_set(
        session,
        campaign_id,
        expected=[CampaignStatus.SCHEDULED],
        new=CampaignStatus.DRAFT,
        values={"scheduled_at": None, "status_reason": reason},
    )


async def pause(session: AsyncSession, campaign_id: int, *, reason: str | None = None) -> bool:
    """Stop new sends of a SENDING campaign; in-flight requests still get recorded.

    `reason` (shown to the admin) is given when the engine pauses on its own. The pause is
    appended to the campaign's events (its report chart shades it).
    """
    now = utcnow()
    changed = await compare_and_set(
        session,
        campaign_id,
        expected=[CampaignStatus.SENDING],
        new=CampaignStatus.PAUSED,
        values={"status_reason": reason} if reason is not None else None,
        now=now,
    )
    if changed:
        await campaign_events.record(session, campaign_id, CampaignEventKind.PAUSED, at=now)
    return changed


async def resume(session: AsyncSession, campaign_id: int) -> bool:
    """Let a PAUSED campaign send again (its batches are queued afterwards); the resume is
    appended to the campaign's events."""
    now = utcnow()
    changed = await compare_and_set(
        session,
        campaign_id,
        expected=[CampaignStatus.PAUSED],
        new=CampaignStatus.SENDING,
        values={"status_reason": None},
        now=now,
    )
    if changed:
        await campaign_events.record(session, campaign_id, CampaignEventKind.RESUMED, at=now)
    return changed


async def cancel(session: AsyncSession, campaign_id: int, *, reason: str | None = None) -> bool:
    """Stop a campaign for good; recipients not yet sent to are marked cancelled."""
    return await _stop(session, campaign_id, CANCELLABLE_CAMPAIGN_STATUSES, CampaignStatus.CANCELLED, reason)


async def fail(session: AsyncSession, campaign_id: int, reason: str, *, now: datetime | None = None) -> bool:
    """Stop a SENDING or PAUSED campaign as FAILED with `reason`; pending rows become cancelled."""
    return await _stop(session, campaign_id, ACTIVE_CAMPAIGN_STATUSES, CampaignStatus.FAILED, reason, now=now)


async def _stop(
    session: AsyncSession,
    campaign_id: int,
    expected: Iterable[CampaignStatus],
    new: CampaignStatus,
    reason: str | None,
    *,
    now: datetime | None = None,
) -> bool:
    """Move to the final `new` status from `expected`, and cancel the rows not yet sent."""
    now = now or utcnow()
    changed = await compare_and_set(
        session,
        campaign_id,
        expected=expected,
        new=new,
        values={"completed_at": now, "status_reason": reason},
        now=now,
    )
    if changed:
        await cancel_leftovers(session, campaign_id, now=now)
    return changed


async def complete_if_done(session: AsyncSession, campaign_id: int, *, now: datetime | None = None) -> bool:
    """Mark a SENDING/PAUSED campaign with no unfinished rows COMPLETED; whether this call did."""
    now = now or utcnow()
    return await compare_and_set(
        session,
        campaign_id,
        expected=ACTIVE_CAMPAIGN_STATUSES,
        new=CampaignStatus.COMPLETED,
        where=[_no_unfinished_rows(campaign_id)],
        values={"completed_at": now},
        now=now,
    )


async def claim_summary(session: AsyncSession, campaign_id: int, *, now: datetime | None = None) -> bool:
    """Take the right to send the final summary of an ended campaign whose rows are all final."""
    return await compare_and_set(
        session,
        campaign_id,
        expected=FINAL_CAMPAIGN_STATUSES,
        new=None,
        where=[Campaign.summary_sent_at.is_(None), _no_unfinished_rows(campaign_id)],
        values={"summary_sent_at": now or utcnow()},
    )


async def cancel_leftovers(session: AsyncSession, campaign_id: int, *, now: datetime | None = None) -> int:
    """Mark pending rows of a stopped (cancelled or failed) campaign cancelled, counted."""
    now = now or utcnow()
    stopped = exists().where(Campaign.id == campaign_id, Campaign.status.in_(list(STOPPED_CAMPAIGN_STATUSES)))
    count = _rowcount(
        await session.execute(
            update(Delivery)
            .where(
                Delivery.campaign_id == campaign_id,
                # An A/B test's rest never got the winner: cancelled with the pending.
                Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.WAITING]),
                stopped,
            )
            .values(status=DeliveryStatus.CANCELLED, finished_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if count:
        await session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(cancelled_count=Campaign.cancelled_count + count)
            .execution_options(synchronize_session=False)
        )
    return count
