"""/sendnow: a confirmation card with the audience and duration; only Confirm starts sending."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards, prompts, views
from bot.callbacks import SendNowAction, SendNowCallback
from bot.edits import edit_buttons, edit_text
from bot.prompts import ask_confirmation, parse_campaign_id
from panel import actions, texts
from panel.actions import StartOutcome
from panel.audience import campaign_view
from panel.audit import Actor
from panel.campaigns import startable_campaigns
from panel.roles import Access
from panel.settings import Settings

logger = logging.getLogger(__name__)


async def sendnow(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    access: Access,
) -> None:
    """`/sendnow 12` asks to confirm #12; `/sendnow` lists the drafts (of the admin's scope)."""
    campaign_id = parse_campaign_id(command)
    if isinstance(campaign_id, str):
        await message.answer(texts.BAD_CAMPAIGN_ID.format(value=campaign_id[:32], command="sendnow"))
        return
    await state.clear()
    if campaign_id is not None:
        await ask_confirmation(message, sessionmaker, campaign_id)
        return
    async with sessionmaker() as session:
        candidates = await startable_campaigns(session, bot_ids=access.bot_ids)
    if not candidates:
        await message.answer(texts.NOTHING_TO_SEND)
        return
    await message.answer(
        texts.PICK_TO_SEND, reply_markup=keyboards.campaign_picker(candidates, for_schedule=False)
    )


async def confirm(
    query: CallbackQuery,
    callback_data: SendNowCallback,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
) -> None:
    """Start the campaign once, with its live progress in this chat."""
    campaign_id = callback_data.campaign_id
    outcome = await actions.start(
        sessionmaker,
        arq_pool,
        campaign_id,
        progress_chat_id=query.from_user.id,
        queue_name=settings.queue_name,
        actor=Actor.chat(query.from_user.id),
    )
    message = query.message if isinstance(query.message, Message) else None
    if outcome is StartOutcome.STARTED:
        await query.answer()
        if message is not None:
            await edit_text(message, texts.STARTING.format(campaign_id=campaign_id))
        return
    if outcome is StartOutcome.NEEDS_APPROVAL:
        await query.answer(texts.SEND_NEEDS_APPROVAL.format(campaign_id=campaign_id), show_alert=True)
        return
    if outcome is StartOutcome.ALREADY_CLAIMED:
        await query.answer(texts.ALREADY_STARTING)
        return
    if outcome is StartOutcome.MISSING:
        await query.answer(texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id), show_alert=True)
        if message is not None:
            await edit_buttons(message, None)
        return
    async with sessionmaker() as session:
        view = await campaign_view(session, campaign_id)
    # Moved on, or deleted since (then it is simply missing).
    answer = views.moved_on(view.campaign) if view else texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id)
    await query.answer(answer, show_alert=True)
    if message is not None:
        await edit_text(message, answer)


async def abort(query: CallbackQuery, callback_data: SendNowCallback) -> None:
    """Not now: nothing is sent, the draft stays."""
    await query.answer()
    if isinstance(query.message, Message):
        await edit_text(query.message, texts.SEND_NOT_NOW.format(campaign_id=callback_data.campaign_id))


def create_router() -> Router:
    """The /sendnow handlers, on a new router (each dispatcher gets its own)."""
    router = Router(name="sendnow")
    router.message.register(sendnow, Command("sendnow"))
    router.callback_query.register(
        prompts.confirmation_on_tap, SendNowCallback.filter(F.action == SendNowAction.PICK)
    )
    router.callback_query.register(confirm, SendNowCallback.filter(F.action == SendNowAction.CONFIRM))
    router.callback_query.register(abort, SendNowCallback.filter(F.action == SendNowAction.ABORT))
    return router
