"""The block rate: recipients who blocked within 72 hours of a campaign, against the bot's other
users over the same hours; other kinds of unavailability and blocks outside the window do not count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Campaign, CampaignStatus, Delivery, DeliveryStatus, TargetBot, User
from panel.block_rate import block_rate, render_block_rate
from tests.support.keys import sealed

START = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


async def test_blocks_after_a_campaign_are_counted_against_the_baseline(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    blocked = {"is_unavailable": True, "unavailable_reason": "blocked"}
    async with sessionmaker.begin() as session:
        bot = TargetBot(codename="news", sealed_token=sealed("1:x"))
        session.add(bot)
        await session.flush()
        before = START - timedelta(days=3)
        plans: list[dict[str, object]] = [
            {**blocked, "unavailable_at": END + timedelta(hours=5)},  # recipient: counts
            {
                "is_unavailable": True,
                "unavailable_reason": "Forbidden: bot was blocked by the user",  # a later 403: counts
                "unavailable_at": END + timedelta(hours=70),
            },
            {**blocked, "unavailable_at": END + timedelta(hours=80)},  # after the window
            {
                "is_unavailable": True,
                "unavailable_reason": "Forbidden: user is deactivated",
                "unavailable_at": END,
            },
            {},
            {},
            # The bot's other users: one of four blocked in the same hours.
            {**blocked, "unavailable_at": START + timedelta(hours=30)},
            {},
            {},
            {},
            # Gone before the campaign: not in the baseline at all.
            {**blocked, "unavailable_at": START - timedelta(days=1)},
        ]
        users = [
            User(bot_id=bot.id, chat_id=100 + n, created_at=before, **plan) for n, plan in enumerate(plans)
        ]
        session.add_all(users)
        campaign = Campaign(
            bot_id=bot.id,
            content={"text": "hi"},
            status=CampaignStatus.COMPLETED,
            started_at=START,
            completed_at=END,
            successful_sents=6,
        )
        session.add(campaign)
        await session.flush()
        for user in users[:6]:
            session.add(
                Delivery(
                    campaign_id=campaign.id,
                    user_id=user.id,
                    chat_id=user.chat_id,
                    status=DeliveryStatus.SENT,
                    finished_at=START + timedelta(minutes=10),
                )
            )
    async with sessionmaker() as session:
        during = await block_rate(session, campaign, now=END + timedelta(hours=10))
        after = await block_rate(session, campaign, now=END + timedelta(hours=100))
    assert during is not None and after is not None
    assert (during.recipients, during.blocked, during.others, during.others_blocked) == (6, 2, 4, 1)
    assert not during.window_over and after.window_over
    assert render_block_rate(during) == (
        "🚫 Blocked the bot within 72 h: 2 of 6 (33.33%)"
        " · the bot's other 4 users, same hours: 25.00% · so far"
    )


async def test_a_campaign_that_reached_nobody_has_no_block_rate(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        bot = TargetBot(codename="news", sealed_token=sealed("1:x"))
        session.add(bot)
        await session.flush()
        campaign = Campaign(bot_id=bot.id, content={"text": "hi"}, status=CampaignStatus.DRAFT)
        session.add(campaign)
    async with sessionmaker() as session:
        assert await block_rate(session, campaign) is None
    assert render_block_rate(None) is None
