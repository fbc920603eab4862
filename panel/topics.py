"""Topics of a target bot (`news`, `offers`) and the users who opted out of one.

A campaign may have one of its bot's topics; users with an opt-out of that topic are left out of
it. The opt-outs are written by the tracker inside the target bot (`broadcast_tracker`), when a
user taps the "Unsubscribe from <topic>" button the engine puts under such a campaign's message;
its callback data is `unsub:<topic>` (and `resub:<topic>` to undo), which the tracker reads.
Functions take an `AsyncSession` and never commit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import BotTopic, Campaign, TopicOptOut, User
from panel import audit, campaigns, texts
from panel.audit import Actor, AuditAction
from panel.content import UNSUBSCRIBE_KEY

TOPIC_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
"""A topic's name: lower-case letters, digits, `_` and `-`, up to 32 (it rides in callback data)."""
UNSUBSCRIBE_PREFIX = "unsub:"
RESUBSCRIBE_PREFIX = "resub:"


class TopicError(ValueError):
    """A topic that cannot be added, removed or used; the text says why."""


def check_topic_name(name: str) -> str:
    """`name` as a topic's name (lower-cased), or TopicError saying what a name may be."""
    topic = name.strip().lower()
    if not TOPIC_PATTERN.fullmatch(topic):
        raise TopicError(
            f"“{name.strip()[:40]}” is no topic name: use 1 to 32 lower-case letters, digits, _ or -"
        )
    return topic


async def list_topics(session: AsyncSession, bot_id: int) -> list[str]:
    """The topics of bot `bot_id`, by name."""
    found = await session.scalars(
        select(BotTopic.topic).where(BotTopic.bot_id == bot_id).order_by(BotTopic.topic)
    )
    return list(found.all())


async def add_topic(session: AsyncSession, codename: str, name: str, *, actor: Actor) -> str:
    """Give bot `codename` the topic `name` (audited); TopicError if it has it or no such bot."""
    bot = await campaigns.get_bot_by_codename(session, codename)
    if bot is None:
        raise TopicError(f"there is no target bot {codename!r}")
    topic = check_topic_name(name)
    if topic in await list_topics(session, bot.id):
        raise TopicError(f"{codename} has the topic {topic} already")
    session.add(BotTopic(bot_id=bot.id, topic=topic))
    await audit.record(session, actor, AuditAction.ADD_TOPIC, bot_id=bot.id, details={"topic": topic})
    await session.flush()
    return topic


async def remove_topic(session: AsyncSession, codename: str, name: str, *, actor: Actor) -> str:
    """Take the topic `name` from bot `codename` (its opt-outs stay, should it come back)."""
    bot = await campaigns.get_bot_by_codename(session, codename)
    if bot is None:
        raise TopicError(f"there is no target bot {codename!r}")
    topic = name.strip().lower()
    removed = await session.execute(
        delete(BotTopic).where(BotTopic.bot_id == bot.id, BotTopic.topic == topic)
    )
    if not getattr(removed, "rowcount", 0):
        raise TopicError(f"{codename} has no topic {topic!r}")
    await audit.record(session, actor, AuditAction.REMOVE_TOPIC, bot_id=bot.id, details={"topic": topic})
    return topic


async def check_campaign_topic(session: AsyncSession, bot_id: int, topic: str) -> str:
    """`topic` if bot `bot_id` has it; TopicError naming the bot's topics otherwise."""
    topic = topic.strip().lower()
    known = await list_topics(session, bot_id)
    if topic not in known:
        bot = await campaigns.get_bot(session, bot_id)
        name = bot.codename if bot is not None else f"#{bot_id}"
        listed = ", ".join(known) or "none yet"
        raise TopicError(f"{name} has no topic {topic!r} (its topics: {listed})")
    return topic


def opted_out(bot_id: int, topic: str) -> ColumnElement[bool]:
    """Users of `bot_id` who opted out of `topic`."""
    return exists(
        select(TopicOptOut.chat_id).where(
            TopicOptOut.bot_id == bot_id, TopicOptOut.chat_id == User.chat_id, TopicOptOut.topic == topic
        )
    )


def unsubscribe_data(topic: str) -> str:
    """The callback data of the "Unsubscribe from <topic>" button (at most 38 bytes of 64)."""
    return UNSUBSCRIBE_PREFIX + topic


async def set_campaign_topic(
    session: AsyncSession, campaign: Campaign, topic: str | None, *, unsubscribe_button: bool = False
) -> None:
    """Give a draft `topic` (one of its bot's; None: no topic) and, if asked, the "Unsubscribe
    from <topic>" button under its message. TopicError for an unknown topic, a button without a
    topic, or a message that cannot carry the button (a forward takes no buttons; an album's
    buttons go in its follow-up message, so it needs URL buttons to have one)."""
    content = dict(campaign.content)
    content.pop(UNSUBSCRIBE_KEY, None)
    if topic is None:
        if unsubscribe_button:
            raise TopicError("the unsubscribe button needs a topic (--topic)")
        campaign.topic, campaign.unsubscribe_button, campaign.content = None, False, content
        return
    topic = await check_campaign_topic(session, campaign.bot_id, topic)
    if unsubscribe_button:
        refusal = button_refusal(content)
        if refusal is not None:
            raise TopicError(refusal)
        content[UNSUBSCRIBE_KEY] = {"topic": topic, "text": texts.UNSUBSCRIBE_BUTTON.format(topic=topic)}
    campaign.topic, campaign.unsubscribe_button, campaign.content = topic, unsubscribe_button, content


async def topic_counts(session: AsyncSession, bot_id: int) -> list[tuple[str, int]]:
    """Each topic of bot `bot_id` with how many users opted out of it."""
    counted = (
        select(func.count())
        .select_from(TopicOptOut)
        .where(TopicOptOut.bot_id == BotTopic.bot_id, TopicOptOut.topic == BotTopic.topic)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(BotTopic.topic, counted).where(BotTopic.bot_id == bot_id).order_by(BotTopic.topic)
    )
    return [(str(topic), int(count or 0)) for topic, count in rows.all()]


def button_refusal(content: Mapping[str, Any]) -> str | None:
    """Why stored `content` cannot carry the unsubscribe button, or None when it can."""
    post = content.get("channel_post")
    if isinstance(post, Mapping) and post.get("mode") == "forward":
        return "a forwarded post takes no buttons: copy it to add the unsubscribe button"
    if content.get("album") and not content.get("buttons"):
        return "an album carries its buttons in a follow-up message: give it URL buttons first"
    return None
