"""Composing with /new through the real dispatcher, simulator, Redis and database."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.states import Compose
from models import Campaign, CampaignStatus
from panel import texts
from tests.support.control import ADMIN_ID, CONTROL_TOKEN, NEWS_TOKEN, ControlBot, add_target_bots, fsm_state
from tests.support.keys import sealed

BOLD_TEXT = "Big news: 🎉 version 2 is out!"
# "Big" is italic, "version 2" bold (after the emoji, which counts as two UTF-16 code units).
BOLD_ENTITIES = [{"type": "italic", "offset": 0, "length": 3}, {"type": "bold", "offset": 13, "length": 9}]


async def campaign_count(control: ControlBot) -> int:
    async with control.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(Campaign))).scalar_one())


async def compose_until_card(control: ControlBot, *, name: str | None = "Launch") -> int:
    """/new → message → name (or Skip) → the summary card; returns the card's message id."""
    asked = await control.say("/new", expect=texts.ASK_MESSAGE)
    assert "news (@news_bot) — 12 users" in (asked.text or "")
    name_question = await control.skip_buttons(after_id=control.send(BOLD_TEXT, entities=BOLD_ENTITIES))
    assert await fsm_state(control) == Compose.waiting_name.state
    if name is None:
        before = control.last_id()
        await control.press(name_question.message_id, texts.BTN_SKIP)
        card = await control.reply(after_id=before, expect=texts.COMPOSE_PREVIEW_NOTE)
    else:
        card = await control.say(name, expect=texts.COMPOSE_PREVIEW_NOTE)
    return card.message_id


async def test_compose_shows_exact_preview_and_summary_then_saves_draft(control: ControlBot) -> None:
    card_id = await compose_until_card(control)
    preview = control.message(card_id - 1)
    assert preview.from_bot
    assert preview.text == BOLD_TEXT
    assert preview.entities == BOLD_ENTITIES
    card = control.message(card_id)
    assert card.text is not None
    assert "Name: Launch" in card.text
    assert "Bot: news (@news_bot)" in card.text
    assert "Audience: 12 users (1 unavailable left out)" in card.text
    assert "about 1 s at 30 messages/s" in card.text
    assert [text for text, _ in card.buttons] == [
        texts.BTN_OPTION_SILENT.format(state="off"),
        texts.BTN_OPTION_PROTECT.format(state="off"),
        texts.BTN_OPTION_PIN.format(state="off"),
        texts.AUDIENCE_EVERYONE,
        texts.BTN_TOPIC.format(topic="none"),
        texts.BTN_SEND_NOW,
        texts.BTN_SCHEDULE,
        texts.BTN_TEST,
        texts.BTN_EDIT,
        texts.BTN_SAVE,
        texts.BTN_DISCARD,
    ]
    assert await fsm_state(control) == Compose.reviewing.state
    assert await campaign_count(control) == 0

    # Test to me: through the TARGET bot, exactly as recipients get it.
    before = control.last_id()
    await control.press(card_id, texts.BTN_TEST)
    confirmation = await control.reply(after_id=before, expect="Test sent")
    assert "@news_bot" in (confirmation.text or "")
    received = [m for m in control.sim.chat(NEWS_TOKEN, ADMIN_ID).bot_messages]
    assert [(m.text, m.entities) for m in received] == [(BOLD_TEXT, BOLD_ENTITIES)]

    before = control.last_id()
    await control.press(card_id, texts.BTN_SAVE)
    saved = await control.reply(after_id=before, expect="Saved as draft")
    assert await fsm_state(control) is None
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert saved.text == texts.SAVED.format(campaign_id=campaign.id)
    assert campaign.status is CampaignStatus.DRAFT
    assert campaign.name == "Launch"
    assert campaign.created_by == ADMIN_ID
    assert campaign.content == {"kind": "text", "text": BOLD_TEXT, "entities": BOLD_ENTITIES}
    assert control.message(card_id).buttons == []

    assert await campaign_count(control) == 1


PHOTO = b"\xff\xd8\xff\xe0 a photo to broadcast " + bytes(range(256)) * 8
CAPTION = "Big news: 🎉 version 2 is out!"


