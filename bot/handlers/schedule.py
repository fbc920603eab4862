"""/schedule: ask for a time in the admin's zone, echo what was understood, schedule on Confirm."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards, prompts, views
from bot.callbacks import ScheduleAction, ScheduleCallback
from bot.edits import edit_buttons, edit_text
from bot.prompts import ask_time, parse_campaign_id
from bot.schedule_parse import ScheduleParseError, parse_send_time
from bot.states import Scheduling
from models import UNSTARTED_CAMPAIGN_STATUSES, utcnow
from panel import actions, texts
from panel import campaigns as lifecycle
from panel.audience import campaign_view
from panel.audit import Actor
from panel.roles import Access


async def schedule_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
    access: Access,
) -> None:
    """`/schedule 12` asks for #12's time; `/schedule` lists the drafts (of the admin's scope)."""
    campaign_id = parse_campaign_id(command)
    if isinstance(campaign_id, str):
        await message.answer(texts.BAD_CAMPAIGN_ID.format(value=campaign_id[:32], command="schedule"))
        return
    await state.clear()
    if campaign_id is not None:
        await ask_time(message, state, sessionmaker, campaign_id, admin_timezone)
        return
    async with sessionmaker() as session:
        candidates, _ = await lifecycle.list_campaigns(
            session, statuses=UNSTARTED_CAMPAIGN_STATUSES, bot_ids=access.bot_ids
        )
    if not candidates:
        await message.answer(texts.NOTHING_TO_SCHEDULE)
        return
    await message.answer(
        texts.PICK_TO_SCHEDULE, reply_markup=keyboards.campaign_picker(candidates, for_schedule=True)
    )


async def got_time(message: Message, state: FSMContext, admin_timezone: str) -> None:
    """Read the typed time and echo it for confirmation; bad text gets a specific answer."""
    assert message.text is not None
    data = await state.get_data()
    campaign_id = int(data["campaign_id"])
    try:
        parsed = parse_send_time(message.text, now=utcnow(), tz=ZoneInfo(admin_timezone))
    except ScheduleParseError as error:
        await state.set_state(Scheduling.waiting_time)
        await message.answer(views.time_refusal(error, message.text, admin_timezone))
        return
    await state.set_state(Scheduling.confirming)
    await state.update_data(when=parsed.when.isoformat())
    await message.answer(
        views.time_confirmation(campaign_id, parsed, admin_timezone),
        reply_markup=keyboards.confirm_time(campaign_id),
    )


async def time_not_text(message: Message) -> None:
    """Anything but text while a time is expected."""
    await message.answer(texts.STILL_WAITING.format(what=texts.WAITING_FOR_TIME))


async def confirm(
    query: CallbackQuery,
    callback_data: ScheduleCallback,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
) -> None:
    """Schedule (or move) the campaign to the confirmed time."""
    data = await state.get_data()
    campaign_id = int(data["campaign_id"])
    if campaign_id != callback_data.campaign_id or "when" not in data:
        await query.answer(texts.STALE_QUESTION)
        return
    when = datetime.fromisoformat(data["when"])
    message = query.message if isinstance(query.message, Message) else None
    try:
        # The live progress appears in this chat when the campaign starts.
        changed = await actions.schedule(
            sessionmaker,
            campaign_id,
            when,
            actor=Actor.chat(query.from_user.id),
            progress_chat_id=query.from_user.id,
        )
    except lifecycle.CampaignError:
        # The time passed while the admin looked at the echo.
        await state.set_state(Scheduling.waiting_time)
        await query.answer()
        if message is not None:
            await edit_buttons(message, None)
            await message.answer(texts.TIME_IN_PAST.format(when=texts.when_local(when, admin_timezone)))
        return
    await state.clear()
    if not changed:
        async with sessionmaker() as session:
            view = await campaign_view(session, campaign_id)
        answer = (
            views.moved_on(view.campaign) if view else texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id)
        )
        await query.answer(answer, show_alert=True)
        if message is not None:
            await edit_text(message, answer)
        return
    await query.answer()
    if message is not None:
        await edit_text(
            message,
            texts.SCHEDULED.format(
                campaign_id=campaign_id, when=texts.when_local(when, admin_timezone), timezone=admin_timezone
            ),
        )


async def change(query: CallbackQuery, state: FSMContext, admin_timezone: str) -> None:
    """Ask for the time again."""
    data = await state.get_data()
    await state.set_state(Scheduling.waiting_time)
    await query.answer()
    if isinstance(query.message, Message):
        await edit_buttons(query.message, None)
        await query.message.answer(
            texts.ASK_TIME.format(campaign_id=data["campaign_id"], timezone=admin_timezone)
        )


async def stale(query: CallbackQuery) -> None:
    """A Confirm/Change button from a time question that is no longer open."""
    await query.answer(texts.STALE_QUESTION)


def create_router() -> Router:
    """The /schedule conversation's handlers, on a new router (each dispatcher gets its own)."""
    router = Router(name="schedule")
    router.message.register(schedule_command, Command("schedule"))
    router.callback_query.register(
        prompts.time_question_on_tap, ScheduleCallback.filter(F.action == ScheduleAction.PICK)
    )
    router.message.register(got_time, Scheduling.confirming, F.text, ~F.text.startswith("/"))
    router.message.register(got_time, Scheduling.waiting_time, F.text, ~F.text.startswith("/"))
    router.message.register(time_not_text, Scheduling.confirming, ~F.text.startswith("/"))
    router.message.register(time_not_text, Scheduling.waiting_time, ~F.text.startswith("/"))
    router.callback_query.register(
        confirm, Scheduling.confirming, ScheduleCallback.filter(F.action == ScheduleAction.CONFIRM)
    )
    router.callback_query.register(
        change, Scheduling.confirming, ScheduleCallback.filter(F.action == ScheduleAction.CHANGE)
    )
    router.callback_query.register(stale, ScheduleCallback.filter())
    return router
