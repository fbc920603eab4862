"""Greeting by name in /new: refused placeholders, a preview as one recipient sees it, Test to me."""

from __future__ import annotations

from sqlalchemy import select, update

from models import Campaign, User
from panel import texts
from panel.content import utf16_length
from panel.greetings import PERSONALISED_KEY
from tests.support.control import ADMIN_ID, CONTROL_TOKEN, NEWS_TOKEN, NEWS_USERS, ControlBot

GREETING = "Hi {first_name|friend}, big sale"
BOLD = [{"type": "bold", "offset": GREETING.index("big"), "length": 3}]


def _bold_word(text: str, entities: list[dict[str, object]]) -> str:
    (entity,) = entities
    data = text.encode("utf-16-le")
    start, length = int(str(entity["offset"])), int(str(entity["length"]))
    return data[2 * start : 2 * (start + length)].decode("utf-16-le")


async def test_a_greeting_is_checked_previewed_as_a_recipient_and_tested_as_the_admin(
    control: ControlBot,
) -> None:
    news_id = control.bots["news"]
    async with control.sessionmaker.begin() as session:
        await session.execute(
            update(User)
            .where(User.bot_id == news_id, User.chat_id == NEWS_USERS[3])
            .values(first_name="Zoë 😀")
        )
        session.add(User(bot_id=news_id, chat_id=ADMIN_ID, first_name="Ada", last_name="L."))
    await control.say("/new", expect=texts.ASK_MESSAGE)

    # A misspelt placeholder is refused with the known ones; the step stays open.
    refused = await control.say("Hi {frist_name}", expect="unknown placeholder {frist_name}")
    assert "{first_name}" in (refused.text or "") and "Send the message again" in (refused.text or "")
    await control.say("{first_name}", expect="give the placeholder a fallback")

    await control.skip_buttons(after_id=control.send(GREETING, entities=BOLD))
    card = await control.say("Greeting", expect=texts.COMPOSE_PREVIEW_NOTE)
    # The preview greets a user of the audience who has a name, and says who.
    assert texts.PREVIEW_AS.format(who="Zoë 😀") in (card.text or "")
    preview = control.sim.chat(CONTROL_TOKEN, ADMIN_ID).bot_messages[-2]
    assert preview.text == "Hi Zoë 😀, big sale"
    assert _bold_word(preview.text, preview.entities) == "big"

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_TEST)
    confirmation = await control.reply(after_id=before, expect="Test sent")
    assert texts.TEST_AS_YOU.format(bot="@news_bot") in (confirmation.text or "")
    (received,) = control.sim.chat(NEWS_TOKEN, ADMIN_ID).bot_messages
    assert received.text == "Hi Ada, big sale"
    assert received.entities == [{"type": "bold", "offset": utf16_length("Hi Ada, "), "length": 3}]

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SAVE)
    await control.reply(after_id=before, expect="Saved as draft")
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert campaign.content[PERSONALISED_KEY] is True and campaign.content["text"] == GREETING
