"""The step rows of an after-send action (a recall or an edit of sent messages): one per delivered
recipient in `delivery_actions`, added, claimed with a compare-and-set, recorded only while held,
released when a run stops; and the action's own settling (complete, cancel leftovers, the right
to send its summary once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, bindparam, exists, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.context import EngineContext
from models import (
    ActionKind,
    ActionStatus,
    CampaignAction,
    DeliveryAction,
    DeliveryActionStatus,
    DeliveryStatus,
    TargetBot,
    utcnow,
)
from models.tables import Campaign, Delivery
from panel.after_send import DELETE_WINDOW, RecallCounts, message_ids, recall_counts
from panel.settings import Settings

FREE_RATE_PER_S = 30
"""Deletes and edits are no paid broadcast: they go at most at the free rate of the token."""
SENDS_MARGIN_S = 5.0


@dataclass(frozen=True, slots=True)
class Step:
    """One recipient's claimed step: the chat and the messages to delete or edit there."""

    id: int
    chat_id: int
    message_ids: tuple[int, ...]
    attempts: int


@dataclass(frozen=True, slots=True)
class StepResult:
    """What carrying out one recipient's step gave."""

    step_id: int
    status: DeliveryActionStatus
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ActionTarget:
    """The action (a recall or an edit), its campaign and the token to carry it out with."""

    action_id: int
    campaign_id: int
    name: str | None
    status: ActionStatus
    kind: ActionKind
    sealed_token: str
    rate_per_s: int
    progress_chat_id: int | None
    progress_message_id: int | None
    created_at: datetime


def sends_may_land(target: ActionTarget, settings: Settings) -> bool:
    """Whether a send in flight when the action began may still be recorded as sent: a live
    worker records it within a request's timeout; a dead one's never lands (it stays unsettled)."""
    wait_s = settings.request_timeout_s + settings.worker_lease_s + SENDS_MARGIN_S
    return utcnow() - target.created_at < timedelta(seconds=wait_s)


def rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)


async def load_target(session: AsyncSession, action_id: int) -> ActionTarget | None:
    """The recall `action_id` with its campaign's name and target bot."""
    row = (
        await session.execute(
            select(CampaignAction, Campaign.name, TargetBot.sealed_token, TargetBot.rate_per_s)
            .join(Campaign, Campaign.id == CampaignAction.campaign_id)
            .join(TargetBot, TargetBot.id == Campaign.bot_id)
            .where(CampaignAction.id == action_id)
        )
    ).first()
    if row is None:
        return None
    action, name, sealed_token, rate_per_s = row
    return ActionTarget(
        action_id=action.id,
        campaign_id=action.campaign_id,
        name=name,
        status=ActionStatus(action.status),
        kind=ActionKind(action.kind),
        sealed_token=sealed_token,
        rate_per_s=max(1, min(int(rate_per_s), FREE_RATE_PER_S)),
        progress_chat_id=action.progress_chat_id,
        progress_message_id=action.progress_message_id,
        created_at=action.created_at,
    )


async def add_steps(
    session: AsyncSession,
    action_id: int,
    campaign_id: int,
    *,
    now: datetime,
    window: timedelta | None = DELETE_WINDOW,
) -> int:
    """Give every delivered recipient without one a step; too old ones (sent longer than `window`
    ago; None: no limit, as for edits) are settled at once.

    Run again whenever the steps run out, so sends recorded after the campaign stopped (in
    flight when the recall began) are recalled too. Two runs adding together add each once.
    """
    missing = await session.execute(
        select(
            Delivery.id,
            Delivery.chat_id,
            Delivery.telegram_message_id,
            Delivery.telegram_message_ids,
            Delivery.finished_at,
        ).where(
            Delivery.campaign_id == campaign_id,
            Delivery.status == DeliveryStatus.SENT,
            Delivery.telegram_message_id.is_not(None),
            ~exists().where(DeliveryAction.action_id == action_id, DeliveryAction.delivery_id == Delivery.id),
        )
    )
    oldest_allowed = None if window is None else now - window
    values: list[dict[str, Any]] = []
    for delivery_id, chat_id, first_id, all_ids, finished_at in missing.all():
        too_old = oldest_allowed is not None and finished_at is not None and finished_at < oldest_allowed
        values.append(
            {
                "action_id": action_id,
                "delivery_id": int(delivery_id),
                "chat_id": int(chat_id),
                "message_ids": message_ids(first_id, all_ids),
                "status": DeliveryActionStatus.TOO_OLD if too_old else DeliveryActionStatus.PENDING,
                "attempts": 0,
                "finished_at": now if too_old else None,
            }
        )
    if not values:
        return 0
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    statement: Any
    if dialect == "postgresql":
        statement = postgresql.insert(DeliveryAction).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(DeliveryAction).on_conflict_do_nothing()
    else:  # pragma: no cover - the two databases the project runs on
        statement = insert(DeliveryAction)
    await session.execute(statement, values)
    return len(values)


