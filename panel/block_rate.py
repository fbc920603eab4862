"""How many people a campaign drove away: recipients who blocked the bot within 72 hours of it,
against the bot's other users over the same hours.

A block is what the users table knows: the tracker's `my_chat_member` → `kicked`, or a later
campaign's 403 "bot was blocked by the user", both stamped `unavailable_at`. A user who blocked
and came back since is available again and is not counted (the table keeps the present, not a
history). The window runs from the campaign's start to 72 hours after its end, so a recipient
reached early has up to the campaign's own duration more; for a campaign of a few hours against a
three-day window that is small, and the baseline uses the same window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from models import Campaign, Delivery, DeliveryStatus, User, utcnow
from panel import texts

WINDOW = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class BlockRate:
    """Recipients who blocked within the window, and the bot's other users who did."""

    recipients: int
    blocked: int
    others: int
    others_blocked: int
    window_over: bool
    """Whether the 72 hours are over (else the figures may still grow)."""

    @property
    def rate(self) -> float:
        return self.blocked / self.recipients if self.recipients else 0.0

    @property
    def baseline(self) -> float | None:
        return self.others_blocked / self.others if self.others else None

    def to_json(self) -> dict[str, object]:
        """For `campaigns status --json`."""
        return {
            "recipients": self.recipients,
            "blocked": self.blocked,
            "rate": round(self.rate, 6),
            "others": self.others,
            "others_blocked": self.others_blocked,
            "baseline": None if self.baseline is None else round(self.baseline, 6),
            "window_over": self.window_over,
        }


def blocked_between(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Users whose block (the tracker's, or a 403's) is stamped in [start, end)."""
    return and_(
        User.is_unavailable.is_(True),
        User.unavailable_at >= start,
        User.unavailable_at < end,
        func.lower(User.unavailable_reason).like("%blocked%"),
    )


async def block_rate(
    session: AsyncSession, campaign: Campaign, *, now: datetime | None = None
) -> BlockRate | None:
    """The campaign's block rate, or None before it has reached anyone."""
    if campaign.started_at is None or not campaign.successful_sents:
        return None
    start = campaign.started_at
    end = (campaign.completed_at or now or utcnow()) + WINDOW
    reached = select(Delivery.user_id).where(
        Delivery.campaign_id == campaign.id, Delivery.status == DeliveryStatus.SENT
    )
    recipients = int(await session.scalar(select(func.count()).select_from(reached.subquery())) or 0)
    blocked = int(
        await session.scalar(
            select(func.count()).select_from(User).where(User.id.in_(reached), blocked_between(start, end))
        )
        or 0
    )
    in_campaign = exists().where(Delivery.campaign_id == campaign.id, Delivery.user_id == User.id)
    others_query = (
        select(func.count())
        .select_from(User)
        .where(
            User.bot_id == campaign.bot_id,
            User.platform == campaign.platform,
            User.created_at < start,
            ~in_campaign,
            or_(User.is_unavailable.is_(False), User.unavailable_at >= start),
        )
    )
    others = int(await session.scalar(others_query) or 0)
    others_blocked = int(await session.scalar(others_query.where(blocked_between(start, end))) or 0)
    return BlockRate(
        recipients=recipients,
        blocked=blocked,
        others=others,
        others_blocked=others_blocked,
        window_over=(now or utcnow()) >= end,
    )


def render_block_rate(rate: BlockRate | None) -> str | None:
    """The card's and the report's line: `🚫 Blocked within 72 h: 3 of 1,200 (0.25%) · ...`."""
    if rate is None:
        return None
    line = texts.BLOCK_RATE.format(
        blocked=texts.number(rate.blocked), recipients=texts.number(rate.recipients), rate=rate.rate * 100
    )
    baseline = rate.baseline
    if baseline is None:
        line += texts.BLOCK_RATE_NO_BASELINE
    else:
        line += texts.BLOCK_RATE_BASELINE.format(rate=baseline * 100, others=texts.number(rate.others))
    if not rate.window_over:
        line += texts.BLOCK_RATE_SO_FAR
    return line
