"""⌛ Delete after…, from a campaign's card: how long after its sending ends the message is deleted
from every chat (`panel.expiry`; the workers' cron starts the recall when it is due)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callbacks import CampaignAction, CampaignCallback
from bot.schedule_parse import ScheduleParseError, parse_send_time
from bot.states import ExpiryStates
from models import FINAL_CAMPAIGN_STATUSES, CampaignStatus, utcnow
from panel import texts
from panel.audience import campaign_view
from panel.audit import Actor
from panel.expiry import ExpiryOutcome, parse_span, set_expiry


async def ask_for_expiry(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
) -> None:
    """The card's "Delete after…": the question, with the expiry set now if any."""
    async with sessionmaker() as session:
        view = await campaign_view(session, callback_data.campaign_id)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if view is None:
        await query.message.answer(texts.NO_SUCH_CAMPAIGN.format(campaign_id=callback_data.campaign_id))
        return
    campaign = view.campaign
    if campaign.status in FINAL_CAMPAIGN_STATUSES:
        await query.message.answer(texts.EXPIRY_TOO_LATE_NOW.format(campaign_id=campaign.id))
        return
    await state.set_state(ExpiryStates.waiting_delay)
    await state.set_data({"campaign_id": campaign.id})
    current = (
        texts.EXPIRY_CURRENT.format(after=texts.duration(timedelta(seconds=campaign.expire_after_s)))
        if campaign.expire_after_s
        else ""
    )
    await query.message.answer(
        texts.ASK_EXPIRY.format(campaign_id=campaign.id, timezone=admin_timezone, current=current)
    )


async def _delay_of(
    typed: str, campaign_id: int, sessionmaker: async_sessionmaker[AsyncSession], admin_timezone: str
) -> timedelta | None:
    """The delay typed: a span (`6h`), or a time (`tomorrow 9:00`) less when the sending should end."""
    span = parse_span(typed)
    if span is not None:
        return span
    now = utcnow()
    try:
        when = parse_send_time(typed, now=now, tz=ZoneInfo(admin_timezone)).when
    except ScheduleParseError:
        return None
    async with sessionmaker() as session:
        view = await campaign_view(session, campaign_id)
    if view is None:
        return None
    campaign = view.campaign
    if campaign.status is CampaignStatus.SCHEDULED and campaign.scheduled_at is not None:
        start = max(campaign.scheduled_at, now)
    else:
        start = campaign.started_at or now
    return when - (start + view.audience.duration)


async def got_delay(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession], admin_timezone: str
) -> None:
    """The delay; a mistake is named and the question stays open."""
    assert message.text is not None
    campaign_id = int((await state.get_data())["campaign_id"])
    typed = message.text.strip()
    if typed == "0":
        after: timedelta | None = None
    else:
        after = await _delay_of(typed, campaign_id, sessionmaker, admin_timezone)
        if after is None:
            await message.answer(
                texts.EXPIRY_REFUSED.format(reason=texts.EXPIRY_UNREADABLE.format(typed=typed[:40]))
            )
            return
    outcome, reason = await set_expiry(sessionmaker, campaign_id, after, actor=Actor.chat(message.chat.id))
    if outcome is ExpiryOutcome.REFUSED:
        await message.answer(texts.EXPIRY_REFUSED.format(reason=reason))
        return
    await state.clear()
    if outcome is ExpiryOutcome.SET and after is not None:
        await message.answer(texts.EXPIRY_SET.format(campaign_id=campaign_id, after=texts.duration(after)))
    elif outcome is ExpiryOutcome.CLEARED:
        await message.answer(texts.EXPIRY_CLEARED.format(campaign_id=campaign_id))
    elif outcome is ExpiryOutcome.ENDED:
        await message.answer(texts.EXPIRY_TOO_LATE_NOW.format(campaign_id=campaign_id))
    else:
        await message.answer(texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id))


async def delay_not_text(message: Message) -> None:
    """A sticker or photo as the delay."""
    await message.answer(texts.EXPIRY_NOT_TEXT)


def create_router() -> Router:
    """The "Delete after…" question, on a new router (each dispatcher gets its own)."""
    router = Router(name="expiry")
    router.callback_query.register(ask_for_expiry, CampaignCallback.filter(F.action == CampaignAction.EXPIRY))
    router.message.register(got_delay, ExpiryStates.waiting_delay, F.text, ~F.text.startswith("/"))
    router.message.register(delay_not_text, ExpiryStates.waiting_delay, ~F.text)
    return router
