"""Database operations of the sending engine: freeze an audience, claim rows, settle a campaign.

Recording the outcome of claimed rows lives in `jobs.engine.results`. Every write transaction
here starts with a write statement: SQLite then takes its write lock up front (waiting on the
busy timeout) instead of failing a read-then-write transaction that another process overtook.
Functions take an `AsyncSession` and never commit; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CursorResult,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import BindParameter

from jobs.engine.results import Recipient, add_to_counters
from models import (
    UNSUCCESSFUL_DELIVERY_STATUSES,
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    TargetBot,
    User,
    utcnow,
)
from panel import abtest, transitions
from panel.after_send import retry_audience
from panel.greetings import values_of
from panel.groups import reachable

WORKER_LOST = "Worker stopped while the message was in flight"


@dataclass(frozen=True, slots=True)
class Started:
    """What `freeze_audience` did."""

    started: bool
    total: int = 0


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)


async def freeze_audience(
    session: AsyncSession,
    campaign_id: int,
    *,
    now: datetime | None = None,
    after_siblings: Sequence[int] = (),
) -> Started:
    """Move a DRAFT/SCHEDULED campaign to SENDING and write one pending row per recipient.

    The audience is the target bot's available users at this moment (those matching the
    campaign's segment expression, if it has one), copied in one statement.
    `after_siblings`: the earlier campaigns of its group (`panel.groups`), already frozen in this
    transaction; chats in their audiences are left out (one copy per person).
    An empty audience completes the campaign at once. A second caller finds nothing to start.
    """
    now = now or utcnow()
    if not await transitions.begin_sending(session, campaign_id, now=now):
        return Started(started=False)
    bot_id, platform, audience_filter, cap_hours, parent_id, retry_unconfirmed, topic = (
        await session.execute(
            select(
                Campaign.bot_id,
                Campaign.platform,
                Campaign.audience_filter,
                TargetBot.frequency_cap_hours,
                Campaign.parent_id,
                Campaign.retry_unconfirmed,
                Campaign.topic,
            )
            .join(TargetBot, TargetBot.id == Campaign.bot_id)
            .where(Campaign.id == campaign_id)
        )
    ).one()
    audience: Select[int, int, int, str, int]
    if parent_id is not None:  # a retry: the parent's failed recipients (`panel.after_send`)
        recipients = retry_audience(parent_id, include_unconfirmed=retry_unconfirmed).subquery()
        audience = select(
            literal(campaign_id),
            recipients.c.id,
            recipients.c.chat_id,
            literal(DeliveryStatus.PENDING.value),
            literal(0),
        ).order_by(recipients.c.id)
    else:
        audience = (
            select(
                literal(campaign_id),
                User.id,
                User.chat_id,
                literal(DeliveryStatus.PENDING.value),
                literal(0),
            )
            .where(
                reachable(bot_id, platform, audience_filter, cap_hours, topic=topic, now=now),
                not_(
                    User.chat_id.in_(
                        select(Delivery.chat_id).where(Delivery.campaign_id.in_(list(after_siblings)))
                    )
                )
                if after_siblings
                else true(),
            )
            .order_by(User.id)
        )
    inserted = await session.execute(
        insert(Delivery).from_select(["campaign_id", "user_id", "chat_id", "status", "attempts"], audience)
    )
    total = _rowcount(inserted)
    held_out = 0
    campaign = await session.get(Campaign, campaign_id)
    if campaign is not None and campaign.ab_seed is not None:  # an A/B test (`panel.abtest`)
        if parent_id is None:  # each recipient's group, drawn and recorded
            held_out = await abtest.assign_deliveries(session, campaign, now=now)
        else:  # a retry of its failed: each keeps the group they were in
            await abtest.assign_retry(session, campaign_id, parent_id)
    total -= held_out  # the holdout is never sent: not among the recipients to count
    await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(total_recipients=total, held_out_count=held_out)
        .execution_options(synchronize_session=False)
    )
    if total == 0:
        await transitions.complete_if_done(session, campaign_id, now=now)
    return Started(started=True, total=total)


async def delivery_id_bounds(session: AsyncSession, campaign_id: int) -> tuple[int, int] | None:
    """The smallest and largest delivery id of a campaign, None if it has no rows."""
    low, high = (
        await session.execute(
            select(func.min(Delivery.id), func.max(Delivery.id)).where(Delivery.campaign_id == campaign_id)
        )
    ).one()
    return None if low is None else (int(low), int(high))


def batch_ranges(low: int, high: int, batch_size: int) -> list[tuple[int, int]]:
    """Split delivery ids `low..high` into ranges of `batch_size` ids, aligned on `low`."""
    return [(first, min(first + batch_size - 1, high)) for first in range(low, high + 1, batch_size)]


async def pending_batch_ranges(
    session: AsyncSession, campaign_id: int, batch_size: int
) -> list[tuple[int, int]]:
    """The batch ranges (aligned like `batch_ranges`) that still hold pending rows."""
    bounds = await delivery_id_bounds(session, campaign_id)
    if bounds is None:
        return []
    low, high = bounds
    # Floor division: SQLAlchemy 2 renders `/` on integers as true division.
    bucket = ((Delivery.id - low) // batch_size).label("bucket")
    rows = await session.execute(
        select(bucket)
        .where(Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.PENDING)
        .group_by(bucket)
        .order_by(bucket)
    )
    ranges = []
    for (index,) in rows.all():
        first = low + int(index) * batch_size
        ranges.append((first, min(first + batch_size - 1, high)))
    return ranges


def _claim_statement(*, by_variant: bool = False) -> Any:
    """`claim`'s UPDATE … RETURNING, built once (its parameters are named `p_…`: a column's name
    is the UPDATE's own): at 1,000 sends/s a worker claims dozens of times
    a second, and building the statement each time cost more than running it."""
    deliveries: Table = Delivery.__table__  # type: ignore[assignment]
    campaigns: Table = Campaign.__table__  # type: ignore[assignment]
    now = bindparam("p_now", type_=deliveries.c.claimed_at.type)
    campaign_id: BindParameter[int] = bindparam("p_campaign_id")
    due = (
        select(deliveries.c.id)
        .where(
            deliveries.c.campaign_id == campaign_id,
            deliveries.c.status == DeliveryStatus.PENDING,
            deliveries.c.id.between(bindparam("p_first_id"), bindparam("p_last_id")),
            or_(deliveries.c.not_before.is_(None), deliveries.c.not_before <= now),
            deliveries.c.variant == bindparam("p_variant") if by_variant else true(),
        )
        .order_by(deliveries.c.id)
        .limit(bindparam("p_limit"))
        .scalar_subquery()
    )
    sending = exists().where(campaigns.c.id == campaign_id, campaigns.c.status == CampaignStatus.SENDING)
    return (
        update(deliveries)
        .where(deliveries.c.id.in_(due), deliveries.c.status == DeliveryStatus.PENDING, sending)
        .values(status=DeliveryStatus.SENDING, claimed_by=bindparam("p_worker_id"), claimed_at=now)
        .returning(deliveries.c.id, deliveries.c.user_id, deliveries.c.chat_id, deliveries.c.attempts)
    )


_CLAIM = _claim_statement()
_CLAIM_VARIANT = _claim_statement(by_variant=True)
"""The claim of an A/B test's batch, one group (`Delivery.variant`) at a time."""


