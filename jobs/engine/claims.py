"""The recipients of one batch, claimed just in time in small groups from its range of rows.

A sender takes a send slot first, then a recipient from here: rows are claimed a moment before
they are sent, so a worker killed at any moment leaves at most its in-flight requests and one
small claimed group ambiguous. The next group is claimed in the background before the pool
runs dry.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from jobs.context import EngineContext
from jobs.engine import deliveries
from jobs.engine.results import DeliveryResult, Outcome, Recipient

CLAIM_HORIZON_S = 0.15
"""A claimed group holds about this much sending time, so few claimed rows wait unsent.
(0.05 s made 200 claim transactions a second at 1,000/s: 25% of the worker's CPU.)"""
MIN_CLAIM = 8
"""Slow batches claim a few rows at a time all the same (one transaction, not one per send): at
30/s a claim of 4 was a fifth of a transaction per message, the largest share of the worker's
database time with twenty bots sending (`bench/cost_bench.py --bots 20 --rate 30`). A kill
leaves them unconfirmed: 8 rows are a quarter of a second of a 30/s bot."""


class ClaimedRecipients:
    """Rows `first_id`..`last_id` of a campaign, claimed for this worker a group at a time.

    `stopped()`: the batch sends no more, so nothing more is claimed or handed out. `on_error`:
    a claim failed for longer than the database retries last (the batch stops with it).
    """

    def __init__(
        self,
        ectx: EngineContext,
        campaign_id: int,
        first_id: int,
        last_id: int,
        *,
        rate_key: str,
        pace_per_s: float,
        stopped: Callable[[], bool],
        on_error: Callable[[Exception], None],
        with_names: bool = False,
        variant: str | None = None,
        on_drained: Callable[[], None] | None = None,
    ) -> None:
        self.ectx = ectx
        self.campaign_id = campaign_id
        self.first_id = first_id
        self.last_id = last_id
        self.rate_key = rate_key
        self.pace_per_s = pace_per_s
        self._stopped = stopped
        self._on_error = on_error
        self.with_names = with_names
        """Recipients carry the user's names (a personalised campaign)."""
        self.variant = variant
        """Only this A/B test group's rows (`Delivery.variant`); None: every row."""
        self.on_drained = on_drained
        """Called when a claim first finds the range empty: the last rows are out or on their way."""
        self.pool: deque[Recipient] = deque()
        self.drained = False
        """The last claim found no pending row in the range (until a write returns some to pending)."""
        self._refill_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def exhausted(self) -> bool:
        """Nothing left to hand out: the pool is empty and the range has no row left to claim."""
        return self.drained and not self.pool

    def take(self) -> Recipient | None:
        """The next claimed recipient, at a send slot's time; claims more before the pool runs dry."""
        if self._stopped() or not self.pool:
            return None
        recipient = self.pool.popleft()
        running = self._refill_task is not None and not self._refill_task.done()
        if len(self.pool) * 4 <= self.claim_size() and not self.drained and not running:
            self._refill_task = asyncio.create_task(self.refill())
        return recipient

    def claim_size(self) -> int:
        """Rows to claim at once: this process's batches of the token share ~CLAIM_HORIZON_S of sends."""
        share = self.pace_per_s * CLAIM_HORIZON_S / max(self.ectx.active_batches[self.rate_key], 1)
        return max(MIN_CLAIM, min(self.ectx.settings.send_concurrency, math.ceil(share)))

    async def refill(self) -> None:
        """Claim the next rows of the range into the pool (one claim at a time)."""
        async with self._lock:
            if self._stopped() or self.drained or len(self.pool) * 4 > self.claim_size():
                return

            async def claim(session: AsyncSession) -> list[Recipient]:
                return await deliveries.claim(
                    session,
                    self.campaign_id,
                    self.first_id,
                    self.last_id,
                    worker_id=self.ectx.worker_id,
                    limit=self.claim_size(),
                    with_names=self.with_names,
                    variant=self.variant,
                )

            try:
                claimed = await self.ectx.in_transaction(claim)
            except Exception as exc:
                self._on_error(exc)
                return
            if not claimed:
                self.drained = True
                if self.on_drained is not None:
                    self.on_drained()
                    self.on_drained = None
                return
            self.pool.extend(claimed)

    async def release_all(self) -> list[DeliveryResult]:
        """Every claimed row not handed out, back to pending (after a claim under way lands)."""
        if self._refill_task is not None:
            with contextlib.suppress(BaseException):
                await self._refill_task  # its claimed rows join the pool, released below
        released = [DeliveryResult(recipient, Outcome.RELEASE) for recipient in self.pool]
        self.pool.clear()
        return released
