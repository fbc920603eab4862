"""Uploads, getFile and downloads round-trip bytes; a file_id belongs to one bot."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile

from tests.support.sim import OTHER_TOKEN, TOKEN
from tgsim.simulator import Simulator

PICTURE = bytes(range(256)) * 40


async def test_photo_upload_round_trip(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    sim.add_users(TOKEN, [1, 2])
    sim.add_user(OTHER_TOKEN, 1)
    bot = make_bot(TOKEN)
    message = await bot.send_photo(
        1, BufferedInputFile(PICTURE, "poster.jpg"), caption="<i>Poster</i>", parse_mode="HTML"
    )
    assert message.photo is not None and message.caption == "Poster"
    assert message.caption_entities is not None and message.caption_entities[0].type == "italic"
    file_id = message.photo[-1].file_id

    again = await bot.send_photo(2, file_id)
    assert again.photo is not None and again.photo[-1].file_unique_id == message.photo[-1].file_unique_id
    telegram_file = await bot.get_file(file_id)
    assert telegram_file.file_size == len(PICTURE) and telegram_file.file_path
    downloaded = io.BytesIO()
    await bot.download(file_id, destination=downloaded)
    assert downloaded.getvalue() == PICTURE

    other = make_bot(OTHER_TOKEN)
    for call in (other.send_photo(1, file_id), other.get_file(file_id)):
        with pytest.raises(TelegramBadRequest) as caught:
            await call
        assert caught.value.message == "Bad Request: wrong file identifier/HTTP URL specified"


async def test_document_and_video_and_caption_limit(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    sim.add_user(TOKEN, 1)
    bot = make_bot(TOKEN)
    document = await bot.send_document(1, BufferedInputFile(b"a,b\n1,2\n", "report.csv"))
    assert document.document is not None and document.document.file_name == "report.csv"
    video = await bot.send_video(1, BufferedInputFile(b"\x00" * 100, "clip.mp4"), caption="clip")
    assert video.video is not None
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_document(1, document.document.file_id, caption="x" * 1025)
    assert caught.value.message == "Bad Request: message caption is too long"
    edited = await bot.edit_message_caption(chat_id=1, message_id=video.message_id, caption="new clip")
    assert not isinstance(edited, bool) and edited.caption == "new clip"
    assert [m.media_kind for m in sim.chat(TOKEN, 1).messages] == ["document", "video"]


async def test_user_photo_reaches_the_bot(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    bot = make_bot(TOKEN)
    sim.send_message(TOKEN, 5, photo=PICTURE, caption="from me")
    updates = await bot.get_updates(timeout=1)
    message = updates[0].message
    assert message is not None and message.photo is not None and message.caption == "from me"
    downloaded = io.BytesIO()
    await bot.download(message.photo[-1].file_id, destination=downloaded)
    assert downloaded.getvalue() == PICTURE
