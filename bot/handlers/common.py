"""/start, /help and /cancel: available at every step of every conversation."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.states import Compose, Scheduling
from panel import texts


async def start(message: Message, admin_timezone: str) -> None:
    """Greet an admin and list what the bot does (any conversation in progress is kept)."""
    name = message.from_user.first_name if message.from_user else ""
    await message.answer(texts.WELCOME.format(name=name, timezone=admin_timezone))


async def help_(message: Message, admin_timezone: str) -> None:
    """List the commands."""
    await message.answer(texts.HELP.format(timezone=admin_timezone))


async def cancel(message: Message, state: FSMContext) -> None:
    """Leave whatever step the admin is in, and say what was left."""
    current = await state.get_state()
    if current is None:
        await message.answer(texts.NOTHING_TO_CANCEL)
        return
    data = await state.get_data()
    await state.clear()
    if current in Compose.__all_states_names__:
        what = texts.CANCELLED_COMPOSE
    elif current in Scheduling.__all_states_names__:
        what = texts.CANCELLED_SCHEDULE.format(campaign_id=data.get("campaign_id", "?"))
    else:
        what = texts.CANCELLED_OTHER
    await message.answer(texts.CANCELLED_STEP.format(what=what))


def create_router() -> Router:
    """/start, /help and /cancel, on a new router (each dispatcher gets its own)."""
    router = Router(name="common")
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    router.message.register(cancel, Command("cancel"))
    return router
