"""/campaigns: a paginated list, and a card per campaign with the actions valid in its state.

Every action is a compare-and-set in the lifecycle service: when the campaign has moved on
(another admin, the engine, the clock), the card is redrawn as it is now and the tap is
answered with the current state instead of acting.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards, views
from bot.callbacks import MAX_PAGE, CampaignAction, CampaignCallback
from bot.edits import edit_text
from bot.prompts import ask_confirmation, ask_time
from models import Campaign
from panel import actions, texts
from panel import campaigns as lifecycle
from panel.audience import bot_audiences, campaign_view
from panel.settings import Settings

router = Router(name="campaigns")

PAGE_SIZE = 8


async def _list_page(
    sessionmaker: async_sessionmaker[AsyncSession], page: int, admin_timezone: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    page = min(max(page, 0), MAX_PAGE)  # the callback data is bounded too; stay safe
    async with sessionmaker() as session:
        found, total = await lifecycle.list_campaigns(session, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
        if not found and page > 0:
            page = max((total - 1) // PAGE_SIZE, 0)
            found, total = await lifecycle.list_campaigns(session, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
        # One query counts every bot's audience; a deployment has a handful of target bots.
        audiences = {audience.bot.id: audience.available for audience in await bot_audiences(session)}
    if not found:
        return texts.NO_CAMPAIGNS, None
    text = views.campaign_list(
        found, audiences, offset=page * PAGE_SIZE, total=total, timezone=admin_timezone
    )
    has_next = (page + 1) * PAGE_SIZE < total
    return text, keyboards.campaign_list(found, page=page, has_next=has_next)


async def _show(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Redraw a card or list in place (an unchanged redraw is fine)."""
    await edit_text(message, text, reply_markup=markup)


async def _render_card(
    message: Message,
    sessionmaker: async_sessionmaker[AsyncSession],
    campaign_id: int,
    page: int,
    admin_timezone: str,
) -> Campaign | None:
    async with sessionmaker() as session:
        view = await campaign_view(session, campaign_id)
    if view is None:
        text, markup = await _list_page(sessionmaker, page, admin_timezone)
        await _show(message, text, markup)
        return None
    await _show(
        message,
        views.campaign_card(view, timezone=admin_timezone),
        keyboards.campaign_card(view.campaign, page=page),
    )
    return view.campaign


@router.message(Command("campaigns"))
async def campaigns(
    message: Message, sessionmaker: async_sessionmaker[AsyncSession], admin_timezone: str
) -> None:
    """The newest campaigns, one button each."""
    text, markup = await _list_page(sessionmaker, 0, admin_timezone)
    await message.answer(text, reply_markup=markup)


@router.callback_query(CampaignCallback.filter(F.action == CampaignAction.PAGE))
async def page(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
) -> None:
    """Another page of the list (also "Back to list")."""
    await query.answer()
    if isinstance(query.message, Message):
        text, markup = await _list_page(sessionmaker, callback_data.page, admin_timezone)
        await _show(query.message, text, markup)


@router.callback_query(CampaignCallback.filter(F.action == CampaignAction.OPEN))
async def open_card(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
) -> None:
    """A campaign's card (also Refresh, and "No" after a cancel/delete question)."""
    if not isinstance(query.message, Message):
        await query.answer()
        return
    campaign = await _render_card(
        query.message, sessionmaker, callback_data.campaign_id, callback_data.page, admin_timezone
    )
    await query.answer(
        None if campaign else texts.NO_SUCH_CAMPAIGN.format(campaign_id=callback_data.campaign_id)
    )


