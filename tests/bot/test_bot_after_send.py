"""Recall and retry from a campaign's card: the confirmations' counts, the recall's own progress
and summary, stopping it, the refusals (nothing sent, already recalled, one running, already
retried), and a retry that reaches exactly the failed."""

from __future__ import annotations

import asyncio

from arq.worker import Worker
from sqlalchemy import select, update

from models import (
    ActionKind,
    ActionStatus,
    Campaign,
    CampaignAction,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    TargetBot,
)
from panel import after_send, texts
from panel.campaigns import create_campaign
from panel.content import MessageContent
from tests.support.control import (
    ADMIN_ID,
    CONTROL_TOKEN,
    NEWS_TOKEN,
    NEWS_USERS,
    ControlBot,
    open_card,
    sent_campaign,
)


async def test_recall_from_the_card_deletes_everywhere_then_refuses_again(
    control: ControlBot, worker: Worker
) -> None:
    campaign_id = await sent_campaign(control, "Oops")
    assert all(control.sim.chat(NEWS_TOKEN, chat_id).bot_messages for chat_id in NEWS_USERS)
    card = await open_card(control, campaign_id, "Oops")
    assert texts.BTN_RECALL in [text for text, _ in card.buttons]

    await control.press(card.message_id, texts.BTN_RECALL)
    confirm = await control.wait_buttons(card.message_id, texts.BTN_YES_RECALL)
    assert "delete its message from 12 chats (12 messages)" in (confirm.text or "")
    assert "48 hours" not in (confirm.text or "")
    before = control.last_id()
    answer = await control.press(card.message_id, texts.BTN_YES_RECALL)
    assert answer.text == texts.RECALL_STARTED.format(campaign_id=campaign_id)

    summary = await control.reply(after_id=before, expect="✅ Recall of campaign", timeout_s=20)
    assert "Deleted: 12" in (summary.text or "")
    for chat_id in NEWS_USERS:
        chat = control.sim.chat(NEWS_TOKEN, chat_id)
        assert chat.bot_messages == [] and len(chat.deleted) == 1, chat_id

    # Recalled already: a second tap says so, and nothing is deleted twice.
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_RECALL)
    refusal = await control.reply(after_id=before)
    assert refusal.text == texts.RECALL_ALREADY_DONE.format(campaign_id=campaign_id)
    assert control.sim.stats(NEWS_TOKEN).deletes == 12


async def test_a_recall_is_paused_resumed_and_stopped_from_its_progress_message(
    control: ControlBot, worker: Worker
) -> None:
    campaign_id = await sent_campaign(control, "Slow")
    async with control.sessionmaker() as session, session.begin():
        await session.execute(update(TargetBot).values(rate_per_s=1))
    card = await open_card(control, campaign_id, "Slow")
    await control.press(card.message_id, texts.BTN_RECALL)
    await control.wait_buttons(card.message_id, texts.BTN_YES_RECALL)
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_YES_RECALL)
    progress = await control.reply(
        after_id=before, where=lambda m: texts.BTN_CANCEL_RECALL in [text for text, _ in m.buttons]
    )
    assert f"Recall of campaign #{campaign_id}" in (progress.text or "")
    assert [text for text, _ in progress.buttons] == [texts.BTN_PAUSE_RECALL, texts.BTN_CANCEL_RECALL]

    # Paused: the deletes stop, the message offers Resume; resumed: they go on.
    answer = await control.press(progress.message_id, texts.BTN_PAUSE_RECALL)
    assert answer.text == texts.RECALL_PAUSED.format(campaign_id=campaign_id)
    paused = await control.wait_buttons(progress.message_id, texts.BTN_RESUME_RECALL)
    assert "Status: paused" in (paused.text or "")
    deleted_when_paused = control.sim.stats(NEWS_TOKEN).deletes
    await asyncio.sleep(1.5)
    assert control.sim.stats(NEWS_TOKEN).deletes == deleted_when_paused
    answer = await control.press(progress.message_id, texts.BTN_RESUME_RECALL)
    assert answer.text == texts.RECALL_RESUMED.format(campaign_id=campaign_id)
    await control.wait_buttons(progress.message_id, texts.BTN_PAUSE_RECALL)

    answer = await control.press(progress.message_id, texts.BTN_CANCEL_RECALL)
    assert answer.text == texts.RECALL_CANCELLED.format(campaign_id=campaign_id)
    summary = await control.reply(after_id=progress.message_id, expect="✅ Recall of campaign", timeout_s=20)
    assert "cancelled" in (summary.text or "")
    deleted = control.sim.stats(NEWS_TOKEN).deletes
    assert deleted < len(NEWS_USERS)
    assert f"Not tried (cancelled): {len(NEWS_USERS) - deleted}" in (summary.text or "")
    assert control.message(progress.message_id).buttons == []


