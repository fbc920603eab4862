"""A batch's 429 waits, appended to its campaign's events for the report chart, one per pause.

Called on the send path right after the limiter's pause, it only compares two times; a new
pause's row is written by a background task. The other 429s of the same pause add no row:
this batch's are seen here, another batch's or worker's by a Redis key held for the pause
(`SET NX`), which only the first of them sets.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from jobs.context import EngineContext
from models import CampaignEventKind, utcnow
from panel import campaign_events


class FloodWaitLog:
    """Records a campaign's 429 pauses as this batch meets them."""

    def __init__(self, ectx: EngineContext, campaign_id: int) -> None:
        self.ectx = ectx
        self.campaign_id = campaign_id
        self._pause_ends_at: datetime | None = None

    def waited(self, retry_after_s: float) -> None:
        """A send got a 429 asking to wait `retry_after_s`: a new pause gets its row (in the background)."""
        now = utcnow()
        if self._pause_ends_at is not None and now < self._pause_ends_at:
            return  # the same burst
        self._pause_ends_at = now + timedelta(seconds=retry_after_s)
        self.ectx.spawn(self._record(now, retry_after_s))

    async def _record(self, at: datetime, retry_after_s: float) -> None:
        campaign_id = self.campaign_id
        pause_ms = max(1, math.ceil(retry_after_s * 1000))
        if not await self.ectx.redis.set(self.ectx.keys.flood_wait(campaign_id), "1", nx=True, px=pause_ms):
            return  # another batch met this pause first

        async def append(session: AsyncSession) -> None:
            await campaign_events.record(
                session, campaign_id, CampaignEventKind.FLOOD_WAIT, at=at, seconds=retry_after_s
            )

        await self.ectx.in_transaction(append)
