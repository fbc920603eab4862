"""✏️ Edit sent messages, from a campaign's card: the corrected text (or a new button grid), a
preview of old and new, a confirmation with the count and the time, then the edit's own progress
message with Pause, Resume and Stop. The rules live in `panel.sent_edits`; here the bot only talks.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards
from bot.callbacks import CampaignAction, CampaignCallback, EditAction, EditCallback
from bot.edits import edit_text
from bot.states import SentEdit
from panel import after_send, sent_edits, texts
from panel import campaigns as lifecycle
from panel.audit import Actor
from panel.buttons import Buttons, ButtonsError, parse_buttons
from panel.sent_edits import EditError, EditOutcome
from panel.settings import Settings


async def _refusal_text(session: AsyncSession, campaign_id: int) -> str | None:
    """Why the campaign's sent messages cannot be edited now (the running edit's progress when one
    runs); None: they can."""
    refused, other_id = await sent_edits.refusal(session, campaign_id)
    if refused is None:
        return None
    if refused is EditOutcome.RUNNING and other_id is not None:
        action = await after_send.get_action(session, other_id)
        campaign = await lifecycle.get_campaign(session, campaign_id)
        assert action is not None
        counts = await after_send.recall_counts(session, other_id)
        progress = sent_edits.render_edit_progress(
            campaign_id, campaign.name if campaign else None, action.status, counts
        )
        return texts.EDIT_ALREADY_RUNNING.format(campaign_id=campaign_id, progress=progress)
    if refused is EditOutcome.RECALLED:
        return texts.EDIT_RECALLED.format(campaign_id=campaign_id)
    if refused is EditOutcome.NOTHING_SENT:
        return texts.EDIT_NOTHING_SENT.format(campaign_id=campaign_id)
    if refused is EditOutcome.AB_TEST:
        return texts.EDIT_AB_TEST.format(campaign_id=campaign_id)
    return texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id)


def _what(content: dict[str, Any]) -> str:
    return texts.EDIT_WHAT_CAPTION if sent_edits.is_caption(content) else texts.EDIT_WHAT_TEXT


async def ask_for_edit(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The card's "Edit sent messages": refused plainly, or the question for the corrected text."""
    campaign_id = callback_data.campaign_id
    async with sessionmaker() as session:
        refusal = await _refusal_text(session, campaign_id)
        campaign = await lifecycle.get_campaign(session, campaign_id)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if refusal is not None or campaign is None:
        await query.message.answer(refusal or texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id))
        return
    content = dict(campaign.content or {})
    post = content.get("channel_post")
    if isinstance(post, dict) and post.get("mode") != "copy":
        await query.message.answer(
            texts.EDIT_CANNOT.format(campaign_id=campaign_id, reason=texts.EDIT_MISMATCH_FORWARD)
        )
        return
    await state.set_data({"campaign_id": campaign_id, "page": callback_data.page})
    if isinstance(post, dict):  # a copied post: only its buttons can change
        await _ask_for_grid(query.message, state, campaign_id, callback_data.page, text_allowed=False)
        return
    await state.set_state(SentEdit.waiting_text)
    current, _ = sent_edits.current_text(content)
    await query.message.answer(
        texts.ASK_EDIT_TEXT.format(campaign_id=campaign_id, what=_what(content), current=current),
        reply_markup=keyboards.edit_sent_prompt(campaign_id, page=callback_data.page, grid=False),
    )


async def _ask_for_grid(
    message: Message, state: FSMContext, campaign_id: int, page: int, *, text_allowed: bool = True
) -> None:
    await state.set_state(SentEdit.waiting_grid)
    await message.answer(
        texts.ASK_EDIT_BUTTONS.format(campaign_id=campaign_id),
        reply_markup=keyboards.edit_sent_prompt(campaign_id, page=page, grid=True, text_allowed=text_allowed),
    )


