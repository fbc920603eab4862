"""After the send: recalling a campaign's delivered messages, for the control bot, the CLI and workers.

A recall is a `CampaignAction` row; the workers give each delivered recipient a
`DeliveryAction` row and delete its messages through the token's limiter (`jobs.recall`).
Here: what a recall would do (`recall_preview`), asking for one (`recall`, `cancel_recall`),
its counts, and the texts of its progress message and summary (no aiogram, no Bot API).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import ColumnElement, CursorResult, Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    ACTIVE_CAMPAIGN_STATUSES,
    FINAL_CAMPAIGN_STATUSES,
    ActionKind,
    ActionStatus,
    Campaign,
    CampaignAction,
    CampaignStatus,
    DeliveryAction,
    DeliveryActionStatus,
    DeliveryStatus,
    User,
    utcnow,
)
from models.tables import Delivery
from panel import abtest, audit, campaigns, texts, transitions
from panel.actions import start
from panel.audit import Actor, AuditAction
from panel.claims import claim_once, release_claim
from panel.progress import percent, progress_bar
from panel.queue import enqueue_finalize

logger = logging.getLogger(__name__)

JOB_RECALL = "recall_campaign"
DELETE_WINDOW = timedelta(hours=48)
"""Telegram lets a bot delete its messages in a private chat this long after sending them."""
RECALL_CLAIM_TTL_S = 60
"""A double tap, two admins confirming together: one recall."""
RECALL_CALLBACK_PREFIX = "rcl"
"""`RecallCallback`'s prefix (bot/callbacks.py); its actions are `RecallAction`'s values."""


class RecallOutcome(enum.StrEnum):
    """What happened when an admin asked to recall a campaign."""

    STARTED = "started"
    RUNNING = "running"  # a recall of it runs already
    ALREADY_RECALLED = "already_recalled"
    NOTHING_SENT = "nothing_sent"
    ALL_TOO_OLD = "all_too_old"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class RecallPreview:
    """What a recall of a campaign would do now."""

    campaign_id: int
    recallable: int
    """Chats whose message is young enough to delete."""
    messages: int
    """Messages to delete in those chats (an album's every item, its buttons' message)."""
    too_old: int
    """Chats that got it more than 48 hours ago."""
    still_sending: bool
    """The campaign is sending or paused: a recall cancels it first."""


@dataclass(frozen=True, slots=True)
class RecallCounts:
    """Where each recipient's step of a recall is."""

    total: int = 0
    pending: int = 0
    deleted: int = 0
    gone: int = 0
    too_old: int = 0
    unavailable: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def finished(self) -> int:
        """Recipients whose step is final."""
        return self.total - self.pending

    def to_json(self) -> dict[str, int]:
        """Every count by name (for `status --json`)."""
        return {
            "total": self.total,
            "pending": self.pending,
            "deleted": self.deleted,
            "gone": self.gone,
            "too_old": self.too_old,
            "unavailable": self.unavailable,
            "failed": self.failed,
            "cancelled": self.cancelled,
        }


def message_ids(delivery_message_id: int | None, delivery_message_ids: list[int] | None) -> list[int]:
    """Every message one delivery sent (an album's items, then its follow-up), in order."""
    if delivery_message_ids:
        return [int(message_id) for message_id in delivery_message_ids]
    return [] if delivery_message_id is None else [int(delivery_message_id)]


def can_recall(successful_sents: int) -> bool:
    """Whether a campaign may be recalled: some recipient got its message."""
    return successful_sents > 0


