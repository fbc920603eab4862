"""Blocked, unblocked, then reached again: the tracker's table is what the real engine sends to."""

from __future__ import annotations

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import CampaignStatus
from panel.queue import enqueue_start
from tests.support.control import NEWS_TOKEN, NEWS_USERS, control_settings, engine_worker_running
from tests.support.engine import delivered, new_campaign, wait_for_status
from tests.tracker.conftest import TargetBot
from tests.tracker.test_tracker import until
from tgsim.simulator import Simulator

ALICE, BOB = NEWS_USERS[0], NEWS_USERS[1]


async def campaign_reaches(
    sim: Simulator,
    news: TargetBot,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
    database_url: str,
    redis_url: str,
) -> dict[int, int]:
    """Run one campaign to its end through the real engine; returns the messages per chat it added."""
    settings = control_settings(sim, database_url, redis_url)
    before = dict(delivered(sim, NEWS_TOKEN))
    campaign_id = await new_campaign(sessionmaker, news.bot_id)
    async with engine_worker_running(settings):
        await enqueue_start(arq_pool, campaign_id, queue_name=settings.queue_name)
        campaign = await wait_for_status(sessionmaker, campaign_id)
    assert campaign.status is CampaignStatus.COMPLETED
    after = delivered(sim, NEWS_TOKEN)
    return {chat: after[chat] - before.get(chat, 0) for chat in after if after[chat] != before.get(chat, 0)}


async def test_blocked_then_unblocked_user_receives_again(
    sim: Simulator,
    news: TargetBot,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
    database_url: str,
    redis_url: str,
) -> None:
    sim.block(NEWS_TOKEN, ALICE)
    await until(sessionmaker, news, lambda u: u is not None and u.is_unavailable)
    first = await campaign_reaches(sim, news, sessionmaker, arq_pool, database_url, redis_url)
    assert ALICE not in first and BOB in first

    sim.unblock(NEWS_TOKEN, ALICE)
    await until(sessionmaker, news, lambda u: u is not None and not u.is_unavailable)
    second = await campaign_reaches(sim, news, sessionmaker, arq_pool, database_url, redis_url)
    assert second.get(ALICE) == 1
