"""/campaigns: a paginated list, and a card per campaign with the actions valid in its state.

Every action is a compare-and-set in the lifecycle service: when the campaign has moved on
(another admin, the engine, the clock), the card is redrawn as it is now and the tap is
answered with the current state instead of acting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards, prompts, views
from bot.callbacks import MAX_PAGE, CampaignAction, CampaignCallback, RecallAction, RecallCallback
from bot.edits import edit_text
from bot.states import CardButtons
from models import ActionStatus, Campaign, CampaignStatus
from panel import abtest, actions, after_send, texts
from panel import campaigns as lifecycle
from panel.audience import bot_audiences, campaign_view
from panel.audit import Actor
from panel.block_rate import block_rate, render_block_rate
from panel.buttons import Buttons
from panel.content import MessageContent
from panel.link_stats import click_stats, render_clicks
from panel.roles import Access
from panel.settings import Settings

PAGE_SIZE = 8


async def _list_page(
    sessionmaker: async_sessionmaker[AsyncSession],
    page: int,
    admin_timezone: str,
    *,
    scope: frozenset[int] | None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    page = min(max(page, 0), MAX_PAGE)  # the callback data is bounded too; stay safe
    async with sessionmaker() as session:
        found, total = await lifecycle.list_campaigns(
            session, bot_ids=scope, offset=page * PAGE_SIZE, limit=PAGE_SIZE
        )
        if not found and page > 0:
            page = max((total - 1) // PAGE_SIZE, 0)
            found, total = await lifecycle.list_campaigns(
                session, bot_ids=scope, offset=page * PAGE_SIZE, limit=PAGE_SIZE
            )
        # One query counts every bot's audience; a deployment has a handful of target bots.
        audiences = {
            audience.bot.id: audience.available for audience in await bot_audiences(session, bot_ids=scope)
        }
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
    *,
    scope: frozenset[int] | None,
) -> Campaign | None:
    async with sessionmaker() as session:
        view = await campaign_view(session, campaign_id)
        retry = await after_send.retry_preview(session, campaign_id)
        family = await after_send.campaign_family(session, campaign_id)
        clicks = render_clicks(await click_stats(session, campaign_id))
        blocks = None if view is None else render_block_rate(await block_rate(session, view.campaign))
        ab_test = None if view is None else await abtest.card_lines(session, view.campaign)  # issue 17
    if view is None:
        text, markup = await _list_page(sessionmaker, page, admin_timezone, scope=scope)
        await _show(message, text, markup)
        return None
    text = views.campaign_card(view, timezone=admin_timezone)
    family_line = None if family is None else after_send.render_family(family)
    if family_line:
        text += "\n" + family_line
    if clicks:
        text += "\n\n" + clicks
    if blocks:
        text += "\n" + blocks
    if ab_test is not None:
        text += "\n\n" + ab_test.text
    if view.campaign.expire_after_s:  # expiry, "Delete after…" (issue 14)
        text += "\n" + texts.CARD_EXPIRY.format(
            after=texts.duration(timedelta(seconds=view.campaign.expire_after_s))
        )
    retryable = retry.retryable if retry is not None and after_send.can_retry(retry) else None
    labels = ab_test.labels if ab_test is not None else ""
    await _show(
        message,
        text,
        keyboards.campaign_card(view.campaign, page=page, retryable=retryable, ab_labels=labels),
    )
    return view.campaign


async def campaigns(
    message: Message,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
    access: Access,
) -> None:
    """The newest campaigns, one button each."""
    text, markup = await _list_page(sessionmaker, 0, admin_timezone, scope=access.bot_ids)
    await message.answer(text, reply_markup=markup)


async def page(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
    access: Access,
) -> None:
    """Another page of the list (also "Back to list")."""
    await query.answer()
    if isinstance(query.message, Message):
        text, markup = await _list_page(
            sessionmaker, callback_data.page, admin_timezone, scope=access.bot_ids
        )
        await _show(query.message, text, markup)


async def open_card(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
    access: Access,
) -> None:
    """A campaign's card (also Refresh, and "No" after a cancel/delete question)."""
    if not isinstance(query.message, Message):
        await query.answer()
        return
    campaign = await _render_card(
        query.message,
        sessionmaker,
        callback_data.campaign_id,
        callback_data.page,
        admin_timezone,
        scope=access.bot_ids,
    )
    await query.answer(
        None if campaign else texts.NO_SUCH_CAMPAIGN.format(campaign_id=callback_data.campaign_id)
    )


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The question a destructive card action asks first, and when it may be asked at all."""

    allowed: Callable[[CampaignStatus], bool]
    question: str
    follow_up: CampaignAction


CONFIRMATIONS: dict[CampaignAction, Confirmation] = {
    CampaignAction.CANCEL: Confirmation(
        actions.can_cancel, texts.CONFIRM_CANCEL, CampaignAction.CANCEL_CONFIRM
    ),
    CampaignAction.DELETE: Confirmation(
        actions.can_delete, texts.CONFIRM_DELETE, CampaignAction.DELETE_CONFIRM
    ),
}


async def ask_to_confirm(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
    access: Access,
) -> None:
    """Cancel and Delete ask first."""
    if not isinstance(query.message, Message):
        await query.answer()
        return
    async with sessionmaker() as session:
        view = await campaign_view(session, callback_data.campaign_id)
    confirmation = CONFIRMATIONS[callback_data.action]
    if view is None or not confirmation.allowed(view.campaign.status):
        await query.answer(views.moved_on(view.campaign) if view else None)
        await _render_card(
            query.message,
            sessionmaker,
            callback_data.campaign_id,
            callback_data.page,
            admin_timezone,
            scope=access.bot_ids,
        )
        return
    await query.answer()
    await _show(
        query.message,
        views.campaign_card(view, timezone=admin_timezone)
        + "\n\n"
        + confirmation.question.format(campaign_id=view.campaign.id),
        keyboards.card_confirm(view.campaign.id, page=callback_data.page, action=confirmation.follow_up),
    )


@dataclass(frozen=True, slots=True)
class CardTap:
    """A card action to carry out: on which campaign, for which admin, and what it needs."""

    campaign_id: int
    admin_id: int
    sessionmaker: async_sessionmaker[AsyncSession]
    arq_pool: ArqRedis
    queue_name: str

    @property
    def actor(self) -> Actor:
        """The admin, for the audit log."""
        return Actor.chat(self.admin_id)


CardChange = Callable[[CardTap], Awaitable[int | None]]
"""Carries out a card action: the campaign whose card comes next, or None when nothing changed."""


def _in_place(change: Callable[[CardTap], Awaitable[bool]]) -> CardChange:
    """An action on the tapped campaign itself: its own card comes next."""

    async def run(tap: CardTap) -> int | None:
        return tap.campaign_id if await change(tap) else None

    return run


async def _duplicate(tap: CardTap) -> int | None:
    """The copy is a new draft: its card comes next."""
    try:
        copy = await actions.duplicate(
            tap.sessionmaker, tap.campaign_id, actor=tap.actor, created_by=tap.admin_id
        )
    except lifecycle.CampaignError:
        return None
    return copy.id


@dataclass(frozen=True, slots=True)
class CardAction:
    """What a card button does, and the answer to the tap when it changed something."""

    change: CardChange
    done: str
    """Formatted with the `campaign_id` whose card comes next."""


CARD_ACTIONS: dict[CampaignAction, CardAction] = {
    CampaignAction.PAUSE: CardAction(
        _in_place(lambda tap: actions.pause(tap.sessionmaker, tap.campaign_id, actor=tap.actor)),
        texts.DONE_PAUSED,
    ),
    CampaignAction.RESUME: CardAction(
        _in_place(
            lambda tap: actions.resume(
                tap.sessionmaker, tap.arq_pool, tap.campaign_id, queue_name=tap.queue_name, actor=tap.actor
            )
        ),
        texts.DONE_RESUMED,
    ),
    CampaignAction.CANCEL_CONFIRM: CardAction(
        _in_place(
            lambda tap: actions.cancel(
                tap.sessionmaker,
                tap.arq_pool,
                tap.campaign_id,
                queue_name=tap.queue_name,
                actor=tap.actor,
                reason=f"cancelled by {tap.admin_id}",
            )
        ),
        texts.DONE_CANCELLED,
    ),
    CampaignAction.UNSCHEDULE: CardAction(
        _in_place(lambda tap: actions.unschedule(tap.sessionmaker, tap.campaign_id, actor=tap.actor)),
        texts.DONE_UNSCHEDULED,
    ),
    CampaignAction.DELETE_CONFIRM: CardAction(
        _in_place(lambda tap: actions.delete(tap.sessionmaker, tap.campaign_id, actor=tap.actor)),
        texts.DONE_DELETED,
    ),
    CampaignAction.DUPLICATE: CardAction(_duplicate, texts.DONE_DUPLICATED),
    CampaignAction.REMOVE_BUTTONS: CardAction(
        _in_place(
            lambda tap: actions.set_buttons(tap.sessionmaker, tap.campaign_id, Buttons(), actor=tap.actor)
        ),
        texts.BUTTONS_REMOVED,
    ),
}


async def act(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
    admin_timezone: str,
    access: Access,
) -> None:
    """Carry out a card action through `panel.actions`, then redraw the card."""
    if not isinstance(query.message, Message):
        await query.answer()
        return
    campaign_id = callback_data.campaign_id
    card_action = CARD_ACTIONS[callback_data.action]
    tap = CardTap(
        campaign_id=campaign_id,
        admin_id=query.from_user.id,
        sessionmaker=sessionmaker,
        arq_pool=arq_pool,
        queue_name=settings.queue_name,
    )
    next_id = await card_action.change(tap)
    shown_id = campaign_id if next_id is None else next_id
    campaign = await _render_card(
        query.message, sessionmaker, shown_id, callback_data.page, admin_timezone, scope=access.bot_ids
    )
    if next_id is not None:
        await query.answer(card_action.done.format(campaign_id=next_id))
    elif campaign is not None:
        await query.answer(views.moved_on(campaign), show_alert=True)
    else:
        await query.answer(texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id))


async def ask_for_buttons(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Edit buttons on a draft's card: ask for the new grid, showing the current one to copy."""
    async with sessionmaker() as session:
        campaign = await lifecycle.get_campaign(session, callback_data.campaign_id)
    if campaign is None:
        await query.answer(texts.NO_SUCH_CAMPAIGN.format(campaign_id=callback_data.campaign_id))
        return
    if not actions.can_edit_buttons(campaign.status):
        await query.answer(views.moved_on(campaign), show_alert=True)
        return
    await query.answer()
    await state.set_state(CardButtons.waiting_grid)
    await state.set_data({"campaign_id": campaign.id})
    current = MessageContent.from_json(campaign.content).buttons
    question = texts.ASK_BUTTONS_AGAIN
    if current:
        question += "\n\n" + texts.CARD_BUTTONS.format(grid=current.to_text())
    if isinstance(query.message, Message):
        await query.message.answer(question)