async def recall_preview(
    session: AsyncSession, campaign_id: int, *, now: datetime | None = None
) -> RecallPreview | None:
    """The counts a recall's confirmation gives; None when there is no such campaign."""
    campaign = await campaigns.get_campaign(session, campaign_id)
    if campaign is None:
        return None
    oldest_allowed = (now or utcnow()) - DELETE_WINDOW
    rows = await session.execute(
        select(Delivery.telegram_message_id, Delivery.telegram_message_ids, Delivery.finished_at).where(
            Delivery.campaign_id == campaign_id,
            Delivery.status == DeliveryStatus.SENT,
            Delivery.telegram_message_id.is_not(None),
        )
    )
    recallable = messages = too_old = 0
    for first_id, all_ids, finished_at in rows.all():
        if finished_at is not None and finished_at < oldest_allowed:
            too_old += 1
        else:
            recallable += 1
            messages += len(message_ids(first_id, all_ids))
    return RecallPreview(
        campaign_id=campaign_id,
        recallable=recallable,
        messages=messages,
        too_old=too_old,
        still_sending=campaign.status in ACTIVE_CAMPAIGN_STATUSES,
    )


async def latest_recall(session: AsyncSession, campaign_id: int) -> CampaignAction | None:
    """The campaign's most recent recall (running, done or cancelled), if any."""
    found = await session.scalars(
        select(CampaignAction)
        .where(CampaignAction.campaign_id == campaign_id, CampaignAction.kind == ActionKind.RECALL)
        .order_by(CampaignAction.id.desc())
        .limit(1)
    )
    return found.first()


async def get_action(session: AsyncSession, action_id: int) -> CampaignAction | None:
    """One after-send action by id."""
    if not campaigns.is_row_id(action_id):
        return None
    return await session.get(CampaignAction, action_id)


async def recall_counts(session: AsyncSession, action_id: int) -> RecallCounts:
    """Each recipient step's state of a recall, counted."""
    rows = await session.execute(
        select(DeliveryAction.status, func.count())
        .where(DeliveryAction.action_id == action_id)
        .group_by(DeliveryAction.status)
    )
    by_status = {DeliveryActionStatus(status): int(count) for status, count in rows.all()}
    return RecallCounts(
        total=sum(by_status.values()),
        pending=by_status.get(DeliveryActionStatus.PENDING, 0)
        + by_status.get(DeliveryActionStatus.CLAIMED, 0),
        deleted=by_status.get(DeliveryActionStatus.DONE, 0),
        gone=by_status.get(DeliveryActionStatus.GONE, 0),
        too_old=by_status.get(DeliveryActionStatus.TOO_OLD, 0),
        unavailable=by_status.get(DeliveryActionStatus.UNAVAILABLE, 0),
        failed=by_status.get(DeliveryActionStatus.FAILED, 0),
        cancelled=by_status.get(DeliveryActionStatus.CANCELLED, 0),
    )


async def enqueue_recall(pool: ArqRedis, action_id: int, *, queue_name: str) -> None:
    """Ask a worker to carry a recall on (any number of runs may help; each is idempotent)."""
    await pool.enqueue_job(JOB_RECALL, action_id, _queue_name=queue_name)


