"""Segments in the chat: saved with /segments (a mistake named with its position), chosen on the
summary card by name or as a rule, with the live count, and kept with the campaign."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.states import Compose
from models import Campaign, User
from panel import texts
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
