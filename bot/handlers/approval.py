"""Four-eyes approval in the chat: asking (in place of Confirm), and Approve / Reject (with a
reason) on the request each approver receives; the asker hears the decision."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.approval_notices import send_requests, tell_asker, who
from bot.callbacks import ApprovalAction, ApprovalCallback, SendNowAction, SendNowCallback
from bot.edits import edit_text
from bot.states import Approving
from panel import approval, texts
from panel.admins import language_of, languages_of
from panel.approval import ApprovalError
from panel.audience import campaign_view
from panel.audit import Actor
from panel.campaigns import get_campaign
from panel.settings import Settings


async def ask(
    query: CallbackQuery,
    callback_data: SendNowCallback,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
) -> None:
    """🙋 Ask for approval: the request goes to every admin who may send for the bot, but the asker."""
    campaign_id = callback_data.campaign_id
    asker = query.from_user.id
    refusal: str | None = None
    deciders: list[int] = []
    languages: dict[int, str] = {}
    # The answers come after the transaction: none stays open across a call to Telegram.
    async with sessionmaker.begin() as session:
        view = await campaign_view(session, campaign_id)
        if view is None:
            refusal = texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id)
        elif (await approval.need_of(session, view.campaign)).state is approval.ApprovalState.PENDING:
            refusal = texts.APPROVAL_PENDING_ALREADY.format(campaign_id=campaign_id)
        else:
            deciders = await approval.approvers(session, view.campaign, settings.admin_ids, asker=asker)
            if not deciders:
                refusal = texts.APPROVAL_NOBODY.format(campaign_id=campaign_id)
            else:
                await approval.request(session, campaign_id, Actor.chat(asker))
                languages = await languages_of(session, deciders)
    if refusal is not None or view is None:
        await query.answer(refusal, show_alert=True)
        return
    await query.answer()
    assert query.bot is not None
    reached = await send_requests(
        query.bot,
        view,
        deciders,
        asker=f"{query.from_user.full_name} ({asker})",
        timezone=admin_timezone,
        languages=languages,
    )
    if isinstance(query.message, Message):
        await edit_text(
            query.message,
            texts.APPROVAL_ASKED.format(
                campaign_id=campaign_id,
                approvers=", ".join(map(str, reached)) or texts.APPROVAL_NOBODY_REACHED,
            ),
        )


async def approve(
    query: CallbackQuery, callback_data: ApprovalCallback, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """✅ Approve: the asker may send it now (as long as nothing changes)."""
    campaign_id = callback_data.campaign_id
    try:
        async with sessionmaker.begin() as session:
            campaign = await approval.decide(
                session, campaign_id, Actor.chat(query.from_user.id), approve=True
            )
    except ApprovalError as error:
        await query.answer(texts.APPROVAL_REFUSED.format(reason=str(error).capitalize()), show_alert=True)
        return
    await query.answer()
    asker = campaign.approval_requested_by
    if isinstance(query.message, Message):
        await edit_text(
            query.message, texts.APPROVAL_APPROVED.format(campaign_id=campaign_id, asker=who(asker))
        )
    if asker is not None and query.bot is not None:
        language = await _language(sessionmaker, asker)
        await tell_asker(
            query.bot,
            asker,
            campaign_id,
            approver=query.from_user.id,
            rejected_because=None,
            language=language,
        )


async def ask_reason(
    query: CallbackQuery,
    callback_data: ApprovalCallback,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """✖ Reject: first, why (the asker is told)."""
    async with sessionmaker() as session:
        campaign = await get_campaign(session, callback_data.campaign_id)
    if campaign is None or campaign.approval_state != approval.ApprovalState.PENDING.value:
        reason = texts.APPROVAL_ERROR_NOT_WAITING.format(campaign_id=callback_data.campaign_id)
        await query.answer(texts.APPROVAL_REFUSED.format(reason=reason.capitalize()), show_alert=True)
        return
    if campaign.approval_requested_by == query.from_user.id:
        reason = texts.APPROVAL_ERROR_OWN_REQUEST
        await query.answer(texts.APPROVAL_REFUSED.format(reason=reason.capitalize()), show_alert=True)
        return
    await query.answer()
    await state.set_state(Approving.waiting_reason)
    await state.update_data(campaign_id=campaign.id)
    if isinstance(query.message, Message):
        await query.message.answer(
            texts.APPROVAL_ASK_REASON.format(
                campaign_id=campaign.id, asker=who(campaign.approval_requested_by)
            )
        )


async def reject(message: Message, state: FSMContext, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The reason: the request is rejected and the asker told why."""
    reason = (message.text or "").strip()
    campaign_id = int((await state.get_data())["campaign_id"])
    await state.clear()
    try:
        async with sessionmaker.begin() as session:
            campaign = await approval.decide(
                session, campaign_id, Actor.chat(message.chat.id), approve=False, note=reason[:500]
            )
    except ApprovalError as error:
        await message.answer(texts.APPROVAL_REFUSED.format(reason=str(error).capitalize()))
        return
    asker = campaign.approval_requested_by
    await message.answer(texts.APPROVAL_REJECTED.format(campaign_id=campaign_id, asker=who(asker)))
    if asker is not None and message.bot is not None:
        language = await _language(sessionmaker, asker)
        await tell_asker(
            message.bot,
            asker,
            campaign_id,
            approver=message.chat.id,
            rejected_because=reason[:500],
            language=language,
        )


async def _language(sessionmaker: async_sessionmaker[AsyncSession], user_id: int) -> str:
    """The language of another admin, for a message sent to them outside their own update."""
    async with sessionmaker() as session:
        return await language_of(session, user_id)


async def reason_not_text(message: Message) -> None:
    """Anything but text while a reason is awaited."""
    await message.answer(texts.APPROVAL_REASON_TEXT)


def create_router() -> Router:
    """The approval handlers, on a new router (each dispatcher gets its own)."""
    router = Router(name="approval")
    router.callback_query.register(ask, SendNowCallback.filter(F.action == SendNowAction.ASK_APPROVAL))
    router.callback_query.register(approve, ApprovalCallback.filter(F.action == ApprovalAction.APPROVE))
    router.callback_query.register(ask_reason, ApprovalCallback.filter(F.action == ApprovalAction.REJECT))
    router.message.register(reject, Approving.waiting_reason, F.text)
    router.message.register(reason_not_text, Approving.waiting_reason)
    return router
