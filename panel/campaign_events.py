"""A campaign's sending events in time, for the report chart: pauses, resumes and 429 waits.

Pauses and resumes are appended by `panel.transitions` in the transaction that changes the
status (an admin's, the engine's own); a 429's wait by the engine (`jobs.engine.flood_log`), one
row per pause. Functions take an `AsyncSession` and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CampaignEvent, CampaignEventKind, utcnow


async def record(
    session: AsyncSession,
    campaign_id: int,
    kind: CampaignEventKind,
    *,
    at: datetime | None = None,
    seconds: float | None = None,
) -> None:
    """Append one event, in the caller's transaction."""
    session.add(CampaignEvent(campaign_id=campaign_id, kind=kind, at=at or utcnow(), seconds=seconds))
    await session.flush()


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of time: a pause (`end` None: not resumed) or a 429's wait."""

    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class SendingEvents:
    """A campaign's pauses and 429 waits, each in time order."""

    pauses: Sequence[Span]
    flood_waits: Sequence[Span]


async def sending_events(session: AsyncSession, campaign_id: int) -> SendingEvents:
    """The campaign's pauses (each from its pause to the next resume) and its 429 waits, with
    overlapping waits merged into one."""
    rows = await session.execute(
        select(CampaignEvent.at, CampaignEvent.kind, CampaignEvent.seconds)
        .where(CampaignEvent.campaign_id == campaign_id)
        .order_by(CampaignEvent.at, CampaignEvent.id)
    )
    pauses: list[Span] = []
    flood_waits: list[Span] = []
    paused_at: datetime | None = None
    for at, kind, seconds in rows.all():
        if kind is CampaignEventKind.PAUSED:
            paused_at = paused_at or at
        elif kind is CampaignEventKind.RESUMED and paused_at is not None:
            pauses.append(Span(paused_at, at))
            paused_at = None
        elif kind is CampaignEventKind.FLOOD_WAIT:
            end = at + timedelta(seconds=seconds or 0.0)
            last = flood_waits[-1] if flood_waits else None
            if last is not None and last.end is not None and at < last.end:
                flood_waits[-1] = Span(last.start, max(last.end, end))
            else:
                flood_waits.append(Span(at, end))
    if paused_at is not None:
        pauses.append(Span(paused_at, None))
    return SendingEvents(pauses, flood_waits)
