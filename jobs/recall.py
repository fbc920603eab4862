"""Recalling a campaign: delete its message from every chat it reached, paced like the sends.

One `recall_campaign` job carries a recall (`panel.after_send`) on; any number may run at once
and each is idempotent. A run gives every delivered recipient a step row (`delivery_actions`,
too old ones settled at once), claims steps a group at a time with a compare-and-set, deletes
each message after a slot of the token's limiter, and records each step only while it still
holds the claim. A worker that dies leaves claimed steps: the `reconcile_recalls` cron puts them
back to pending and queues a run again. A delete tried twice is harmless (the second answers
"message to delete not found", counted as deleted since this recall tried it before).
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, and_, bindparam, exists, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.context import EngineContext
from jobs.engine.sendclient import BotAPIError, BotAPINetworkError
from jobs.outcomes import Verdict, classify
from jobs.progress import admin_language
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
from panel import i18n
from panel.after_send import (
    DELETE_WINDOW,
    RecallCounts,
    enqueue_recall,
    message_ids,
    recall_counts,
    recall_markup,
    render_recall_progress,
    render_recall_summary,
)
from panel.claims import claim_once
from panel.sent_edits import edit_markup, enqueue_edit, render_edit_progress, render_edit_summary
from panel.settings import Settings

logger = logging.getLogger(__name__)

FREE_RATE_PER_S = 30
"""Deletes are no paid broadcast: they go at most at the free rate of the token."""
CLAIM_HORIZON_S = 0.5
"""A claimed group holds about this much deleting time."""
MAX_CLAIM = 200
IN_FLIGHT_S = 0.4
SENDS_MARGIN_S = 5.0
SENDING_WAIT_S = 1.0
"""How long a run waits for sends still in flight of a campaign it stopped, before looking again."""
FLOOD_TRIES = 20
PROGRESS_TTL_S = 86400


@dataclass(frozen=True, slots=True)
class Step:
    """One recipient's claimed step: the chat and the messages to delete there."""

    id: int
    chat_id: int
    message_ids: tuple[int, ...]
    attempts: int


@dataclass(frozen=True, slots=True)
class StepResult:
    """What deleting one recipient's messages gave."""

    step_id: int
    status: DeliveryActionStatus
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RecallTarget:
    """The recall, its campaign and the token to delete with."""

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


def sends_may_land(target: RecallTarget, settings: Settings) -> bool:
    """Whether a send in flight when the recall began may still be recorded as sent: a live
    worker records it within a request's timeout; a dead one's never lands (it stays unsettled)."""
    wait_s = settings.request_timeout_s + settings.worker_lease_s + SENDS_MARGIN_S
    return utcnow() - target.created_at < timedelta(seconds=wait_s)


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)


