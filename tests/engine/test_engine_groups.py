"""One announcement through several bots: one copy per person, each bot at its own pace."""

from __future__ import annotations

from collections import Counter

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Campaign, CampaignStatus, DeliveryStatus, TargetBot, User
from panel import actions, approval, groups
from panel.audience import audience_of
from panel.audit import CLI
from panel.content import MessageContent
from tests.support.engine import (
    ADMIN_CHAT_ID,
    TARGET_TOKEN,
    Workers,
    assert_counters_match_rows,
    delivered,
    read,
    rows,
    wait_for_status,
)
from tests.support.keys import sealed
from tgsim.simulator import Simulator
from tgsim.world import UserState

SHOP_TOKEN = "200002:AAengineShopBotToken"
CLUB_TOKEN = "200003:AAengineClubBotToken"

# Who uses which bot (the same person has the same private chat id in each).
ONLY_NEWS = range(1_000_000, 1_000_100)
NEWS_SHOP = range(1_100_000, 1_100_060)
ALL_THREE = range(1_200_000, 1_200_040)
ONLY_SHOP = range(1_300_000, 1_300_265)
SHOP_CLUB = range(1_400_000, 1_400_030)
ONLY_CLUB = range(1_500_000, 1_500_270)
GONE_FROM_NEWS = range(1_600_000, 1_600_025)
"""Known unavailable in news (they blocked it earlier), available in shop: shop reaches them."""
BLOCKS_NEWS = range(1_700_000, 1_700_015)
"""Blocked news without news knowing yet, active in shop: news's 403 is their answer."""


async def _bot(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    token: str,
    codename: str,
    *,
    rate_per_s: int,
    users: list[int],
    unavailable: list[int] = (),  # type: ignore[assignment]
    blocked: list[int] = (),  # type: ignore[assignment]
) -> int:
    if token not in sim.world.bots:
        sim.add_bot(token, username=f"{codename}_bot", paid_broadcast=True)
    sim.add_users(token, [chat for chat in users if chat not in blocked])
    sim.add_users(token, list(blocked), state=UserState.BLOCKED)
    async with sessionmaker.begin() as session:
        bot = TargetBot(
            codename=codename, sealed_token=sealed(token), rate_per_s=rate_per_s, paid_broadcast=True
        )
        session.add(bot)
        await session.flush()
        session.add_all(
            User(bot_id=bot.id, chat_id=chat, is_unavailable=chat in unavailable) for chat in users
        )
        return bot.id


