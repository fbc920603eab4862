"""Send options and pins: the simulator keeps them on the recipient's message as Telegram does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, LinkPreviewOptions

from tests.support.sim import TOKEN
from tgsim.simulator import Simulator


async def _raw(sim: Simulator, method: str, **params: Any) -> dict[str, Any]:
    url = f"{sim.base_url}/bot{TOKEN}/{method}"
    async with aiohttp.ClientSession() as http, http.post(url, json=params) as response:
        answer: dict[str, Any] = await response.json()
        return answer


async def test_silent_protected_message_with_its_preview_is_kept(
    sim: Simulator, make_bot: Callable[[str], Bot]
) -> None:
    sim.add_user(TOKEN, 42)
    bot = make_bot(TOKEN)
    sent = await bot.send_message(
        42,
        "See https://example.com",
        disable_notification=True,
        protect_content=True,
        link_preview_options=LinkPreviewOptions(prefer_small_media=True),
    )
    assert sent.has_protected_content is True
    assert sent.link_preview_options is not None and sent.link_preview_options.prefer_small_media
    (entry,) = sim.chat(TOKEN, 42).bot_messages
    assert entry.disable_notification and entry.protect_content
    assert entry.link_preview_options == {"prefer_small_media": True}

    plain = await bot.send_message(42, "Plain")
    assert plain.has_protected_content is None
    entry = sim.chat(TOKEN, 42).bot_messages[-1]
    assert (entry.disable_notification, entry.protect_content, entry.link_preview_options) == (
        False,
        False,
        None,
    )


async def test_media_keep_silent_and_protect_but_have_no_link_preview(
    sim: Simulator, make_bot: Callable[[str], Bot]
) -> None:
    sim.add_user(TOKEN, 42)
    # sendPhoto has no link_preview_options: Telegram ignores parameters a method does not have.
    answer = await _raw(
        sim,
        "sendPhoto",
        chat_id=42,
        photo="https://example.com/x.jpg",
        disable_notification=True,
        link_preview_options={"is_disabled": True},
    )
    assert answer["ok"] is False  # a URL is not a file of this bot: the same as without options
    await make_bot(TOKEN).send_photo(
        42, BufferedInputFile(b"jpeg", "a.jpg"), disable_notification=True, protect_content=True
    )
    (entry,) = sim.chat(TOKEN, 42).bot_messages
    assert entry.disable_notification and entry.protect_content
    assert entry.link_preview_options is None


@pytest.mark.parametrize(
    ("options", "description"),
    [
        ("not json", "Bad Request: can't parse link preview options JSON object"),
        ([True], "Bad Request: can't parse link preview options JSON object"),
        ({"is_disabled": "yes"}, 'Bad Request: field "is_disabled" must be of type Boolean'),
        ({"url": 5}, 'Bad Request: field "url" must be of type String'),
    ],
)
async def test_a_malformed_link_preview_is_refused(sim: Simulator, options: Any, description: str) -> None:
    sim.add_user(TOKEN, 42)
    answer = await _raw(sim, "sendMessage", chat_id=42, text="Hi", link_preview_options=options)
    assert (answer["ok"], answer["error_code"], answer["description"]) == (False, 400, description)
    assert sim.chat(TOKEN, 42).bot_messages == []


async def test_pins_in_a_private_chat(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    sim.add_user(TOKEN, 42)
    bot = make_bot(TOKEN)
    first = await bot.send_message(42, "First")
    second = await bot.send_message(42, "Second")
    assert await bot.pin_chat_message(42, first.message_id, disable_notification=True)
    assert await bot.pin_chat_message(42, second.message_id)
    assert sim.chat(TOKEN, 42).pinned == [first.message_id, second.message_id]

    with pytest.raises(TelegramBadRequest, match="message to pin not found"):
        await bot.pin_chat_message(42, 999)
    assert await bot.unpin_chat_message(42, message_id=first.message_id)
    assert sim.chat(TOKEN, 42).pinned == [second.message_id]
    assert await bot.unpin_chat_message(42)  # no id: the most recent pin
    assert sim.chat(TOKEN, 42).pinned == []
    with pytest.raises(TelegramBadRequest, match="message to unpin not found"):
        await bot.unpin_chat_message(42, message_id=999)

    await bot.pin_chat_message(42, first.message_id)
    await bot.delete_message(42, first.message_id)
    assert sim.chat(TOKEN, 42).pinned == []
    with pytest.raises(TelegramBadRequest, match="message to pin not found"):
        await bot.pin_chat_message(42, first.message_id)
