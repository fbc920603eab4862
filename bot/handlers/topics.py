"""/topics: each bot's topics and how many unsubscribed from each; `/topics BOT add|remove TOPIC`
changes them (`panel.topics`)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from panel import campaigns, texts
from panel import topics as bot_topics
from panel.audit import Actor
from panel.bots import bot_summaries
from panel.roles import Access


async def topics(
    message: Message, command: CommandObject, sessionmaker: async_sessionmaker[AsyncSession], access: Access
) -> None:
    """Without arguments, the topics of the bots in the admin's scope; with `BOT add|remove TOPIC`,
    change one bot's topics."""
    words = (command.args or "").split()
    if not words:
        async with sessionmaker() as session:
            lines = []
            for item in await bot_summaries(session, bot_ids=access.bot_ids):
                counted = await bot_topics.topic_counts(session, item.bot.id)
                listed = " · ".join(
                    texts.TOPIC_COUNT.format(topic=topic, count=texts.number(count))
                    for topic, count in counted
                )
                lines.append(
                    texts.TOPICS_LINE.format(bot=item.bot.codename, topics=listed or texts.TOPIC_NONE)
                )
        await message.answer(texts.TOPICS_LIST.format(lines="\n".join(lines) or texts.NO_BOTS))
        return
    if len(words) != 3 or words[1].lower() not in ("add", "remove"):
        await message.answer(texts.TOPICS_USAGE)
        return
    codename, action, name = words[0], words[1].lower(), words[2]
    try:
        async with sessionmaker.begin() as session:
            bot = await campaigns.get_bot_by_codename(session, codename)
            if bot is None or not access.sees(bot.id):  # another scope's bot is no bot to them
                raise bot_topics.TopicError(f"there is no target bot {codename!r}")
            actor = Actor.chat(message.chat.id)
            if action == "add":
                topic = await bot_topics.add_topic(session, codename, name, actor=actor)
            else:
                topic = await bot_topics.remove_topic(session, codename, name, actor=actor)
    except bot_topics.TopicError as error:
        await message.answer(texts.TOPICS_REFUSED.format(reason=str(error)))
        return
    done = texts.TOPIC_ADDED if action == "add" else texts.TOPIC_REMOVED
    await message.answer(done.format(bot=codename, topic=topic))


def create_router() -> Router:
    """The /topics handler, on a new router."""
    router = Router(name="topics")
    router.message.register(topics, Command("topics"))
    return router
