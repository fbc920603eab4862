"""Editing a campaign's sent messages: every delivered chat gets the new text or buttons, paced
like the sends.

An `edit_campaign` job carries an edit (`panel.sent_edits`) on with the after-send machinery
(`jobs.step_run`: per-recipient steps claimed with a compare-and-set, recorded only while held,
released when a run stops, dead workers' claims given back by `reconcile_recalls`); a step here
sends the edit requests of that chat. An edit tried twice is
harmless: the second answers "message is not modified", counted as done.

A campaign still sending when edited: its content was replaced when the edit was asked for, so a
batch that starts later sends the new version; batches already running hold the old one until
they end, so a run keeps adding the chats they reach until every such batch is gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.context import EngineContext
from jobs.step_run import StepRun, run_action
from jobs.steps import ActionTarget, Step, StepResult, add_steps
from models import CampaignAction, DeliveryAction, DeliveryActionStatus, User, utcnow
from models.tables import Delivery
from panel.greetings import PERSONALISED_KEY, values_of
from panel.queue import batch_job_prefix
from panel.sent_edits import edit_calls

NOT_MODIFIED = "message is not modified"
EDIT_NOT_FOUND = "message to edit not found"


class EditRun(StepRun):
    """One run of an edit job on this worker."""

    def __init__(
        self,
        ectx: EngineContext,
        target: ActionTarget,
        *,
        new: Mapping[str, Any],
        previous: Mapping[str, Any],
        old_batches: list[str],
    ) -> None:
        super().__init__(ectx, target)
        self.new = new
        self.previous = previous
        self.personal = bool(new.get(PERSONALISED_KEY) or previous.get(PERSONALISED_KEY))
        self.old_batches = old_batches
        """Job ids of the campaign's batches running when this run began: they may send the old
        version, so the run adds steps until they are gone or restarted with the new one."""
        self.names: dict[int, dict[str, str | None]] = {}
        self.settled = False
        """No batch sends the old version any more, and the chats they reached have their steps."""

    async def _add_steps(self) -> int:
        """Steps for the chats reached so far; once no batch may send the old version any more,
        one last time (later sends carry the new one: nothing to edit there)."""
        if self.settled:
            return 0
        still = [job_id for job_id in self.old_batches if await self._sends_old_version(job_id)]
        self.old_batches = still
        self.settled = not still
        target = self.target

        async def add(session: AsyncSession) -> int:
            return await add_steps(session, target.action_id, target.campaign_id, now=utcnow(), window=None)

        return await self.ectx.in_transaction(add)

    async def _must_wait(self) -> bool:
        return not self.settled

    async def _sends_old_version(self, job_id: str) -> bool:
        """Whether a batch job that ran when this run began may still send the old version: it
        runs, and has not restarted for this edit (or a later one)."""
        redis, keys = self.ectx.redis, self.ectx.keys
        if not await redis.exists(keys.lease(job_id)):
            return False
        seen = await redis.get(keys.batch_edit_seen(job_id))
        try:
            return seen is None or int(seen) < self.target.action_id
        except ValueError:
            return True

    async def _prepare(self, steps: list[Step]) -> None:
        if not self.personal:
            return
        ids = [step.id for step in steps]

        async def read(session: AsyncSession) -> dict[int, dict[str, str | None]]:
            rows = await session.execute(
                select(DeliveryAction.id, User.first_name, User.last_name, User.username)
                .join(Delivery, Delivery.id == DeliveryAction.delivery_id)
                .join(User, User.id == Delivery.user_id)
                .where(DeliveryAction.id.in_(ids))
            )
            return {int(i): values_of(first, last, username) for i, first, last, username in rows.all()}

        self.names.update(await self.ectx.in_transaction(read))

    async def _step(self, step: Step) -> StepResult | None:
        """Send one chat's edit requests; None when the run stopped before they were all sent."""
        calls = edit_calls(self.new, self.previous, step.message_ids, self.names.pop(step.id, None))
        edited = gone = 0
        for call in calls:
            outcome = await self._call(call.method, {"chat_id": step.chat_id, **call.params})
            if outcome is None:
                return None  # released: the next try finds the edits made here "not modified"
            status, error = outcome
            if status is DeliveryActionStatus.DONE:
                edited += 1
            elif status is DeliveryActionStatus.GONE:
                gone += 1
            else:
                return StepResult(step.id, DeliveryActionStatus.DONE if edited else status, error)
        if gone and not edited:
            return StepResult(step.id, DeliveryActionStatus.GONE)
        return StepResult(step.id, DeliveryActionStatus.DONE)

    def _known_answer(self, lowered: str, description: str) -> tuple[DeliveryActionStatus, str | None] | None:
        if NOT_MODIFIED in lowered:
            return DeliveryActionStatus.DONE, None  # already so (an earlier try of ours)
        if EDIT_NOT_FOUND in lowered:
            return DeliveryActionStatus.GONE, None
        return None


async def _old_batches(ectx: EngineContext, campaign_id: int) -> list[str]:
    """Job ids of the campaign's batches running now."""
    prefix = batch_job_prefix(ectx.settings.queue_name)
    lease_of = ectx.keys.lease("")
    found = []
    async for key in ectx.redis.scan_iter(match=ectx.keys.lease(f"{prefix}{campaign_id}:*")):
        name = key.decode() if isinstance(key, bytes) else str(key)
        found.append(name.removeprefix(lease_of))
    return found


async def edit_campaign(ctx: dict[str, Any], action_id: int) -> str:
    """Carry an edit on: edit the messages of its pending steps, then settle it."""
    ectx: EngineContext = ctx["engine"]

    async def make_run(target: ActionTarget) -> StepRun:
        async def read(session: AsyncSession) -> tuple[Any, Any]:
            row = (
                await session.execute(
                    select(CampaignAction.content, CampaignAction.previous_content).where(
                        CampaignAction.id == action_id
                    )
                )
            ).one()
            return row[0], row[1]

        new, previous = await ectx.in_transaction(read)
        old_batches = await _old_batches(ectx, target.campaign_id)
        return EditRun(ectx, target, new=new or {}, previous=previous or {}, old_batches=old_batches)

    return await run_action(ctx, action_id, make_run)
