"""/topics and a campaign's topic in /new: who unsubscribed is counted out, the button goes on."""

from __future__ import annotations

from sqlalchemy import select

from bot.states import Compose
from models import Campaign, TopicOptOut
from panel import texts
from tests.support.control import NEWS_USERS, ControlBot, fsm_state


async def test_topics_are_managed_in_the_chat_and_a_campaign_takes_one_with_its_button(
    control: ControlBot,
) -> None:
    listing = await control.say("/topics", expect="Topics")
    assert "news: none" in (listing.text or "")
    refused = await control.say("/topics news add Big News!")
    assert refused.text == texts.TOPICS_USAGE
    refused = await control.say("/topics news add Sports!")
    assert (refused.text or "").startswith("Not changed: “Sports!” is no topic name")
    await control.say("/topics news add news", expect="news has the topic news now")
    await control.say("/topics news add offers", expect="news has the topic offers now")
    await control.say("/topics news remove offers", expect="news no longer has the topic offers")
    async with control.sessionmaker.begin() as session:
        session.add(TopicOptOut(bot_id=control.bots["news"], chat_id=NEWS_USERS[0], topic="news"))
    listing = await control.say("/topics", expect="Topics")
    assert "news: news (1 unsubscribed)" in (listing.text or "")

    await control.say("/new", expect=texts.ASK_MESSAGE)
    name_question = await control.skip_buttons(after_id=control.send("Monday's news"))
    before = control.last_id()
    await control.press(name_question.message_id, texts.BTN_SKIP)
    card = await control.reply(after_id=before, expect=texts.COMPOSE_PREVIEW_NOTE)
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_TOPIC.format(topic="none"))
    asked = await control.reply(after_id=before, expect="Which topic")
    assert "Topics of news: news." in (asked.text or "")
    # A topic the bot does not have is named, and the admin stays at the step.
    refused = await control.say("offers")
    assert refused.text == texts.TOPIC_REFUSED.format(reason="news has no topic 'offers' (its topics: news)")
    assert await fsm_state(control) == Compose.waiting_topic.state
    card = await control.say("news", expect=texts.COMPOSE_PREVIEW_NOTE)
    assert "Audience: 11 users (1 unavailable left out), 1 opted out of news left out" in (card.text or "")
    buttons = [text for text, _ in card.buttons]
    assert texts.BTN_TOPIC.format(topic="news") in buttons
    await control.press(card.message_id, texts.BTN_UNSUBSCRIBE_TOGGLE.format(state="off"))
    await control.wait_buttons(card.message_id, texts.BTN_UNSUBSCRIBE_TOGGLE.format(state="on"))
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SAVE)
    await control.reply(after_id=before, expect="Saved as draft")
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert (campaign.topic, campaign.unsubscribe_button) == ("news", True)
    assert campaign.content["unsubscribe"] == {"topic": "news", "text": "🔕 Unsubscribe from news"}