async def load_target(session: AsyncSession, action_id: int) -> RecallTarget | None:
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
    return RecallTarget(
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
    return _rowcount(result)


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
    return _rowcount(result)


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
    return _rowcount(result) == 1


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
    return _rowcount(result)


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
    return _rowcount(result) == 1


class RecallRun:
    """One run of a recall job on this worker."""

    def __init__(self, ectx: EngineContext, target: RecallTarget) -> None:
        self.ectx = ectx
        self.settings = ectx.settings
        self.target = target
        self.bot = ectx.target_bot(target.sealed_token)
        self.rate_key = ectx.rate_key(target.sealed_token)
        self.pace_per_s = target.rate_per_s * self.settings.pacing_factor
        self.stopping = False
        self.queue: deque[Step] = deque()
        self.results: list[StepResult] = []

    def should_stop(self) -> bool:
        """Whether deleters must not start new deletes."""
        return self.stopping

    async def run(self) -> str:
        """Delete every pending step's messages until none is left, the recall stops, or this run is
        cancelled (then claimed steps not tried go back to pending)."""
        action_id = self.target.action_id
        claim_size = max(4, min(MAX_CLAIM, math.ceil(self.pace_per_s * CLAIM_HORIZON_S)))
        deleters = max(1, min(self.settings.send_concurrency, math.ceil(self.pace_per_s * IN_FLIGHT_S) + 1))
        watcher = asyncio.create_task(self._watch_status())
        try:
            await self._add_steps()
            while not self.stopping:

                async def claim(session: AsyncSession) -> list[Step]:
                    return await claim_steps(
                        session, action_id, worker_id=self.ectx.worker_id, limit=claim_size
                    )

                steps = await self.ectx.in_transaction(claim)
                if not steps:
                    if await self._add_steps():
                        continue
                    if await self._must_wait():
                        await asyncio.sleep(SENDING_WAIT_S)
                        continue
                    break
                await self._prepare(steps)
                self.queue.extend(steps)
                await asyncio.gather(*(self._deleter() for _ in range(min(deleters, len(steps)))))
                await self._record()
                self.ectx.spawn(update_recall_progress(self.ectx, action_id))
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            await asyncio.shield(self._finish_run())
        await finish(self.ectx, action_id)
        return "done"

    async def _watch_status(self) -> None:
        while True:
            await asyncio.sleep(self.settings.status_check_interval_s)

            async def read(session: AsyncSession) -> Any:
                return await session.scalar(
                    select(CampaignAction.status).where(CampaignAction.id == self.target.action_id)
                )

            try:
                status = await self.ectx.in_transaction(read)
            except Exception as exc:  # the database away: the claims are checked at record time
                logger.warning("recall %s: status not read: %s", self.target.action_id, exc)
                continue
            if status is None or ActionStatus(status) is not ActionStatus.RUNNING:
                self.stopping = True
                return

    async def _must_wait(self) -> bool:
        """Whether messages may still be delivered that this action must reach: sends in flight
        when the recall began."""
        return sends_may_land(self.target, self.settings) and await self._sends_in_flight() > 0

    async def _prepare(self, steps: list[Step]) -> None:
        """Read what the claimed steps need beyond their row (nothing, for a delete)."""

    async def _step(self, step: Step) -> StepResult | None:
        """Carry one recipient's step out; None when the run stopped before it was done."""
        return await self._delete_step(step)

    async def _add_steps(self) -> int:
        target = self.target

        async def add(session: AsyncSession) -> int:
            return await add_steps(session, target.action_id, target.campaign_id, now=utcnow())

        return await self.ectx.in_transaction(add)

    async def _sends_in_flight(self) -> int:
        async def count(session: AsyncSession) -> int:
            return await sends_in_flight(session, self.target.campaign_id)

        return await self.ectx.in_transaction(count)

    async def _deleter(self) -> None:
        while self.queue and not self.stopping:
            step = self.queue.popleft()
            try:
                result = await self._step(step)
            except BaseException:
                self.queue.appendleft(step)  # not recorded: released, tried again later
                raise
            if result is None:
                self.queue.appendleft(step)
                return
            self.results.append(result)

    async def _delete_step(self, step: Step) -> StepResult | None:
        """Delete every message of one step; None when the run stopped before the step was done."""
        deleted = found_gone = 0
        for message_id in step.message_ids:
            outcome = await self._delete_message(step.chat_id, message_id)
            if outcome is None:
                return None  # released: the next try finds the ones deleted here gone, as deleted
            status, error = outcome
            if status is DeliveryActionStatus.DONE:
                deleted += 1
            elif status is DeliveryActionStatus.GONE:
                found_gone += 1
            else:
                # Too old, blocked, refused: the chat's other messages answer the same.
                if deleted:
                    return StepResult(step.id, DeliveryActionStatus.DONE, error)
                return StepResult(step.id, status, error)
        if deleted or step.attempts > 1:
            # Gone after an earlier try of this recall (a worker died after deleting): deleted.
            return StepResult(step.id, DeliveryActionStatus.DONE)
        return StepResult(step.id, DeliveryActionStatus.GONE)

    async def _delete_message(
        self, chat_id: int, message_id: int
    ) -> tuple[DeliveryActionStatus, str | None] | None:
        """Delete one message (429s waited out, transient errors tried again); None: stopped."""
        errors = 0
        for _ in range(FLOOD_TRIES + self.settings.max_attempts):
            if not await self.ectx.limiter.acquire(
                self.rate_key, self.pace_per_s, should_stop=self.should_stop
            ):
                return None
            try:
                await self.bot.call("deleteMessage", {"chat_id": chat_id, "message_id": message_id})
            except (BotAPIError, BotAPINetworkError, OSError, TimeoutError) as exc:
                answer = classify(exc)
                description = answer.description or type(exc).__name__
                lowered = description.lower()
                if answer.verdict is Verdict.FLOOD:
                    await self.ectx.limiter.pause(self.rate_key, answer.retry_after_s)
                    continue
                if "message to delete not found" in lowered:
                    return DeliveryActionStatus.GONE, None
                if "can't be deleted" in lowered:
                    return DeliveryActionStatus.TOO_OLD, description
                if answer.verdict is Verdict.UNAVAILABLE:
                    return DeliveryActionStatus.UNAVAILABLE, description
                if answer.verdict in (Verdict.TRANSIENT, Verdict.AMBIGUOUS):
                    # A delete is safe to repeat: an answer lost on the way is tried again.
                    errors += 1
                    if errors >= self.settings.max_attempts:
                        return DeliveryActionStatus.FAILED, description
                    await asyncio.sleep(self.settings.retry_backoff_s * 2 ** (errors - 1))
                    continue
                return DeliveryActionStatus.FAILED, description
            return DeliveryActionStatus.DONE, None
        return DeliveryActionStatus.FAILED, "Too Many Requests"

    async def _record(self) -> None:
        results, self.results = self.results, []

        async def record(session: AsyncSession) -> int:
            return await record_steps(session, results, worker_id=self.ectx.worker_id)

        await self.ectx.in_transaction(record)

    async def _finish_run(self) -> None:
        """Record what was done, and give back the claimed steps not tried."""
        try:
            await self._record()
        except Exception:
            logger.exception(
                "recall %s: results not recorded (the reconciler settles them)", self.target.action_id
            )
        untried = [step.id for step in self.queue]
        self.queue.clear()

        async def release(session: AsyncSession) -> int:
            return await release_steps(session, untried, worker_id=self.ectx.worker_id)

        try:
            await self.ectx.in_transaction(release)
        except Exception:
            logger.exception(
                "recall %s: steps not released (the reconciler settles them)", self.target.action_id
            )


async def _load_target(ectx: EngineContext, action_id: int) -> RecallTarget | None:
    async def read(session: AsyncSession) -> RecallTarget | None:
        return await load_target(session, action_id)

    return await ectx.in_transaction(read)


async def _counts(ectx: EngineContext, action_id: int) -> RecallCounts:
    async def read(session: AsyncSession) -> RecallCounts:
        return await recall_counts(session, action_id)

    return await ectx.in_transaction(read)


async def finish(ectx: EngineContext, action_id: int) -> None:
    """Complete a recall with nothing left to do and send its summary, once however often called."""

    async def settle(session: AsyncSession) -> bool:
        target = await load_target(session, action_id)
        if target is None:
            return False
        # An edit's run waits for the batches that may have sent the old version instead.
        wait_for_sends = target.kind is ActionKind.RECALL and sends_may_land(target, ectx.settings)
        await complete(session, action_id, target.campaign_id, wait_for_sends=wait_for_sends)
        await cancel_leftovers(session, action_id)
        return await claim_summary(session, action_id)

    if await ectx.in_transaction(settle):
        logger.info("recall %s ended", action_id)
        await send_recall_summary(ectx, action_id)


# ---------------------------------------------------------------- progress and summary


def _progress(target: RecallTarget, counts: RecallCounts) -> tuple[str, dict[str, Any] | None]:
    """The progress message's text and buttons, for the action's kind."""
    if target.kind is ActionKind.EDIT:
        text = render_edit_progress(target.campaign_id, target.name, target.status, counts)
        return text, edit_markup(target.action_id, target.status)
    text = render_recall_progress(target.campaign_id, target.name, target.status, counts)
    return text, recall_markup(target.action_id, target.status)


def _progress_key(ectx: EngineContext, action_id: int, part: str) -> str:
    return ectx.keys.recall_progress(action_id, part)


async def send_recall_progress_message(ectx: EngineContext, action_id: int) -> None:
    """Post the live progress message of a recall (once, by whichever run gets here first)."""
    bot = ectx.control_bot
    target = await _load_target(ectx, action_id)
    if bot is None or target is None or target.progress_chat_id is None or target.progress_message_id:
        return
    if not await claim_once(
        ectx.redis, f"recall-progress:{action_id}", ttl_s=PROGRESS_TTL_S, namespace=ectx.settings.queue_name
    ):
        return
    with i18n.speaking(await admin_language(ectx, target.progress_chat_id)):
        text, markup = _progress(target, await _counts(ectx, action_id))
    try:
        message = await bot.call(
            "sendMessage",
            {
                "chat_id": target.progress_chat_id,
                "text": text,
                **({"reply_markup": markup} if markup else {}),
            },
        )
    except (BotAPIError, BotAPINetworkError) as exc:
        logger.warning("recall %s: progress message not sent: %s", action_id, exc)
        return

    async def store(session: AsyncSession) -> None:
        await session.execute(
            update(CampaignAction)
            .where(CampaignAction.id == action_id, CampaignAction.progress_message_id.is_(None))
            .values(progress_message_id=int(message["message_id"]))
            .execution_options(synchronize_session=False)
        )

    await ectx.in_transaction(store)


async def update_recall_progress(ectx: EngineContext, action_id: int, *, final: bool = False) -> None:
    """Edit the recall's progress message, at most once per `progress_interval_s` across workers
    (the final edit always), and only when its text changed."""
    bot = ectx.control_bot
    if bot is None:
        return
    interval_ms = max(int(ectx.settings.progress_interval_s * 1000), 1)
    lock = _progress_key(ectx, action_id, "lock")
    if not final and not await ectx.redis.set(lock, b"1", nx=True, px=interval_ms):
        return
    target = await _load_target(ectx, action_id)
    if target is None or target.progress_chat_id is None or not target.progress_message_id:
        return
    with i18n.speaking(await admin_language(ectx, target.progress_chat_id)):
        text, markup = _progress(target, await _counts(ectx, action_id))
    last_key = _progress_key(ectx, action_id, "text")
    shown = f"{target.status}\n{text}"
    if await ectx.redis.get(last_key) == shown.encode():
        return
    params: dict[str, Any] = {
        "chat_id": target.progress_chat_id,
        "message_id": target.progress_message_id,
        "text": text,
    }
    if markup is not None:
        params["reply_markup"] = markup
    try:
        await bot.call("editMessageText", params)
    except BotAPIError as exc:
        if exc.retry_after_s is not None:
            await ectx.redis.set(lock, b"1", px=int(exc.retry_after_s * 1000) + interval_ms)
            if final:
                await asyncio.sleep(exc.retry_after_s)
                await update_recall_progress(ectx, action_id, final=True)
            return
        if "message is not modified" not in exc.description:
            logger.warning("recall %s: progress edit refused: %s", action_id, exc.description)
            return
    except BotAPINetworkError as exc:
        logger.warning("recall %s: progress edit failed: %s", action_id, exc)
        return
    await ectx.redis.set(last_key, shown, ex=PROGRESS_TTL_S)


async def send_recall_summary(ectx: EngineContext, action_id: int) -> None:
    """The final edit of the progress message, and the summary message of an ended recall."""
    await update_recall_progress(ectx, action_id, final=True)
    target = await _load_target(ectx, action_id)
    bot = ectx.control_bot
    if target is None or bot is None or target.progress_chat_id is None:
        return
    render = render_edit_summary if target.kind is ActionKind.EDIT else render_recall_summary
    counts = await _counts(ectx, action_id)
    with i18n.speaking(await admin_language(ectx, target.progress_chat_id)):
        text = render(target.campaign_id, target.name, target.status, counts)
    try:
        await bot.send_message(target.progress_chat_id, text)
    except (BotAPIError, BotAPINetworkError) as exc:
        logger.warning("recall %s: summary not sent: %s", action_id, exc)


# ---------------------------------------------------------------- the jobs


async def recall_campaign(ctx: dict[str, Any], action_id: int) -> str:
    """Carry a recall on: delete the messages of its pending steps, then settle it."""
    ectx: EngineContext = ctx["engine"]
    target = await _load_target(ectx, action_id)
    if target is None:
        return "no such recall"
    if target.status is not ActionStatus.RUNNING:
        await finish(ectx, action_id)
        return "not running"
    job_id = f"recall:{action_id}:{uuid.uuid4().hex[:8]}"
    await ectx.hold_lease(job_id)
    try:
        await send_recall_progress_message(ectx, action_id)
        await update_recall_progress(ectx, action_id, final=True)  # resumed: Pause again
        done = await RecallRun(ectx, target).run()
    finally:
        await ectx.drop_lease(job_id)
    paused = await _load_target(ectx, action_id)
    if paused is not None and paused.status is ActionStatus.PAUSED:
        await update_recall_progress(ectx, action_id, final=True)  # Resume instead of Pause
    return done


async def reconcile_recalls(ctx: dict[str, Any]) -> dict[str, int]:
    """Repair what crashes left of recalls: dead workers' claimed steps back to pending, a run
    queued for each running recall that has none, summaries not sent."""
    ectx: EngineContext = ctx["engine"]
    settings = ectx.settings
    report = {"released": 0, "queued": 0}

    async def open_actions(session: AsyncSession) -> list[tuple[int, ActionStatus, ActionKind]]:
        rows = await session.execute(
            select(CampaignAction.id, CampaignAction.status, CampaignAction.kind).where(
                (CampaignAction.status == ActionStatus.RUNNING) | CampaignAction.summary_sent_at.is_(None)
            )
        )
        return [(int(i), ActionStatus(s), ActionKind(k)) for i, s, k in rows.all()]

    claimed_before = utcnow() - timedelta(seconds=settings.worker_lease_s)
    for action_id, status, kind in await ectx.in_transaction(open_actions):

        async def claimers(session: AsyncSession, action_id: int = action_id) -> list[str]:
            rows = await session.scalars(
                select(DeliveryAction.claimed_by)
                .where(
                    DeliveryAction.action_id == action_id,
                    DeliveryAction.status == DeliveryActionStatus.CLAIMED,
                )
                .distinct()
            )
            return [w for w in rows.all() if w]

        dead = [
            worker
            for worker in await ectx.in_transaction(claimers)
            if worker != ectx.worker_id and not await ectx.redis.exists(ectx.keys.worker(worker))
        ]
        if dead:

            async def release(
                session: AsyncSession, action_id: int = action_id, dead: list[str] = dead
            ) -> int:
                result = await session.execute(
                    update(DeliveryAction)
                    .where(
                        and_(
                            DeliveryAction.action_id == action_id,
                            DeliveryAction.status == DeliveryActionStatus.CLAIMED,
                            DeliveryAction.claimed_by.in_(dead),
                            DeliveryAction.claimed_at < claimed_before,
                        )
                    )
                    .values(status=DeliveryActionStatus.PENDING, claimed_by=None, claimed_at=None)
                    .execution_options(synchronize_session=False)
                )
                return _rowcount(result)

            released = await ectx.in_transaction(release)
            if released:
                logger.warning("recall %s: %s steps of dead workers back to pending", action_id, released)
            report["released"] += released
        if status is not ActionStatus.RUNNING:
            await finish(ectx, action_id)
            continue
        running = False
        # A run's lease is named after its kind (`recall:…`, `edit:…`).
        async for _ in ectx.redis.scan_iter(match=ectx.keys.lease(f"{kind.value}:{action_id}:*"), count=100):
            running = True
            break
        if running:
            continue
        # One queued run at a time per recall from here: a run waiting in the queue has no lease yet.
        if await claim_once(
            ectx.redis,
            f"{kind.value}-queued:{action_id}",
            ttl_s=max(int(settings.worker_lease_s * 2), 2),
            namespace=settings.queue_name,
        ):
            if kind is ActionKind.EDIT:
                await enqueue_edit(ctx["redis"], action_id, queue_name=settings.queue_name)
            else:
                await enqueue_recall(ctx["redis"], action_id, queue_name=settings.queue_name)
            report["queued"] += 1
    return report
