"""A campaign through real worker processes: every answer lands in the right final state."""

from __future__ import annotations

from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import CampaignStatus, DeliveryStatus, User
from panel.queue import enqueue_start
from tests.support.engine import (
    TARGET_TOKEN,
    TEST_RATE,
    Workers,
    add_audience,
    assert_counters_match_rows,
    delivered,
    get_campaign,
    new_campaign,
    read,
    rows,
    wait_for_status,
)
from tgsim.simulator import Simulator
from tgsim.world import UserState


async def test_every_answer_lands_in_one_final_state(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(
        sessionmaker,
        sim,
        active=300,
        states={UserState.BLOCKED: 20, UserState.DEACTIVATED: 10, UserState.NOT_STARTED: 10},
        unknown=10,
    )
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)

    assert campaign.status is CampaignStatus.COMPLETED
    assert campaign.completed_at is not None and campaign.started_at is not None
    await assert_counters_match_rows(sessionmaker, campaign_id)
    assert (campaign.total_recipients, campaign.successful_sents, campaign.unavailable_count) == (
        350,
        300,
        50,
    )
    per_chat = delivered(sim)
    assert sorted(per_chat) == list(range(1_000_000, 1_000_300))
    assert set(per_chat.values()) == {1}
    assert sim.stats(TARGET_TOKEN).duplicates == 0
    by_row = await rows(sessionmaker, campaign_id)
    sent = [row for row in by_row if row.status is DeliveryStatus.SENT]
    assert all(row.telegram_message_id for row in sent)
    reasons = {row.last_error for row in by_row if row.status is DeliveryStatus.UNAVAILABLE}
    assert reasons == {
        "Forbidden: bot was blocked by the user",
        "Forbidden: user is deactivated",
        "Forbidden: bot can't initiate conversation with a user",
        "Bad Request: chat not found",
    }
    # The unreachable users are marked, with a reason and a time, and left out next time.
    marked = await read(
        sessionmaker,
        lambda s: s.execute(select(User).where(User.bot_id == bot_id, User.is_unavailable.is_(True))),
    )
    marked_users = list(marked.scalars().all())
    assert len(marked_users) == 50
    assert all(user.unavailable_reason and user.unavailable_at for user in marked_users)

    second_id = await new_campaign(sessionmaker, bot_id, text="A second announcement")
    await enqueue_start(pool, second_id, queue_name=queue_name)
    second = await wait_for_status(sessionmaker, second_id, workers=workers)
    assert (second.status, second.total_recipients, second.successful_sents) == (
        CampaignStatus.COMPLETED,
        300,
        300,
    )
    assert sim.stats(TARGET_TOKEN).peak_per_second <= TEST_RATE


async def test_starting_twice_with_two_workers_starts_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=200)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(2)
    for _ in range(3):
        await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)

    assert (campaign.status, campaign.total_recipients, campaign.successful_sents) == (
        CampaignStatus.COMPLETED,
        200,
        200,
    )
    assert set(delivered(sim).values()) == {1}
    assert sim.stats(TARGET_TOKEN).duplicates == 0


async def test_empty_audience_completes_at_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=0)
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)

    assert (campaign.status, campaign.total_recipients) == (CampaignStatus.COMPLETED, 0)
    assert (await get_campaign(sessionmaker, campaign_id)).completed_at is not None


async def test_a_group_upgraded_to_a_supergroup_gets_the_message_at_its_new_id(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    workers: Workers,
    pool: ArqRedis,
    queue_name: str,
) -> None:
    bot_id = await add_audience(sessionmaker, sim, active=20)
    old_group, supergroup = -4_001, -1_001_234_567_890
    sim.add_group(TARGET_TOKEN, old_group)
    sim.migrate_group(TARGET_TOKEN, old_group, supergroup)
    async with sessionmaker.begin() as session:
        session.add(User(bot_id=bot_id, chat_id=old_group))
    campaign_id = await new_campaign(sessionmaker, bot_id)
    workers.start(1)
    await enqueue_start(pool, campaign_id, queue_name=queue_name)

    campaign = await wait_for_status(sessionmaker, campaign_id, workers=workers)

    assert (campaign.status, campaign.total_recipients, campaign.successful_sents) == (
        CampaignStatus.COMPLETED,
        21,
        21,
    )
    await assert_counters_match_rows(sessionmaker, campaign_id)
    per_chat = delivered(sim)
    assert per_chat[supergroup] == 1 and old_group not in per_chat
    (group_row,) = [row for row in await rows(sessionmaker, campaign_id) if row.chat_id == supergroup]
    assert group_row.status is DeliveryStatus.SENT and group_row.telegram_message_id
    group_user = await read(
        sessionmaker, lambda s: s.scalar(select(User).where(User.bot_id == bot_id, User.chat_id < 0))
    )
    assert group_user is not None and group_user.chat_id == supergroup
    assert sim.stats(TARGET_TOKEN).errors == {"Bad Request: group chat was upgraded to a supergroup chat": 1}

    # The next campaign writes to the supergroup straight away.
    second_id = await new_campaign(sessionmaker, bot_id, text="Again")
    await enqueue_start(pool, second_id, queue_name=queue_name)
    second = await wait_for_status(sessionmaker, second_id, workers=workers)
    assert (second.status, second.successful_sents) == (CampaignStatus.COMPLETED, 21)
    assert delivered(sim)[supergroup] == 2
    assert sum(sim.stats(TARGET_TOKEN).errors.values()) == 1