def _of_variant(variant: str | None) -> ColumnElement[bool]:
    return true() if variant is None else Delivery.variant == variant


async def claim(
    session: AsyncSession,
    campaign_id: int,
    first_id: int,
    last_id: int,
    *,
    worker_id: str,
    limit: int,
    with_names: bool = False,
    variant: str | None = None,
    now: datetime | None = None,
) -> list[Recipient]:
    """Claim up to `limit` due pending rows of a range for `worker_id`, only while the campaign sends.

    `with_names`: each recipient carries the user's names, for a personalised campaign.
    `variant`: only rows of this A/B test group.
    """
    connection = await session.connection()
    result = await connection.execute(
        _CLAIM if variant is None else _CLAIM_VARIANT,
        {
            **({} if variant is None else {"p_variant": variant}),
            "p_campaign_id": campaign_id,
            "p_first_id": first_id,
            "p_last_id": last_id,
            "p_limit": limit,
            "p_worker_id": worker_id,
            "p_now": now or utcnow(),
        },
    )
    rows = sorted(result.all())
    names: dict[int, dict[str, str | None]] = {}
    if with_names and rows:
        found = await connection.execute(
            select(User.id, User.first_name, User.last_name, User.username).where(
                User.id.in_([int(row[1]) for row in rows])
            )
        )
        names = {int(user_id): values_of(first, last, username) for user_id, first, last, username in found}
    return [Recipient(int(i), int(u), int(c), int(a), names.get(int(u))) for i, u, c, a in rows]


async def next_due_at(
    session: AsyncSession, campaign_id: int, first_id: int, last_id: int, *, variant: str | None = None
) -> datetime | None:
    """When the earliest deferred pending row of a range becomes due (None: no pending rows)."""
    low_due, pending = (
        await session.execute(
            select(func.min(Delivery.not_before), func.count()).where(
                Delivery.campaign_id == campaign_id,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.id.between(first_id, last_id),
                _of_variant(variant),
            )
        )
    ).one()
    if not pending:
        return None
    if low_due is None:
        return utcnow()
    # min() over a UTCDateTime column comes back untyped on SQLite: normalise.
    if isinstance(low_due, str):
        low_due = datetime.fromisoformat(low_due)
    return low_due if low_due.tzinfo else low_due.replace(tzinfo=utcnow().tzinfo)


