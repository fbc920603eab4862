"""An album sent to the control bot: collected from its separate messages into one campaign,
its buttons in a follow-up message, and delivered by the engine with every message id kept."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.states import Compose
from models import Campaign, CampaignStatus, Delivery, DeliveryStatus, User
from panel import texts
from panel.content import utf16_length
from tests.support.control import (
    ADMIN_ID,
    CONTROL_TOKEN,
    NEWS_TOKEN,
    NEWS_USERS,
    ControlBot,
    engine_worker_running,
    fsm_state,
)
from tests.support.engine import wait_for_status

BOLD = {"type": "bold", "offset": 0, "length": 4}
FOLLOW_UP = "Hi {first_name|friend}, shop now"


async def test_an_album_becomes_one_campaign_with_a_follow_up_for_its_buttons(control: ControlBot) -> None:
    news_id = control.bots["news"]
    async with control.sessionmaker.begin() as session:
        await session.execute(
            update(User)
            .where(User.bot_id == news_id, User.chat_id == NEWS_USERS[0])
            .values(first_name="Zoë 😀")
        )
    await control.say("/new", expect=texts.ASK_MESSAGE)
    sent = control.sim.send_album(
        CONTROL_TOKEN,
        ADMIN_ID,
        [("photo", b"one", "Look here"), ("video", b"two", None), ("photo", b"three", "Last")],
        caption_entities=[[BOLD], [], []],
    )
    # One answer for the whole album, once its last item is in.
    prompt = await control.reply(after_id=sent[-1]["message_id"], expect="Album received (3 items)")
    assert [
        m for m in control.sim.chat(CONTROL_TOKEN, ADMIN_ID).bot_messages if "Album" in (m.text or "")
    ] == [prompt]

    refused = await control.say("Shop -", expect="has no link")
    assert "line 1" in (refused.text or "") and await fsm_state(control) == Compose.waiting_buttons.state
    await control.say("Shop - https://shop.example", expect="Now the text of the message")
    # The buttons' message is checked like any message: an unknown placeholder is refused.
    await control.say("Hi {frist_name}", expect="unknown placeholder {frist_name}")
    assert await fsm_state(control) == Compose.waiting_follow_up.state
    bold_shop = {"type": "bold", "offset": FOLLOW_UP.index("shop"), "length": 4}
    await control.say(FOLLOW_UP, entities=[bold_shop], expect=texts.ASK_NAME)
    card = await control.say("Spring", expect=texts.COMPOSE_PREVIEW_NOTE)

    # The preview: the album as recipients get it, then the buttons' message.
    shown = control.sim.chat(CONTROL_TOKEN, ADMIN_ID).bot_messages
    album_preview = [m for m in shown if m.media_group_id is not None]
    assert [m.media_kind for m in album_preview] == ["photo", "video", "photo"]
    assert album_preview[0].caption == "Look here" and album_preview[0].caption_entities == [BOLD]
    follow_up_preview = next(m for m in shown if m.text is not None and m.text.startswith("Hi "))
    assert follow_up_preview.buttons == [("Shop", None)]

    async with engine_worker_running(control.settings):
        before = control.last_id()
        await control.press(card.message_id, texts.BTN_SEND_NOW)
        confirm = await control.reply(after_id=before, expect="now?")
        await control.press(confirm.message_id, texts.BTN_CONFIRM)
        async with control.sessionmaker() as session:
            campaign = (await session.execute(select(Campaign))).scalar_one()
        await wait_for_status(control.sessionmaker, campaign.id, {CampaignStatus.COMPLETED}, timeout_s=60)

    async with control.sessionmaker() as session:
        rows = (
            (await session.execute(select(Delivery).where(Delivery.campaign_id == campaign.id)))
            .scalars()
            .all()
        )
    assert len(rows) == len(NEWS_USERS) and {row.status for row in rows} == {DeliveryStatus.SENT}
    for row in rows:
        chat = control.sim.chat(NEWS_TOKEN, row.chat_id).bot_messages
        # One delivery: the album's three items and the follow-up, every message id in the ledger.
        assert row.telegram_message_ids == [m.message_id for m in chat]
        assert row.telegram_message_id == chat[0].message_id
        assert [m.media_kind for m in chat[:3]] == ["photo", "video", "photo"]
        assert len({m.media_group_id for m in chat[:3]}) == 1 and chat[3].media_group_id is None
        assert chat[0].caption_entities == [BOLD] and chat[3].reply_markup is not None
        name = "Zoë 😀" if row.chat_id == NEWS_USERS[0] else "friend"
        assert chat[3].text == f"Hi {name}, shop now"
        assert chat[3].entities == [{"type": "bold", "offset": utf16_length(f"Hi {name}, "), "length": 4}]


async def test_an_album_with_a_bad_item_is_refused_and_the_step_stays(control: ControlBot) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)
    sent = control.sim.send_album(
        CONTROL_TOKEN, ADMIN_ID, [("photo", b"one", None), ("document", b"two", None)]
    )
    await control.reply(after_id=sent[-1]["message_id"], expect="photos and videos, or files only")
    assert await fsm_state(control) == Compose.waiting_text.state
    await control.say("Just text then", expect=texts.ASK_BUTTONS)
