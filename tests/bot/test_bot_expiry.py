"""⌛ Delete after… from a campaign's card: the delay read like the schedule, its refusals (no
delay, out of 1-47 hours, a file), set and cleared, and no change once the sending ended."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.states import ExpiryStates
from models import Campaign, CampaignStatus, utcnow
from panel import texts
from panel.campaigns import create_campaign
from panel.content import MessageContent
from tests.support.control import ADMIN_ID, CONTROL_TOKEN, ControlBot, fsm_state
from tgsim.simulator import ChatEntry


async def open_card(control: ControlBot, campaign_id: int, name: str) -> ChatEntry:
    listing = await control.say("/campaigns", expect="Campaigns")
    await control.press(listing.message_id, f"#{campaign_id} {name}")
    return await control.wait_text(listing.message_id, f"#{campaign_id} {name}\n")


async def test_delete_after_from_the_card(control: ControlBot) -> None:
    async with control.sessionmaker() as session, session.begin():
        later = await create_campaign(
            session, bot_id=control.bots["news"], content=MessageContent(text="Sale"), name="Sale"
        )
        draft = await create_campaign(
            session, bot_id=control.bots["news"], content=MessageContent(text="Draft"), name="Draft"
        )
        done = await create_campaign(
            session, bot_id=control.bots["news"], content=MessageContent(text="Done"), name="Done"
        )
        await session.flush()
        ids = (later.id, draft.id, done.id)
        await session.execute(
            update(Campaign)
            .where(Campaign.id == later.id)
            .values(status=CampaignStatus.SCHEDULED, scheduled_at=utcnow() + timedelta(hours=2))
        )
        await session.execute(
            update(Campaign)
            .where(Campaign.id == done.id)
            .values(status=CampaignStatus.COMPLETED, completed_at=utcnow(), successful_sents=3)
        )

    card = await open_card(control, ids[0], "Sale")
    assert texts.BTN_EXPIRY in [text for text, _ in card.buttons]
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_EXPIRY)
    question = await control.reply(after_id=before, expect="how long after the sending ends")
    assert "1 to 47 hours" in (question.text or "")
    assert await fsm_state(control) == ExpiryStates.waiting_delay.state

    for typed, reason in (
        ("soon", texts.EXPIRY_UNREADABLE.format(typed="soon")),
        ("30 min", texts.EXPIRY_RANGE.format(after=texts.duration(timedelta(minutes=30)))),
        ("49h", texts.EXPIRY_RANGE.format(after=texts.duration(timedelta(hours=49)))),
    ):
        refusal = await control.say(typed)
        assert refusal.text == texts.EXPIRY_REFUSED.format(reason=reason), typed
    photo = control.send(photo=b"\xff\xd8\xff\xe0 jpeg" * 10)
    assert (await control.reply(after_id=photo)).text == texts.EXPIRY_NOT_TEXT
    assert await fsm_state(control) == ExpiryStates.waiting_delay.state

    done_text = await control.say("6h")
    assert done_text.text == texts.EXPIRY_SET.format(
        campaign_id=ids[0], after=texts.duration(timedelta(hours=6))
    )
    assert await fsm_state(control) is None
    async with control.sessionmaker() as session:
        stored = await session.get(Campaign, ids[0])
    assert stored is not None and stored.expire_after_s == 6 * 3600
    await control.press(card.message_id, texts.BTN_REFRESH)
    await control.wait_text(
        card.message_id, texts.CARD_EXPIRY.format(after=texts.duration(timedelta(hours=6)))
    )

    # 0 clears it.
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_EXPIRY)
    question = await control.reply(after_id=before, expect="how long after the sending ends")
    assert "Now: deleted 6 h" in (question.text or "")
    cleared = await control.say("0")
    assert cleared.text == texts.EXPIRY_CLEARED.format(campaign_id=ids[0])

    # A draft's card has no such button (it gets one once scheduled or sending); an ended
    # campaign's expiry can't change: a stale tap says so.
    card = await open_card(control, ids[1], "Draft")
    assert texts.BTN_EXPIRY not in [text for text, _ in card.buttons]
    card = await open_card(control, ids[2], "Done")
    assert texts.BTN_EXPIRY not in [text for text, _ in card.buttons]
    control.sim.push_callback(CONTROL_TOKEN, ADMIN_ID, card.message_id, f"cpg:expiry:{ids[2]}:0")
    refusal = await control.reply(after_id=card.message_id, expect="has ended already")
    assert refusal.text == texts.EXPIRY_TOO_LATE_NOW.format(campaign_id=ids[2])
    assert await fsm_state(control) is None
