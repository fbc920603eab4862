"""Who a campaign reaches: a target bot's audience now, and a campaign seen with it.

The read models behind the control bot's cards and confirmations (how many users, how many
left out, how long sending takes); they read and never write.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, false, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import UNSTARTED_CAMPAIGN_STATUSES, Campaign, TargetBot, User
from panel import campaigns, groups, texts
from panel.bots import bot_summaries
from panel.content import messages_per_recipient
from panel.segments import recently_reached, segment_where
from panel.topics import opted_out


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a campaign through `bot` would reach now, and how long sending takes."""

    bot: TargetBot
    available: int
    excluded: int
    rate_per_s: int
    duration: timedelta
    capped: int = 0
    """Available users left out because the bot reached them within its frequency cap."""
    opted_out: int = 0
    """Available users left out because they opted out of the campaign's topic (`panel.topics`)."""


@dataclass(frozen=True, slots=True)
class CampaignView:
    """A campaign with its target bot and current audience, for cards and confirmations."""

    campaign: Campaign
    audience: Audience
    group_lines: tuple[str, ...] = ()
    """For a campaign of a group (`panel.groups`): its siblings and each bot's share, before
    the start after the one-copy rule, after it as sent so far."""


def bot_label(bot: TargetBot) -> str:
    """How a target bot is named to admins: `news (@news_bot)`."""
    return f"{bot.codename} (@{bot.username})" if bot.username else bot.codename


def _audience(
    bot: TargetBot,
    *,
    users: int,
    available: int,
    content: Mapping[str, Any] | None = None,
    capped: int = 0,
    opted_out: int = 0,
) -> Audience:
    rate = campaigns.effective_rate(bot, content)
    each = messages_per_recipient(content) if content is not None else 1
    available -= capped + opted_out
    return Audience(
        bot=bot,
        available=available,
        excluded=max(users - available - capped - opted_out, 0),
        capped=capped,
        opted_out=opted_out,
        rate_per_s=rate,
        duration=campaigns.estimate_duration(available, rate, messages_each=each),
    )


async def audience_of(
    session: AsyncSession,
    bot: TargetBot,
    platform: str = "telegram",
    *,
    content: Mapping[str, Any] | None = None,
    audience_filter: str | None = None,
    topic: str | None = None,
) -> Audience:
    """The audience of `bot` now: available users, those left out, and the sending time (of
    `content`, when given: an album takes a message per item, a forward goes at the free rate).
    `audience_filter`: a segment expression; users outside it count as left out. `topic`: the
    campaign's topic; users who opted out of it are counted apart."""
    available_now = and_(User.is_unavailable.is_(False), segment_where(audience_filter))
    opted_now = and_(available_now, opted_out(bot.id, topic)) if topic else false()
    cap = bot.frequency_cap_hours or 0
    capped_now = and_(available_now, not_(opted_now), recently_reached(bot.id, cap)) if cap else false()
    users, available, capped, opted = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(available_now),
                func.count().filter(capped_now),
                func.count().filter(opted_now),
            ).where(User.bot_id == bot.id, User.platform == platform)
        )
    ).one()
    return _audience(
        bot,
        users=int(users),
        available=int(available or 0),
        content=content,
        capped=int(capped or 0),
        opted_out=int(opted or 0),
    )


async def bot_audiences(session: AsyncSession, *, bot_ids: Collection[int] | None = None) -> list[Audience]:
    """Every target bot (or those of `bot_ids`) with its audience, by codename (one query for all)."""
    return [
        _audience(item.bot, users=item.users, available=item.available)
        for item in await bot_summaries(session, bot_ids=bot_ids)
    ]


async def campaign_view(session: AsyncSession, campaign_id: int) -> CampaignView | None:
    """The campaign `campaign_id` with its bot and audience, or None if it does not exist."""
    campaign = await campaigns.get_campaign(session, campaign_id)
    if campaign is None:
        return None
    bot = await campaigns.get_bot(session, campaign.bot_id)
    if bot is None:  # pragma: no cover - the foreign key forbids it
        return None
    audience = await audience_of(
        session,
        bot,
        campaign.platform,
        content=campaign.content,
        audience_filter=campaign.audience_filter,
        topic=campaign.topic,
    )
    group_lines = await _group_lines(session, campaign)
    return CampaignView(campaign=campaign, audience=audience, group_lines=group_lines)


async def _group_lines(session: AsyncSession, campaign: Campaign) -> tuple[str, ...]:
    if campaign.group_id is None:
        return ()
    group = await groups.siblings(session, campaign.id)
    listed = texts.CARD_GROUP.format(
        group_id=campaign.group_id,
        campaigns=", ".join(f"#{c.id}" for c in group),
    )
    if campaign.status in UNSTARTED_CAMPAIGN_STATUSES:
        return (listed, groups.share_line(await groups.campaign_shares(session, group)))
    return (listed, *(await groups.group_lines(session, campaign))[1:])


async def sample_user(session: AsyncSession, bot_id: int, *, chat_id: int | None = None) -> User | None:
    """A user of the bot whom a campaign would reach: `chat_id`'s row if given, else one with a
    first name (the preview of a personalised message shows it as that person sees it)."""
    query = select(User).where(User.bot_id == bot_id, User.is_unavailable.is_(False))
    if chat_id is not None:
        query = query.where(User.chat_id == chat_id)
    query = query.order_by(User.first_name.is_(None), User.id).limit(1)
    return (await session.execute(query)).scalars().first()