async def claim_steps(session: AsyncSession, action_id: int, *, worker_id: str, limit: int) -> list[Step]:
    """Claim up to `limit` pending steps of a running recall for `worker_id`."""
    running = exists().where(CampaignAction.id == action_id, CampaignAction.status == ActionStatus.RUNNING)
    ids = (
        await session.scalars(
            select(DeliveryAction.id)
            .where(
                DeliveryAction.action_id == action_id,
                DeliveryAction.status == DeliveryActionStatus.PENDING,
                running,
            )
            .order_by(DeliveryAction.id)
            .limit(limit)
        )
    ).all()
    if not ids:
        return []
    claimed = await session.execute(
        update(DeliveryAction)
        .where(DeliveryAction.id.in_(list(ids)), DeliveryAction.status == DeliveryActionStatus.PENDING)
        .values(
            status=DeliveryActionStatus.CLAIMED,
            claimed_by=worker_id,
            claimed_at=utcnow(),
            attempts=DeliveryAction.attempts + 1,
        )
        .returning(
            DeliveryAction.id, DeliveryAction.chat_id, DeliveryAction.message_ids, DeliveryAction.attempts
        )
        .execution_options(synchronize_session=False)
    )
    steps = [
        Step(int(i), int(c), tuple(int(m) for m in (ids_ or [])), int(a)) for i, c, ids_, a in claimed.all()
    ]
    return sorted(steps, key=lambda step: step.id)


async def record_steps(session: AsyncSession, results: list[StepResult], *, worker_id: str) -> int:
    """Record results of steps this worker still holds (a step it lost is someone else's now)."""
    if not results:
        return 0
    statement = (
        update(DeliveryAction)
        .where(
            DeliveryAction.id == bindparam("step_id"),
            DeliveryAction.status == DeliveryActionStatus.CLAIMED,
            DeliveryAction.claimed_by == worker_id,
        )
        .values(
            status=bindparam("new_status"),
            last_error=bindparam("error"),
            finished_at=bindparam("now"),
            claimed_by=None,
        )
        .execution_options(synchronize_session=False)
    )
    now = utcnow()
    connection = await session.connection()
    result = await connection.execute(
        statement,
        [{"step_id": r.step_id, "new_status": r.status.value, "error": r.error, "now": now} for r in results],
    )
    return rowcount(result)


async def release_steps(session: AsyncSession, step_ids: list[int], *, worker_id: str) -> int:
    """Claimed steps not tried, back to pending (a pending step of a cancelled recall is cancelled)."""
    if not step_ids:
        return 0
    result = await session.execute(
        update(DeliveryAction)
        .where(
            DeliveryAction.id.in_(step_ids),
            DeliveryAction.status == DeliveryActionStatus.CLAIMED,
            DeliveryAction.claimed_by == worker_id,
        )
        .values(status=DeliveryActionStatus.PENDING, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


async def unfinished_steps(session: AsyncSession, action_id: int) -> int:
    """Steps pending or claimed."""
    count = await session.scalar(
        select(func.count()).where(
            DeliveryAction.action_id == action_id,
            DeliveryAction.status.in_([DeliveryActionStatus.PENDING, DeliveryActionStatus.CLAIMED]),
        )
    )
    return int(count or 0)


async def sends_in_flight(session: AsyncSession, campaign_id: int) -> int:
    """Rows of the campaign a sender still holds: their sends may yet be recorded as sent."""
    count = await session.scalar(
        select(func.count()).where(
            Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.SENDING
        )
    )
    return int(count or 0)


async def complete(session: AsyncSession, action_id: int, campaign_id: int, *, wait_for_sends: bool) -> bool:
    """RUNNING → COMPLETED once no step is unfinished and (`wait_for_sends`) no send of the
    campaign is in flight."""
    no_steps_left = ~exists().where(
        DeliveryAction.action_id == action_id,
        DeliveryAction.status.in_([DeliveryActionStatus.PENDING, DeliveryActionStatus.CLAIMED]),
    )
    no_sends_left = ~exists().where(
        Delivery.campaign_id == campaign_id,
        Delivery.status == DeliveryStatus.SENDING,
        literal(wait_for_sends),
    )
    result = await session.execute(
        update(CampaignAction)
        .where(
            CampaignAction.id == action_id,
            CampaignAction.status == ActionStatus.RUNNING,
            no_steps_left,
            no_sends_left,
        )
        .values(status=ActionStatus.COMPLETED, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def cancel_leftovers(session: AsyncSession, action_id: int) -> int:
    """Pending steps of a cancelled recall (released by a run that stopped, added in a race with
    the cancel) are cancelled too."""
    cancelled = exists().where(
        CampaignAction.id == action_id, CampaignAction.status == ActionStatus.CANCELLED
    )
    result = await session.execute(
        update(DeliveryAction)
        .where(
            DeliveryAction.action_id == action_id,
            DeliveryAction.status == DeliveryActionStatus.PENDING,
            cancelled,
        )
        .values(status=DeliveryActionStatus.CANCELLED, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


async def claim_summary(session: AsyncSession, action_id: int) -> bool:
    """The right to send the summary of an ended recall with no step in flight (once)."""
    no_claims = ~exists().where(
        DeliveryAction.action_id == action_id, DeliveryAction.status == DeliveryActionStatus.CLAIMED
    )
    result = await session.execute(
        update(CampaignAction)
        .where(
            CampaignAction.id == action_id,
            CampaignAction.status.in_([ActionStatus.COMPLETED, ActionStatus.CANCELLED]),
            CampaignAction.summary_sent_at.is_(None),
            no_claims,
        )
        .values(summary_sent_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def read_target(ectx: EngineContext, action_id: int) -> ActionTarget | None:
    """`load_target` in a transaction of its own."""

    async def read(session: AsyncSession) -> ActionTarget | None:
        return await load_target(session, action_id)

    return await ectx.in_transaction(read)


async def read_counts(ectx: EngineContext, action_id: int) -> RecallCounts:
    """The action's step counts, in a transaction of its own."""

    async def read(session: AsyncSession) -> RecallCounts:
        return await recall_counts(session, action_id)

    return await ectx.in_transaction(read)
