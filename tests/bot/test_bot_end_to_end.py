"""The control bot and the engine's in-process worker together, as an admin lives through it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from arq.worker import Worker
from sqlalchemy import select, update

from models import Campaign, CampaignStatus, Delivery, DeliveryStatus, TargetBot, utcnow
from panel import texts
from tests.support.control import (
    ADMIN_ID,
    CONTROL_TOKEN,
    NEWS_TOKEN,
    NEWS_USERS,
    ControlBot,
    engine_worker_running,
)


@pytest.fixture
async def worker(control: ControlBot) -> AsyncIterator[Worker]:
    """The engine's worker, built by its own factory, running in this process."""
    async with engine_worker_running(control.settings) as engine_worker:
        yield engine_worker


async def slow_down_news_bot(control: ControlBot, rate_per_s: int) -> None:
    """Make sending slow enough that an admin can pause in the middle."""
    async with control.sessionmaker() as session, session.begin():
        await session.execute(update(TargetBot).values(rate_per_s=rate_per_s))


async def load(control: ControlBot, campaign_id: int) -> Campaign:
    async with control.sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        return campaign


async def test_compose_test_send_now_pause_resume_summary(control: ControlBot, worker: Worker) -> None:
    await slow_down_news_bot(control, rate_per_s=2)
    await control.say("/new", expect=texts.ASK_MESSAGE)
    entities = [{"type": "bold", "offset": 0, "length": 5}]
    await control.skip_buttons(after_id=control.send("Hello everyone", entities=entities))
    card = await control.say("Greeting", expect=texts.COMPOSE_PREVIEW_NOTE)
    assert control.message(card.message_id - 1).entities == entities

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_TEST)
    await control.reply(after_id=before, expect="Test sent")

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SEND_NOW)
    confirm = await control.reply(after_id=before, expect="now?")
    assert "Audience: 12 users" in (confirm.text or "")
    await control.press(confirm.message_id, texts.BTN_CONFIRM)

    # The engine posts the live progress message right after, with Pause and Cancel.
    progress = await control.reply(
        after_id=confirm.message_id, where=lambda m: texts.BUTTON_PAUSE in str(m.buttons)
    )
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert progress.text is not None and f"#{campaign.id}" in progress.text

    answer = await control.press(progress.message_id, texts.BUTTON_PAUSE)
    assert answer.text == texts.DONE_PAUSED
    paused = await control.wait_buttons(progress.message_id, texts.BUTTON_RESUME)
    assert texts.BUTTON_PAUSE not in [text for text, _ in paused.buttons]
    assert (await load(control, campaign.id)).status is CampaignStatus.PAUSED

    answer = await control.press(progress.message_id, texts.BUTTON_RESUME)
    assert answer.text == texts.DONE_RESUMED
    summary = await control.reply(
        after_id=progress.message_id,
        expect=f"Campaign #{campaign.id}",
        where=lambda m: "finished" in (m.text or ""),
        timeout_s=30,
    )
    assert "Sent: 12" in (summary.text or "")

    finished = await load(control, campaign.id)
    assert finished.status is CampaignStatus.COMPLETED
    assert finished.successful_sents == 12
    # Every recipient got the message exactly once, formatting intact (the admin got only the test).
    for chat_id in NEWS_USERS:
        received = control.sim.chat(NEWS_TOKEN, chat_id).bot_messages
        assert [(m.text, m.entities) for m in received] == [("Hello everyone", entities)]
    assert len(control.sim.chat(NEWS_TOKEN, ADMIN_ID).bot_messages) == 1
    final = control.message(progress.message_id)
    assert final.buttons == []


async def test_double_confirm_with_the_engine_sends_once(control: ControlBot, worker: Worker) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)
    await control.skip_buttons(after_id=control.send("Only once"))
    card = await control.say("Once", expect=texts.COMPOSE_PREVIEW_NOTE)
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SEND_NOW)
    confirm = await control.reply(after_id=before, expect="now?")
    queries = [
        control.sim.press_button(CONTROL_TOKEN, ADMIN_ID, confirm.message_id, text=texts.BTN_CONFIRM)
        for _ in range(3)
    ]
    for query in queries:
        await control.sim.wait_for_callback_answer(CONTROL_TOKEN, query)
    await control.reply(
        after_id=confirm.message_id, where=lambda m: "finished" in (m.text or ""), timeout_s=30
    )
    for chat_id in NEWS_USERS:
        assert [m.text for m in control.sim.chat(NEWS_TOKEN, chat_id).bot_messages] == ["Only once"]
    progress_messages = [
        m for m in control.sim.chat(CONTROL_TOKEN, ADMIN_ID).bot_messages if (m.text or "").startswith("📣")
    ]
    assert len(progress_messages) == 1


