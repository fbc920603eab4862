"""Sending a composed message through an aiogram bot: the preview, and the "Test to me" send
through the target bot."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramUnauthorizedError,
)
from aiogram.methods import (
    CopyMessage,
    ForwardMessage,
    SendDocument,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    SendVideo,
    TelegramMethod,
)
from aiogram.types import (
    BufferedInputFile,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    MediaUnion,
    Message,
    MessageEntity,
    MessageId,
)

from bot.aiogram_bot import make_bot
from panel.content import MessageContent, bot_api_call, follow_up_call, upload_name
from panel.send_options import SendOptions

logger = logging.getLogger(__name__)

_METHODS: dict[str, type[TelegramMethod[Message]]] = {
    "sendMessage": SendMessage,
    "sendPhoto": SendPhoto,
    "sendVideo": SendVideo,
    "sendDocument": SendDocument,
    "forwardMessage": ForwardMessage,
}
"""aiogram's request for each Bot API method a stored message goes out with."""
_ALBUM_ITEMS: dict[str, type[InputMediaPhoto | InputMediaVideo | InputMediaDocument]] = {
    "photo": InputMediaPhoto,
    "video": InputMediaVideo,
    "document": InputMediaDocument,
}


class TestSendResult(enum.StrEnum):
    """How a test send through a target bot went."""

    SENT = "sent"
    NOT_STARTED = "not_started"
    UNAUTHORIZED = "unauthorized"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class TestSend:
    """The result of a test send and Telegram's words when it failed."""

    result: TestSendResult
    detail: str = ""


async def send_content(
    bot: Bot,
    chat_id: int,
    content: MessageContent,
    *,
    upload: bytes | None = None,
    options: SendOptions | None = None,
) -> Message | MessageId:
    """Send `content` through `bot` with the request the workers send (`bot_api_call`).

    The media's file id is the control bot's; another bot sends the file's bytes (`upload`).
    `options`: the campaign's send options (a test send goes as recipients get it).
    """
    if content.album:
        return (await send_album(bot, chat_id, content, options=options))[0]
    media = content.media
    file_id = media.file_id if media is not None and upload is None else None
    call = bot_api_call(content.to_json(), file_id=file_id, options=options)
    params = {"chat_id": chat_id, **call.params}
    if media is not None and upload is not None and call.file_field is not None:
        params[call.file_field] = BufferedInputFile(upload, filename=upload_name(media.kind, media.file_name))
    if call.method == "copyMessage":  # answers a MessageId, not the Message
        return await bot(CopyMessage(**params))
    return await bot(_METHODS[call.method](**params))


async def send_album(
    bot: Bot,
    chat_id: int,
    content: MessageContent,
    *,
    uploads: list[bytes] | None = None,
    options: SendOptions | None = None,
) -> list[Message]:
    """Send an album through `bot` with the requests the workers send (`bot_api_call`, then the
    `follow_up_call` with its buttons): by the control bot's file ids, or, for another bot, with
    each item's bytes (`uploads`). The messages sent, the follow-up last."""
    file_ids = [item.media.file_id for item in content.album] if uploads is None else []
    call = bot_api_call(content.to_json(), file_id=None, options=options, file_ids=file_ids)
    media: list[MediaUnion] = []
    for index, (entry, item) in enumerate(zip(call.params["media"], content.album, strict=True)):
        sent: str | BufferedInputFile = entry["media"]
        if uploads is not None:
            sent = BufferedInputFile(
                uploads[index], filename=upload_name(item.media.kind, item.media.file_name)
            )
        media.append(
            _ALBUM_ITEMS[entry["type"]](
                media=sent,
                caption=entry.get("caption"),
                caption_entities=[MessageEntity(**e) for e in entry.get("caption_entities", ())] or None,
            )
        )
    rest = {key: value for key, value in call.params.items() if key != "media"}
    sent_items = await bot(SendMediaGroup(chat_id=chat_id, media=media, **rest))
    follow_up = follow_up_call(content.to_json(), options=options)
    if follow_up is not None:  # the album's buttons, in the message after it
        sent_items.append(await bot(SendMessage(chat_id=chat_id, **follow_up.params)))
    return sent_items


async def send_test(
    token: str,
    *,
    api_url: str,
    chat_id: int,
    content: MessageContent,
    control: Bot,
    options: SendOptions | None = None,
) -> TestSend:
    """Send `content` to `chat_id` through the target bot with `token`, as recipients will get it.

    A file goes as its bytes, fetched through the `control` bot that received it.
    """
    target_bot = make_bot(token, api_url=api_url, timeout_s=15.0, limit=1)
    try:
        upload = None
        if content.album:
            uploads = []
            for item in content.album:
                found = await control.download(item.media.file_id)
                assert found is not None
                uploads.append(found.read())
            await send_album(target_bot, chat_id, content, uploads=uploads, options=options)
            return TestSend(TestSendResult.SENT)
        if content.media is not None:
            downloaded = await control.download(content.media.file_id)
            assert downloaded is not None
            upload = downloaded.read()
        await send_content(target_bot, chat_id, content, upload=upload, options=options)
    except TelegramForbiddenError as exc:
        return TestSend(TestSendResult.NOT_STARTED, exc.message)
    except TelegramBadRequest as exc:
        if "chat not found" in exc.message.lower():
            return TestSend(TestSendResult.NOT_STARTED, exc.message)
        return TestSend(TestSendResult.FAILED, exc.message)
    except TelegramUnauthorizedError as exc:
        return TestSend(TestSendResult.UNAUTHORIZED, exc.message)
    except TelegramAPIError as exc:  # network errors included
        logger.warning("test send to %s failed: %s", chat_id, exc.message)
        return TestSend(TestSendResult.FAILED, exc.message)
    finally:
        await target_bot.session.close()
    return TestSend(TestSendResult.SENT)


async def can_read_chat(token: str, *, api_url: str, chat_id: int) -> bool:
    """Whether the bot with `token` can read the chat (getChat answers): a channel whose post it
    is to forward or copy. Telegram answers "chat not found" to a bot that is not let in."""
    target_bot = make_bot(token, api_url=api_url, timeout_s=15.0, limit=1)
    try:
        await target_bot.get_chat(chat_id)
    except (TelegramBadRequest, TelegramForbiddenError):
        return False
    finally:
        await target_bot.session.close()
    return True
