"""Four-eyes approval: a campaign reaching its bot's threshold is sent only after a second
admin approves it; the asker cannot approve their own, a rejection comes with its reason, any
change after approval voids it, and the scheduler never starts an unapproved campaign."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from arq.worker import Worker
from sqlalchemy import update

from bot.callbacks import ApprovalAction, ApprovalCallback, SendNowAction, SendNowCallback
from models import Campaign, CampaignStatus, TargetBot, utcnow
from panel import actions, texts, transitions
from panel.admins import add_admin
from panel.audit import CLI
from panel.buttons import parse_buttons
from panel.campaigns import create_campaign
from panel.content import MessageContent
from panel.roles import Role, set_role
from tests.support.control import ADMIN_ID, CONTROL_TOKEN, NEWS_TOKEN, ControlBot

APPROVER_ID = 9301


async def _setup(control: ControlBot) -> int:
    control.sim.add_user(CONTROL_TOKEN, APPROVER_ID, first_name="Bo")
    async with control.sessionmaker.begin() as session:
        await session.execute(update(TargetBot).values(approval_threshold=5))
        await add_admin(session, APPROVER_ID)
        await set_role(session, APPROVER_ID, Role.SENDER)
        campaign = await create_campaign(
            session, bot_id=control.bots["news"], content=MessageContent("Big news"), name="Big"
        )
        return campaign.id


async def _status(control: ControlBot, campaign_id: int) -> Campaign:
    async with control.sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
    assert campaign is not None
    return campaign


async def test_a_large_campaign_waits_for_a_second_admin(control: ControlBot) -> None:
    campaign_id = await _setup(control)
    asked = await control.say(f"/sendnow {campaign_id}", expect="need a second admin's approval")
    assert [text for text, _ in asked.buttons] == [texts.BTN_ASK_APPROVAL, texts.BTN_NOT_NOW]
    # A Confirm kept from before (or forged) does not start it.
    forged = SendNowCallback(action=SendNowAction.CONFIRM, campaign_id=campaign_id).pack()
    query_id, _ = control.sim.push_callback(CONTROL_TOKEN, ADMIN_ID, asked.message_id, forged)
    answer = await control.sim.wait_for_callback_answer(CONTROL_TOKEN, query_id, timeout_s=10)
    assert answer.text == texts.SEND_NEEDS_APPROVAL.format(campaign_id=campaign_id)
    assert (await _status(control, campaign_id)).status is CampaignStatus.DRAFT

    before = control.last_id(APPROVER_ID)
    await control.press(asked.message_id, texts.BTN_ASK_APPROVAL)
    await control.wait_text(asked.message_id, f"Asked for approval of #{campaign_id}: {APPROVER_ID}")
    request = await control.reply(after_id=before, user=APPROVER_ID, expect="🙋 Approval asked by")
    assert "Big news" in (request.text or "") and f"({ADMIN_ID})" in (request.text or "")
    # The asker cannot decide their own request.
    own = ApprovalCallback(action=ApprovalAction.APPROVE, campaign_id=campaign_id).pack()
    query_id, _ = control.sim.push_callback(CONTROL_TOKEN, ADMIN_ID, asked.message_id, own)
    answer = await control.sim.wait_for_callback_answer(CONTROL_TOKEN, query_id, timeout_s=10)
    assert "a second admin has to decide" in (answer.text or "")

    # Rejected, with the reason told to the asker.
    await control.press(request.message_id, texts.BTN_REJECT, user=APPROVER_ID)
    await control.reply(after_id=request.message_id, user=APPROVER_ID, expect="Why is")
    before = control.last_id()
    await control.say("Too pushy for a Monday", user=APPROVER_ID, expect="✖ Rejected")
    told = await control.reply(after_id=before, expect="was rejected by")
    assert "Too pushy for a Monday" in (told.text or "")
    assert (await _status(control, campaign_id)).approval_state == "rejected"

    # Asked again and approved: now it may be sent.
    asked = await control.say(f"/sendnow {campaign_id}", expect="need a second admin's approval")
    before = control.last_id(APPROVER_ID)
    await control.press(asked.message_id, texts.BTN_ASK_APPROVAL)
    request = await control.reply(after_id=before, user=APPROVER_ID, expect="🙋 Approval asked by")
    before = control.last_id()
    await control.press(request.message_id, texts.BTN_APPROVE, user=APPROVER_ID)
    await control.reply(
        after_id=before, expect=f"Campaign #{campaign_id} was approved by admin {APPROVER_ID}"
    )
    confirm = await control.say(f"/sendnow {campaign_id}", expect="")
    assert texts.BTN_CONFIRM in [text for text, _ in confirm.buttons]

    # Any change after the approval voids it.
    assert await actions.set_buttons(
        control.sessionmaker, campaign_id, parse_buttons("Shop - https://shop.example"), actor=CLI
    )
    outcome = await actions.start(
        control.sessionmaker, control.arq_pool, campaign_id, queue_name=control.settings.queue_name, actor=CLI
    )
    assert outcome is actions.StartOutcome.NEEDS_APPROVAL
    await control.say(f"/sendnow {campaign_id}", expect="need a second admin's approval")


async def test_the_scheduler_never_starts_an_unapproved_campaign(control: ControlBot, worker: Worker) -> None:
    campaign_id = await _setup(control)
    async with control.sessionmaker.begin() as session:
        await transitions.schedule(session, campaign_id, utcnow() + timedelta(seconds=1))
        await session.execute(update(Campaign).values(progress_chat_id=ADMIN_ID))
    before = control.last_id()
    note = await control.reply(after_id=before, expect="was due but not sent", timeout_s=30)
    assert f"#{campaign_id}" in (note.text or "")
    campaign = await _status(control, campaign_id)
    assert campaign.status is CampaignStatus.DRAFT and campaign.status_reason == texts.NEEDS_APPROVAL_REASON
    await asyncio.sleep(0.5)
    assert control.sim.stats(NEWS_TOKEN).delivered_total == 0
