"""Watching a sending campaign's status, so its batches stop soon after a pause or cancel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.context import EngineContext
from models import Campaign, CampaignStatus

logger = logging.getLogger(__name__)


async def read_status(ectx: EngineContext, campaign_id: int) -> CampaignStatus | None:
    """The campaign's status (None: deleted), read at most every half check interval per process."""

    async def read(session: AsyncSession) -> CampaignStatus | None:
        status = await session.scalar(select(Campaign.status).where(Campaign.id == campaign_id))
        return None if status is None else CampaignStatus(status)

    async def read_now() -> CampaignStatus | None:
        return await ectx.in_transaction(read)

    # Shared by this process's batches of the campaign; fresh enough to stop within a second.
    max_age_s = ectx.settings.status_check_interval_s / 2
    return await ectx.shared_read(("status", campaign_id), max_age_s, read_now)


async def until_not_sending(
    read: Callable[[], Awaitable[CampaignStatus | None]], *, campaign_id: int, interval_s: float
) -> CampaignStatus:
    """Check `read()` every `interval_s` and return the first status other than sending
    (a deleted campaign counts as cancelled); a failed read is tried again next time."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            status = await read()
        except Exception as exc:  # the database is away for longer than in_transaction waits
            logger.warning("campaign %s: status check failed (%s); trying again", campaign_id, exc)
            continue
        if status is not CampaignStatus.SENDING:
            return status or CampaignStatus.CANCELLED
