"""Last router: unknown commands, and messages that arrive when nothing is expected."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.states import CardButtons, Compose, Scheduling
from panel import texts

_WAITING_FOR = {
    Compose.choosing_bot.state: texts.WAITING_FOR_BOT,
    Compose.waiting_text.state: texts.WAITING_FOR_MESSAGE,
    Compose.waiting_buttons.state: texts.WAITING_FOR_BUTTONS,
    Compose.waiting_name.state: texts.WAITING_FOR_NAME,
    Compose.reviewing.state: texts.WAITING_FOR_BUTTON,
    CardButtons.waiting_grid.state: texts.WAITING_FOR_BUTTONS,
    Scheduling.waiting_time.state: texts.WAITING_FOR_TIME,
    Scheduling.confirming.state: texts.WAITING_FOR_TIME,
}


async def unknown_command(message: Message, state: FSMContext) -> None:
    """A command this bot does not have; a conversation in progress stays where it was."""
    assert message.text is not None
    reply = texts.UNKNOWN_COMMAND.format(command=message.text.split()[0][:32])
    waiting_for = _WAITING_FOR.get(await state.get_state() or "")
    if waiting_for:
        reply += "\n" + texts.STILL_WAITING.format(what=waiting_for)
    await message.answer(reply)


async def unexpected(message: Message) -> None:
    """Anything typed when no conversation is open."""
    await message.answer(texts.UNKNOWN_INPUT)


async def unknown_button(query: CallbackQuery) -> None:
    """A button from an old version of the bot, or a malformed one."""
    await query.answer(texts.STALE_BUTTON)


def create_router() -> Router:
    """The catch-all handlers, on a new router (each dispatcher gets its own)."""
    router = Router(name="fallback")
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(unexpected)
    router.callback_query.register(unknown_button)
    return router
