"""Send now (confirmed once), scheduling in the admin's zone, and the campaign cards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.states import Scheduling
from models import Campaign, CampaignStatus, utcnow
from panel import texts
from panel.campaigns import create_campaign
from panel.content import MessageContent
from tests.support.control import ADMIN_ID, CONTROL_TOKEN, ControlBot, fsm_state

BERLIN = ZoneInfo("Europe/Berlin")


async def new_draft(control: ControlBot, name: str = "Weekly") -> int:
    async with control.sessionmaker() as session, session.begin():
        campaign = await create_campaign(
            session, bot_id=control.bots["news"], content=MessageContent(f"{name} digest"), name=name
        )
    return campaign.id


async def load(control: ControlBot, campaign_id: int) -> Campaign:
    async with control.sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        return campaign


async def test_double_tapped_confirm_starts_once(control: ControlBot) -> None:
    first = await new_draft(control, "First")
    second = await new_draft(control, "Second")
    picker = await control.say("/sendnow", expect=texts.PICK_TO_SEND)
    assert [text for text, _ in picker.buttons] == [f"#{second} Second", f"#{first} First"]
    before = control.last_id()
    await control.press(picker.message_id, f"#{first} First")
    card = await control.reply(after_id=before, expect="now?")
    assert card.text == (
        f"Send #{first} «First» now?\n\nBot: news (@news_bot)\nAudience: 12 users\nTakes about 1 s."
    )
    assert [text for text, _ in card.buttons] == [texts.BTN_CONFIRM, texts.BTN_NOT_NOW]

    # Two taps before the bot answers either.
    queries = [
        control.sim.press_button(CONTROL_TOKEN, ADMIN_ID, card.message_id, text=texts.BTN_CONFIRM)
        for _ in range(2)
    ]
    answers = [await control.sim.wait_for_callback_answer(CONTROL_TOKEN, q) for q in queries]
    assert sorted(a.text or "" for a in answers) == ["", texts.ALREADY_STARTING]
    edited = await control.sim.wait_for_edit(CONTROL_TOKEN, ADMIN_ID, card.message_id)
    assert edited.text == texts.STARTING.format(campaign_id=first)
    assert edited.buttons == []

    assert await control.arq_pool.zcard(control.settings.queue_name) == 1
    campaign = await load(control, first)
    assert campaign.progress_chat_id == ADMIN_ID
    assert (await load(control, second)).progress_chat_id is None


async def test_sendnow_refuses_what_cannot_be_sent(control: ControlBot) -> None:
    assert (await control.say("/sendnow")).text == texts.NOTHING_TO_SEND
    assert (await control.say("/sendnow abc")).text == texts.BAD_CAMPAIGN_ID.format(
        value="abc", command="sendnow"
    )
    assert (await control.say("/sendnow 999")).text == texts.NO_SUCH_CAMPAIGN.format(campaign_id=999)
    draft = await new_draft(control)
    card = await control.say(f"/sendnow {draft}", expect="now?")
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_NOT_NOW)
    edited = await control.sim.wait_for_edit(CONTROL_TOKEN, ADMIN_ID, card.message_id)
    assert edited.text == texts.SEND_NOT_NOW.format(campaign_id=draft)
    assert control.last_id() == before
    assert await control.arq_pool.zcard(control.settings.queue_name) == 0
    assert (await load(control, draft)).status is CampaignStatus.DRAFT


async def test_compose_then_schedule_in_two_hours_refusing_the_past(control: ControlBot) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)
    await control.skip_buttons(after_id=control.send("See you later"))
    card = await control.say("Later", expect=texts.COMPOSE_PREVIEW_NOTE)
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SCHEDULE)
    question = await control.reply(after_id=before, expect="When should")
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert question.text == texts.ASK_TIME.format(campaign_id=campaign.id, timezone="Europe/Berlin")
    assert campaign.status is CampaignStatus.DRAFT
    assert await fsm_state(control) == Scheduling.waiting_time.state

    refusal = await control.say("2020-01-01 10:00")
    assert refusal.text == texts.TIME_IN_PAST.format(when="Wed 1 Jan 2020, 10:00")
    assert await fsm_state(control) == Scheduling.waiting_time.state
    refusal = await control.say("whenever you like")
    assert refusal.text == texts.TIME_UNREADABLE.format(value="whenever you like")
    assert await fsm_state(control) == Scheduling.waiting_time.state

    asked_at = utcnow()
    echo = await control.say("in 2 hours", expect="goes out")
    expected = asked_at + timedelta(hours=2)
    assert f"#{campaign.id} goes out " in (echo.text or "")
    assert "(Europe/Berlin)" in (echo.text or "") and "UTC" in (echo.text or "")
    assert [text for text, _ in echo.buttons] == [texts.BTN_CONFIRM, texts.BTN_CHANGE]
    assert await fsm_state(control) == Scheduling.confirming.state
    before = control.last_id()
    await control.press(echo.message_id, texts.BTN_CONFIRM)
    done = await control.sim.wait_for_edit(CONTROL_TOKEN, ADMIN_ID, echo.message_id)
    assert (done.text or "").startswith(f"🗓 Scheduled #{campaign.id} for ")
    assert await fsm_state(control) is None

    scheduled = await load(control, campaign.id)
    assert scheduled.status is CampaignStatus.SCHEDULED
    assert scheduled.scheduled_at is not None
    assert abs(scheduled.scheduled_at - expected) < timedelta(seconds=30)


async def test_clock_time_echo_says_today_or_tomorrow_and_change_asks_again(control: ControlBot) -> None:
    draft = await new_draft(control)
    await control.say(f"/schedule {draft}", expect="When should")
    now_berlin = datetime.now(UTC).astimezone(BERLIN)
    past_clock = (now_berlin - timedelta(minutes=5)).strftime("%H:%M")
    echo = await control.say(past_clock, expect="goes out")
    if now_berlin.strftime("%H:%M") > past_clock:  # not just after midnight
        assert texts.NOTE_TOMORROW.format(clock=past_clock) in (echo.text or "")
    before = control.last_id()
    await control.press(echo.message_id, texts.BTN_CHANGE)
    await control.reply(after_id=before, expect="When should")
    assert await fsm_state(control) == Scheduling.waiting_time.state
    echo = await control.say("tomorrow 9:00", expect="goes out")
    await control.press(echo.message_id, texts.BTN_CONFIRM)
    await control.sim.wait_for_edit(CONTROL_TOKEN, ADMIN_ID, echo.message_id)
    scheduled = await load(control, draft)
    assert scheduled.status is CampaignStatus.SCHEDULED
    assert scheduled.scheduled_at is not None
    local = scheduled.scheduled_at.astimezone(BERLIN)
    assert (local.hour, local.minute) == (9, 0)


async def test_campaign_card_unschedules_moves_and_deletes(control: ControlBot) -> None:
    draft = await new_draft(control, "Card")
    listing = await control.say("/campaigns", expect="Campaigns 1–1 of 1")
    assert f"#{draft} 📝 Draft · Card" in (listing.text or "")
    await control.press(listing.message_id, f"#{draft} Card")
    card = await control.sim.wait_for_edit(CONTROL_TOKEN, ADMIN_ID, listing.message_id)
    assert (card.text or "").startswith(f"#{draft} Card\n📝 Draft")
    assert "Card digest" in (card.text or "")
    assert [text for text, _ in card.buttons] == [
        texts.BTN_SEND_NOW,
        texts.BTN_SCHEDULE,
        texts.BTN_DUPLICATE,
        texts.BTN_DELETE,
        texts.BTN_EDIT_BUTTONS,
        texts.BTN_AB_TEST,
        texts.BTN_REFRESH,
        texts.BTN_BACK,
    ]

    # Schedule from the card, then unschedule from the refreshed card.
    before = control.last_id()
    await control.press(listing.message_id, texts.BTN_SCHEDULE)
    await control.reply(after_id=before, expect="When should")
    echo = await control.say("in 3 hours", expect="goes out")
    await control.press(echo.message_id, texts.BTN_CONFIRM)
    await control.sim.wait_for_edit(CONTROL_TOKEN, ADMIN_ID, echo.message_id)
    await control.press(listing.message_id, texts.BTN_REFRESH)
    card = await control.wait_text(listing.message_id, "🗓 Scheduled")
    assert texts.BTN_UNSCHEDULE in [text for text, _ in card.buttons]
    answer = await control.press(listing.message_id, texts.BTN_UNSCHEDULE)
    assert answer.text == texts.DONE_UNSCHEDULED.format(campaign_id=draft)
    assert (await load(control, draft)).status is CampaignStatus.DRAFT

    # A stale button: the campaign moved on (someone started it) before the tap.
    async with control.sessionmaker() as session, session.begin():
        row = await session.get(Campaign, draft)
        assert row is not None
        row.status = CampaignStatus.SENDING
    answer = await control.press(listing.message_id, texts.BTN_DELETE)
    assert answer.text == f"#{draft} is 📤 sending now, so that's no longer possible."
    await control.wait_buttons(listing.message_id, texts.BTN_PAUSE)
    assert (await load(control, draft)).status is CampaignStatus.SENDING

    # Delete asks first.
    async with control.sessionmaker() as session, session.begin():
        row = await session.get(Campaign, draft)
        assert row is not None
        row.status = CampaignStatus.DRAFT
    await control.press(listing.message_id, texts.BTN_REFRESH)
    await control.wait_buttons(listing.message_id, texts.BTN_DELETE)
    await control.press(listing.message_id, texts.BTN_DELETE)
    confirm = await control.wait_buttons(listing.message_id, texts.BTN_YES_DELETE)
    assert [t for t, _ in confirm.buttons] == [texts.BTN_YES_DELETE, texts.BTN_NO]
    assert texts.CONFIRM_DELETE.format(campaign_id=draft) in (confirm.text or "")
    answer = await control.press(listing.message_id, texts.BTN_YES_DELETE)
    assert answer.text == texts.DONE_DELETED.format(campaign_id=draft)
    assert control.message(listing.message_id).text == texts.NO_CAMPAIGNS
    async with control.sessionmaker() as session:
        assert await session.get(Campaign, draft) is None


async def test_cancel_while_scheduling_keeps_the_campaign_as_it_was(control: ControlBot) -> None:
    draft = await new_draft(control)
    await control.say(f"/schedule {draft}", expect="When should")
    echo = await control.say("tomorrow 10am", expect="goes out")
    reply = await control.say("/cancel")
    assert reply.text == texts.CANCELLED_STEP.format(what=texts.CANCELLED_SCHEDULE.format(campaign_id=draft))
    assert await fsm_state(control) is None
    answer = await control.press(echo.message_id, texts.BTN_CONFIRM)
    assert answer.text == texts.STALE_QUESTION
    assert (await load(control, draft)).status is CampaignStatus.DRAFT


async def test_campaign_list_pages_newest_first(control: ControlBot) -> None:
    ids = [await new_draft(control, f"N{i}") for i in range(10)]
    listing = await control.say("/campaigns", expect="Campaigns 1–8 of 10")
    buttons = [text for text, _ in listing.buttons]
    assert buttons[:8] == [f"#{ids[i]} N{i}" for i in range(9, 1, -1)]
    assert buttons[8:] == [texts.BTN_NEXT]
    assert "12 users" in (listing.text or "")
    await control.press(listing.message_id, texts.BTN_NEXT)
    page = await control.wait_text(listing.message_id, "Campaigns 9–10 of 10")
    assert [text for text, _ in page.buttons] == [f"#{ids[1]} N1", f"#{ids[0]} N0", texts.BTN_PREV]
    await control.press(listing.message_id, f"#{ids[0]} N0")
    card = await control.wait_text(listing.message_id, "N0 digest")
    await control.press(card.message_id, texts.BTN_BACK)
    await control.wait_text(listing.message_id, "Campaigns 9–10 of 10")
