"""Telegram's exact errors reach aiogram's exception classes."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from tests.support.sim import TOKEN
from tgsim.simulator import Simulator
from tgsim.world import UserState


@pytest.mark.parametrize(
    ("state", "description"),
    [
        (UserState.BLOCKED, "Forbidden: bot was blocked by the user"),
        (UserState.DEACTIVATED, "Forbidden: user is deactivated"),
        (UserState.NOT_STARTED, "Forbidden: bot can't initiate conversation with a user"),
    ],
)
async def test_unavailable_users(
    sim: Simulator, make_bot: Callable[[str], Bot], state: UserState, description: str
) -> None:
    sim.add_user(TOKEN, 42, state=state)
    with pytest.raises(TelegramForbiddenError) as caught:
        await make_bot(TOKEN).send_message(42, "hello")
    assert caught.value.message == description
    assert sim.stats(TOKEN).errors == {description: 1}
    assert sim.stats(TOKEN).passed_gate == 1


async def test_user_known_elsewhere_never_started_this_bot(
    sim: Simulator, make_bot: Callable[[str], Bot]
) -> None:
    sim.add_user("100002:AAanotherBotTokenForTests", 43)
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await make_bot(TOKEN).send_message(43, "hello")


async def test_unknown_chat(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await make_bot(TOKEN).send_message(999, "hello")
    assert caught.value.message == "Bad Request: chat not found"


async def test_a_group_upgraded_to_a_supergroup_names_its_new_id(
    sim: Simulator, make_bot: Callable[[str], Bot]
) -> None:
    sim.add_group(TOKEN, -555)
    bot = make_bot(TOKEN)
    sent = await bot.send_message(-555, "to the group")
    assert sent.chat.type == "group"
    sim.migrate_group(TOKEN, -555, -1_000_000_000_555)
    with pytest.raises(TelegramMigrateToChat) as caught:
        await bot.send_message(-555, "hello")
    assert caught.value.migrate_to_chat_id == -1_000_000_000_555
    assert "Bad Request: group chat was upgraded to a supergroup chat" in caught.value.message
    sent = await bot.send_message(-1_000_000_000_555, "hello")
    assert sent.chat.type == "supergroup"


async def test_block_sends_my_chat_member_and_forbids(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    sim.add_user(TOKEN, 42)
    bot = make_bot(TOKEN)
    sim.block(TOKEN, 42)
    updates = await bot.get_updates(timeout=0)
    member = updates[-1].my_chat_member
    assert member is not None
    assert (member.old_chat_member.status, member.new_chat_member.status) == ("member", "kicked")
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(42, "hello")
    sim.unblock(TOKEN, 42)
    await bot.send_message(42, "welcome back")


async def test_unknown_token_and_method(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    with pytest.raises(TelegramUnauthorizedError) as caught:
        await make_bot("999:AAunknownTokenValue").get_me()
    assert caught.value.message == "Unauthorized"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sim.base_url}/bot{TOKEN}/sendDice", data={"chat_id": 1}) as response:
            assert response.status == 404
            assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.get(f"{sim.base_url}/bot{TOKEN}/GETME") as response:
            assert (await response.json())["result"]["username"] == "target_bot"


async def test_content_validation(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    sim.add_user(TOKEN, 42)
    sim.set_limits(TOKEN, chat_burst=100)
    bot = make_bot(TOKEN)
    cases = [
        ({"text": "   "}, "Bad Request: message text is empty"),
        ({"text": "x" * 4097}, "Bad Request: message is too long"),
        ({"text": "<b></b>", "parse_mode": "HTML"}, "Bad Request: message text is empty"),
        (
            {
                "text": "hi",
                "reply_markup": InlineKeyboardMarkup(
                    inline_keyboard=[[InlineKeyboardButton(text="a", callback_data="x" * 65)]]
                ),
            },
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            {
                "text": "hi",
                "reply_markup": InlineKeyboardMarkup(
                    inline_keyboard=[[InlineKeyboardButton(text="", callback_data="x")]]
                ),
            },
            "Bad Request: BUTTON_TEXT_INVALID",
        ),
        (
            {"text": "<b>bold", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        ),
    ]
    for kwargs, description in cases:
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.send_message(42, **kwargs)  # type: ignore[arg-type]
        assert caught.value.message == description
    assert (await bot.send_message(42, "😀" * 2048)).text == "😀" * 2048
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(42, "😀" * 2049)


async def test_edit_and_delete_errors(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    sim.add_user(TOKEN, 42)
    bot = make_bot(TOKEN)
    message = await bot.send_message(42, "<b>hi</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text("<b>hi</b>", chat_id=42, message_id=message.message_id, parse_mode="HTML")
    assert caught.value.message.startswith(
        "Bad Request: message is not modified: specified new message content"
    )
    await bot.edit_message_text("hi", chat_id=42, message_id=message.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=42, message_id=999)
    with pytest.raises(TelegramBadRequest, match="there is no caption in the message to edit"):
        await bot.edit_message_caption(chat_id=42, message_id=message.message_id, caption="c")
    assert await bot.delete_message(42, message.message_id)
    with pytest.raises(TelegramBadRequest) as deleted:
        await bot.delete_message(42, message.message_id)
    assert deleted.value.message == "Bad Request: message to delete not found"
    assert sim.chat(TOKEN, 42).deleted == [message.message_id]
    assert sim.stats(TOKEN).deletes == 1
    old = await bot.send_message(42, "old")
    sim.advance_clock(49 * 3600)
    with pytest.raises(TelegramBadRequest) as too_old:
        await bot.delete_message(42, old.message_id)
    assert too_old.value.message == "Bad Request: message can't be deleted for everyone"
    assert sim.chat(TOKEN, 42).messages[-1].text == "old"


async def test_copy_forward_and_message_ids(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    sim.add_users(TOKEN, [1, 2])
    bot = make_bot(TOKEN)
    first = await bot.send_message(1, "original", entities=[{"type": "italic", "offset": 0, "length": 8}])  # type: ignore[list-item]
    copied = await bot.copy_message(chat_id=2, from_chat_id=1, message_id=first.message_id)
    forwarded = await bot.forward_message(chat_id=2, from_chat_id=1, message_id=first.message_id)
    assert (first.message_id, copied.message_id, forwarded.message_id) == (1, 1, 2)
    assert forwarded.forward_origin is not None
    view = sim.chat(TOKEN, 2)
    assert [m.text for m in view.messages] == ["original", "original"]
    assert view.messages[0].entities == [{"type": "italic", "offset": 0, "length": 8}]
    assert sim.stats(TOKEN).duplicates == 1
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(chat_id=2, from_chat_id=1, message_id=77)
