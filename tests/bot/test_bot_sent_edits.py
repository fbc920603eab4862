"""✏️ Edit sent messages from a campaign's card: the corrected text with its formatting, the preview
of old and new, the confirmation's count and time, the edit's own progress and summary, a new
button grid, and the refusals (nothing sent, one running, a file for a text, a bad grid)."""

from __future__ import annotations

import asyncio

from arq.worker import Worker
from sqlalchemy import update

from bot.states import SentEdit
from models import ActionKind, ActionStatus, CampaignAction, CampaignStatus, TargetBot
from panel import sent_edits, texts
from panel.campaigns import create_campaign
from panel.content import MessageContent
from tests.support.control import (
    ADMIN_ID,
    CONTROL_TOKEN,
    NEWS_TOKEN,
    NEWS_USERS,
    ControlBot,
    fsm_state,
    open_card,
    sent_campaign,
)


async def test_edit_the_text_everywhere_from_the_card(control: ControlBot, worker: Worker) -> None:
    campaign_id = await sent_campaign(control, "Typo", text="Price: 10 €")
    card = await open_card(control, campaign_id, "Typo")
    assert texts.BTN_EDIT_SENT in [text for text, _ in card.buttons]

    before = control.last_id()
    await control.press(card.message_id, texts.BTN_EDIT_SENT)
    question = await control.reply(after_id=before, expect="send the corrected text")
    assert "Price: 10 €" in (question.text or "")
    assert await fsm_state(control) == SentEdit.waiting_text.state

    # A photo is no text: said so, and the question stays open.
    photo = control.send(user=ADMIN_ID, photo=b"\xff\xd8\xff\xe0 jpeg" * 10)
    refusal = await control.reply(after_id=photo)
    assert refusal.text == texts.EDIT_NOT_TEXT.format(what="text")
    assert await fsm_state(control) == SentEdit.waiting_text.state
    # The same text again changes nothing: said so.
    same = await control.say("Price: 10 €")
    assert same.text == texts.EDIT_REFUSED.format(reason=texts.EDIT_UNCHANGED)

    bold = {"type": "bold", "offset": 7, "length": 4}
    preview = await control.say("Price: 12 €", entities=[bold], expect="Before:")
    assert "Before:\nPrice: 10 €\n\nAfter:\nPrice: 12 €" in (preview.text or "")
    assert "Edit 12 sent messages" in (preview.text or "") and "it takes about" in (preview.text or "")
    assert [text for text, _ in preview.buttons] == [
        texts.BTN_YES_EDIT.format(count=12),
        texts.BTN_EDIT_CANCEL,
    ]

    answer = await control.press(preview.message_id, texts.BTN_YES_EDIT.format(count=12))
    assert answer.text == texts.EDIT_STARTED.format(campaign_id=campaign_id)
    assert await fsm_state(control) is None
    summary = await control.reply(after_id=preview.message_id, expect="✅ Edit of campaign", timeout_s=20)
    assert "Edited: 12" in (summary.text or "")
    for chat_id in NEWS_USERS:
        (message,) = control.sim.chat(NEWS_TOKEN, chat_id).bot_messages
        assert (message.text, message.entities, message.edit_count) == ("Price: 12 €", [bold], 1)
    progress = await control.reply(after_id=preview.message_id, expect="✏️ Edit of campaign")
    assert "Status: done" in (progress.text or "") and progress.buttons == []

    # Then new buttons: a bad grid is named, a good one previewed and applied.
    await control.press(card.message_id, texts.BTN_REFRESH)
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_EDIT_SENT)
    question = await control.reply(after_id=before, expect="send the corrected text")
    await control.press(question.message_id, texts.BTN_EDIT_SENT_BUTTONS)
    grid_question = await control.reply(after_id=question.message_id, expect="new button grid")
    assert await fsm_state(control) == SentEdit.waiting_grid.state
    bad = await control.say("Shop - ftp://nope")
    assert (bad.text or "").startswith("That edit can't be made:")
    preview = await control.say("Shop - https://shop.example", expect="Before:")
    assert "[Shop - https://shop.example]" in (preview.text or "")
    assert grid_question.message_id < preview.message_id
    await control.press(preview.message_id, texts.BTN_YES_EDIT.format(count=12))
    await control.reply(after_id=preview.message_id, expect="✅ Edit of campaign", timeout_s=20)
    for chat_id in NEWS_USERS:
        (message,) = control.sim.chat(NEWS_TOKEN, chat_id).bot_messages
        assert message.text == "Price: 12 €" and message.url_buttons == [[("Shop", "https://shop.example")]]
    async with control.sessionmaker() as session:
        history = await sent_edits.content_history(session, campaign_id)
    assert [entry.by for entry in history[1:]] == [ADMIN_ID, ADMIN_ID] and len(history) == 3