async def got_card_buttons(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The draft's new grid; a mistake is named and the question stays open."""
    buttons = await prompts.read_grid(message, texts.BUTTONS_REFUSED_ON_CARD)
    if buttons is None:
        return
    campaign_id = int((await state.get_data())["campaign_id"])
    await state.clear()
    if await actions.set_buttons(sessionmaker, campaign_id, buttons, actor=Actor.chat(message.chat.id)):
        await message.answer(texts.BUTTONS_SAVED.format(campaign_id=campaign_id))
        return
    async with sessionmaker() as session:
        campaign = await lifecycle.get_campaign(session, campaign_id)
    await message.answer(
        views.moved_on(campaign) if campaign else texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id)
    )


async def card_buttons_not_text(message: Message) -> None:
    """A sticker or photo as the grid."""
    await message.answer(texts.BUTTONS_NOT_TEXT_ON_CARD)


async def _recall_refusal(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int
) -> tuple[str | None, after_send.RecallPreview | None]:
    """Why a campaign cannot be recalled now (None: it can), and what a recall would do."""
    async with sessionmaker() as session:
        preview = await after_send.recall_preview(session, campaign_id)
        previous = await after_send.latest_recall(session, campaign_id)
        if preview is None:
            return texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id), None
        if previous is not None and previous.status in (ActionStatus.RUNNING, ActionStatus.PAUSED):
            return await _running_recall_text(session, previous.id), preview
    if previous is not None and previous.status is ActionStatus.COMPLETED:
        return texts.RECALL_ALREADY_DONE.format(campaign_id=campaign_id), preview
    if preview.recallable == 0 and not preview.still_sending:
        if preview.too_old:
            return texts.RECALL_ALL_TOO_OLD.format(campaign_id=campaign_id, too_old=preview.too_old), preview
        return texts.RECALL_NOTHING_SENT.format(campaign_id=campaign_id), preview
    return None, preview


