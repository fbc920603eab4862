"""A post forwarded from a channel in /new: forwarded as is or copied, checked with the target bot's token."""

from __future__ import annotations

from sqlalchemy import select

from bot.states import Compose
from models import Campaign
from panel import texts
from tests.support.control import ADMIN_ID, CONTROL_TOKEN, NEWS_TOKEN, ControlBot, fsm_state

CHANNEL = -1001234567890
BOLD = {"type": "bold", "offset": 0, "length": 3}


async def _forward_post(control: ControlBot) -> int:
    control.sim.add_channel(CHANNEL, title="Daily News")
    post_id = control.sim.add_channel_post(CHANNEL, "Big news today", entities=[BOLD])
    await control.say("/new", expect=texts.ASK_MESSAGE)
    sent = control.sim.forward_channel_post(CONTROL_TOKEN, ADMIN_ID, CHANNEL, post_id)
    question = await control.reply(after_id=sent["message_id"], expect="This post comes from Daily News")
    assert question.buttons[0][0] == texts.BTN_FORWARD_AS_IS
    return question.message_id


async def test_a_post_the_target_bot_cannot_read_is_refused_then_forwarded_as_is(control: ControlBot) -> None:
    question_id = await _forward_post(control)
    before = control.last_id()
    await control.press(question_id, texts.BTN_FORWARD_AS_IS)
    refused = await control.reply(after_id=before, expect="can't read Daily News")
    assert "nothing was sent" in (refused.text or "")
    assert await fsm_state(control) == Compose.waiting_text.state
    assert control.sim.chat(NEWS_TOKEN, ADMIN_ID).bot_messages == []

    control.sim.set_channel_reader(NEWS_TOKEN, CHANNEL, True)
    before = control.last_id()
    await control.press(question_id, texts.BTN_FORWARD_AS_IS)
    await control.reply(after_id=before, expect=texts.ASK_NAME)  # no buttons on a forward
    card = await control.say("Post", expect=texts.COMPOSE_PREVIEW_NOTE)
    preview = control.message(card.message_id - 1)
    assert preview.text == "Big news today" and preview.forward_origin is not None
    assert preview.forward_origin["chat"]["id"] == CHANNEL

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_TEST)
    await control.reply(after_id=before, expect="Test sent")
    (received,) = control.sim.chat(NEWS_TOKEN, ADMIN_ID).bot_messages
    assert received.text == "Big news today" and received.entities == [BOLD]
    assert received.forward_origin is not None and received.forward_origin["chat"]["id"] == CHANNEL

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SAVE)
    await control.reply(after_id=before, expect="Saved as draft")
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert campaign.content["channel_post"]["mode"] == "forward"
    assert campaign.content["channel_post"]["from_chat_id"] == CHANNEL


async def test_a_copied_post_takes_buttons_and_arrives_without_a_header(control: ControlBot) -> None:
    question_id = await _forward_post(control)
    control.sim.set_channel_reader(NEWS_TOKEN, CHANNEL, True)
    before = control.last_id()
    await control.press(question_id, texts.BTN_COPY_POST)
    await control.reply(after_id=before, expect=texts.ASK_BUTTONS)
    await control.say("Read - https://example.com/news", expect=texts.ASK_NAME)
    card = await control.say("Copy", expect=texts.COMPOSE_PREVIEW_NOTE)
    preview = control.message(card.message_id - 1)
    assert preview.text == "Big news today" and preview.forward_origin is None
    assert preview.url_buttons == [[("Read", "https://example.com/news")]]

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_TEST)
    await control.reply(after_id=before, expect="Test sent")
    (received,) = control.sim.chat(NEWS_TOKEN, ADMIN_ID).bot_messages
    assert (received.text, received.forward_origin) == ("Big news today", None)
    assert received.url_buttons == [[("Read", "https://example.com/news")]]

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SAVE)
    await control.reply(after_id=before, expect="Saved as draft")
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert campaign.content["channel_post"]["mode"] == "copy"
    assert campaign.content["buttons"] == [[["Read", "https://example.com/news"]]]
