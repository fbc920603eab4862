"""Four-eyes approval: a campaign reaching its bot's threshold is sent only after a second
admin approves it; the asker cannot approve their own, a rejection comes with its reason, any
change after approval voids it, and the scheduler never starts an unapproved campaign."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

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
from tests.processes import broadcast_cli
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


def _cli_env(control: ControlBot) -> dict[str, str]:
    """The CLI on the control bot's database, talking to the simulator as the control bot."""
    return {
        "DATABASE_URL": control.settings.database_url,
        "BOT_TOKEN": CONTROL_TOKEN,
        "TELEGRAM_API_URL": control.settings.telegram_api_url,
        "ADMIN_IDS": str(ADMIN_ID),
    }


async def test_the_cli_asks_and_decides_but_never_both(control: ControlBot, tmp_path: Path) -> None:
    campaign_id = await _setup(control)
    env = _cli_env(control)

    async def cli(*args: str) -> tuple[int, str]:
        code, out, err = await broadcast_cli("campaigns", *args, env=env, cwd=tmp_path)
        return code, out + err

    # A request made in the chat is decided at the CLI; the asker hears it in the chat.
    asked = await control.say(f"/sendnow {campaign_id}", expect="need a second admin's approval")
    await control.press(asked.message_id, texts.BTN_ASK_APPROVAL)
    await control.wait_text(asked.message_id, f"Asked for approval of #{campaign_id}")
    code, out = await cli("reject", str(campaign_id), "--reason", "  ")
    assert code != 0 and "--reason is empty" in out, out
    assert (await _status(control, campaign_id)).approval_state == "pending"  # nothing decided
    before = control.last_id()
    code, out = await cli("approve", str(campaign_id))
    assert code == 0 and f"campaign #{campaign_id} approved; admin {ADMIN_ID} was told" in out, out
    await control.reply(after_id=before, expect=f"Campaign #{campaign_id} was approved by the CLI")
    code, out = await cli("approve", str(campaign_id))
    assert code == 1 and "has no request waiting for a decision" in out, out
    code, out = await cli("ask-approval", str(campaign_id))
    assert code == 1 and "is approved already" in out, out

    # A request made at the CLI goes to the chat's approvers, and the CLI cannot decide it.
    async with control.sessionmaker.begin() as session:
        await session.execute(update(Campaign).values(approval_state=None, approval_fingerprint=None))
    before = control.last_id(APPROVER_ID)
    code, out = await cli("ask-approval", str(campaign_id))
    assert code == 0 and f"approval asked; {ADMIN_ID}, {APPROVER_ID} can decide in the chat" in out, out
    request = await control.reply(after_id=before, user=APPROVER_ID, expect="🙋 Approval asked by the CLI")
    code, out = await cli("ask-approval", str(campaign_id))
    assert code == 1 and "waiting for approval already" in out, out
    code, out = await cli("approve", str(campaign_id))
    assert code == 1 and "asked for from the CLI; an admin has to decide in the chat" in out, out
    assert (await _status(control, campaign_id)).approval_state == "pending"
    await control.press(request.message_id, texts.BTN_APPROVE, user=APPROVER_ID)
    await control.wait_text(
        request.message_id, f"✅ Approved by you: #{campaign_id}. the CLI can send it now.", user=APPROVER_ID
    )
    assert (await _status(control, campaign_id)).approval_state == "approved"


async def test_the_cli_rejects_with_the_reason_told(control: ControlBot, tmp_path: Path) -> None:
    campaign_id = await _setup(control)
    env = _cli_env(control)
    code, out, err = await broadcast_cli("campaigns", "ask-approval", "99", env=env, cwd=tmp_path)
    assert code == 1 and "there is no campaign #99" in err, err
    asked = await control.say(f"/sendnow {campaign_id}", expect="need a second admin's approval")
    await control.press(asked.message_id, texts.BTN_ASK_APPROVAL)
    await control.wait_text(asked.message_id, f"Asked for approval of #{campaign_id}")
    before = control.last_id()
    code, out, err = await broadcast_cli(
        "campaigns", "reject", str(campaign_id), "--reason", "Wrong audience", env=env, cwd=tmp_path
    )
    assert code == 0 and "rejected" in out, out + err
    told = await control.reply(after_id=before, expect="was rejected by the CLI")
    assert "Wrong audience" in (told.text or "")
    assert (await _status(control, campaign_id)).approval_state == "rejected"