async def switch_to_grid(query: CallbackQuery, callback_data: CampaignCallback, state: FSMContext) -> None:
    """ "New buttons instead": the question for a grid."""
    await query.answer()
    if await state.get_state() != SentEdit.waiting_text.state or not isinstance(query.message, Message):
        return
    await _ask_for_grid(query.message, state, callback_data.campaign_id, callback_data.page)


async def switch_to_text(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """ "New text instead": the question for the corrected text again."""
    await query.answer()
    if await state.get_state() != SentEdit.waiting_grid.state or not isinstance(query.message, Message):
        return
    async with sessionmaker() as session:
        campaign = await lifecycle.get_campaign(session, callback_data.campaign_id)
    if campaign is None:
        return
    await state.set_state(SentEdit.waiting_text)
    current, _ = sent_edits.current_text(campaign.content)
    await query.message.answer(
        texts.ASK_EDIT_TEXT.format(campaign_id=campaign.id, what=_what(campaign.content), current=current),
        reply_markup=keyboards.edit_sent_prompt(campaign.id, page=callback_data.page, grid=False),
    )


async def _preview(
    message: Message,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    text: str | None,
    entities: list[dict[str, Any]],
    buttons: Buttons | None,
) -> None:
    """Check the change against the campaign's message; the preview and confirmation, or the
    reason it does not fit (the question stays open)."""
    data = await state.get_data()
    campaign_id = int(data["campaign_id"])
    async with sessionmaker() as session:
        campaign = await lifecycle.get_campaign(session, campaign_id)
        if campaign is None:
            await state.clear()
            await message.answer(texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id))
            return
        try:
            new = sent_edits.edited_content(campaign.content, text=text, entities=entities, buttons=buttons)
        except EditError as error:
            await message.answer(texts.EDIT_REFUSED.format(reason=str(error)))
            return
        preview = await sent_edits.edit_preview(session, campaign_id, new)
    assert preview is not None
    await state.update_data(
        text=text,
        entities=entities,
        buttons=None if buttons is None else buttons.to_json(),
    )
    await state.set_state(SentEdit.confirming)
    body = texts.EDIT_PREVIEW.format(
        campaign_id=campaign_id,
        old=sent_edits.render_version(campaign.content),
        new=sent_edits.render_version(new),
    )
    await message.answer(
        body + "\n\n" + sent_edits.render_edit_confirmation(preview),
        reply_markup=keyboards.edit_sent_confirm(
            campaign_id, page=int(data.get("page", 0)), count=preview.editable
        ),
    )


