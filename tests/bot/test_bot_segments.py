"""Segments in the chat: saved with /segments (a mistake named with its position), chosen on the
summary card by name or as a rule, with the live count, and kept with the campaign."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.states import Compose, SegmentBuilder
from models import Campaign, Segment, TopicOptOut, User, utcnow
from panel import texts
from panel.audit import CLI
from panel.topics import add_topic
from tests.support.control import NEWS_USERS, ControlBot, fsm_state


async def test_a_segment_is_saved_chosen_on_the_card_and_kept(control: ControlBot) -> None:
    news_id = control.bots["news"]
    russian = NEWS_USERS[::2]
    async with control.sessionmaker.begin() as session:
        await session.execute(
            update(User).where(User.bot_id == news_id, User.chat_id.in_(russian)).values(language_code="ru")
        )
    await control.say("/segments", expect="No saved segments yet")
    refused = await control.say("/segments ru language in ru", expect="at character 13")
    assert "Nothing was saved" in (refused.text or "")
    saved = await control.say("/segments ru language = ru", expect="Saved segment ru")
    assert f"news {len(russian)}" in (saved.text or "")
    listing = await control.say("/segments", expect="Saved segments")
    assert "• ru: language = ru" in (listing.text or "")

    await control.say("/new", expect=texts.ASK_MESSAGE)
    await control.skip_buttons(after_id=control.send("Привет"))
    card = await control.say("Russian news", expect=texts.COMPOSE_PREVIEW_NOTE)
    assert f"Audience: {len(NEWS_USERS)} users" in (card.text or "")
    await control.press(card.message_id, texts.AUDIENCE_EVERYONE)
    await control.reply(after_id=card.message_id, expect="Who should get it?")
    # A broken rule is refused with where it breaks; the step stays open.
    await control.say("language in (ru", expect="at character 16: expected “,” or “)”, found the end")
    assert await fsm_state(control) == Compose.waiting_audience.state
    card = await control.say("ru", expect=texts.COMPOSE_PREVIEW_NOTE)
    assert f"Audience: {len(russian)} users" in (card.text or "")
    assert "Segment: language = ru" in (card.text or "")
    assert texts.AUDIENCE_SEGMENT in [text for text, _ in card.buttons]

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SAVE)
    await control.reply(after_id=before, expect="Saved as draft")
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert campaign.audience_filter == "language = ru"


async def test_a_segment_is_built_with_buttons_and_typed_rules_with_live_counts(control: ControlBot) -> None:
    news_id = control.bots["news"]
    russian, ukrainian, english = NEWS_USERS[:5], NEWS_USERS[5:8], NEWS_USERS[8:]
    seen = utcnow() - timedelta(days=3)
    async with control.sessionmaker.begin() as session:
        for codes, chat_ids in (("ru", russian), ("uk", ukrainian), ("en", english)):
            await session.execute(
                update(User)
                .where(User.bot_id == news_id, User.chat_id.in_(chat_ids))
                .values(language_code=codes)
            )
        # Two Russian speakers were seen recently; one of them is on the pro plan.
        await session.execute(update(User).where(User.chat_id.in_(russian[:2])).values(last_seen_at=seen))
        await session.execute(
            update(User).where(User.chat_id == russian[0]).values(attributes={"plan": "pro"})
        )

    builder = await control.say("/segments new", expect=texts.BUILDER_TITLE)
    assert f"Rule: {texts.BUILDER_EVERYONE}" in (builder.text or "")
    assert f"news {len(NEWS_USERS)}" in (builder.text or "")
    labels = [text for text, _ in builder.buttons]
    assert labels[:3] == ["🌐 ru (5)", "🌐 uk (3)", "🌐 en (4)"] or labels[:3] == [
        "🌐 ru (5)",
        "🌐 en (4)",
        "🌐 uk (3)",
    ]

    await control.press(builder.message_id, "🌐 ru (5)")
    shown = await control.wait_text(builder.message_id, "Rule: language in (ru)")
    assert "news 5" in (shown.text or "")
    await control.press(builder.message_id, "🌐 uk (3)")
    shown = await control.wait_text(builder.message_id, "Rule: language in (ru, uk)")
    assert "news 8" in (shown.text or "")
    assert "✓ ru (5)" in [text for text, _ in shown.buttons]
    await control.press(builder.message_id, texts.BTN_BUILDER_ACTIVE.format(period="7d"))
    shown = await control.wait_text(builder.message_id, "language in (ru, uk) and active within 7d")
    assert "news 2" in (shown.text or "")

    # A typed rule with a mistake is refused with its position; the rule stays as it was.
    refused = await control.say("plan =", expect="Not added: at character 7")
    assert "The rule stays as it was" in (refused.text or "")
    assert await fsm_state(control) == SegmentBuilder.building.state
    rebuilt = await control.say("plan = pro", expect=texts.BUILDER_TITLE)
    assert "Rule: language in (ru, uk) and active within 7d and (plan = pro)" in (rebuilt.text or "")
    assert "news 1" in (rebuilt.text or "")
    # Undo takes the typed rule back; an old builder message is closed.
    await control.press(rebuilt.message_id, texts.BTN_BUILDER_UNDO)
    shown = await control.wait_text(rebuilt.message_id, "news 2")
    assert "(plan = pro)" not in (shown.text or "")
    stale = await control.press(builder.message_id, texts.BTN_BUILDER_UNDO)
    assert stale.text == texts.BUILDER_GONE

    await control.press(rebuilt.message_id, texts.BTN_BUILDER_SAVE)
    await control.reply(after_id=rebuilt.message_id, expect="What is its name?")
    await control.say("recent ru", expect="not “recent ru”")  # a name with a space is refused...
    assert await fsm_state(control) == SegmentBuilder.waiting_name.state  # ...and asked again
    saved = await control.say("recent_slavic", expect="Saved segment recent_slavic")
    assert "news 2" in (saved.text or "")
    async with control.sessionmaker() as session:
        segment = await session.scalar(select(Segment))
    assert segment is not None and segment.expression == "language in (ru, uk) and active within 7d"
    assert await fsm_state(control) is None


async def test_the_builder_needs_compose_and_cancel_while_naming_keeps_building(control: ControlBot) -> None:
    builder = await control.say("/segments new", expect=texts.BUILDER_TITLE)
    await control.press(builder.message_id, texts.BTN_BUILDER_ACTIVE.format(period="30d"))
    await control.wait_text(builder.message_id, "active within 30d")
    await control.press(builder.message_id, texts.BTN_BUILDER_SAVE)
    await control.reply(after_id=builder.message_id, expect="What is its name?")
    back = await control.say("/cancel", expect=texts.BUILDER_TITLE)
    assert "Rule: active within 30d" in (back.text or "")
    await control.press(back.message_id, texts.BTN_BUILDER_CANCEL)
    await control.wait_text(back.message_id, texts.BUILDER_CANCELLED)
    assert await fsm_state(control) is None
    async with control.sessionmaker() as session:
        assert await session.scalar(select(Segment)) is None


async def test_the_builder_offers_the_bots_topics(control: ControlBot) -> None:
    news_id = control.bots["news"]
    async with control.sessionmaker.begin() as session:
        await add_topic(session, "news", "offers", actor=CLI)
        session.add_all(
            TopicOptOut(bot_id=news_id, chat_id=chat_id, topic="offers") for chat_id in NEWS_USERS[:3]
        )
    builder = await control.say("/segments new", expect=texts.BUILDER_TITLE)
    label = texts.BTN_BUILDER_TOPIC.format(topic="offers")
    assert label in [text for text, _ in builder.buttons]
    await control.press(builder.message_id, label)
    shown = await control.wait_text(builder.message_id, "Rule: subscribed offers")
    assert f"news {len(NEWS_USERS) - 3}" in (shown.text or "")
    await control.press(builder.message_id, texts.BTN_BUILDER_TOPIC_ON.format(topic="offers"))
    shown = await control.wait_text(builder.message_id, f"Rule: {texts.BUILDER_EVERYONE}")
    assert f"news {len(NEWS_USERS)}" in (shown.text or "")