async def test_a_group_reaches_each_person_once_through_the_first_bot_that_can(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    news = await _bot(
        sessionmaker,
        sim,
        TARGET_TOKEN,
        "news",
        rate_per_s=300,
        users=[*ONLY_NEWS, *NEWS_SHOP, *ALL_THREE, *GONE_FROM_NEWS, *BLOCKS_NEWS],
        unavailable=list(GONE_FROM_NEWS),
        blocked=list(BLOCKS_NEWS),
    )
    shop = await _bot(
        sessionmaker,
        sim,
        SHOP_TOKEN,
        "shop",
        rate_per_s=100,
        users=[*NEWS_SHOP, *ALL_THREE, *ONLY_SHOP, *SHOP_CLUB, *GONE_FROM_NEWS, *BLOCKS_NEWS],
    )
    club = await _bot(
        sessionmaker, sim, CLUB_TOKEN, "club", rate_per_s=150, users=[*ALL_THREE, *SHOP_CLUB, *ONLY_CLUB]
    )
    async with sessionmaker.begin() as session:
        group = await groups.create_group(
            session,
            bot_ids=[news, shop, club],
            content=MessageContent(text="One copy each"),
            created_by=ADMIN_CHAT_ID,
        )
        ids = [campaign.id for campaign in group]
        shares = await groups.campaign_shares(session, group)
    # The preview's per-bot counts follow the rule the start applies.
    assert [(s.bot.codename, s.reached, s.via_earlier) for s in shares] == [
        ("news", 215, 0),
        ("shop", 320, 115),
        ("club", 270, 70),
    ]

    workers.start(2)
    # Started from any sibling, the group starts as one.
    started = await actions.start(
        sessionmaker, pool, ids[1], queue_name=queue_name, actor=CLI, progress_chat_id=ADMIN_CHAT_ID
    )
    assert started is actions.StartOutcome.STARTED
    finished = [await wait_for_status(sessionmaker, i, workers=workers, timeout_s=60) for i in ids]

    assert [c.status for c in finished] == [CampaignStatus.COMPLETED] * 3
    assert [c.total_recipients for c in finished] == [215, 320, 270]
    for campaign_id in ids:
        await assert_counters_match_rows(sessionmaker, campaign_id)
    by_bot = {token: delivered(sim, token) for token in (TARGET_TOKEN, SHOP_TOKEN, CLUB_TOKEN)}
    copies: Counter[int] = Counter()
    for per_chat in by_bot.values():
        copies.update(per_chat)
    reachable = {*ONLY_NEWS, *NEWS_SHOP, *ALL_THREE, *ONLY_SHOP, *SHOP_CLUB, *ONLY_CLUB, *GONE_FROM_NEWS}
    assert set(copies) == reachable
    assert set(copies.values()) == {1}
    assert set(by_bot[TARGET_TOKEN]) == {*ONLY_NEWS, *NEWS_SHOP, *ALL_THREE}
    assert set(by_bot[SHOP_TOKEN]) == {*ONLY_SHOP, *SHOP_CLUB, *GONE_FROM_NEWS}
    assert set(by_bot[CLUB_TOKEN]) == set(ONLY_CLUB)
    # Blocking news is their answer: no second try through shop.
    news_rows = {row.chat_id: row.status for row in await rows(sessionmaker, ids[0])}
    assert {news_rows[chat] for chat in BLOCKS_NEWS} == {DeliveryStatus.UNAVAILABLE}
    assert not {row.chat_id for row in await rows(sessionmaker, ids[1])} & set(BLOCKS_NEWS)
    # Each token at its own bot's pace (shop and club take seconds at theirs), the bots in parallel.
    stats = {token: sim.stats(token) for token in (TARGET_TOKEN, SHOP_TOKEN, CLUB_TOKEN)}
    assert stats[TARGET_TOKEN].peak_per_second <= 300
    assert stats[SHOP_TOKEN].peak_per_second <= 100
    assert stats[CLUB_TOKEN].peak_per_second <= 150
    shop_window = (stats[SHOP_TOKEN].first_passed_at, stats[SHOP_TOKEN].last_passed_at)
    club_window = (stats[CLUB_TOKEN].first_passed_at, stats[CLUB_TOKEN].last_passed_at)
    assert None not in shop_window and None not in club_window
    assert club_window[0] < shop_window[1] and shop_window[0] < club_window[1]  # type: ignore[operator]

    # Cancelling (like pausing, resuming, scheduling) one sibling acts on the whole group.
    async with sessionmaker.begin() as session:
        again = await groups.create_group(
            session, bot_ids=[club, news], content=MessageContent(text="Never mind"), created_by=ADMIN_CHAT_ID
        )
    assert await actions.cancel(sessionmaker, pool, again[1].id, queue_name=queue_name, actor=CLI)

    async def group_of(session: AsyncSession) -> list[Campaign]:
        return await groups.siblings(session, again[0].id)

    assert [c.status for c in await read(sessionmaker, group_of)] == [CampaignStatus.CANCELLED] * 2
    # Duplicating one sibling copies the group, in its order.
    copy = await actions.duplicate(sessionmaker, again[1].id, actor=CLI)

    async def copied(session: AsyncSession) -> list[Campaign]:
        return await groups.siblings(session, copy.id)

    assert [(c.bot_id, c.group_id, c.status) for c in await read(sessionmaker, copied)] == [
        (club, copy.id, CampaignStatus.DRAFT),
        (news, copy.id, CampaignStatus.DRAFT),
    ]

    # Each bot's part meets its own approval threshold with whom it will reach: news, after club
    # took the 40 people of all three bots, reaches 160 (200 alone), under its threshold of 200.
    async with sessionmaker.begin() as session:
        news_bot = await session.get(TargetBot, news)
        assert news_bot is not None
        news_bot.approval_threshold = 200
    async with sessionmaker() as session:
        copied_group = await groups.siblings(session, copy.id)
        need = await approval.need_of(session, copied_group[1])
        alone = await audience_of(session, news_bot)
    assert (need.required, need.audience, alone.available) == (False, 160, 200)