async def got_text(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The corrected text (or caption), formatting kept through its entities."""
    assert message.text is not None
    entities = [entity.model_dump(mode="json", exclude_none=True) for entity in message.entities or ()]
    await _preview(message, state, sessionmaker, text=message.text, entities=entities, buttons=None)


async def got_grid(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The new button grid (the compose syntax); a mistake is named and the question stays open."""
    assert message.text is not None
    try:
        buttons = parse_buttons(message.text)
    except ButtonsError as error:
        await message.answer(texts.EDIT_REFUSED.format(reason=str(error).rstrip(".")))
        return
    await _preview(message, state, sessionmaker, text=None, entities=[], buttons=buttons)


async def not_text(
    message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A photo, sticker or file where the corrected text was asked for."""
    data = await state.get_data()
    async with sessionmaker() as session:
        campaign = await lifecycle.get_campaign(session, int(data["campaign_id"]))
    what = _what(campaign.content) if campaign is not None else texts.EDIT_WHAT_TEXT
    await message.answer(texts.EDIT_NOT_TEXT.format(what=what))


async def grid_not_text(message: Message) -> None:
    """A sticker or photo as the grid."""
    await message.answer(texts.BUTTONS_NOT_TEXT_ON_CARD)


async def confirm(
    query: CallbackQuery,
    callback_data: CampaignCallback,
    state: FSMContext,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
) -> None:
    """ "Yes, edit N": the workers edit the messages; the edit's progress comes to this chat."""
    data = await state.get_data()
    if (
        await state.get_state() != SentEdit.confirming.state
        or int(data.get("campaign_id", 0)) != callback_data.campaign_id
        or not isinstance(query.message, Message)
    ):
        await query.answer(texts.EDIT_EXPIRED, show_alert=True)
        return
    await state.clear()
    grid = data.get("buttons")
    outcome, _, reason = await sent_edits.edit(
        sessionmaker,
        arq_pool,
        callback_data.campaign_id,
        queue_name=settings.queue_name,
        text=data.get("text"),
        entities=list(data.get("entities") or ()),
        buttons=None if grid is None else Buttons.from_json(grid),
        actor=Actor.chat(query.from_user.id),
        created_by=query.from_user.id,
        progress_chat_id=query.message.chat.id,
    )
    await edit_text(query.message, query.message.text or "", reply_markup=None)
    if outcome is EditOutcome.STARTED:
        await query.answer(texts.EDIT_STARTED.format(campaign_id=callback_data.campaign_id))
        return
    await query.answer()
    if outcome is EditOutcome.REFUSED:
        await query.message.answer(
            texts.EDIT_CANNOT.format(campaign_id=callback_data.campaign_id, reason=reason)
        )
        return
    async with sessionmaker() as session:
        refusal = await _refusal_text(session, callback_data.campaign_id)
    await query.message.answer(refusal or texts.EDIT_ABORTED)


async def abort(query: CallbackQuery, state: FSMContext) -> None:
    """ "Cancel" under the question or the preview: nothing is edited."""
    if await state.get_state() in SentEdit.__all_states_names__:
        await state.clear()
    await query.answer(texts.EDIT_ABORTED)
    if isinstance(query.message, Message):
        await edit_text(query.message, query.message.text or "", reply_markup=None)


async def control_edit(
    query: CallbackQuery,
    callback_data: EditCallback,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: ArqRedis,
) -> None:
    """Pause, Resume and "Stop the edit" under an edit's progress message; the workers redraw it."""
    async with sessionmaker() as session:
        action = await after_send.get_action(session, callback_data.action_id)
    if action is None:
        await query.answer(texts.EDIT_NOT_RUNNING)
        return
    if callback_data.action is EditAction.PAUSE:
        changed, done = await after_send.pause_recall(sessionmaker, action.id), texts.EDIT_PAUSED
    elif callback_data.action is EditAction.RESUME:
        changed = await sent_edits.resume_edit(
            sessionmaker, arq_pool, action.id, queue_name=settings.queue_name
        )
        done = texts.EDIT_RESUMED
    else:
        changed, done = await after_send.cancel_recall(sessionmaker, action.id), texts.EDIT_CANCELLED
    await query.answer(done.format(campaign_id=action.campaign_id) if changed else texts.EDIT_NOT_RUNNING)


def create_router() -> Router:
    """The "Edit sent messages" conversation, on a new router (each dispatcher gets its own)."""
    router = Router(name="sent_edits")
    router.callback_query.register(
        ask_for_edit, CampaignCallback.filter(F.action == CampaignAction.EDIT_SENT)
    )
    router.callback_query.register(
        switch_to_grid, CampaignCallback.filter(F.action == CampaignAction.EDIT_SENT_BUTTONS)
    )
    router.callback_query.register(
        switch_to_text, CampaignCallback.filter(F.action == CampaignAction.EDIT_SENT_TEXT)
    )
    router.callback_query.register(
        confirm, CampaignCallback.filter(F.action == CampaignAction.EDIT_SENT_CONFIRM)
    )
    router.callback_query.register(abort, CampaignCallback.filter(F.action == CampaignAction.EDIT_SENT_ABORT))
    router.callback_query.register(control_edit, EditCallback.filter())
    router.message.register(got_text, SentEdit.waiting_text, F.text, ~F.text.startswith("/"))
    router.message.register(not_text, SentEdit.waiting_text, ~F.text)
    router.message.register(got_grid, SentEdit.waiting_grid, F.text, ~F.text.startswith("/"))
    router.message.register(grid_not_text, SentEdit.waiting_grid, ~F.text)
    return router