async def _running_recall_text(session: AsyncSession, action_id: int) -> str:
    """The answer to a recall asked for while one runs: that one's progress."""
    action = await after_send.get_action(session, action_id)
    assert action is not None
    campaign = await lifecycle.get_campaign(session, action.campaign_id)
    counts = await after_send.recall_counts(session, action_id)
    progress = after_send.render_recall_progress(
        action.campaign_id, campaign.name if campaign else None, action.status, counts
    )
    return texts.RECALL_ALREADY_RUNNING.format(campaign_id=action.campaign_id, progress=progress)


async def ask_to_recall(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
) -> None:
    """Recall asks first, with the count of chats it reaches and of those too old to reach."""
    if not isinstance(query.message, Message):
        await query.answer()
        return
    refusal, preview = await _recall_refusal(sessionmaker, callback_data.campaign_id)
    await query.answer()
    if refusal is not None or preview is None:
        await query.message.answer(
            refusal or texts.NO_SUCH_CAMPAIGN.format(campaign_id=callback_data.campaign_id)
        )
        return
    async with sessionmaker() as session:
        view = await campaign_view(session, callback_data.campaign_id)
    if view is None:
        return
    await _show(
        query.message,
        views.campaign_card(view, timezone=admin_timezone)
        + "\n\n"
        + after_send.render_recall_confirmation(preview),
        keyboards.card_confirm(
            view.campaign.id, page=callback_data.page, action=CampaignAction.RECALL_CONFIRM
        ),
    )


