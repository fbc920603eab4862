"""Expiry: "Delete after…" on a campaign, so the scheduler recalls it when its time is up.

The delay counts from the end of the sending (`completed_at`): "6h" means the message stays six
hours after the last recipient got it. Telegram lets a bot delete its messages in a private chat
only within 48 hours, so the delay plus the time the sending takes must stay within that: the
first recipients would keep it for good otherwise. The cron (`jobs.lifecycle`) starts the recall
once, with a compare-and-set on `expiry_started_at`, and tells the admin.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import FINAL_CAMPAIGN_STATUSES, Campaign, CampaignStatus, utcnow
from panel import audit, campaigns, texts
from panel.after_send import DELETE_WINDOW
from panel.audience import campaign_view
from panel.audit import Actor, AuditAction

MIN_EXPIRY = timedelta(hours=1)
MAX_EXPIRY = timedelta(hours=47)
_SPAN_RE = re.compile(r"^(?:in\s+)?(?P<body>(?:\d+(?:\.\d+)?\s*[a-z]+\s*)+)$")
_PART_RE = re.compile(r"(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>[a-z]+)")
_UNIT_S = {
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}  # fmt: skip
EXPIRED_STATUSES = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED, CampaignStatus.FAILED)
"""A campaign whose sending ended: its expiry counts from then."""


class ExpiryError(ValueError):
    """A delay that cannot be used; the text says why, for the admin."""


def parse_span(typed: str) -> timedelta | None:
    """`6h`, `90 min`, `1h 30m`, `in 2 hours` → the span; None when it is no span."""
    match = _SPAN_RE.match(typed.strip().lower())
    if match is None:
        return None
    total_s = 0.0
    for part in _PART_RE.finditer(match.group("body")):
        unit_s = _UNIT_S.get(part.group("unit"))
        if unit_s is None:
            return None
        total_s += float(part.group("amount")) * unit_s
    return timedelta(seconds=round(total_s))


def check_expiry(after: timedelta, *, sending_takes: timedelta) -> timedelta:
    """`after` if the recall it asks for can reach every recipient; ExpiryError says why not."""
    if after < MIN_EXPIRY or after > MAX_EXPIRY:
        raise ExpiryError(texts.EXPIRY_RANGE.format(after=texts.duration(after)))
    if after + sending_takes > DELETE_WINDOW:
        raise ExpiryError(
            texts.EXPIRY_TOO_LATE.format(
                after=texts.duration(after),
                takes=texts.duration(sending_takes),
                longest=texts.duration(max(DELETE_WINDOW - sending_takes, timedelta(0))),
            )
        )
    return after


def expiry_at(campaign: Campaign) -> datetime | None:
    """When the campaign's recall is due (None: no expiry, or the sending has not ended)."""
    if campaign.expire_after_s is None or campaign.completed_at is None:
        return None
    return campaign.completed_at + timedelta(seconds=campaign.expire_after_s)


async def due_expiries(session: AsyncSession, *, now: datetime | None = None) -> list[Campaign]:
    """Ended campaigns whose expiry is due and whose recall was not started for it yet."""
    found = await session.scalars(
        select(Campaign).where(
            Campaign.expire_after_s.is_not(None),
            Campaign.expiry_started_at.is_(None),
            Campaign.completed_at.is_not(None),
            Campaign.status.in_(EXPIRED_STATUSES),
        )
    )
    moment = now or utcnow()
    return [campaign for campaign in found.all() if (at := expiry_at(campaign)) is not None and at <= moment]


async def claim_expiry(session: AsyncSession, campaign_id: int) -> bool:
    """The right to start the campaign's expiry recall (once, however many workers look)."""
    changed = await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.expiry_started_at.is_(None))
        .values(expiry_started_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    assert isinstance(changed, CursorResult)
    return bool(changed.rowcount)


class ExpiryOutcome(enum.StrEnum):
    """What happened when an admin set a campaign's expiry."""

    SET = "set"
    CLEARED = "cleared"
    REFUSED = "refused"  # the delay does not fit (see the reason)
    ENDED = "ended"  # the sending ended already: too late to change
    MISSING = "missing"


async def set_expiry(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int, after: timedelta | None, *, actor: Actor
) -> tuple[ExpiryOutcome, str | None]:
    """Set (None: clear) the delay after the sending ends at which the campaign is recalled, while
    it has not ended: commits; the outcome and, for REFUSED, the reason."""
    if not campaigns.is_row_id(campaign_id):
        return ExpiryOutcome.MISSING, None
    async with sessionmaker() as session, session.begin():
        view = await campaign_view(session, campaign_id)
        if view is None:
            return ExpiryOutcome.MISSING, None
        if view.campaign.status in FINAL_CAMPAIGN_STATUSES:
            return ExpiryOutcome.ENDED, None
        if after is not None:
            try:
                check_expiry(after, sending_takes=view.audience.duration)
            except ExpiryError as error:
                return ExpiryOutcome.REFUSED, str(error)
        changed = await session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.status.not_in(list(FINAL_CAMPAIGN_STATUSES)))
            .values(expire_after_s=None if after is None else int(after.total_seconds()))
            .execution_options(synchronize_session=False)
        )
        assert isinstance(changed, CursorResult)
        if not changed.rowcount:
            return ExpiryOutcome.ENDED, None
        details = {"after_s": None if after is None else int(after.total_seconds())}
        await audit.record(session, actor, AuditAction.SET_EXPIRY, campaign_id=campaign_id, details=details)
    return (ExpiryOutcome.CLEARED if after is None else ExpiryOutcome.SET), None
