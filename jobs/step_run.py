"""How an after-send action (a recall or an edit of sent messages) is carried out: any number of
runs at once, each idempotent. A run gives every delivered recipient a step row (`jobs.steps`),
claims steps a group at a time, carries each out after a slot of the token's limiter, and records
it only while it still holds the claim. A worker that dies leaves claimed steps: the
`reconcile_recalls` cron puts them back to pending and queues a run again. What a step does is
the subclass's: `jobs.recall` deletes, `jobs.edit` edits.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.context import EngineContext
from jobs.engine.sendclient import BotAPIError, BotAPINetworkError
from jobs.engine.slots import clock
from jobs.outcomes import Verdict, classify
from jobs.step_progress import send_progress_message, send_summary, update_progress
from jobs.steps import (
    ActionTarget,
    Step,
    StepResult,
    cancel_leftovers,
    claim_steps,
    claim_summary,
    complete,
    load_target,
    read_target,
    record_steps,
    release_steps,
    rowcount,
    sends_may_land,
)
from models import ActionKind, ActionStatus, CampaignAction, DeliveryAction, DeliveryActionStatus, utcnow
from panel.after_send import enqueue_recall
from panel.claims import claim_once
from panel.sent_edits import enqueue_edit

logger = logging.getLogger(__name__)

CLAIM_HORIZON_S = 0.5
"""A claimed group holds about this much sending time."""
MAX_CLAIM = 200
IN_FLIGHT_S = 0.4
SENDING_WAIT_S = 1.0
"""How long a run waits for sends still in flight of a campaign it stopped, before looking again."""
FLOOD_TRIES = 20


class StepRun:
    """One run of an after-send action's job on this worker: claim steps, carry each out through
    the token's limiter, record them while held. Subclasses say what a step does."""

    def __init__(self, ectx: EngineContext, target: ActionTarget) -> None:
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
        """Whether the run is stopping: no new request may start."""
        return self.stopping

    async def run(self) -> str:
        """Carry out every pending step until none is left, the action stops, or this run is
        cancelled (then claimed steps not tried go back to pending)."""
        action_id = self.target.action_id
        claim_size = max(4, min(MAX_CLAIM, math.ceil(self.pace_per_s * CLAIM_HORIZON_S)))
        workers = max(1, min(self.settings.send_concurrency, math.ceil(self.pace_per_s * IN_FLIGHT_S) + 1))
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
                await asyncio.gather(*(self._carry_out() for _ in range(min(workers, len(steps)))))
                await self._record()
                self.ectx.spawn(update_progress(self.ectx, action_id))
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
                logger.warning("%s %s: status not read: %s", self.target.kind, self.target.action_id, exc)
                continue
            if status is None or ActionStatus(status) is not ActionStatus.RUNNING:
                self.stopping = True
                return

    async def _add_steps(self) -> int:
        """Give the recipients reached so far their steps; how many were added."""
        raise NotImplementedError

    async def _must_wait(self) -> bool:
        """Whether recipients this action must reach may still appear (sends in flight)."""
        raise NotImplementedError

    async def _prepare(self, steps: list[Step]) -> None:
        """Read what the claimed steps need beyond their row (nothing, unless a subclass says)."""

    async def _step(self, step: Step) -> StepResult | None:
        """Carry one recipient's step out; None when the run stopped before it was done."""
        raise NotImplementedError

    def _known_answer(self, lowered: str, description: str) -> tuple[DeliveryActionStatus, str | None] | None:
        """What an error answer that means something to this kind of step settles as (None: the
        ordinary handling: unavailable, retried, or failed)."""
        raise NotImplementedError

    async def _call(
        self, method: str, params: dict[str, Any]
    ) -> tuple[DeliveryActionStatus, str | None] | None:
        """One request after a slot of the token's limiter (429s waited out, transient errors tried
        again: a delete or an edit is safe to repeat); None when the run stopped first."""
        errors = 0
        for _ in range(FLOOD_TRIES + self.settings.max_attempts):
            if not await self.ectx.limiter.acquire(
                self.rate_key, self.pace_per_s, should_stop=self.should_stop
            ):
                return None
            sent_at = clock()
            try:
                await self.bot.call(method, params)
            except (BotAPIError, BotAPINetworkError, OSError, TimeoutError) as exc:
                if isinstance(exc, BotAPIError):
                    self.ectx.limiter.answered(self.rate_key, clock() - sent_at)
                answer = classify(exc)
                description = answer.description or type(exc).__name__
                if answer.verdict is Verdict.FLOOD:
                    await self.ectx.limiter.pause(self.rate_key, answer.retry_after_s)
                    continue
                known = self._known_answer(description.lower(), description)
                if known is not None:
                    return known
                if answer.verdict is Verdict.UNAVAILABLE:
                    return DeliveryActionStatus.UNAVAILABLE, description
                if answer.verdict in (Verdict.TRANSIENT, Verdict.AMBIGUOUS):
                    errors += 1
                    if errors >= self.settings.max_attempts:
                        return DeliveryActionStatus.FAILED, description
                    await asyncio.sleep(self.settings.retry_backoff_s * 2 ** (errors - 1))
                    continue
                return DeliveryActionStatus.FAILED, description
            self.ectx.limiter.answered(self.rate_key, clock() - sent_at)
            return DeliveryActionStatus.DONE, None
        return DeliveryActionStatus.FAILED, "Too Many Requests"

    async def _carry_out(self) -> None:
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
                "%s %s: results not recorded (the reconciler settles them)",
                self.target.kind,
                self.target.action_id,
            )
        untried = [step.id for step in self.queue]
        self.queue.clear()

        async def release(session: AsyncSession) -> int:
            return await release_steps(session, untried, worker_id=self.ectx.worker_id)

        try:
            await self.ectx.in_transaction(release)
        except Exception:
            logger.exception(
                "%s %s: steps not released (the reconciler settles them)",
                self.target.kind,
                self.target.action_id,
            )


async def finish(ectx: EngineContext, action_id: int) -> None:
    """Complete an action with nothing left to do and send its summary, once however often called."""

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
        logger.info("after-send action %s ended", action_id)
        await send_summary(ectx, action_id)


async def run_action(
    ctx: dict[str, Any], action_id: int, make_run: Callable[[ActionTarget], Awaitable[StepRun]]
) -> str:
    """Carry an action on under a lease named after its kind (`recall:…`, `edit:…`, which the
    reconciler looks for): its progress message, a run of `make_run`'s, then settle it."""
    ectx: EngineContext = ctx["engine"]
    target = await read_target(ectx, action_id)
    if target is None:
        return "no such action"
    if target.status is not ActionStatus.RUNNING:
        await finish(ectx, action_id)
        return "not running"
    job_id = f"{target.kind.value}:{action_id}:{uuid.uuid4().hex[:8]}"
    await ectx.hold_lease(job_id)
    try:
        run = await make_run(target)
        await send_progress_message(ectx, action_id)
        await update_progress(ectx, action_id, final=True)  # resumed: Pause again
        done = await run.run()
    finally:
        await ectx.drop_lease(job_id)
    paused = await read_target(ectx, action_id)
    if paused is not None and paused.status is ActionStatus.PAUSED:
        await update_progress(ectx, action_id, final=True)  # Resume instead of Pause
    return done


async def reconcile_recalls(ctx: dict[str, Any]) -> dict[str, int]:
    """Repair what crashes left of recalls and edits: dead workers' claimed steps back to pending, a run
    queued for each running action that has none, summaries not sent."""
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
                return rowcount(result)

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