async def test_a_photo_with_a_formatted_caption_is_previewed_tested_and_saved(control: ControlBot) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)
    sent = control.sim.send_message(
        CONTROL_TOKEN, ADMIN_ID, photo=PHOTO, caption=CAPTION, entities=BOLD_ENTITIES
    )
    await control.skip_buttons(after_id=int(sent["message_id"]))
    card = await control.say("Photo launch", expect=texts.COMPOSE_PREVIEW_NOTE)
    original = sent["photo"][-1]

    # The preview: the same photo (the control bot's file) with the caption's formatting.
    preview = control.message(card.message_id - 1)
    assert (preview.media_kind, preview.file_id) == ("photo", original["file_id"])
    assert (preview.caption, preview.caption_entities) == (CAPTION, BOLD_ENTITIES)

    # Test to me: the target bot cannot use the control bot's file id, so the bytes go.
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_TEST)
    await control.reply(after_id=before, expect="Test sent")
    (received,) = control.sim.chat(NEWS_TOKEN, ADMIN_ID).bot_messages
    assert (received.media_kind, received.caption, received.caption_entities) == (
        "photo",
        CAPTION,
        BOLD_ENTITIES,
    )
    uploaded = control.sim.world.files[str(received.file_id)]
    assert uploaded.owner_bot_id == control.sim.world.bots[NEWS_TOKEN].bot_id
    assert uploaded.data == PHOTO

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SAVE)
    await control.reply(after_id=before, expect="Saved as draft")
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert campaign.content == {
        "kind": "photo",
        "text": CAPTION,
        "entities": BOLD_ENTITIES,
        "media": {
            "kind": "photo",
            "file_id": original["file_id"],
            "file_unique_id": original["file_unique_id"],
            "file_size": len(PHOTO),
        },
    }


async def test_a_file_keeps_its_name_and_a_caption_is_optional(control: ControlBot) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)
    sent = control.send(media=("document", b"%PDF-1.7 price list"), file_name="prices.pdf")
    await control.skip_buttons(after_id=sent)
    card = await control.say("Prices", expect=texts.COMPOSE_PREVIEW_NOTE)
    preview = control.message(card.message_id - 1)
    assert (preview.media_kind, preview.caption) == ("document", None)
    assert control.sim.world.files[str(preview.file_id)].file_name == "prices.pdf"

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_TEST)
    await control.reply(after_id=before, expect="Test sent")
    (received,) = control.sim.chat(NEWS_TOKEN, ADMIN_ID).bot_messages
    assert received.media_kind == "document"
    assert control.sim.world.files[str(received.file_id)].file_name == "prices.pdf"


async def test_discard_leaves_nothing_and_cancel_leaves_any_step(control: ControlBot) -> None:
    card_id = await compose_until_card(control, name=None)
    assert "Name: —" in (control.message(card_id).text or "")
    answer = await control.press(card_id, texts.BTN_DISCARD)
    assert answer.text is None
    assert (await control.sim.wait_for_edit(CONTROL_TOKEN, ADMIN_ID, card_id)).text == texts.DISCARDED
    assert await fsm_state(control) is None
    assert await campaign_count(control) == 0

    await control.say("/new", expect=texts.ASK_MESSAGE)
    reply = await control.say("/cancel")
    assert reply.text == texts.CANCELLED_STEP.format(what=texts.CANCELLED_COMPOSE)
    assert await fsm_state(control) is None
    assert (await control.say("/cancel")).text == texts.NOTHING_TO_CANCEL
    assert await campaign_count(control) == 0