async def recall(
    sessionmaker: async_sessionmaker[AsyncSession],
    pool: ArqRedis,
    campaign_id: int,
    *,
    queue_name: str,
    actor: Actor,
    created_by: int | None = None,
    progress_chat_id: int | None = None,
) -> tuple[RecallOutcome, int | None]:
    """Recall a campaign: commits the recall (and a campaign still sending, cancelled), then
    enqueues the workers' job. The outcome, and the id of the recall started or running.

    A campaign has one recall at a time, and none once one completed (a cancelled one may be
    asked for again: what it had not deleted yet is deleted then).
    """
    if not campaigns.is_row_id(campaign_id):
        return RecallOutcome.MISSING, None
    claim = f"recall:{campaign_id}"
    if not await claim_once(pool, claim, ttl_s=RECALL_CLAIM_TTL_S, namespace=queue_name):
        async with sessionmaker() as session:
            running = await latest_recall(session, campaign_id)
        return RecallOutcome.RUNNING, None if running is None else running.id
    stopped = False
    try:
        async with sessionmaker() as session, session.begin():
            campaign = await campaigns.get_campaign(session, campaign_id)
            previous = await latest_recall(session, campaign_id)
            preview = await recall_preview(session, campaign_id)
            if campaign is None or preview is None:
                return RecallOutcome.MISSING, None
            if previous is not None and previous.status in (ActionStatus.RUNNING, ActionStatus.PAUSED):
                return RecallOutcome.RUNNING, previous.id
            if previous is not None and previous.status is ActionStatus.COMPLETED:
                return RecallOutcome.ALREADY_RECALLED, previous.id
            if not can_recall(campaign.successful_sents) and not preview.still_sending:
                return RecallOutcome.NOTHING_SENT, None
            if preview.recallable == 0 and preview.too_old > 0 and not preview.still_sending:
                return RecallOutcome.ALL_TOO_OLD, None
            if preview.still_sending:
                admin = "the CLI" if created_by is None else str(created_by)
                stopped = await transitions.cancel(
                    session, campaign_id, reason=texts.RECALLED_REASON.format(admin=admin)
                )
            action = CampaignAction(
                campaign_id=campaign_id,
                kind=ActionKind.RECALL,
                status=ActionStatus.RUNNING,
                created_by=created_by,
                progress_chat_id=progress_chat_id,
            )
            session.add(action)
            await session.flush()
            action_id = action.id
            await audit.record(
                session,
                actor,
                AuditAction.RECALL,
                campaign_id=campaign_id,
                bot_id=campaign.bot_id,
                details={"messages": preview.messages, "too_old": preview.too_old},
            )
    finally:
        await release_claim(pool, claim, namespace=queue_name)
    if stopped:
        await enqueue_finalize(pool, campaign_id, queue_name=queue_name)
    await enqueue_recall(pool, action_id, queue_name=queue_name)
    logger.info("campaign %s: recall %s requested", campaign_id, action_id)
    return RecallOutcome.STARTED, action_id


