"""Start, pause, resume and cancel a campaign: what the control bot and the CLI both call.

Each is a compare-and-set on the campaign followed by the queue work it needs. Because a
worker must see the change before it acts on the queued job, these functions COMMIT the
session they are given (unlike `panel.campaigns`). They return whether the change happened;
a caller that lost a race gets False and tells the admin the campaign's current state.
"""

from __future__ import annotations

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from models import UNSTARTED_CAMPAIGN_STATUSES
from panel import campaigns, transitions
from panel.queue import enqueue_finalize, enqueue_resume, enqueue_start


async def start_campaign_now(
    session: AsyncSession,
    pool: ArqRedis,
    campaign_id: int,
    *,
    queue_name: str,
    progress_chat_id: int | None = None,
) -> bool:
    """Ask the workers to send a DRAFT or SCHEDULED campaign now (progress goes to `progress_chat_id`)."""
    campaign = await campaigns.get_campaign(session, campaign_id)
    if campaign is None or campaign.status not in UNSTARTED_CAMPAIGN_STATUSES:
        return False
    if progress_chat_id is not None:
        await campaigns.set_progress_target(session, campaign_id, progress_chat_id)
    await session.commit()
    await enqueue_start(pool, campaign_id, queue_name=queue_name)
    return True


async def pause_campaign(session: AsyncSession, campaign_id: int) -> bool:
    """Pause a SENDING campaign: workers stop new sends within a second."""
    changed = await transitions.pause(session, campaign_id)
    await session.commit()
    return changed


async def resume_campaign(session: AsyncSession, pool: ArqRedis, campaign_id: int, queue_name: str) -> bool:
    """Resume a PAUSED campaign from its delivery rows."""
    changed = await transitions.resume(session, campaign_id)
    await session.commit()
    if changed:
        await enqueue_resume(pool, campaign_id, queue_name=queue_name)
    return changed


async def cancel_campaign(
    session: AsyncSession, pool: ArqRedis, campaign_id: int, queue_name: str, *, reason: str | None = None
) -> bool:
    """Cancel a campaign for good: unsent recipients are marked cancelled, a summary follows."""
    changed = await transitions.cancel(session, campaign_id, reason=reason)
    await session.commit()
    if changed:
        await enqueue_finalize(pool, campaign_id, queue_name=queue_name)
    return changed