async def test_bad_input_gets_a_specific_answer_and_keeps_the_step(control: ControlBot) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)

    sticker = control.send(media=("sticker", b"RIFF-webp-sticker"))
    refusal = await control.reply(after_id=sticker)
    assert refusal.text == texts.UNSUPPORTED_KIND.format(kind="Stickers")
    assert await fsm_state(control) == Compose.waiting_text.state

    big = control.send(media=("document", b"\0" * (20 * 1024 * 1024 + 1)), file_name="big.zip")
    refusal = await control.reply(after_id=big)
    assert refusal.text == texts.CONTENT_REFUSED.format(
        reason="The file is 20.0 MB; bots can pass on files of up to 20 MB."
    )
    assert await fsm_state(control) == Compose.waiting_text.state

    long_caption = control.send(photo=b"\xff\xd8fake-jpeg", caption="c" * 1025)
    refusal = await control.reply(after_id=long_caption)
    assert refusal.text == texts.CONTENT_REFUSED.format(
        reason="The caption is 1,025 characters long; Telegram allows 1,024."
    )
    assert await fsm_state(control) == Compose.waiting_text.state

    too_long = "x" * 4097
    refusal = await control.say(too_long)
    assert refusal.text == texts.CONTENT_REFUSED.format(
        reason="The message is 4,097 characters long; Telegram allows 4,096."
    )
    assert await fsm_state(control) == Compose.waiting_text.state

    unknown = await control.say("/frobnicate")
    assert texts.UNKNOWN_COMMAND.format(command="/frobnicate") in (unknown.text or "")
    assert texts.WAITING_FOR_MESSAGE in (unknown.text or "")
    assert await fsm_state(control) == Compose.waiting_text.state

    await control.skip_buttons(after_id=control.send("Plain words"))
    refusal = await control.say("n" * 101)
    assert refusal.text == texts.NAME_TOO_LONG.format(length=101, limit=100)
    assert await fsm_state(control) == Compose.waiting_name.state
    card = await control.say("Short name", expect=texts.COMPOSE_PREVIEW_NOTE)
    assert "Name: Short name" in (card.text or "")

    # Edit message: a new text, back to a fresh card with the same name.
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_EDIT)
    await control.reply(after_id=before, expect=texts.ASK_MESSAGE_AGAIN)
    assert await fsm_state(control) == Compose.waiting_text.state
    new_card = await control.say("Better words", expect=texts.COMPOSE_PREVIEW_NOTE)
    assert control.message(new_card.message_id - 1).text == "Better words"
    assert "Name: Short name" in (new_card.text or "")
    assert await campaign_count(control) == 0


async def test_test_send_says_when_admin_has_not_started_the_target_bot(control: ControlBot) -> None:
    control.sim.set_user_state(NEWS_TOKEN, ADMIN_ID, "not_started")
    card_id = await compose_until_card(control, name=None)
    before = control.last_id()
    await control.press(card_id, texts.BTN_TEST)
    reply = await control.reply(after_id=before)
    assert reply.text == texts.TEST_NOT_STARTED.format(bot="@news_bot")
    assert await fsm_state(control) == Compose.reviewing.state


async def test_several_bots_are_offered_with_their_audience(control: ControlBot) -> None:
    await control.stop()
    async with control.sessionmaker() as session, session.begin():
        from models import TargetBot

        session.add(
            TargetBot(
                codename="shop",
                sealed_token=sealed("300002:AAshopTargetBotTokenForTests"),
                username="shop_bot",
            )
        )
    await control.start()
    question = await control.say("/new", expect=texts.CHOOSE_BOT)
    assert [text for text, _ in question.buttons] == [
        "news (@news_bot) · 12 users",
        "shop (@shop_bot) · 0 users",
        texts.CHOOSE_BOTS_BUTTON,
    ]
    assert await fsm_state(control) == Compose.choosing_bot.state
    assert (await control.say("shop please")).text == texts.CHOOSE_BOT_AGAIN
    before = control.last_id()
    await control.press(question.message_id, "shop (@shop_bot) · 0 users")
    asked = await control.reply(after_id=before, expect=texts.ASK_MESSAGE)
    assert "shop (@shop_bot) — 0 users" in (asked.text or "")
    assert await fsm_state(control) == Compose.waiting_text.state


async def test_no_target_bot_explains_how_to_add_one(control: ControlBot) -> None:
    async with control.sessionmaker() as session, session.begin():
        from sqlalchemy import delete

        from models import TargetBot, User

        await session.execute(delete(User))
        await session.execute(delete(TargetBot))
    reply = await control.say("/new")
    assert reply.text == texts.NO_BOTS
    assert await fsm_state(control) is None


__all__ = ["add_target_bots"]
