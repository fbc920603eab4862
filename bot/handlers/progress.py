"""Buttons under the live progress message that the engine posts: Pause, Resume, Cancel (asked first).

The engine owns the message's text and its buttons (`bot.keyboards.progress_keyboard`); these
handlers change the campaign through the same service functions as the CLI and swap in the
buttons of the campaign's new state at once, without waiting for the engine's next edit.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards, views
from bot.callbacks import ProgressAction, ProgressCallback
from bot.edits import edit_buttons
from bot.keyboards import progress_keyboard
from models import Campaign
from panel import actions, texts
from panel import campaigns as lifecycle
from panel.audit import Actor
from panel.settings import Settings


async def _set_buttons(query: CallbackQuery, markup: InlineKeyboardMarkup | None) -> None:
    if not isinstance(query.message, Message):
        return
    await edit_buttons(query.message, markup)


async def _current_buttons(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int
) -> tuple[Campaign | None, InlineKeyboardMarkup | None]:
    async with sessionmaker() as session:
        campaign = await lifecycle.get_campaign(session, campaign_id)
    if campaign is None:
        return None, None
    return campaign, progress_keyboard(campaign.id, campaign.status)


async def _moved_on(
    query: CallbackQuery, sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int
) -> None:
    """Answer with the campaign's state now and show the buttons valid in it."""
    campaign, markup = await _current_buttons(sessionmaker, campaign_id)
    await query.answer(
        views.moved_on(campaign) if campaign else texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id),
        show_alert=True,
    )
    await _set_buttons(query, markup)


async def _after(
    query: CallbackQuery,
    sessionmaker: async_sessionmaker[AsyncSession],
    campaign_id: int,
    *,
    done: str | None,
) -> None:
    """Answer an action: `done` when it happened, else the campaign's state now; then the buttons."""
    if done is None:
        await _moved_on(query, sessionmaker, campaign_id)
        return
    await query.answer(done)
    _, markup = await _current_buttons(sessionmaker, campaign_id)
    await _set_buttons(query, markup)


async def pause(
    query: CallbackQuery, callback_data: ProgressCallback, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Stop new sends; in-flight ones still get recorded."""
    paused = await actions.pause(
        sessionmaker, callback_data.campaign_id, actor=Actor.chat(query.from_user.id)
    )
    await _after(query, sessionmaker, callback_data.campaign_id, done=texts.DONE_PAUSED if paused else None)


async def resume(
    query: CallbackQuery,
    callback_data: ProgressCallback,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
) -> None:
    """Send again where it stopped."""
    resumed = await actions.resume(
        sessionmaker,
        arq_pool,
        callback_data.campaign_id,
        queue_name=settings.queue_name,
        actor=Actor.chat(query.from_user.id),
    )
    await _after(query, sessionmaker, callback_data.campaign_id, done=texts.DONE_RESUMED if resumed else None)


async def ask_cancel(
    query: CallbackQuery, callback_data: ProgressCallback, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Cancel asks first: the buttons become "Yes, cancel it" / "No"."""
    campaign, _ = await _current_buttons(sessionmaker, callback_data.campaign_id)
    if campaign is None or not actions.can_cancel(campaign.status):
        await _moved_on(query, sessionmaker, callback_data.campaign_id)
        return
    await query.answer(texts.CONFIRM_CANCEL.format(campaign_id=campaign.id))
    await _set_buttons(query, keyboards.progress_cancel_confirm(campaign.id))


async def cancel(
    query: CallbackQuery,
    callback_data: ProgressCallback,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
) -> None:
    """Stop for good; recipients not reached yet are marked cancelled."""
    cancelled = await actions.cancel(
        sessionmaker,
        arq_pool,
        callback_data.campaign_id,
        queue_name=settings.queue_name,
        actor=Actor.chat(query.from_user.id),
        reason=f"cancelled by {query.from_user.id}",
    )
    if not cancelled:
        await _moved_on(query, sessionmaker, callback_data.campaign_id)
        return
    await query.answer(texts.DONE_CANCELLED)
    await _set_buttons(query, None)


async def keep(
    query: CallbackQuery, callback_data: ProgressCallback, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """ "No": back to the buttons valid now."""
    _, markup = await _current_buttons(sessionmaker, callback_data.campaign_id)
    await query.answer(texts.KEPT)
    await _set_buttons(query, markup)


def create_router() -> Router:
    """The progress message's button handlers, on a new router (each dispatcher gets its own)."""
    router = Router(name="progress")
    router.callback_query.register(pause, ProgressCallback.filter(F.action == ProgressAction.PAUSE))
    router.callback_query.register(resume, ProgressCallback.filter(F.action == ProgressAction.RESUME))
    router.callback_query.register(ask_cancel, ProgressCallback.filter(F.action == ProgressAction.CANCEL))
    router.callback_query.register(cancel, ProgressCallback.filter(F.action == ProgressAction.CANCEL_CONFIRM))
    router.callback_query.register(keep, ProgressCallback.filter(F.action == ProgressAction.CANCEL_ABORT))
    return router
