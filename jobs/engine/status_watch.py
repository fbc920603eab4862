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

WATCH_FORGET_S = 10.0
"""A campaign no batch of this process asked about for this long is no longer read."""


async def read_status(ectx: EngineContext, campaign_id: int) -> CampaignStatus | None:
    """The campaign's status (None: deleted), fresh within half a check interval.

    One query reads every campaign this process's batches watch (twenty campaigns sending at
    once read theirs in one statement, not twenty), shared by all of them.
    """
    loop = asyncio.get_running_loop()
    now = loop.time()
    max_age_s = ectx.settings.status_check_interval_s / 2
    watched = ectx.watched_campaigns
    watched[campaign_id] = now
    for other, asked_at in list(watched.items()):
        if now - asked_at > WATCH_FORGET_S:
            del watched[other]
    ids = frozenset(watched)

    async def read(session: AsyncSession) -> dict[int, CampaignStatus | None]:
        rows = await session.execute(select(Campaign.id, Campaign.status).where(Campaign.id.in_(ids)))
        found: dict[int, CampaignStatus | None] = dict.fromkeys(ids)
        found.update((row_id, CampaignStatus(status)) for row_id, status in rows.all())
        return found

    async def read_now() -> dict[int, CampaignStatus | None]:
        return await ectx.in_transaction(read)

    statuses = await ectx.shared_read("statuses", max_age_s, read_now)
    if campaign_id not in statuses:  # watched since that shared read began: read afresh, once
        statuses = await read_now()
    return statuses.get(campaign_id)


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
