"""Questions more than one conversation asks, and the campaign number a command was given.

/sendnow, /schedule, /new and the campaign card all lead to the same send-now confirmation
and the same "when?" question; they live here so that no handler module imports another.
"""

from __future__ import annotations

from typing import Protocol

from aiogram.filters import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards, views
from bot.states import Scheduling
from panel import actions, approval, groups, texts
from panel import campaigns as lifecycle
from panel.audience import campaign_view
from panel.buttons import Buttons, ButtonsError, parse_buttons
from panel.campaigns import MAX_ROW_ID

# Longer numbers are surely no id; the bound also keeps a reply quoting the number short.
MAX_ID_DIGITS = len(str(MAX_ROW_ID)) + 1


def parse_campaign_id(command: CommandObject) -> int | str | None:
    """The campaign number after a command: an int, None when absent, the typed text when malformed.

    Only ASCII digits make a number: `str.isdigit` also accepts ², ① or ٣, which `int` refuses
    or reads as another number. A number no row can have (0, or past 2**63-1) comes back as it
    is, and the lookups answer "there is no campaign #N" for it; more digits than any id has is
    not a number at all.
    """
    if not command.args:
        return None
    typed = command.args.strip()
    digits = typed.removeprefix("#")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_ID_DIGITS:
        return typed
    return int(digits)


async def ask_confirmation(
    message: Message, sessionmaker: async_sessionmaker[AsyncSession], campaign_id: int
) -> None:
    """Post the send-now confirmation card for `campaign_id`, or say why it cannot be sent."""
    async with sessionmaker() as session:
        view = await campaign_view(session, campaign_id)
    if view is None:
        await message.answer(texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id))
    elif not actions.can_start(view.campaign.status):
        await message.answer(views.moved_on(view.campaign))
    else:
        async with sessionmaker() as session:
            # A group goes out as one: it waits for the approval any of its bots needs.
            group = await groups.siblings(session, campaign_id) or [view.campaign]
            needs = [await approval.need_of(session, campaign) for campaign in group]
        need = next((found for found in needs if found.blocks), needs[0])
        if not need.blocks:
            await message.answer(views.confirm_send(view), reply_markup=keyboards.confirm_send(campaign_id))
        elif need.state is approval.ApprovalState.PENDING:
            await message.answer(texts.APPROVAL_PENDING_ALREADY.format(campaign_id=campaign_id))
        else:
            note = texts.APPROVAL_NEEDED.format(
                audience=need.audience, threshold=texts.number(need.threshold)
            )
            await message.answer(
                views.confirm_send(view) + "\n\n" + note, reply_markup=keyboards.ask_approval(campaign_id)
            )


async def ask_time(
    message: Message,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    campaign_id: int,
    admin_timezone: str,
) -> None:
    """Ask when `campaign_id` should go out, if it can still be (re)scheduled."""
    async with sessionmaker() as session:
        campaign = await lifecycle.get_campaign(session, campaign_id)
    if campaign is None:
        await message.answer(texts.NO_SUCH_CAMPAIGN.format(campaign_id=campaign_id))
        return
    if not actions.can_schedule(campaign.status):
        await message.answer(views.moved_on(campaign))
        return
    await state.set_state(Scheduling.waiting_time)
    await state.set_data({"campaign_id": campaign_id})
    await message.answer(texts.ASK_TIME.format(campaign_id=campaign_id, timezone=admin_timezone))


class _NamesCampaign(Protocol):
    """Callback data of a button that names a campaign (a card, a /sendnow or /schedule list)."""

    campaign_id: int


async def confirmation_on_tap(
    query: CallbackQuery, callback_data: _NamesCampaign, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A button asking to send a campaign now: the usual confirmation first."""
    await query.answer()
    if isinstance(query.message, Message):
        await ask_confirmation(query.message, sessionmaker, callback_data.campaign_id)


async def time_question_on_tap(
    query: CallbackQuery,
    callback_data: _NamesCampaign,
    state: FSMContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_timezone: str,
) -> None:
    """A button asking to schedule (or move) a campaign: ask for the time."""
    await query.answer()
    if isinstance(query.message, Message):
        await ask_time(query.message, state, sessionmaker, callback_data.campaign_id, admin_timezone)


async def read_grid(message: Message, refused: str) -> Buttons | None:
    """The grid of URL buttons the admin typed, or None once the mistake is answered (`refused`
    with its reason); the admin stays in the step either way."""
    assert message.text is not None
    try:
        return parse_buttons(message.text)
    except ButtonsError as error:
        await message.answer(refused.format(reason=str(error)))
        return None
