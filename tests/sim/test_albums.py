"""sendMediaGroup: 2-10 items in allowed mixes, captions per item, no keyboard, one message per item."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import (
    BufferedInputFile,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
    MessageEntity,
)

from bot import target
from panel.content import AlbumItem, Media, MessageContent
from tests.support.sim import OTHER_TOKEN, TOKEN
from tgsim.simulator import Simulator


def _photo(name: str, caption: str | None = None) -> InputMediaPhoto:
    return InputMediaPhoto(media=BufferedInputFile(name.encode() * 50, f"{name}.jpg"), caption=caption)


async def test_album_uploaded_then_resent_by_file_id(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    sim.add_users(TOKEN, [1, 2])
    bot = make_bot(TOKEN)
    entity = MessageEntity(type="bold", offset=0, length=5)
    sent = await bot.send_media_group(
        1,
        [
            InputMediaPhoto(
                media=BufferedInputFile(b"p" * 100, "a.jpg"), caption="First one", caption_entities=[entity]
            ),
            InputMediaVideo(media=BufferedInputFile(b"v" * 100, "b.mp4"), caption="Second"),
        ],
    )
    assert len(sent) == 2 and sent[0].media_group_id and sent[0].media_group_id == sent[1].media_group_id
    assert sent[0].photo and sent[1].video and sent[1].caption == "Second"
    assert sent[0].caption_entities and sent[0].caption_entities[0].type == "bold"
    again = await bot.send_media_group(
        2,
        [InputMediaPhoto(media=sent[0].photo[-1].file_id), InputMediaVideo(media=sent[1].video.file_id)],
    )
    assert again[0].media_group_id != sent[0].media_group_id
    assert again[0].photo and again[0].photo[-1].file_unique_id == sent[0].photo[-1].file_unique_id
    chat = sim.chat(TOKEN, 1)
    assert [m.media_kind for m in chat.messages] == ["photo", "video"]
    assert {m.media_group_id for m in chat.messages} == {sent[0].media_group_id}
    assert sim.stats(TOKEN).passed_gate == 4


async def test_documents_only_and_audios_only(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    sim.add_user(TOKEN, 1)
    bot = make_bot(TOKEN)
    documents = await bot.send_media_group(
        1, [InputMediaDocument(media=BufferedInputFile(b"d%d" % n, f"r{n}.csv")) for n in range(3)]
    )
    assert [m.document.file_name for m in documents if m.document] == ["r0.csv", "r1.csv", "r2.csv"]
    audios = await bot.send_media_group(
        1, [InputMediaAudio(media=BufferedInputFile(b"a%d" % n, f"s{n}.mp3")) for n in range(2)]
    )
    assert all(m.audio is not None for m in audios)


@pytest.mark.parametrize(
    ("count", "mixed", "error"),
    [
        (1, None, "Bad Request: wrong number of media in the group"),
        (11, None, "Bad Request: wrong number of media in the group"),
        (2, "document", "Bad Request: document can't be mixed with other media types"),
        (2, "audio", "Bad Request: audio can't be mixed with other media types"),
    ],
)
async def test_refused_groups(
    sim: Simulator, make_bot: Callable[[str], Bot], count: int, mixed: str | None, error: str
) -> None:
    sim.add_user(TOKEN, 1)
    media: list[InputMediaPhoto | InputMediaDocument | InputMediaAudio] = [
        _photo(f"p{n}") for n in range(count)
    ]
    if mixed == "document":
        media[0] = InputMediaDocument(media=BufferedInputFile(b"doc", "x.txt"))
    elif mixed == "audio":
        media[0] = InputMediaAudio(media=BufferedInputFile(b"aud", "x.mp3"))
    with pytest.raises(TelegramBadRequest) as caught:
        await make_bot(TOKEN).send_media_group(1, media)  # type: ignore[arg-type]
    assert caught.value.message == error
    assert sim.chat(TOKEN, 1).messages == []


async def test_keyboard_refused_and_items_count_against_the_window(
    sim: Simulator, make_bot: Callable[[str], Bot]
) -> None:
    sim.add_users(TOKEN, range(1, 5))
    sim.set_limits(TOKEN, global_rate=25)
    bot = make_bot(TOKEN)
    first = await bot.send_media_group(1, [_photo(f"1-{n}") for n in range(10)])
    await bot.send_media_group(2, [_photo(f"2-{n}") for n in range(10)])
    with pytest.raises(TelegramRetryAfter):
        await bot.send_media_group(3, [_photo(f"3-{n}") for n in range(10)])
    assert sim.stats(TOKEN).passed_gate == 20
    assert len(await bot.send_media_group(4, [_photo(f"4-{n}") for n in range(5)])) == 5
    file_ids = [m.photo[-1].file_id for m in first[:2] if m.photo]
    body = {
        "chat_id": 4,
        "media": [{"type": "photo", "media": file_id} for file_id in file_ids],
        "reply_markup": {"inline_keyboard": [[{"text": "Go", "url": "https://example.com"}]]},
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{sim.base_url}/bot{TOKEN}/sendMediaGroup", json=body) as response,
    ):
        answer = await response.json()
    assert answer == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: reply markup can't be used with a media group",
    }


def test_a_users_album_reaches_the_bot_as_messages_sharing_a_group_id(sim: Simulator) -> None:
    sim.add_user(TOKEN, 1)
    sent = sim.send_album(TOKEN, 1, [("photo", b"p" * 10, "Look"), ("video", b"v" * 10, None)])
    assert [("photo" in m, "video" in m) for m in sent] == [(True, False), (False, True)]
    assert sent[0]["media_group_id"] == sent[1]["media_group_id"] and sent[0]["caption"] == "Look"
    assert [m.media_group_id for m in sim.chat(TOKEN, 1).messages] == [sent[0]["media_group_id"]] * 2


async def test_the_control_bot_previews_and_test_sends_an_album(
    sim: Simulator, make_bot: Callable[[str], Bot]
) -> None:
    sim.add_user(TOKEN, 1)
    sim.add_user(OTHER_TOKEN, 1)
    # The admin's album, as the control bot (TOKEN) received it.
    sent = sim.send_album(TOKEN, 1, [("photo", b"p" * 10, None), ("video", b"v" * 10, None)])
    items = (
        AlbumItem(
            Media.from_json({"kind": "photo", **sent[0]["photo"][-1]}),
            "Look",
            ({"type": "bold", "offset": 0, "length": 4},),
        ),
        AlbumItem(Media.from_json({"kind": "video", **sent[1]["video"]})),
    )
    content = MessageContent("", album=items)
    control = make_bot(TOKEN)
    first = await target.send_content(control, 1, content)
    assert isinstance(first, Message)  # an album answers with Messages (a copy only with an id)
    assert first.photo is not None and first.caption == "Look" and first.media_group_id
    outcome = await target.send_test(
        OTHER_TOKEN, api_url=sim.base_url, chat_id=1, content=content, control=control
    )
    assert outcome.result is target.TestSendResult.SENT, outcome.detail
    received = sim.chat(OTHER_TOKEN, 1).bot_messages
    assert [(m.media_kind, m.caption) for m in received] == [("photo", "Look"), ("video", None)]
    assert [sim.world.files[str(m.file_id)].data for m in received] == [b"p" * 10, b"v" * 10]
