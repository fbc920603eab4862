"""Opt-outs by topic: the unsubscribe button under a broadcast, answered by the tracker inside the
target bot, and the engine leaving the opted-out out of that topic's next campaigns."""

from __future__ import annotations

from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import CampaignStatus, TopicOptOut, User
from panel import campaigns, topics
from panel.audience import audience_of
from panel.audit import CLI
from panel.content import MessageContent
from panel.queue import enqueue_start
from panel.segments import segment_where
from tests.support.control import NEWS_TOKEN, NEWS_USERS, control_settings, engine_worker_running
from tests.support.engine import delivered, wait_for_status
from tests.tracker.conftest import TargetBot
from tgsim.simulator import Simulator

ALICE, BOB = NEWS_USERS[0], NEWS_USERS[1]
UNSUBSCRIBE = "🔕 Unsubscribe from news"


async def _send(
    sim: Simulator,
    news: TargetBot,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
    database_url: str,
    redis_url: str,
    *,
    topic: str | None,
    button: bool = False,
) -> dict[int, int]:
    """One campaign of `topic` through the real engine; the messages per chat it added."""
    settings = control_settings(sim, database_url, redis_url)
    before = dict(delivered(sim, NEWS_TOKEN))
    async with sessionmaker.begin() as session:
        campaign = await campaigns.create_campaign(
            session, bot_id=news.bot_id, content=MessageContent(text=f"About {topic}")
        )
        await topics.set_campaign_topic(session, campaign, topic, unsubscribe_button=button)
        campaign_id = campaign.id
    async with engine_worker_running(settings):
        await enqueue_start(arq_pool, campaign_id, queue_name=settings.queue_name)
        finished = await wait_for_status(sessionmaker, campaign_id)
    assert finished.status is CampaignStatus.COMPLETED
    after = delivered(sim, NEWS_TOKEN)
    return {chat: after[chat] - before.get(chat, 0) for chat in after if after[chat] != before.get(chat, 0)}


async def _opted_out(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[int, str]]:
    async with sessionmaker() as session:
        found = await session.execute(
            select(TopicOptOut.chat_id, TopicOptOut.topic).order_by(TopicOptOut.chat_id)
        )
        return [(int(chat), str(topic)) for chat, topic in found.all()]


async def test_unsubscribing_from_a_topic_leaves_one_out_of_that_topic_only(
    sim: Simulator,
    news: TargetBot,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
    database_url: str,
    redis_url: str,
) -> None:
    async with sessionmaker.begin() as session:
        for topic in ("news", "offers"):
            await topics.add_topic(session, "news", topic, actor=CLI)
    first = await _send(sim, news, sessionmaker, arq_pool, database_url, redis_url, topic="news", button=True)
    assert sorted(first) == NEWS_USERS

    # Alice taps the button under the broadcast: the tracker answers, records it, offers an Undo.
    broadcast = sim.chat(NEWS_TOKEN, ALICE).bot_messages[-1]
    assert [text for text, _ in broadcast.buttons] == [UNSUBSCRIBE]
    query_id = sim.press_button(NEWS_TOKEN, ALICE, broadcast.message_id, text=UNSUBSCRIBE)
    answer = await sim.wait_for_callback_answer(NEWS_TOKEN, query_id)
    assert answer.text is not None and answer.text.startswith("🔕 Unsubscribed from news.")
    confirmation = await sim.wait_for_message(
        NEWS_TOKEN, ALICE, lambda m: "Unsubscribed from news" in (m.text or ""), after_id=broadcast.message_id
    )
    assert [text for text, _ in confirmation.buttons] == ["↩️ Undo"]
    assert await _opted_out(sessionmaker) == [(ALICE, "news")]

    # Bob taps it too, then changes his mind.
    bob_broadcast = sim.chat(NEWS_TOKEN, BOB).bot_messages[-1]
    await sim.wait_for_callback_answer(
        NEWS_TOKEN, sim.press_button(NEWS_TOKEN, BOB, bob_broadcast.message_id, text=UNSUBSCRIBE)
    )
    bob_confirmation = await sim.wait_for_message(
        NEWS_TOKEN, BOB, lambda m: bool(m.buttons), after_id=bob_broadcast.message_id
    )
    undo = await sim.wait_for_callback_answer(
        NEWS_TOKEN, sim.press_button(NEWS_TOKEN, BOB, bob_confirmation.message_id, text="↩️ Undo")
    )
    assert undo.text == "🔔 Subscribed to news again."
    assert await _opted_out(sessionmaker) == [(ALICE, "news")]

    # The preview counts her out of news, not of offers; the segment language sees it too.
    async with sessionmaker() as session:
        bot = await campaigns.get_bot(session, news.bot_id)
        assert bot is not None
        of_news = await audience_of(session, bot, topic="news")
        of_offers = await audience_of(session, bot, topic="offers")
        unsubscribed = await session.scalars(
            select(User.chat_id).where(User.bot_id == bot.id, segment_where("not subscribed news"))
        )
        assert list(unsubscribed.all()) == [ALICE]
    assert (of_news.available, of_news.opted_out) == (11, 1)
    assert (of_offers.available, of_offers.opted_out) == (12, 0)

    second = await _send(sim, news, sessionmaker, arq_pool, database_url, redis_url, topic="news")
    assert sorted(second) == [chat for chat in NEWS_USERS if chat != ALICE]
    third = await _send(sim, news, sessionmaker, arq_pool, database_url, redis_url, topic="offers")
    assert sorted(third) == NEWS_USERS