async def recall(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
    admin_timezone: str,
    access: Access,
) -> None:
    """The recall confirmed: the workers delete the messages, its progress comes to this chat."""
    if not isinstance(query.message, Message):
        await query.answer()
        return
    campaign_id = callback_data.campaign_id
    refusal, _ = await _recall_refusal(sessionmaker, campaign_id)
    if refusal is None:
        outcome, _ = await after_send.recall(
            sessionmaker,
            arq_pool,
            campaign_id,
            queue_name=settings.queue_name,
            actor=Actor.chat(query.from_user.id),
            created_by=query.from_user.id,
            progress_chat_id=query.message.chat.id,
        )
        if outcome is after_send.RecallOutcome.STARTED:
            await query.answer(texts.RECALL_STARTED.format(campaign_id=campaign_id))
            await _render_card(
                query.message,
                sessionmaker,
                campaign_id,
                callback_data.page,
                admin_timezone,
                scope=access.bot_ids,
            )
            return
        refusal, _ = await _recall_refusal(sessionmaker, campaign_id)
    await query.answer()
    await _render_card(
        query.message, sessionmaker, campaign_id, callback_data.page, admin_timezone, scope=access.bot_ids
    )
    await query.message.answer(refusal or texts.RECALL_ALREADY_DONE.format(campaign_id=campaign_id))


async def control_recall(
    query: CallbackQuery,
    callback_data: RecallCallback,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
) -> None:
    """Pause, Resume and "Stop the recall" under a recall's progress message (stopped: what is not
    deleted yet stays); the workers redraw the message."""
    async with sessionmaker() as session:
        action = await after_send.get_action(session, callback_data.action_id)
    if action is None:
        await query.answer(texts.RECALL_NOT_RUNNING)
        return
    if callback_data.action is RecallAction.PAUSE:
        changed, done = await after_send.pause_recall(sessionmaker, action.id), texts.RECALL_PAUSED
    elif callback_data.action is RecallAction.RESUME:
        changed = await after_send.resume_recall(
            sessionmaker, arq_pool, action.id, queue_name=settings.queue_name
        )
        done = texts.RECALL_RESUMED
    else:
        changed, done = await after_send.cancel_recall(sessionmaker, action.id), texts.RECALL_CANCELLED
    await query.answer(done.format(campaign_id=action.campaign_id) if changed else texts.RECALL_NOT_RUNNING)


_RETRY_REFUSALS = {
    after_send.RetryOutcome.NOT_FINISHED: texts.RETRY_NOT_FINISHED,
    after_send.RetryOutcome.NOTHING_TO_RETRY: texts.RETRY_NOTHING,
    after_send.RetryOutcome.ALREADY_RETRIED: texts.RETRY_ALREADY,
    after_send.RetryOutcome.MISSING: texts.NO_SUCH_CAMPAIGN,
}


