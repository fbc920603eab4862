"""Strangers learn nothing and change nothing; a restart mid-conversation loses nothing."""

from __future__ import annotations

from sqlalchemy import select

from bot.callbacks import (
    CampaignAction,
    CampaignCallback,
    ProgressAction,
    ProgressCallback,
    SendNowAction,
    SendNowCallback,
)
from models import Admin, Campaign, CampaignStatus
from panel import texts
from panel.campaigns import create_campaign
from panel.content import MessageContent
from tests.support.control import ADMIN_ID, CONTROL_TOKEN, STRANGER_ID, ControlBot


async def snapshot(control: ControlBot) -> list[tuple[int, str, int | None]]:
    async with control.sessionmaker() as session:
        rows = (await session.execute(select(Campaign).order_by(Campaign.id))).scalars().all()
        return [(c.id, c.status.value, c.progress_chat_id) for c in rows]


async def test_stranger_gets_one_refusal_and_forged_buttons_do_nothing(control: ControlBot) -> None:
    async with control.sessionmaker() as session, session.begin():
        draft = await create_campaign(
            session, bot_id=control.bots["news"], content=MessageContent("Secret plans"), name="Secret"
        )
    before = await snapshot(control)

    first = control.send("/start", user=STRANGER_ID)
    refusal = await control.reply(after_id=first, user=STRANGER_ID)
    assert refusal.text == texts.NOT_ALLOWED
    assert refusal.buttons == []

    for command in ("/campaigns", "/new", f"/sendnow {draft.id}", "/schedule", "/help", "hello"):
        control.send(command, user=STRANGER_ID)

    # Forged buttons: the stranger's client sends callback data copied from an admin's keyboard.
    forged = [
        SendNowCallback(action=SendNowAction.CONFIRM, campaign_id=draft.id).pack(),
        CampaignCallback(action=CampaignAction.DELETE_CONFIRM, campaign_id=draft.id).pack(),
        ProgressCallback(action=ProgressAction.CANCEL_CONFIRM, campaign_id=draft.id).pack(),
    ]
    bot_record = control.sim.world.bots[CONTROL_TOKEN]
    stranger_chat = control.sim.world.chat_log(bot_record, STRANGER_ID)
    stranger_chat.messages[refusal.message_id].reply_markup = {
        "inline_keyboard": [[{"text": str(i), "callback_data": data}] for i, data in enumerate(forged)]
    }
    for data in forged:
        query_id = control.sim.press_button(CONTROL_TOKEN, STRANGER_ID, refusal.message_id, data=data)
        answer = await control.sim.wait_for_callback_answer(CONTROL_TOKEN, query_id)
        assert answer.text == texts.NOT_ALLOWED_ANSWER

    # An admin's message after all of that is answered, so the stranger's updates were all handled.
    await control.say("/help", expect="/new")
    bot_messages = control.sim.chat(CONTROL_TOKEN, STRANGER_ID).bot_messages
    assert [m.text for m in bot_messages] == [texts.NOT_ALLOWED]
    assert await snapshot(control) == before
    assert await control.arq_pool.zcard(control.settings.queue_name) == 0


async def test_admins_from_the_table_are_let_in_with_their_time_zone(control: ControlBot) -> None:
    async with control.sessionmaker() as session, session.begin():
        session.add(Admin(user_id=STRANGER_ID, display_name="Eve", timezone="America/New_York"))
    reply = await control.say("/help", user=STRANGER_ID)
    assert reply.text == texts.HELP.format(timezone="America/New_York")


async def test_restart_in_the_middle_of_composing_resumes_the_conversation(control: ControlBot) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)
    await control.skip_buttons(after_id=control.send("Survives restarts"))

    await control.stop()
    await control.start()  # a new dispatcher and bot session, the same Redis

    card = await control.say("After restart", expect=texts.COMPOSE_PREVIEW_NOTE)
    assert control.message(card.message_id - 1).text == "Survives restarts"
    assert "Name: After restart" in (card.text or "")
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SAVE)
    await control.reply(after_id=before, expect="Saved as draft")
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert campaign.status is CampaignStatus.DRAFT
    assert campaign.content["text"] == "Survives restarts"
    assert campaign.created_by == ADMIN_ID
