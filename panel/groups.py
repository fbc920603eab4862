"""Campaign groups: one announcement through several target bots, one copy per person.

A group is one campaign per bot (pacing, claims, recall and edit stay per campaign), linked by
`Campaign.group_id` (the first sibling's id) in the admin's order (`group_position`). A person
whose private chat is reachable through several of the bots (the chat id is the user id in
every bot) is in the audience of the first of them only: each sibling's audience leaves out the
chats an earlier sibling's audience holds. Functions take an `AsyncSession` and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, false, func, not_, or_, select, true, union
from sqlalchemy.ext.asyncio import AsyncSession

from models import Campaign, TargetBot, User, utcnow
from panel import campaigns, texts
from panel.campaigns import CampaignError
from panel.content import MessageContent
from panel.segments import recently_reached, segment_where
from panel.send_options import SendOptions
from panel.topics import opted_out

MAX_GROUP_BOTS = 10
"""The most bots one announcement goes through (the picker's buttons stay on one screen)."""


def reachable(
    bot_id: int,
    platform: str,
    audience_filter: str | None,
    cap_hours: int,
    *,
    topic: str | None = None,
    now: datetime | None = None,
) -> ColumnElement[bool]:
    """Users of `bot_id` a campaign of it reaches now: available, in its segment, not capped,
    not opted out of its `topic` (`panel.topics`)."""
    now = now or utcnow()
    return and_(
        User.bot_id == bot_id,
        User.platform == platform,
        User.is_unavailable.is_(False),
        segment_where(audience_filter, now=now),
        not_(recently_reached(bot_id, cap_hours, now=now)) if cap_hours else true(),
        not_(opted_out(bot_id, topic)) if topic else true(),
    )


async def create_group(
    session: AsyncSession,
    *,
    bot_ids: Sequence[int],
    content: MessageContent,
    name: str | None = None,
    created_by: int | None = None,
    options: SendOptions | None = None,
) -> list[Campaign]:
    """One DRAFT campaign per bot of `bot_ids`, in that order; with more than one bot they are
    siblings of one group. Raises `CampaignError` for no bot, a bot twice, or too many."""
    if not bot_ids:
        raise CampaignError("Choose at least one target bot.")
    if len(set(bot_ids)) != len(bot_ids):
        raise CampaignError("A bot is named twice: each bot once, in the order you prefer.")
    if len(bot_ids) > MAX_GROUP_BOTS:
        raise CampaignError(f"At most {MAX_GROUP_BOTS} bots in one announcement.")
    created = [
        await campaigns.create_campaign(
            session, bot_id=bot_id, content=content, name=name, created_by=created_by, options=options
        )
        for bot_id in bot_ids
    ]
    if len(created) > 1:
        for position, campaign in enumerate(created):
            campaign.group_id = created[0].id
            campaign.group_position = position
        await session.flush()
    return created


async def siblings(session: AsyncSession, campaign_id: int) -> list[Campaign]:
    """The campaigns of `campaign_id`'s group in the admin's order (just it when not grouped;
    empty when there is no such campaign)."""
    campaign = await campaigns.get_campaign(session, campaign_id)
    if campaign is None:
        return []
    if campaign.group_id is None:
        return [campaign]
    found = await session.scalars(
        select(Campaign)
        .where(Campaign.group_id == campaign.group_id)
        .order_by(Campaign.group_position, Campaign.id)
        .execution_options(populate_existing=True)
    )
    return list(found.all())


async def sibling_ids(session: AsyncSession, campaign_id: int) -> list[int]:
    """The ids of `campaign_id`'s group in order (just it when not grouped)."""
    group_id = await session.scalar(select(Campaign.group_id).where(Campaign.id == campaign_id))
    if group_id is None:
        return [campaign_id]
    found = await session.scalars(
        select(Campaign.id)
        .where(Campaign.group_id == group_id)
        .order_by(Campaign.group_position, Campaign.id)
    )
    return [int(i) for i in found.all()]


def group_bots_query(campaign_id: int) -> Select[int]:
    """The bot ids of `campaign_id` and of its siblings (for scope checks)."""
    group_of = select(Campaign.group_id).where(Campaign.id == campaign_id).scalar_subquery()
    return select(Campaign.bot_id).where(
        or_(Campaign.id == campaign_id, and_(Campaign.group_id.is_not(None), Campaign.group_id == group_of))
    )


@dataclass(frozen=True, slots=True)
class Share:
    """One bot's part of a group's audience now: whom it reaches, and whom an earlier bot does."""

    bot: TargetBot
    reached: int
    via_earlier: int
    """Users of this bot reachable by it, left out because an earlier bot of the group reaches them."""
    earlier: tuple[TargetBot, ...]


async def shares(
    session: AsyncSession,
    targets: Sequence[tuple[int, str | None, str | None]],
    *,
    platform: str = "telegram",
    now: datetime | None = None,
) -> list[Share]:
    """Each target's audience after the one-copy-per-person rule, in order: `targets` are (bot
    id, segment expression, topic), the rule is the one `freeze_audience` applies at the start."""
    now = now or utcnow()
    found: list[Share] = []
    earlier_chats: list[Select[int]] = []
    earlier_bots: list[TargetBot] = []
    for bot_id, audience_filter, topic in targets:
        bot = await campaigns.get_bot(session, bot_id)
        if bot is None:
            continue
        here = reachable(
            bot.id, platform, audience_filter, bot.frequency_cap_hours or 0, topic=topic, now=now
        )
        overlap: ColumnElement[bool] = (
            User.chat_id.in_(union(*earlier_chats) if len(earlier_chats) > 1 else earlier_chats[0])
            if earlier_chats
            else false()
        )
        total, via = (
            await session.execute(select(func.count(), func.count().filter(overlap)).where(here))
        ).one()
        found.append(Share(bot, int(total or 0) - int(via or 0), int(via or 0), tuple(earlier_bots)))
        earlier_chats.append(select(User.chat_id).where(here))
        earlier_bots.append(bot)
    return found


async def campaign_shares(session: AsyncSession, group: Sequence[Campaign]) -> list[Share]:
    """`shares` of a group's campaigns (their bots and segments, in the group's order)."""
    platform = group[0].platform if group else "telegram"
    targets = [(c.bot_id, c.audience_filter, c.topic) for c in group]
    return await shares(session, targets, platform=platform)


async def group_lines(session: AsyncSession, campaign: Campaign) -> tuple[str, ...]:
    """For a campaign of a group, the lines its progress message and summary add: which bot of
    the group it is, and each bot's share so far (sent of its recipients). None otherwise."""
    if campaign.group_id is None:
        return ()
    found = (
        await session.execute(
            select(Campaign.id, TargetBot.codename, Campaign.successful_sents, Campaign.total_recipients)
            .join(TargetBot, TargetBot.id == Campaign.bot_id)
            .where(Campaign.group_id == campaign.group_id)
            .order_by(Campaign.group_position, Campaign.id)
        )
    ).all()
    place = next((index for index, row in enumerate(found) if row[0] == campaign.id), 0)
    return (
        texts.GROUP_PART.format(
            position=place + 1, bots=len(found), group_id=campaign.group_id, bot=found[place][1]
        ),
        texts.GROUP_SHARES.format(
            shares=" · ".join(
                texts.GROUP_SHARE.format(bot=codename, sent=texts.number(sent), total=texts.number(total))
                for _, codename, sent, total in found
            )
        ),
    )


def share_line(found: Sequence[Share]) -> str:
    """The audience of a group before it starts, bot by bot after the one-copy rule:
    `news 4,100 · shop 900 (1,200 already reached via news)`."""
    parts = []
    for share in found:
        part = texts.GROUP_AUDIENCE_SHARE.format(bot=share.bot.codename, users=texts.number(share.reached))
        if share.via_earlier:
            part += texts.GROUP_AUDIENCE_VIA.format(
                users=texts.number(share.via_earlier), bots=", ".join(bot.codename for bot in share.earlier)
            )
        parts.append(part)
    return texts.GROUP_AUDIENCE.format(
        shares=" · ".join(parts), total=texts.number(sum(share.reached for share in found))
    )
