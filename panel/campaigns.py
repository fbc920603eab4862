"""Campaign lifecycle: the service functions that the control bot, the CLI and the workers share.

Every status change is a compare-and-set (`UPDATE ... WHERE id = :id AND status IN (...)`):
a caller that finds nothing to change gets `None`/`False` and stops quietly. Functions take
an `AsyncSession` and never commit, so a caller can group several steps in one transaction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Campaign, CampaignStatus, Delivery, DeliveryStatus, TargetBot, User, utcnow
from panel.content import MessageContent

EDITABLE_STATUSES = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
STARTABLE_STATUSES = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
CANCELLABLE_STATUSES = (
    CampaignStatus.DRAFT,
    CampaignStatus.SCHEDULED,
    CampaignStatus.SENDING,
    CampaignStatus.PAUSED,
)
FINAL_STATUSES = (CampaignStatus.COMPLETED, CampaignStatus.FAILED, CampaignStatus.CANCELLED)
# The largest id a row can have: ids are BIGINT on PostgreSQL and INTEGER on SQLite, both signed
# 64-bit. A larger number (typed by an admin, forged in a button) names no row, and must not
# reach the driver, which refuses it (OverflowError on SQLite, DBAPIError on PostgreSQL).
MAX_ROW_ID = 2**63 - 1


class CampaignError(Exception):
    """A request about a campaign that cannot be carried out; the text is for the admin."""


@dataclass(frozen=True, slots=True)
class Counters:
    """A campaign's recipients by outcome."""

    total: int
    sent: int
    failed: int
    unavailable: int
    unconfirmed: int
    cancelled: int

    @property
    def finished(self) -> int:
        """Recipients in a final state."""
        return self.sent + self.failed + self.unavailable + self.unconfirmed + self.cancelled

    @property
    def remaining(self) -> int:
        """Recipients not yet in a final state."""
        return max(self.total - self.finished, 0)

    @classmethod
    def of(cls, campaign: Campaign) -> Counters:
        """The counters stored on `campaign`."""
        return cls(
            total=campaign.total_recipients,
            sent=campaign.successful_sents,
            failed=campaign.failed_sents,
            unavailable=campaign.unavailable_count,
            unconfirmed=campaign.unconfirmed_count,
            cancelled=campaign.cancelled_count,
        )


def effective_rate(bot: TargetBot) -> int:
    """Messages per second the engine sends through `bot`'s token."""
    ceiling = 1000 if bot.paid_broadcast else 30
    return max(1, min(bot.rate_per_s, ceiling))


def estimate_duration(audience: int, rate_per_s: int) -> timedelta:
    """How long sending to `audience` recipients takes at `rate_per_s`."""
    return timedelta(seconds=math.ceil(audience / max(rate_per_s, 1)))


async def audience_size(session: AsyncSession, bot_id: int, platform: str = "telegram") -> int:
    """Users of a target bot that a campaign would reach now (the unavailable left out)."""
    query = select(func.count()).where(
        User.bot_id == bot_id, User.platform == platform, User.is_unavailable.is_(False)
    )
    return int((await session.execute(query)).scalar_one())


def is_row_id(value: int) -> bool:
    """Whether `value` can be a row's id at all (1 to `MAX_ROW_ID`)."""
    return 1 <= value <= MAX_ROW_ID


async def get_campaign(session: AsyncSession, campaign_id: int) -> Campaign | None:
    """The campaign with `campaign_id`, freshly read; None for any number that names none."""
    if not is_row_id(campaign_id):
        return None
    return await session.get(Campaign, campaign_id, populate_existing=True)


async def get_bot(session: AsyncSession, bot_id: int) -> TargetBot | None:
    """The target bot with `bot_id`; None for any number that names none."""
    if not is_row_id(bot_id):
        return None
    return await session.get(TargetBot, bot_id)


async def get_bot_by_codename(session: AsyncSession, codename: str) -> TargetBot | None:
    """The target bot called `codename`."""
    return (
        await session.execute(select(TargetBot).where(TargetBot.codename == codename))
    ).scalar_one_or_none()


async def list_campaigns(
    session: AsyncSession,
    *,
    statuses: Iterable[CampaignStatus] | None = None,
    offset: int = 0,
    limit: int = 10,
) -> tuple[Sequence[Campaign], int]:
    """A page of campaigns, newest first, and how many there are in all."""
    query = select(Campaign)
    count_query = select(func.count()).select_from(Campaign)
    if statuses is not None:
        wanted = list(statuses)
        query = query.where(Campaign.status.in_(wanted))
        count_query = count_query.where(Campaign.status.in_(wanted))
    query = query.order_by(Campaign.id.desc()).offset(offset).limit(limit)
    campaigns = (await session.execute(query)).scalars().all()
    total = int((await session.execute(count_query)).scalar_one())
    return campaigns, total


