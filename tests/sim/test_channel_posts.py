"""Channel posts: forwardMessage and copyMessage from a channel, only for a bot that can read it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from tests.support.sim import OTHER_TOKEN, TOKEN
from tgsim.simulator import Simulator

CHANNEL = -1001234567890
BOLD = {"type": "bold", "offset": 0, "length": 4}


async def test_get_chat_answers_only_for_a_bot_that_can_read_the_channel(
    sim: Simulator, make_bot: Callable[[str], Bot]
) -> None:
    sim.add_channel(CHANNEL, title="News", readers=[TOKEN])
    chat = await make_bot(TOKEN).get_chat(CHANNEL)
    assert (chat.id, chat.type, chat.title) == (CHANNEL, "channel", "News")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await make_bot(OTHER_TOKEN).get_chat(CHANNEL)


async def test_a_forward_keeps_the_channel_origin_and_the_content(
    sim: Simulator, make_bot: Callable[[str], Bot]
) -> None:
    sim.add_channel(CHANNEL, title="News", readers=[TOKEN])
    post_id = sim.add_channel_post(CHANNEL, "Big news today", entities=[BOLD])
    sim.add_user(TOKEN, 42)
    sent = await make_bot(TOKEN).forward_message(42, CHANNEL, post_id, protect_content=True)
    assert sent.text == "Big news today"
    (entry,) = sim.chat(TOKEN, 42).bot_messages
    assert entry.forwarded and entry.protect_content and entry.entities == [BOLD]
    assert entry.forward_origin is not None
    assert entry.forward_origin["type"] == "channel"
    assert (entry.forward_origin["chat"]["id"], entry.forward_origin["message_id"]) == (CHANNEL, post_id)


async def test_a_copy_has_no_origin_and_takes_buttons_and_options(
    sim: Simulator, make_bot: Callable[[str], Bot]
) -> None:
    sim.add_channel(CHANNEL, readers=[TOKEN])
    post_id = sim.add_channel_post(CHANNEL, "Big news today", entities=[BOLD])
    sim.add_user(TOKEN, 42)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Read", url="https://example.com")]]
    )
    await make_bot(TOKEN).copy_message(42, CHANNEL, post_id, reply_markup=markup, disable_notification=True)
    (entry,) = sim.chat(TOKEN, 42).bot_messages
    assert not entry.forwarded and entry.forward_origin is None
    assert (entry.text, entry.entities) == ("Big news today", [BOLD])
    assert entry.url_buttons == [[("Read", "https://example.com")]]
    assert entry.disable_notification and not entry.protect_content


async def test_a_bot_that_cannot_read_the_channel_or_a_missing_post_is_refused(
    sim: Simulator, make_bot: Callable[[str], Bot]
) -> None:
    sim.add_channel(CHANNEL, readers=[TOKEN])
    post_id = sim.add_channel_post(CHANNEL, "Big news")
    sim.add_user(OTHER_TOKEN, 42)
    sim.add_user(TOKEN, 42)
    other = make_bot(OTHER_TOKEN)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await other.forward_message(42, CHANNEL, post_id)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await other.copy_message(42, CHANNEL, post_id)
    target = make_bot(TOKEN)
    with pytest.raises(TelegramBadRequest, match="message to forward not found"):
        await target.forward_message(42, CHANNEL, 999)
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await target.copy_message(42, CHANNEL, 999)
    sim.set_channel_reader(TOKEN, CHANNEL, False)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await target.get_chat(CHANNEL)
    assert sim.chat(OTHER_TOKEN, 42).bot_messages == [] and sim.chat(TOKEN, 42).bot_messages == []


async def test_a_user_forwards_a_channel_post_to_the_bot(sim: Simulator) -> None:
    sim.add_channel(CHANNEL, title="News")
    post_id = sim.add_channel_post(CHANNEL, "Big news")
    message = sim.forward_channel_post(TOKEN, 42, CHANNEL, post_id)
    assert message["text"] == "Big news"
    assert message["forward_origin"]["type"] == "channel"
    assert message["forward_origin"]["chat"] == {"id": CHANNEL, "type": "channel", "title": "News"}
    assert message["forward_origin"]["message_id"] == post_id