@router.callback_query(CampaignCallback.filter(F.action.in_({CampaignAction.CANCEL, CampaignAction.DELETE})))
async def ask_to_confirm(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
) -> None:
    """Cancel and Delete ask first."""
    if not isinstance(query.message, Message):
        await query.answer()
        return
    async with sessionmaker() as session:
        view = await campaign_view(session, callback_data.campaign_id)
    deleting = callback_data.action is CampaignAction.DELETE
    allowed = actions.can_delete if deleting else actions.can_cancel
    if view is None or not allowed(view.campaign.status):
        await query.answer(views.moved_on(view.campaign) if view else None)
        await _render_card(
            query.message, sessionmaker, callback_data.campaign_id, callback_data.page, admin_timezone
        )
        return
    await query.answer()
    question = texts.CONFIRM_DELETE if deleting else texts.CONFIRM_CANCEL
    follow_up = CampaignAction.DELETE_CONFIRM if deleting else CampaignAction.CANCEL_CONFIRM
    await _show(
        query.message,
        views.campaign_card(view, timezone=admin_timezone)
        + "\n\n"
        + question.format(campaign_id=view.campaign.id),
        keyboards.card_confirm(view.campaign.id, page=callback_data.page, action=follow_up),
    )


@router.callback_query(
    CampaignCallback.filter(
        F.action.in_(
            {
                CampaignAction.PAUSE,
                CampaignAction.RESUME,
                CampaignAction.CANCEL_CONFIRM,
                CampaignAction.UNSCHEDULE,
                CampaignAction.DUPLICATE,
                CampaignAction.DELETE_CONFIRM,
            }
        )
    )
)
async def act(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
    admin_timezone: str,
) -> None:
    """Carry out a card action through the lifecycle service, then redraw the card."""
    if not isinstance(query.message, Message):
        await query.answer()
        return
    campaign_id, action = callback_data.campaign_id, callback_data.action
    done: str
    shown_id = campaign_id
    if action is CampaignAction.RESUME:
        changed = await actions.resume(sessionmaker, arq_pool, campaign_id, queue_name=settings.queue_name)
        done = texts.DONE_RESUMED
    elif action is CampaignAction.PAUSE:
        changed, done = await actions.pause(sessionmaker, campaign_id), texts.DONE_PAUSED
    elif action is CampaignAction.CANCEL_CONFIRM:
        changed = await actions.cancel(
            sessionmaker,
            arq_pool,
            campaign_id,
            queue_name=settings.queue_name,
            reason=f"cancelled by {query.from_user.id}",
        )
        done = texts.DONE_CANCELLED
    elif action is CampaignAction.UNSCHEDULE:
        changed = await actions.unschedule(sessionmaker, campaign_id)
        done = texts.DONE_UNSCHEDULED.format(campaign_id=campaign_id)
    elif action is CampaignAction.DELETE_CONFIRM:
        changed = await actions.delete(sessionmaker, campaign_id)
        done = texts.DONE_DELETED.format(campaign_id=campaign_id)
    else:
        try:
            copy = await actions.duplicate(sessionmaker, campaign_id, created_by=query.from_user.id)
        except lifecycle.CampaignError:
            changed = False
        else:
            changed, shown_id = True, copy.id
            done = texts.DONE_DUPLICATED.format(campaign_id=copy.id)
    campaign = await _render_card(query.message, sessionmaker, shown_id, callback_data.page, admin_timezone)
    if changed:
        await query.answer(done)
    elif campaign is not None:
        await query.answer(views.moved_on(campaign), show_alert=True)
    else:
        await query.answer(texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id))


@router.callback_query(CampaignCallback.filter(F.action == CampaignAction.SEND_NOW))
async def send_now(
    query: CallbackQuery, callback_data: CampaignCallback, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Send now from a card: the usual confirmation first."""
    await query.answer()
    if isinstance(query.message, Message):
        await ask_confirmation(query.message, sessionmaker, callback_data.campaign_id)


@router.callback_query(CampaignCallback.filter(F.action == CampaignAction.SCHEDULE))
async def schedule(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
) -> None:
    """Schedule or move from a card: ask for the time."""
    await query.answer()
    if isinstance(query.message, Message):
        await ask_time(query.message, state, sessionmaker, callback_data.campaign_id, admin_timezone)