async def create_campaign(
    session: AsyncSession,
    *,
    bot_id: int,
    content: MessageContent,
    name: str | None = None,
    created_by: int | None = None,
    platform: str = "telegram",
) -> Campaign:
    """A new DRAFT campaign."""
    if await session.get(TargetBot, bot_id) is None:
        raise CampaignError(f"There is no target bot #{bot_id}.")
    campaign = Campaign(
        bot_id=bot_id,
        platform=platform,
        content=content.to_json(),
        name=(name or None),
        created_by=created_by,
        status=CampaignStatus.DRAFT,
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def _transition(
    session: AsyncSession,
    campaign_id: int,
    expected: Iterable[CampaignStatus],
    new: CampaignStatus,
    **values: object,
) -> bool:
    """Compare-and-set the status of one campaign; whether this caller made the change."""
    statement = (
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status.in_(list(expected)))
        .values(status=new, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    assert isinstance(result, CursorResult)
    return bool(result.rowcount == 1)


async def schedule(
    session: AsyncSession, campaign_id: int, when: datetime, *, now: datetime | None = None
) -> bool:
    """Schedule a draft (or move a scheduled campaign) to `when`, which must be in the future."""
    if when.tzinfo is None:
        raise CampaignError("The time has no time zone.")
    if when <= (now or utcnow()):
        raise CampaignError("That time is in the past.")
    return await _transition(
        session,
        campaign_id,
        EDITABLE_STATUSES,
        CampaignStatus.SCHEDULED,
        scheduled_at=when,
        status_reason=None,
    )


async def unschedule(session: AsyncSession, campaign_id: int, *, reason: str | None = None) -> bool:
    """Take a scheduled campaign back to DRAFT."""
    return await _transition(
        session,
        campaign_id,
        [CampaignStatus.SCHEDULED],
        CampaignStatus.DRAFT,
        scheduled_at=None,
        status_reason=reason,
    )


async def set_progress_target(session: AsyncSession, campaign_id: int, chat_id: int | None) -> None:
    """Where the live progress message of `campaign_id` goes (an admin's chat), if anywhere."""
    await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(progress_chat_id=chat_id, progress_message_id=None)
        .execution_options(synchronize_session=False)
    )


async def pause(session: AsyncSession, campaign_id: int) -> bool:
    """Stop new sends of a SENDING campaign; in-flight requests still get recorded."""
    return await _transition(session, campaign_id, [CampaignStatus.SENDING], CampaignStatus.PAUSED)


async def resume(session: AsyncSession, campaign_id: int) -> bool:
    """Let a PAUSED campaign send again (the caller then enqueues its batches)."""
    return await _transition(
        session, campaign_id, [CampaignStatus.PAUSED], CampaignStatus.SENDING, status_reason=None
    )


async def cancel(session: AsyncSession, campaign_id: int, *, reason: str | None = None) -> bool:
    """Stop a campaign for good; recipients not yet sent to are marked cancelled."""
    now = utcnow()
    changed = await _transition(
        session,
        campaign_id,
        CANCELLABLE_STATUSES,
        CampaignStatus.CANCELLED,
        completed_at=now,
        status_reason=reason,
    )
    if not changed:
        return False
    result = await session.execute(
        update(Delivery)
        .where(Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount:
        await session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(cancelled_count=Campaign.cancelled_count + result.rowcount)
            .execution_options(synchronize_session=False)
        )
    return True


async def delete_draft(session: AsyncSession, campaign_id: int) -> bool:
    """Delete a campaign that is still a draft."""
    campaign = await get_campaign(session, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.DRAFT:
        return False
    await session.delete(campaign)
    await session.flush()
    return True


async def duplicate(session: AsyncSession, campaign_id: int, *, created_by: int | None = None) -> Campaign:
    """A new draft with the same target bot, message and name as `campaign_id`."""
    original = await get_campaign(session, campaign_id)
    if original is None:
        raise CampaignError(f"There is no campaign #{campaign_id}.")
    copy = Campaign(
        bot_id=original.bot_id,
        platform=original.platform,
        content=dict(original.content),
        name=original.name,
        created_by=created_by if created_by is not None else original.created_by,
        status=CampaignStatus.DRAFT,
    )
    session.add(copy)
    await session.flush()
    return copy


async def delivery_counts(session: AsyncSession, campaign_id: int) -> dict[DeliveryStatus, int]:
    """Delivery rows of a campaign by status, counted from the rows themselves."""
    rows = await session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.campaign_id == campaign_id)
        .group_by(Delivery.status)
    )
    return {DeliveryStatus(status): int(count) for status, count in rows.all()}
