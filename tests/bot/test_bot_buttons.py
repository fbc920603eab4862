"""URL buttons in /new through the real dispatcher, simulator, Redis and database."""

from __future__ import annotations

from sqlalchemy import select

from bot.states import CardButtons, Compose
from models import Campaign
from panel import texts
from tests.support.control import ADMIN_ID, NEWS_TOKEN, ControlBot, fsm_state

GRID = "Read more - https://example.com/post | Shop - https://shop.example\nNews - https://t.me/news"
ROWS = [
    [("Read more", "https://example.com/post"), ("Shop", "https://shop.example")],
    [("News", "https://t.me/news")],
]


async def test_buttons_refused_with_the_line_then_fixed_reach_preview_test_and_draft(
    control: ControlBot,
) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)
    await control.say("Spring sale", expect=texts.ASK_BUTTONS)
    assert await fsm_state(control) == Compose.waiting_buttons.state

    refused = await control.say("Read more - https://example.com/post\nShop -")
    assert refused.text == texts.BUTTONS_REFUSED.format(reason="line 2: `Shop -` has no link")
    refused = await control.say("Shop - htp://x")
    assert "line 1: `htp://x` is not an http(s) or tg:// link" in (refused.text or "")
    assert await fsm_state(control) == Compose.waiting_buttons.state

    await control.say(GRID, expect=texts.ASK_NAME)
    card = await control.say("Sale", expect=texts.COMPOSE_PREVIEW_NOTE)
    preview = control.message(card.message_id - 1)
    assert (preview.text, preview.url_buttons) == ("Spring sale", ROWS)

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_TEST)
    await control.reply(after_id=before, expect="Test sent")
    received = control.sim.chat(NEWS_TOKEN, ADMIN_ID).bot_messages
    assert [(m.text, m.url_buttons) for m in received] == [("Spring sale", ROWS)]

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SAVE)
    await control.reply(after_id=before, expect="Saved as draft")
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert campaign.content["buttons"] == [[list(pair) for pair in row] for row in ROWS]

    listed = await control.say("/campaigns")
    await control.press(listed.message_id, texts.LIST_BUTTON.format(campaign_id=campaign.id, name="Sale"))
    opened = await control.wait_text(listed.message_id, texts.CARD_BUTTONS.format(grid=GRID))
    assert "Spring sale" in (opened.text or "")

    # Edit buttons on the draft's card: a mistake keeps the question open, the fix is saved.
    before = control.last_id()
    await control.press(listed.message_id, texts.BTN_EDIT_BUTTONS)
    question = await control.reply(after_id=before, expect=texts.ASK_BUTTONS_AGAIN)
    assert GRID in (question.text or "")
    assert await fsm_state(control) == CardButtons.waiting_grid.state
    refused = await control.say("line one - https://a.example\nx - tg:")
    assert refused.text == texts.BUTTONS_REFUSED_ON_CARD.format(
        reason="line 2: `tg:` is not an http(s) or tg:// link"
    )
    saved = await control.say("Only - https://only.example")
    assert saved.text == texts.BUTTONS_SAVED.format(campaign_id=campaign.id)
    assert await fsm_state(control) is None
    async with control.sessionmaker() as session:
        edited = await session.get(Campaign, campaign.id, populate_existing=True)
        assert edited is not None
        assert edited.content["buttons"] == [[["Only", "https://only.example"]]]
        assert edited.content["text"] == "Spring sale"

    # Remove buttons: the draft goes without them.
    await control.press(listed.message_id, texts.BTN_REFRESH)
    await control.wait_buttons(listed.message_id, texts.BTN_REMOVE_BUTTONS)
    answer = await control.press(listed.message_id, texts.BTN_REMOVE_BUTTONS)
    assert answer.text == texts.BUTTONS_REMOVED.format(campaign_id=campaign.id)
    async with control.sessionmaker() as session:
        removed = await session.get(Campaign, campaign.id, populate_existing=True)
        assert removed is not None and "buttons" not in removed.content
    card = control.message(listed.message_id)
    assert texts.BTN_REMOVE_BUTTONS not in [text for text, _ in card.buttons]


async def test_skipping_buttons_sends_none_and_a_sticker_as_buttons_is_refused(control: ControlBot) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)
    prompt = await control.say("Plain", expect=texts.ASK_BUTTONS)
    sticker = control.send(media=("sticker", b"RIFF-webp-sticker"))
    assert (await control.reply(after_id=sticker)).text == texts.BUTTONS_NOT_TEXT
    await control.press(prompt.message_id, texts.BTN_SKIP)
    await control.reply(after_id=prompt.message_id, expect=texts.ASK_NAME)
    card = await control.say("Plain one", expect=texts.COMPOSE_PREVIEW_NOTE)
    assert control.message(card.message_id - 1).url_buttons == []
