"""Campaigns as data: reading, creating, copying and deleting them, for the bot, CLI and workers.

Status changes are in `panel.transitions`, the use cases that commit in `panel.actions`.
Functions take an `AsyncSession` and never commit, so a caller can group several steps in
one transaction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    DELETABLE_CAMPAIGN_STATUSES,
    UNSTARTED_CAMPAIGN_STATUSES,
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    TargetBot,
)
from panel.buttons import Buttons
from panel.content import MessageContent, takes_paid_broadcast
from panel.greetings import PERSONALISED_KEY
from panel.send_options import SendOptions

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

    def as_dict(self) -> dict[str, int]:
        """Every counter by name, the remaining included."""
        return {
            "total": self.total,
            "sent": self.sent,
            "failed": self.failed,
            "unavailable": self.unavailable,
            "unconfirmed": self.unconfirmed,
            "cancelled": self.cancelled,
            "remaining": self.remaining,
        }

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


def effective_rate(bot: TargetBot, content: Mapping[str, Any] | None = None) -> int:
    """Messages per second the engine sends through `bot`'s token (for `content`: a forwarded
    post cannot be a paid broadcast, so it goes at the free limit)."""
    paid = bot.paid_broadcast and (content is None or takes_paid_broadcast(content))
    ceiling = 1000 if paid else 30
    return max(1, min(bot.rate_per_s, ceiling))


def estimate_duration(audience: int, rate_per_s: int, *, messages_each: int = 1) -> timedelta:
    """How long sending to `audience` recipients takes at `rate_per_s` messages a second, each
    recipient getting `messages_each` messages (an album's items)."""
    return timedelta(seconds=math.ceil(audience * messages_each / max(rate_per_s, 1)))


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
    bot_ids: Iterable[int] | None = None,
    offset: int = 0,
    limit: int = 10,
) -> tuple[Sequence[Campaign], int]:
    """A page of campaigns (of `bot_ids` only, an admin's scope, when given), newest first, and
    how many there are in all."""
    query = select(Campaign)
    count_query = select(func.count()).select_from(Campaign)
    if bot_ids is not None:
        scope = list(bot_ids)
        query = query.where(Campaign.bot_id.in_(scope))
        count_query = count_query.where(Campaign.bot_id.in_(scope))
    if statuses is not None:
        wanted = list(statuses)
        query = query.where(Campaign.status.in_(wanted))
        count_query = count_query.where(Campaign.status.in_(wanted))
    query = query.order_by(Campaign.id.desc()).offset(offset).limit(limit)
    campaigns = (await session.execute(query)).scalars().all()
    total = int((await session.execute(count_query)).scalar_one())
    return campaigns, total


async def startable_campaigns(
    session: AsyncSession, *, bot_ids: Iterable[int] | None = None, limit: int = 10
) -> Sequence[Campaign]:
    """Drafts and scheduled campaigns, newest first: what "send now" can pick from."""
    found, _ = await list_campaigns(
        session, statuses=UNSTARTED_CAMPAIGN_STATUSES, bot_ids=bot_ids, limit=limit
    )
    return found


async def create_campaign(
    session: AsyncSession,
    *,
    bot_id: int,
    content: MessageContent,
    name: str | None = None,
    created_by: int | None = None,
    platform: str = "telegram",
    options: SendOptions | None = None,
) -> Campaign:
    """A new DRAFT campaign (with `options`: how its message is sent; None: the defaults)."""
    if await session.get(TargetBot, bot_id) is None:
        raise CampaignError(f"There is no target bot #{bot_id}.")
    campaign = Campaign(
        bot_id=bot_id,
        platform=platform,
        content=content.to_json(),
        name=(name or None),
        created_by=created_by,
        status=CampaignStatus.DRAFT,
        send_options=replace(options or SendOptions(), track_links=None).to_json(),
        track_links=(options or SendOptions()).track_links,
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def set_progress_target(session: AsyncSession, campaign_id: int, chat_id: int | None) -> None:
    """Where the live progress message of `campaign_id` goes (an admin's chat), if anywhere."""
    await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(progress_chat_id=chat_id, progress_message_id=None)
        .execution_options(synchronize_session=False)
    )


async def delete_draft(session: AsyncSession, campaign_id: int) -> bool:
    """Delete a campaign that is still a draft."""
    campaign = await get_campaign(session, campaign_id)
    if campaign is None or campaign.status not in DELETABLE_CAMPAIGN_STATUSES:
        return False
    await session.delete(campaign)
    await session.flush()
    return True


async def set_draft_buttons(session: AsyncSession, campaign_id: int, buttons: Buttons) -> bool:
    """Replace the URL buttons of a campaign that is still a draft (none: remove them).

    Compare-and-set on the draft status: a campaign that has moved on keeps its message."""
    campaign = await get_campaign(session, campaign_id)
    if campaign is None or campaign.status is not CampaignStatus.DRAFT:
        return False
    album = bool(campaign.content.get("album"))
    if album and buttons and not campaign.content.get("text"):
        return False  # Telegram allows no buttons on an album; they need a follow-up message
    content = {key: value for key, value in campaign.content.items() if key != "buttons"}
    if buttons:
        content["buttons"] = buttons.to_json()
    elif album:  # the follow-up message only carried the buttons
        content.update(text="", entities=[])
        content.pop(PERSONALISED_KEY, None)
    changed = await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status == CampaignStatus.DRAFT)
        .values(content=content)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(campaign)
    return bool(getattr(changed, "rowcount", 0))


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
        send_options=SendOptions.from_json(original.send_options).to_json(),
        track_links=original.track_links,
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