async def test_recall_refusals(control: ControlBot) -> None:
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
                campaign_id=busy.id, kind=ActionKind.RECALL, status=ActionStatus.RUNNING, created_by=ADMIN_ID
            )
        )
        ids = (draft.id, nobody.id, busy.id)

    # No message delivered: no Recall button, and a stale one is answered plainly.
    card = await open_card(control, ids[0], "Draft")
    assert texts.BTN_RECALL not in [text for text, _ in card.buttons]
    card = await open_card(control, ids[1], "Nobody")
    assert texts.BTN_RECALL not in [text for text, _ in card.buttons]
    control.sim.push_callback(CONTROL_TOKEN, ADMIN_ID, card.message_id, f"cpg:recall:{ids[1]}:0")
    refusal = await control.reply(after_id=card.message_id, expect="no delivered message")
    assert refusal.text == texts.RECALL_NOTHING_SENT.format(campaign_id=ids[1])

    # One is running: the answer is that one's progress.
    card = await open_card(control, ids[2], "Busy")
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_RECALL)
    running = await control.reply(after_id=before)
    assert (running.text or "").startswith(f"Campaign #{ids[2]} is being recalled now:")
    assert f"🗑 Recall of campaign #{ids[2]} “Busy”" in (running.text or "")
    async with control.sessionmaker() as session:
        assert await after_send.latest_recall(session, ids[2]) is not None
    assert [text for text, _ in control.message(card.message_id).buttons].count(texts.BTN_YES_RECALL) == 0


async def test_retry_failed_from_the_card(control: ControlBot, worker: Worker) -> None:
    campaign_id = await sent_campaign(control, "Storm")
    card = await open_card(control, campaign_id, "Storm")
    assert not any(text.startswith("🔁") for text, _ in card.buttons)  # nothing failed
    # As a 5xx storm would leave it: three failed on server errors, one refused for good,
    # two timed out (they may have it).
    outcomes = {
        NEWS_USERS[0]: (DeliveryStatus.FAILED, 502),
        NEWS_USERS[1]: (DeliveryStatus.FAILED, 500),
        NEWS_USERS[2]: (DeliveryStatus.FAILED, None),
        NEWS_USERS[3]: (DeliveryStatus.FAILED, 400),
        NEWS_USERS[4]: (DeliveryStatus.UNCONFIRMED, None),
        NEWS_USERS[5]: (DeliveryStatus.UNCONFIRMED, None),
    }
    async with control.sessionmaker() as session, session.begin():
        for chat_id, (status, code) in outcomes.items():
            await session.execute(
                update(Delivery)
                .where(Delivery.campaign_id == campaign_id, Delivery.chat_id == chat_id)
                .values(status=status, last_error_code=code, telegram_message_id=None)
            )
        await session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(successful_sents=6, failed_sents=4, unconfirmed_count=2)
        )

    await control.press(card.message_id, texts.BTN_REFRESH)
    card = await control.wait_buttons(card.message_id, texts.BTN_RETRY.format(count=3))
    await control.press(card.message_id, texts.BTN_RETRY.format(count=3))
    confirm = await control.wait_buttons(card.message_id, texts.BTN_RETRY_CONFIRM.format(count=3))
    assert [text for text, _ in confirm.buttons] == [
        texts.BTN_RETRY_CONFIRM.format(count=3),
        texts.BTN_RETRY_WITH_UNCONFIRMED.format(count=2),
        texts.BTN_NO,
    ]
    assert "to the 3 recipients" in (confirm.text or "") and "2 more are unconfirmed" in (confirm.text or "")

    answer = await control.press(card.message_id, texts.BTN_RETRY_CONFIRM.format(count=3))
    async with control.sessionmaker() as session:
        child = await after_send.retry_child(session, campaign_id)
    assert child is not None
    assert answer.text == texts.RETRY_STARTED.format(child_id=child.id, campaign_id=campaign_id)
    await control.wait_text(card.message_id, f"#{child.id} Retry of #{campaign_id} Storm")

    async def child_done() -> bool:
        async with control.sessionmaker() as session:
            found = await session.get(Campaign, child.id)
        return found is not None and found.summary_sent_at is not None

    for _ in range(200):
        if await child_done():
            break
        await asyncio.sleep(0.05)
    async with control.sessionmaker() as session:
        reached = (
            await session.scalars(select(Delivery.chat_id).where(Delivery.campaign_id == child.id))
        ).all()
    assert sorted(reached) == NEWS_USERS[:3]
    for chat_id in NEWS_USERS[:3]:
        assert len(control.sim.chat(NEWS_TOKEN, chat_id).bot_messages) == 2  # the first send, the retry
    for chat_id in NEWS_USERS[3:]:
        assert len(control.sim.chat(NEWS_TOKEN, chat_id).bot_messages) == 1

    # The parent's card names its retry and the reach of both, and offers no second retry.
    card = await open_card(control, campaign_id, "Storm")
    assert f"🔁 Retried as #{child.id} · reached together: 9" in (card.text or "")
    assert not any(text.startswith("🔁") for text, _ in card.buttons)
    control.sim.push_callback(CONTROL_TOKEN, ADMIN_ID, card.message_id, f"cpg:retry_yes:{campaign_id}:0")
    refusal = await control.reply(after_id=card.message_id, expect="retried already")
    assert refusal.text == texts.RETRY_ALREADY.format(campaign_id=campaign_id, child_id=child.id)