async def test_a_photo_campaign_sent_now_reaches_everyone_with_its_caption(
    control: ControlBot, worker: Worker
) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)
    caption_entities = [{"type": "underline", "offset": 4, "length": 5}]
    photo = b"\xff\xd8\xff\xe0 the launch photo " + bytes(range(256)) * 4
    sent = control.send(photo=photo, caption="New photos!", entities=caption_entities)
    await control.skip_buttons(after_id=sent)
    card = await control.say("Launch", expect=texts.COMPOSE_PREVIEW_NOTE)
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SEND_NOW)
    confirm = await control.reply(after_id=before, expect="now?")
    await control.press(confirm.message_id, texts.BTN_CONFIRM)
    summary = await control.reply(
        after_id=confirm.message_id, where=lambda m: "finished" in (m.text or ""), timeout_s=30
    )
    assert "Sent: 12" in (summary.text or "")
    received = [control.sim.chat(NEWS_TOKEN, chat_id).bot_messages for chat_id in NEWS_USERS]
    assert all(len(messages) == 1 for messages in received)
    assert {(m[0].media_kind, m[0].caption) for m in received} == {("photo", "New photos!")}
    assert all(m[0].caption_entities == caption_entities for m in received)
    files = {str(m[0].file_id) for m in received}
    assert len(files) == 1
    (file_id,) = files
    assert control.sim.world.files[file_id].data == photo

    # The campaign's card says what kind of message it was, with the caption.
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    listing = await control.say("/campaigns")
    await control.press(listing.message_id, texts.LIST_BUTTON.format(campaign_id=campaign.id, name="Launch"))
    opened = await control.wait_text(listing.message_id, "Message:")
    assert "Message:\n[🖼 Photo] New photos!" in (opened.text or "")


async def test_scheduled_campaign_is_started_by_the_cron_when_due(control: ControlBot) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)
    await control.skip_buttons(after_id=control.send("Scheduled hello"))
    card = await control.say("Later", expect=texts.COMPOSE_PREVIEW_NOTE)
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SCHEDULE)
    await control.reply(after_id=before, expect="When should")
    refusal = await control.say("yesterday 10:00")
    assert refusal.text is not None and refusal.text.startswith("I can't read")
    refusal = await control.say("2021-06-01 09:00")
    assert refusal.text == texts.TIME_IN_PAST.format(when="Tue 1 Jun 2021, 09:00")
    echo = await control.say("in 2 hours", expect="goes out")
    await control.press(echo.message_id, texts.BTN_CONFIRM)
    await control.wait_text(echo.message_id, "Scheduled")
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert campaign.status is CampaignStatus.SCHEDULED
    assert campaign.scheduled_at is not None and campaign.scheduled_at > utcnow() + timedelta(minutes=119)

    # Two hours pass: move the time into the past, then let the engine's cron find it.
    async with control.sessionmaker() as session, session.begin():
        await session.execute(
            update(Campaign)
            .where(Campaign.id == campaign.id)
            .values(scheduled_at=utcnow() - timedelta(seconds=1))
        )
    async with engine_worker_running(control.settings):
        await control.reply(
            after_id=echo.message_id, where=lambda m: "finished" in (m.text or ""), timeout_s=30
        )
    finished = await load(control, campaign.id)
    assert finished.status is CampaignStatus.COMPLETED
    async with control.sessionmaker() as session:
        sent = (
            (
                await session.execute(
                    select(Delivery).where(
                        Delivery.campaign_id == campaign.id, Delivery.status == DeliveryStatus.SENT
                    )
                )
            )
            .scalars()
            .all()
        )
    assert len(sent) == 12


async def test_cancel_from_the_progress_message_asks_first(control: ControlBot, worker: Worker) -> None:
    await slow_down_news_bot(control, rate_per_s=1)
    await control.say("/new", expect=texts.ASK_MESSAGE)
    await control.skip_buttons(after_id=control.send("Stop me"))
    card = await control.say("Stoppable", expect=texts.COMPOSE_PREVIEW_NOTE)
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SEND_NOW)
    confirm = await control.reply(after_id=before, expect="now?")
    await control.press(confirm.message_id, texts.BTN_CONFIRM)
    progress = await control.reply(
        after_id=confirm.message_id, where=lambda m: texts.BUTTON_CANCEL in str(m.buttons)
    )

    await control.press(progress.message_id, texts.BUTTON_CANCEL)
    asking = await control.wait_buttons(progress.message_id, texts.BTN_YES_CANCEL)
    assert [text for text, _ in asking.buttons] == [texts.BTN_YES_CANCEL, texts.BTN_NO]
    answer = await control.press(progress.message_id, texts.BTN_NO)
    assert answer.text == texts.KEPT
    await control.wait_buttons(progress.message_id, texts.BUTTON_PAUSE)
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert campaign.status is CampaignStatus.SENDING

    await control.press(progress.message_id, texts.BUTTON_CANCEL)
    await control.wait_buttons(progress.message_id, texts.BTN_YES_CANCEL)
    answer = await control.press(progress.message_id, texts.BTN_YES_CANCEL)
    assert answer.text == texts.DONE_CANCELLED
    await control.reply(
        after_id=progress.message_id, where=lambda m: "finished" in (m.text or ""), timeout_s=30
    )
    cancelled = await load(control, campaign.id)
    assert cancelled.status is CampaignStatus.CANCELLED
    assert cancelled.successful_sents < 12
    assert cancelled.finished_count == 12
    assert control.message(progress.message_id).buttons == []

    # The old buttons now answer with the campaign's state instead of acting.
    bot_record = control.sim.world.bots[CONTROL_TOKEN]
    stale = control.sim.world.chat_log(bot_record, ADMIN_ID).messages[progress.message_id]
    stale.reply_markup = progress.reply_markup
    answer = await control.press(progress.message_id, texts.BUTTON_PAUSE)
    assert answer.text == f"#{campaign.id} is ⏹ cancelled now, so that's no longer possible."