async def ask_to_retry(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
) -> None:
    """Retry failed asks first: how many, and the unconfirmed offered apart with a warning."""
    if not isinstance(query.message, Message):
        await query.answer()
        return
    campaign_id = callback_data.campaign_id
    async with sessionmaker() as session:
        preview = await after_send.retry_preview(session, campaign_id)
        view = await campaign_view(session, campaign_id)
    await query.answer()
    if preview is None or view is None or not after_send.can_retry(preview):
        if preview is None:
            refusal = texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id)
        elif preview.child_id is not None:
            refusal = texts.RETRY_ALREADY.format(campaign_id=campaign_id, child_id=preview.child_id)
        elif not preview.finished:
            refusal = texts.RETRY_NOT_FINISHED.format(campaign_id=campaign_id)
        else:
            refusal = texts.RETRY_NOTHING.format(campaign_id=campaign_id)
        await query.message.answer(refusal)
        return
    await _show(
        query.message,
        views.campaign_card(view, timezone=admin_timezone)
        + "\n\n"
        + after_send.render_retry_confirmation(preview),
        keyboards.retry_confirm(
            campaign_id, page=callback_data.page, retryable=preview.retryable, unconfirmed=preview.unconfirmed
        ),
    )


async def retry(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
    admin_timezone: str,
    access: Access,
) -> None:
    """The retry confirmed: a new campaign for the failed (and, if chosen, the unconfirmed) sends now,
    its card and progress in this chat."""
    if not isinstance(query.message, Message):
        await query.answer()
        return
    campaign_id = callback_data.campaign_id
    outcome, child_id = await after_send.retry_failed(
        sessionmaker,
        arq_pool,
        campaign_id,
        queue_name=settings.queue_name,
        actor=Actor.chat(query.from_user.id),
        include_unconfirmed=callback_data.action is CampaignAction.RETRY_WITH_UNCONFIRMED,
        created_by=query.from_user.id,
        progress_chat_id=query.message.chat.id,
    )
    if outcome is after_send.RetryOutcome.STARTED and child_id is not None:
        await query.answer(texts.RETRY_STARTED.format(child_id=child_id, campaign_id=campaign_id))
        await _render_card(
            query.message, sessionmaker, child_id, callback_data.page, admin_timezone, scope=access.bot_ids
        )
        return
    await query.answer()
    await _render_card(
        query.message, sessionmaker, campaign_id, callback_data.page, admin_timezone, scope=access.bot_ids
    )
    await query.message.answer(_RETRY_REFUSALS[outcome].format(campaign_id=campaign_id, child_id=child_id))


def create_router() -> Router:
    """The /campaigns list and card handlers, on a new router (each dispatcher gets its own)."""
    router = Router(name="campaigns")
    router.message.register(campaigns, Command("campaigns"))
    router.callback_query.register(page, CampaignCallback.filter(F.action == CampaignAction.PAGE))
    router.callback_query.register(open_card, CampaignCallback.filter(F.action == CampaignAction.OPEN))
    router.callback_query.register(ask_to_confirm, CampaignCallback.filter(F.action.in_(set(CONFIRMATIONS))))
    router.callback_query.register(act, CampaignCallback.filter(F.action.in_(set(CARD_ACTIONS))))
    router.callback_query.register(ask_to_recall, CampaignCallback.filter(F.action == CampaignAction.RECALL))
    router.callback_query.register(recall, CampaignCallback.filter(F.action == CampaignAction.RECALL_CONFIRM))
    router.callback_query.register(control_recall, RecallCallback.filter())
    router.callback_query.register(ask_to_retry, CampaignCallback.filter(F.action == CampaignAction.RETRY))
    router.callback_query.register(
        retry,
        CampaignCallback.filter(
            F.action.in_({CampaignAction.RETRY_CONFIRM, CampaignAction.RETRY_WITH_UNCONFIRMED})
        ),
    )
    router.callback_query.register(
        ask_for_buttons, CampaignCallback.filter(F.action == CampaignAction.EDIT_BUTTONS)
    )
    router.message.register(got_card_buttons, CardButtons.waiting_grid, F.text, ~F.text.startswith("/"))
    router.message.register(card_buttons_not_text, CardButtons.waiting_grid, ~F.text)
    router.callback_query.register(
        prompts.confirmation_on_tap, CampaignCallback.filter(F.action == CampaignAction.SEND_NOW)
    )
    router.callback_query.register(
        prompts.time_question_on_tap, CampaignCallback.filter(F.action == CampaignAction.SCHEDULE)
    )
    return router