async def test_an_edit_is_paused_and_stopped_from_its_progress_message(
    control: ControlBot, worker: Worker
) -> None:
    campaign_id = await sent_campaign(control, "Slow", text="Price: 10 €")
    async with control.sessionmaker() as session, session.begin():
        await session.execute(update(TargetBot).values(rate_per_s=1))
    card = await open_card(control, campaign_id, "Slow")
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_EDIT_SENT)
    await control.reply(after_id=before, expect="send the corrected text")
    preview = await control.say("Price: 12 €", expect="Before:")
    await control.press(preview.message_id, texts.BTN_YES_EDIT.format(count=12))
    progress = await control.reply(
        after_id=preview.message_id, where=lambda m: texts.BTN_CANCEL_EDIT in [text for text, _ in m.buttons]
    )
    assert [text for text, _ in progress.buttons] == [texts.BTN_PAUSE_RECALL, texts.BTN_CANCEL_EDIT]

    answer = await control.press(progress.message_id, texts.BTN_PAUSE_RECALL)
    assert answer.text == texts.EDIT_PAUSED.format(campaign_id=campaign_id)
    paused = await control.wait_buttons(progress.message_id, texts.BTN_RESUME_RECALL)
    assert "Status: paused" in (paused.text or "")
    # A second edit while this one is open: the answer is its progress.
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_EDIT_SENT)
    running = await control.reply(after_id=before)
    assert (running.text or "").startswith(f"Campaign #{campaign_id} is being edited now:")
    answer = await control.press(progress.message_id, texts.BTN_RESUME_RECALL)
    assert answer.text == texts.EDIT_RESUMED.format(campaign_id=campaign_id)
    await control.wait_buttons(progress.message_id, texts.BTN_PAUSE_RECALL)

    answer = await control.press(progress.message_id, texts.BTN_CANCEL_EDIT)
    assert answer.text == texts.EDIT_CANCELLED.format(campaign_id=campaign_id)
    summary = await control.reply(after_id=progress.message_id, expect="✅ Edit of campaign", timeout_s=20)
    assert "cancelled" in (summary.text or "")
    edited = control.sim.stats(NEWS_TOKEN).edits
    assert edited < len(NEWS_USERS)
    assert f"Not tried (cancelled): {len(NEWS_USERS) - edited}" in (summary.text or "")


async def test_edit_refusals(control: ControlBot) -> None:
    async with control.sessionmaker() as session, session.begin():
        draft = await create_campaign(
            session, bot_id=control.bots["news"], content=MessageContent(text="Draft"), name="Draft"
        )
        nobody = await create_campaign(
            session, bot_id=control.bots["news"], content=MessageContent(text="None"), name="Nobody"
        )
        nobody.status = CampaignStatus.COMPLETED
        busy = await create_campaign(
            session, bot_id=control.bots["news"], content=MessageContent(text="Busy"), name="Busy"
        )
        busy.status = CampaignStatus.COMPLETED
        busy.successful_sents = 5
        await session.flush()
        session.add(
            CampaignAction(
                campaign_id=busy.id, kind=ActionKind.EDIT, status=ActionStatus.RUNNING, created_by=ADMIN_ID
            )
        )
        ids = (draft.id, nobody.id, busy.id)

    # Nothing sent: no button, and a stale tap is answered plainly.
    card = await open_card(control, ids[0], "Draft")
    assert texts.BTN_EDIT_SENT not in [text for text, _ in card.buttons]
    card = await open_card(control, ids[1], "Nobody")
    assert texts.BTN_EDIT_SENT not in [text for text, _ in card.buttons]
    control.sim.push_callback(CONTROL_TOKEN, ADMIN_ID, card.message_id, f"cpg:edit:{ids[1]}:0")
    refusal = await control.reply(after_id=card.message_id, expect="no sent message")
    assert refusal.text == texts.EDIT_NOTHING_SENT.format(campaign_id=ids[1])
    assert await fsm_state(control) is None

    # One is running: the answer is that one's progress, and no question is asked.
    card = await open_card(control, ids[2], "Busy")
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_EDIT_SENT)
    running = await control.reply(after_id=before)
    assert (running.text or "").startswith(f"Campaign #{ids[2]} is being edited now:")
    assert f"✏️ Edit of campaign #{ids[2]} “Busy”" in (running.text or "")
    assert await fsm_state(control) is None

    # A stale confirmation (no edit waiting) is refused, nothing edited.
    control.sim.push_callback(CONTROL_TOKEN, ADMIN_ID, card.message_id, f"cpg:edit_yes:{ids[2]}:0")
    await asyncio.sleep(0.5)
    async with control.sessionmaker() as session:
        latest = await sent_edits.latest_edit(session, ids[2])
    assert latest is not None and latest.content is None  # still only the planted one