async def pending_count(
    session: AsyncSession, campaign_id: int, first_id: int, last_id: int, *, variant: str | None = None
) -> int:
    """Pending rows (due or deferred) of a range (of one A/B test group, with `variant`)."""
    count = await session.scalar(
        select(func.count()).where(
            Delivery.campaign_id == campaign_id,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.id.between(first_id, last_id),
            _of_variant(variant),
        )
    )
    return int(count or 0)


async def settle_stale_claims(
    session: AsyncSession,
    campaign_id: int,
    workers: Iterable[str],
    *,
    claimed_before: datetime,
    at_least_once: bool,
    running_ranges: Iterable[tuple[int, int]] = (),
    now: datetime | None = None,
) -> int:
    """Settle rows that `workers` claimed before `claimed_before`: unconfirmed (or pending again
    when at-least-once). Rows inside `running_ranges` (batches still running) are left alone.

    Used for dead workers' claims, and for claims of live workers whose batch ended without
    recording them (a batch that failed mid-send).
    """
    workers = list(workers)
    if not workers:
        return 0
    now = now or utcnow()
    stale = and_(
        Delivery.campaign_id == campaign_id,
        Delivery.status == DeliveryStatus.SENDING,
        Delivery.claimed_by.in_(workers),
        Delivery.claimed_at < claimed_before,
        *(~Delivery.id.between(first_id, last_id) for first_id, last_id in running_ranges),
    )
    if at_least_once:
        values: dict[str, object] = {"status": DeliveryStatus.PENDING, "claimed_by": None}
    else:
        values = {
            "status": DeliveryStatus.UNCONFIRMED,
            "claimed_by": None,
            "finished_at": now,
            "last_error": WORKER_LOST,
        }
    count = _rowcount(
        await session.execute(
            update(Delivery).where(stale).values(**values).execution_options(synchronize_session=False)
        )
    )
    if not at_least_once:
        await add_to_counters(session, campaign_id, {DeliveryStatus.UNCONFIRMED: count})
    return count


async def claimers(session: AsyncSession, campaign_id: int) -> list[str]:
    """Workers that hold claimed rows of a campaign."""
    rows = await session.execute(
        select(Delivery.claimed_by)
        .where(Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.SENDING)
        .distinct()
    )
    return [str(worker) for (worker,) in rows.all() if worker]


async def cancel_leftovers(session: AsyncSession, campaign_id: int, *, now: datetime | None = None) -> int:
    """Mark pending rows of a stopped (cancelled or failed) campaign cancelled, counted."""
    return await transitions.cancel_leftovers(session, campaign_id, now=now)


async def fail_campaign(
    session: AsyncSession, campaign_id: int, reason: str, *, now: datetime | None = None
) -> bool:
    """Stop a SENDING or PAUSED campaign as FAILED with `reason`; pending rows become cancelled."""
    return await transitions.fail(session, campaign_id, reason, now=now)


async def pause_with_reason(session: AsyncSession, campaign_id: int, reason: str) -> bool:
    """Pause a SENDING campaign and say why (shown to the admin)."""
    return await transitions.pause(session, campaign_id, reason=reason)


async def complete_if_done(session: AsyncSession, campaign_id: int, *, now: datetime | None = None) -> bool:
    """Mark a SENDING/PAUSED campaign with no unfinished rows COMPLETED; whether this call did."""
    return await transitions.complete_if_done(session, campaign_id, now=now)


async def claim_summary(session: AsyncSession, campaign_id: int, *, now: datetime | None = None) -> bool:
    """Take the right to send the final summary of an ended campaign whose rows are all final."""
    return await transitions.claim_summary(session, campaign_id, now=now)


async def error_breakdown(
    session: AsyncSession, campaign_id: int, *, limit: int = 8
) -> list[tuple[str, int]]:
    """The most frequent error descriptions of a campaign's unsuccessful rows."""
    rows = await session.execute(
        select(Delivery.last_error, func.count().label("n"))
        .where(
            Delivery.campaign_id == campaign_id,
            Delivery.status.in_(list(UNSUCCESSFUL_DELIVERY_STATUSES)),
        )
        .group_by(Delivery.last_error)
        .order_by(func.count().desc())
        .limit(limit)
    )
    return [(str(error or "unknown"), int(n)) for error, n in rows.all()]


def backoff(attempts: int, base_s: float, *, now: datetime | None = None, cap_s: float = 60.0) -> datetime:
    """When a row that failed transiently `attempts` times may be tried again."""
    delay = min(cap_s, base_s * (2 ** max(attempts - 1, 0)))
    return (now or utcnow()) + timedelta(seconds=delay)