async def _set_action_status(
    session: AsyncSession, action_id: int, expected: set[ActionStatus], new: ActionStatus, **values: Any
) -> bool:
    """Compare-and-set of an action's status: whether this caller made the change."""
    changed = await session.execute(
        update(CampaignAction)
        .where(CampaignAction.id == action_id, CampaignAction.status.in_(list(expected)))
        .values(status=new, **values)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(changed, CursorResult)
    return bool(changed.rowcount)


async def pause_recall(sessionmaker: async_sessionmaker[AsyncSession], action_id: int) -> bool:
    """Pause a running recall: commits PAUSED (its runs stop within a second, their untried steps
    go back to pending); False when it was not running."""
    if not campaigns.is_row_id(action_id):
        return False
    async with sessionmaker() as session, session.begin():
        return await _set_action_status(session, action_id, {ActionStatus.RUNNING}, ActionStatus.PAUSED)


async def resume_recall(
    sessionmaker: async_sessionmaker[AsyncSession], pool: ArqRedis, action_id: int, *, queue_name: str
) -> bool:
    """Resume a paused recall: commits RUNNING, then enqueues a run; False when it was not paused."""
    if not campaigns.is_row_id(action_id):
        return False
    async with sessionmaker() as session, session.begin():
        resumed = await _set_action_status(session, action_id, {ActionStatus.PAUSED}, ActionStatus.RUNNING)
    if resumed:
        await enqueue_recall(pool, action_id, queue_name=queue_name)
    return resumed


async def cancel_recall(sessionmaker: async_sessionmaker[AsyncSession], action_id: int) -> bool:
    """Stop a running or paused recall: commits CANCELLED with its untried steps cancelled (steps
    in flight still get recorded); False when it was neither."""
    if not campaigns.is_row_id(action_id):
        return False
    async with sessionmaker() as session, session.begin():
        changed = await session.execute(
            update(CampaignAction)
            .where(
                CampaignAction.id == action_id,
                CampaignAction.status.in_([ActionStatus.RUNNING, ActionStatus.PAUSED]),
            )
            .values(status=ActionStatus.CANCELLED, finished_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        assert isinstance(changed, CursorResult)
        if not changed.rowcount:
            return False
        await session.execute(
            update(DeliveryAction)
            .where(
                DeliveryAction.action_id == action_id, DeliveryAction.status == DeliveryActionStatus.PENDING
            )
            .values(status=DeliveryActionStatus.CANCELLED, finished_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return True


# ---------------------------------------------------------------- texts


def _name(name: str | None) -> str:
    return f" “{name}”" if name else ""


def pack_recall_callback(action: str, action_id: int) -> str:
    """The callback data of a recall progress button, as `RecallCallback(...).pack()` writes it."""
    return f"{RECALL_CALLBACK_PREFIX}:{action}:{action_id}"


def recall_markup(action_id: int, status: ActionStatus) -> dict[str, Any] | None:
    """The recall progress message's Bot API `reply_markup`: Pause or Resume, and Stop, while it is
    not over; none after."""
    if status is ActionStatus.RUNNING:
        toggle = (texts.BTN_PAUSE_RECALL, pack_recall_callback("pause", action_id))
    elif status is ActionStatus.PAUSED:
        toggle = (texts.BTN_RESUME_RECALL, pack_recall_callback("resume", action_id))
    else:
        return None
    stop = (texts.BTN_CANCEL_RECALL, pack_recall_callback("cancel", action_id))
    return {"inline_keyboard": [[{"text": text, "callback_data": data} for text, data in (toggle, stop)]]}


def render_recall_progress(
    campaign_id: int, name: str | None, status: ActionStatus, counts: RecallCounts
) -> str:
    """The live progress message of a recall."""
    lines = [
        texts.RECALL_TITLE.format(campaign_id=campaign_id, name=_name(name)),
        texts.RECALL_LINE_STATUS.format(status=texts.RECALL_STATUS[status.value]),
        texts.RECALL_LINE_PROGRESS.format(
            bar=progress_bar(counts.finished, counts.total),
            done=texts.number(counts.finished),
            total=texts.number(counts.total),
            percent=percent(counts.finished, counts.total),
        ),
        texts.RECALL_LINE_COUNTS.format(
            deleted=texts.number(counts.deleted),
            gone=texts.number(counts.gone),
            too_old=texts.number(counts.too_old),
            unavailable=texts.number(counts.unavailable),
            failed=texts.number(counts.failed),
        ),
    ]
    if counts.cancelled:
        lines.append(texts.RECALL_LINE_CANCELLED.format(cancelled=texts.number(counts.cancelled)))
    return "\n".join(lines)


def render_recall_summary(
    campaign_id: int, name: str | None, status: ActionStatus, counts: RecallCounts
) -> str:
    """The summary of a recall that ended."""
    lines = [
        texts.RECALL_SUMMARY_TITLE.format(
            campaign_id=campaign_id, name=_name(name), status=texts.RECALL_STATUS[status.value]
        ),
        texts.RECALL_LINE_COUNTS.format(
            deleted=texts.number(counts.deleted),
            gone=texts.number(counts.gone),
            too_old=texts.number(counts.too_old),
            unavailable=texts.number(counts.unavailable),
            failed=texts.number(counts.failed),
        ),
    ]
    if counts.cancelled:
        lines.append(texts.RECALL_LINE_CANCELLED.format(cancelled=texts.number(counts.cancelled)))
    if counts.gone:
        lines.append(texts.RECALL_SUMMARY_GONE)
    return "\n".join(lines)


def render_recall_confirmation(preview: RecallPreview) -> str:
    """The question before a recall: how many chats will lose the message, how many cannot."""
    too_old_line = texts.RECALL_TOO_OLD_LINE.format(too_old=preview.too_old) if preview.too_old else ""
    text = texts.RECALL_CONFIRM.format(
        campaign_id=preview.campaign_id,
        recallable=texts.number(preview.recallable),
        messages=texts.number(preview.messages),
        too_old_line=too_old_line,
    )
    if preview.still_sending:
        text += texts.RECALL_STOPS_SENDING
    return text


# ---------------------------------------------------------------- retry the failed


class RetryOutcome(enum.StrEnum):
    """What happened when an admin asked to retry a campaign's failed recipients."""

    STARTED = "started"
    NOT_FINISHED = "not_finished"
    NOTHING_TO_RETRY = "nothing_to_retry"
    ALREADY_RETRIED = "already_retried"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class RetryPreview:
    """Whom a retry of a campaign's failed recipients would reach now."""

    campaign_id: int
    retryable: int
    """Recipients whose last send failed on a transient error (5xx, timeout, network) and are
    still available."""
    unconfirmed: int
    """Recipients whose send timed out: the message may have arrived (still available)."""
    finished: bool
    """The campaign is over (a retry of one still sending could race its own sends)."""
    child_id: int | None
    """Its retry, when there is one already."""


def _retryable_failure() -> ColumnElement[bool]:
    """A failed delivery whose last error is transient: a 5xx or no answer (no Bot API code)."""
    return and_(
        Delivery.status == DeliveryStatus.FAILED,
        or_(Delivery.last_error_code.is_(None), Delivery.last_error_code >= 500),
    )


def retry_audience(parent_id: int, *, include_unconfirmed: bool) -> Select[int, int]:
    """(user id, chat id) of the recipients a retry of `parent_id` sends to, in user order: its
    retryable failures (and unconfirmed ones if asked), never a sent one, never one unavailable now."""
    wanted = _retryable_failure()
    if include_unconfirmed:
        wanted = or_(wanted, Delivery.status == DeliveryStatus.UNCONFIRMED)
    return (
        select(User.id, User.chat_id)
        .join(Delivery, Delivery.user_id == User.id)
        .where(Delivery.campaign_id == parent_id, wanted, User.is_unavailable.is_(False))
        .order_by(User.id)
    )


async def retry_child(session: AsyncSession, campaign_id: int) -> Campaign | None:
    """The retry made from a campaign, if any (the oldest, should there be several)."""
    found = await session.scalars(
        select(Campaign).where(Campaign.parent_id == campaign_id).order_by(Campaign.id).limit(1)
    )
    return found.first()


async def retry_preview(session: AsyncSession, campaign_id: int) -> RetryPreview | None:
    """The counts a "Retry failed" button and its confirmation give; None: no such campaign."""
    campaign = await campaigns.get_campaign(session, campaign_id)
    if campaign is None:
        return None
    retryable = await session.scalar(
        select(func.count()).select_from(retry_audience(campaign_id, include_unconfirmed=False).subquery())
    )
    with_unconfirmed = await session.scalar(
        select(func.count()).select_from(retry_audience(campaign_id, include_unconfirmed=True).subquery())
    )
    child = await retry_child(session, campaign_id)
    return RetryPreview(
        campaign_id=campaign_id,
        retryable=int(retryable or 0),
        unconfirmed=int(with_unconfirmed or 0) - int(retryable or 0),
        finished=campaign.status in FINAL_CAMPAIGN_STATUSES,
        child_id=None if child is None else child.id,
    )


def can_retry(preview: RetryPreview) -> bool:
    """Whether a "Retry failed" button belongs on the campaign's card."""
    return preview.finished and preview.child_id is None and preview.retryable + preview.unconfirmed > 0


async def retry_failed(
    sessionmaker: async_sessionmaker[AsyncSession],
    pool: ArqRedis,
    campaign_id: int,
    *,
    queue_name: str,
    actor: Actor,
    include_unconfirmed: bool = False,
    created_by: int | None = None,
    progress_chat_id: int | None = None,
) -> tuple[RetryOutcome, int | None]:
    """Make a new campaign with the same message for exactly the failed recipients of a finished
    one (linked to it), and send it now. The outcome and the new (or existing) retry's id.

    A campaign is retried once: its retry's own failures are retried from the retry, so nobody
    is sent to twice by two retries of one campaign.
    """
    if not campaigns.is_row_id(campaign_id):
        return RetryOutcome.MISSING, None
    claim = f"retry:{campaign_id}"
    if not await claim_once(pool, claim, ttl_s=RECALL_CLAIM_TTL_S, namespace=queue_name):
        async with sessionmaker() as session:
            child = await retry_child(session, campaign_id)
        return RetryOutcome.ALREADY_RETRIED, None if child is None else child.id
    try:
        async with sessionmaker() as session, session.begin():
            preview = await retry_preview(session, campaign_id)
            parent = await campaigns.get_campaign(session, campaign_id)
            if preview is None or parent is None:
                return RetryOutcome.MISSING, None
            if preview.child_id is not None:
                return RetryOutcome.ALREADY_RETRIED, preview.child_id
            if not preview.finished:
                return RetryOutcome.NOT_FINISHED, None
            if preview.retryable + (preview.unconfirmed if include_unconfirmed else 0) == 0:
                return RetryOutcome.NOTHING_TO_RETRY, None
            child = Campaign(
                bot_id=parent.bot_id,
                platform=parent.platform,
                content=dict(parent.content),
                name=texts.RETRY_NAME.format(
                    campaign_id=campaign_id, name=f" {parent.name}" if parent.name else ""
                ),
                created_by=created_by if created_by is not None else parent.created_by,
                status=CampaignStatus.DRAFT,
                send_options=parent.send_options,
                parent_id=campaign_id,
                retry_unconfirmed=include_unconfirmed,
            )
            session.add(child)
            await session.flush()
            await abtest.inherit(session, parent, child)  # an A/B test's: the same variants
            child_id = child.id
            await audit.record(
                session,
                actor,
                AuditAction.RETRY,
                campaign_id=child_id,
                bot_id=parent.bot_id,
                details={"of": campaign_id, "unconfirmed": include_unconfirmed},
            )
    finally:
        await release_claim(pool, claim, namespace=queue_name)
    started = await start(
        sessionmaker, pool, child_id, queue_name=queue_name, actor=actor, progress_chat_id=progress_chat_id
    )
    logger.info("campaign %s: retry #%s of its failed recipients (%s)", campaign_id, child_id, started)
    return RetryOutcome.STARTED, child_id


@dataclass(frozen=True, slots=True)
class Family:
    """A campaign's retries, and everyone the campaign and its retries reached."""

    parent_id: int | None
    children: tuple[int, ...]
    combined_sent: int


async def campaign_family(session: AsyncSession, campaign_id: int) -> Family | None:
    """The retries made from a campaign (and theirs), and the reach of them all together."""
    campaign = await campaigns.get_campaign(session, campaign_id)
    if campaign is None:
        return None
    children: list[int] = []
    sent = campaign.successful_sents
    current = campaign_id
    for _ in range(100):  # a chain of retries, one per campaign
        child = await retry_child(session, current)
        if child is None:
            break
        children.append(child.id)
        sent += child.successful_sents
        current = child.id
    return Family(parent_id=campaign.parent_id, children=tuple(children), combined_sent=sent)


def render_family(family: Family) -> str | None:
    """The card's line about retries: the parent of a retry, the retries of a campaign and
    their combined reach; None for a campaign that is neither."""
    lines = []
    if family.parent_id is not None:
        lines.append(texts.CARD_RETRY_OF.format(parent_id=family.parent_id))
    if family.children:
        lines.append(
            texts.CARD_RETRIES.format(
                children=", ".join(f"#{child}" for child in family.children),
                reach=texts.number(family.combined_sent),
            )
        )
    return "\n".join(lines) or None


def render_retry_confirmation(preview: RetryPreview) -> str:
    """The question before a retry: how many recipients, and the unconfirmed offered apart."""
    text = texts.RETRY_CONFIRM.format(campaign_id=preview.campaign_id, retryable=preview.retryable)
    if preview.unconfirmed:
        text += texts.RETRY_UNCONFIRMED_WARNING.format(unconfirmed=texts.number(preview.unconfirmed))
    return text
