"""A real aiogram Dispatcher polls the simulator through a conversation with inline buttons."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from enum import StrEnum

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from tests.support.sim import TOKEN
from tgsim.simulator import Simulator


class Vote(StrEnum):
    YES = "yes"
    NO = "no"


class VoteCallback(CallbackData, prefix="vote"):
    action: Vote


def build_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        keyboard = InlineKeyboardBuilder()
        keyboard.button(text="Yes", callback_data=VoteCallback(action=Vote.YES))
        keyboard.button(text="No", callback_data=VoteCallback(action=Vote.NO))
        await message.answer(
            "Send the <b>announcement</b>?", parse_mode="HTML", reply_markup=keyboard.as_markup()
        )

    @router.callback_query(VoteCallback.filter(F.action == Vote.YES))
    async def yes(query: CallbackQuery) -> None:
        await query.answer("Queued", show_alert=True)
        assert isinstance(query.message, Message)
        await query.message.edit_text("Announcement queued ✅")

    return router


async def test_conversation_with_inline_buttons(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    bot = make_bot(TOKEN)
    dispatcher = Dispatcher()
    dispatcher.include_router(build_router())
    polling = asyncio.create_task(dispatcher.start_polling(bot, polling_timeout=5, handle_signals=False))
    try:
        sim.add_user(TOKEN, 501, first_name="Ann", username="ann")
        sent = sim.send_message(TOKEN, 501, "/start")
        assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

        reply = await sim.wait_for_message(TOKEN, 501, after_id=sent["message_id"])
        assert reply.text == "Send the announcement?"
        assert reply.entities == [{"type": "bold", "offset": 9, "length": 12}]
        assert [text for text, _ in reply.buttons] == ["Yes", "No"]

        query_id = sim.press_button(TOKEN, 501, reply.message_id, text="Yes")
        answer = await sim.wait_for_callback_answer(TOKEN, query_id)
        assert answer.text == "Queued" and answer.show_alert
        edited = await sim.wait_for_edit(TOKEN, 501, reply.message_id)
        assert edited.text == "Announcement queued ✅"

        view = sim.chat(TOKEN, 501)
        assert [(m.from_bot, m.text) for m in view.messages] == [
            (False, "/start"),
            (True, "Announcement queued ✅"),
        ]
        assert view.messages[1].reply_markup is None
        assert view.messages[1].edit_count == 1
        assert [a.text for a in view.callback_answers] == ["Queued"]
        assert sim.stats(TOKEN).edits == 1
    finally:
        await dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(polling, 5)
