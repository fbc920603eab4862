"""Recalling a campaign: delete its message from every chat it reached, paced like the sends.

One `recall_campaign` job carries a recall (`panel.after_send`) on with the after-send machinery
(`jobs.step_run`); a step here deletes the recipient's messages. Steps of recipients reached more
than 48 hours ago are settled at once (Telegram lets a bot delete only newer messages). A delete
tried twice is harmless: the second answers "message to delete not found", counted as deleted
since this recall tried it before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jobs.step_run import StepRun, run_action
from jobs.steps import ActionTarget, Step, StepResult, add_steps, sends_in_flight, sends_may_land
from models import DeliveryActionStatus, utcnow

DELETE_NOT_FOUND = "message to delete not found"
CANNOT_DELETE = "can't be deleted"


class RecallRun(StepRun):
    """One run of a recall job on this worker: each step deletes a recipient's messages."""

    async def _add_steps(self) -> int:
        target = self.target

        async def add(session: AsyncSession) -> int:
            return await add_steps(session, target.action_id, target.campaign_id, now=utcnow())

        return await self.ectx.in_transaction(add)

    async def _must_wait(self) -> bool:
        """Sends in flight when the recall began may still be delivered: their messages too."""
        return sends_may_land(self.target, self.settings) and await self._sends_in_flight() > 0

    async def _sends_in_flight(self) -> int:
        async def count(session: AsyncSession) -> int:
            return await sends_in_flight(session, self.target.campaign_id)

        return await self.ectx.in_transaction(count)

    def _known_answer(self, lowered: str, description: str) -> tuple[DeliveryActionStatus, str | None] | None:
        if DELETE_NOT_FOUND in lowered:
            return DeliveryActionStatus.GONE, None
        if CANNOT_DELETE in lowered:
            return DeliveryActionStatus.TOO_OLD, description
        return None

    async def _step(self, step: Step) -> StepResult | None:
        """Delete every message of one step; None when the run stopped before the step was done."""
        deleted = found_gone = 0
        for message_id in step.message_ids:
            outcome = await self._call("deleteMessage", {"chat_id": step.chat_id, "message_id": message_id})
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


async def recall_campaign(ctx: dict[str, Any], action_id: int) -> str:
    """Carry a recall on: delete the messages of its pending steps, then settle it."""

    async def make_run(target: ActionTarget) -> StepRun:
        return RecallRun(ctx["engine"], target)

    return await run_action(ctx, action_id, make_run)
