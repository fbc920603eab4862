"""The results of one batch, buffered and written to the database in bulk with the counters.

Results are written every `flush_interval_s` or `flush_size` results, one transaction for many
sends; a slow campaign waits for a few (FLUSH_MIN) unless the oldest has waited FLUSH_MAX_AGE_S,
which bounds what a killed worker leaves unconfirmed. A failed write keeps the results for the
next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from jobs.context import EngineContext
from jobs.engine import deliveries, results
from jobs.engine.results import DeliveryResult
from jobs.progress import update_progress

logger = logging.getLogger(__name__)

FLUSH_MIN = 10
FLUSH_MAX_AGE_S = 1.0


class ResultRecorder:
    """Buffers a batch's results and records them (`flush`, and the `run` task between flushes).

    `campaign_stopped()`: the campaign was paused or cancelled, so each write also settles the
    rows nobody will send. `on_recorded`: told what each write changed.
    """

    def __init__(
        self,
        ectx: EngineContext,
        campaign_id: int,
        *,
        campaign_stopped: Callable[[], bool],
        on_recorded: Callable[[results.Recorded], None],
    ) -> None:
        self.ectx = ectx
        self.settings = ectx.settings
        self.campaign_id = campaign_id
        self._campaign_stopped = campaign_stopped
        self._on_recorded = on_recorded
        self.results: list[DeliveryResult] = []
        self._oldest_at = math.inf
        self._lock = asyncio.Lock()
        self._wanted = asyncio.Event()

    def add(self, results: Iterable[DeliveryResult]) -> None:
        """Queue results for the next write (sooner once `flush_size` are waiting)."""
        self.results.extend(results)
        if self._oldest_at == math.inf and self.results:
            self._oldest_at = asyncio.get_running_loop().time()
        if len(self.results) >= self.settings.flush_size:
            self._wanted.set()

    async def run(self) -> None:
        """Write the queued results now and then, until cancelled (errors are retried)."""
        loop = asyncio.get_running_loop()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wanted.wait(), self.settings.flush_interval_s)
            self._wanted.clear()
            # A slow campaign writes a few results at a time, not one transaction per send, unless
            # the oldest has waited FLUSH_MAX_AGE_S (what a kill would leave unconfirmed).
            if 0 < len(self.results) < FLUSH_MIN and loop.time() - self._oldest_at < FLUSH_MAX_AGE_S:
                continue
            try:
                await self.flush()
            except Exception as exc:  # results are kept for the next flush
                logger.warning(
                    "campaign %s: recording results failed (%s); trying again", self.campaign_id, exc
                )
                await asyncio.sleep(self.settings.flush_interval_s)

    async def flush(self) -> None:
        """Write every queued result, with the counters, in one transaction."""
        async with self._lock:
            if not self.results:
                return
            batch, self.results = self.results, []
            self._oldest_at = math.inf
            campaign_id = self.campaign_id

            async def record(session: AsyncSession) -> results.Recorded:
                recorded = await results.record_results(
                    session, campaign_id, batch, worker_id=self.ectx.worker_id
                )
                if self._campaign_stopped():
                    await deliveries.cancel_leftovers(session, campaign_id)
                return recorded

            try:
                recorded = await self.ectx.in_transaction(record)
            except BaseException:
                self.results[:0] = batch  # keep them for the next try
                self._oldest_at = 0.0
                raise
        self._on_recorded(recorded)
        if any(recorded.final.values()):
            self.ectx.spawn(update_progress(self.ectx, campaign_id))
