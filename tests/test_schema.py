"""The models and the migrations agree, and the tables keep their rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models import ActionKind, Base, Campaign, CampaignAction, CampaignStatus, TargetBot, User
from tests.support.keys import sealed


async def test_migrations_match_models(engine: AsyncEngine) -> None:
    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


async def test_one_user_row_per_bot_and_chat(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        bot = TargetBot(codename="news", sealed_token=sealed("1:abc"))
        session.add(bot)
        await session.flush()
        session.add_all([User(bot_id=bot.id, chat_id=42), User(bot_id=bot.id, chat_id=42)])
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_datetimes_come_back_timezone_aware(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    when = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
    async with sessionmaker() as session:
        bot = TargetBot(codename="news", sealed_token=sealed("1:abc"))
        session.add(bot)
        await session.flush()
        session.add(Campaign(bot_id=bot.id, content={"text": "hi"}, scheduled_at=when))
        await session.commit()
    async with sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
        assert campaign.scheduled_at == when
        assert campaign.scheduled_at is not None and campaign.scheduled_at.tzinfo is not None
        assert campaign.status is CampaignStatus.DRAFT
        assert campaign.created_at.tzinfo is not None


async def test_naive_datetimes_are_refused(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        bot = TargetBot(codename="news", sealed_token=sealed("1:abc"))
        session.add(bot)
        await session.flush()
        session.add(Campaign(bot_id=bot.id, content={"text": "hi"}, scheduled_at=datetime(2026, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            await session.commit()


# ---- edit sent messages (issue 14)


async def test_an_action_may_be_an_edit_and_nothing_unknown(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        bot = TargetBot(codename="news", sealed_token=sealed("1:abc"))
        session.add(bot)
        await session.flush()
        campaign = Campaign(bot_id=bot.id, content={"text": "hi"})
        session.add(campaign)
        await session.flush()
        session.add(CampaignAction(campaign_id=campaign.id, kind=ActionKind.EDIT, content={"text": "hello"}))
        await session.commit()
        with pytest.raises(IntegrityError):
            await session.execute(
                text(
                    "INSERT INTO campaign_actions (campaign_id, kind, status, created_at) "
                    "VALUES (:campaign_id, 'bogus', 'running', CURRENT_TIMESTAMP)"
                ),
                {"campaign_id": campaign.id},
            )
