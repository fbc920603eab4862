"""Bot API methods as the simulator answers them: validation, Telegram's errors, state changes.

Each handler takes a `Call` (the world, the calling bot and its parameters) and returns the
`result` of the answer or raises `ApiError`. Parameters arrive as strings (forms) or typed
values (JSON); nested objects may be JSON strings.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tgsim import entities, errors
from tgsim.errors import bad_request
from tgsim.world import BotRecord, CallbackAnswer, FileRecord, Json, StoredMessage, World

SEND_METHODS = frozenset(
    {
        "sendmessage",
        "copymessage",
        "forwardmessage",
        "sendphoto",
        "senddocument",
        "sendvideo",
        "sendaudio",
        "sendmediagroup",
    }
)
MEDIA_GROUP_SIZES = range(2, 11)
"""sendMediaGroup takes 2-10 items."""
MEDIA_GROUP_KINDS = ("photo", "video", "document", "audio")
MAX_TEXT_UTF16 = 4096
MAX_CAPTION_UTF16 = 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
"""getFile hands bots files of up to 20 MB."""
MAX_CALLBACK_DATA_BYTES = 64


@dataclass(slots=True)
class Upload:
    """A file sent in a multipart body."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(slots=True)
class Call:
    """One Bot API request being answered."""

    world: World
    bot: BotRecord
    params: dict[str, Any]
    now: float
    """`time.monotonic()` when the request reached the method."""
    closing: asyncio.Event | None = None


# ---------------------------------------------------------------- parameters


def _int(call: Call, name: str, missing: str) -> int:
    value = call.params.get(name)
    if value is None or value == "":
        raise bad_request(missing)
    if isinstance(value, bool):
        raise bad_request(f"Bad Request: invalid {name} specified")
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        raise bad_request(
            errors.CHAT_NOT_FOUND if name.endswith("chat_id") else f"Bad Request: invalid {name} specified"
        ) from None


def _str(call: Call, name: str) -> str | None:
    value = call.params.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _bool(call: Call, name: str) -> bool:
    value = call.params.get(name)
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.lower() in ("true", "1")


def _json(call: Call, name: str, error: str) -> Any:
    value = call.params.get(name)
    if isinstance(value, str):
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(error) from None
    return value


def _chat_id(call: Call, name: str = "chat_id") -> int:
    value = call.params.get(name)
    if isinstance(value, str) and value.startswith("@"):
        # Private chats cannot be addressed by the user's username.
        raise bad_request(errors.CHAT_NOT_FOUND)
    return _int(call, name, errors.CHAT_ID_EMPTY)


# ---------------------------------------------------------------- content validation


def _formatted(call: Call, text_field: str, entities_field: str) -> tuple[str | None, list[Json]]:
    raw = _str(call, text_field)
    if raw is None:
        return None, []
    parse_mode = _str(call, "parse_mode")
    if parse_mode:
        try:
            text, found = entities.parse(raw, parse_mode)
        except entities.EntityParseError as error:
            raise bad_request(errors.PARSE_ENTITIES + str(error)) from None
    else:
        text = raw
        found = entities.normalize_entities(
            raw, _json(call, entities_field, "Bad Request: can't parse entities JSON object")
        )
    return entities.strip_text(text, found)


def message_text(call: Call) -> tuple[str, list[Json]]:
    """The text and entities of sendMessage/editMessageText, validated like Telegram."""
    text, found = _formatted(call, "text", "entities")
    if not text:
        raise bad_request(errors.TEXT_EMPTY)
    if entities.utf16_len(text) > MAX_TEXT_UTF16:
        raise bad_request(errors.TEXT_TOO_LONG)
    return text, found


def message_caption(call: Call) -> tuple[str | None, list[Json]]:
    """The caption and its entities, validated like Telegram (empty means none)."""
    caption, found = _formatted(call, "caption", "caption_entities")
    if not caption:
        return None, []
    if entities.utf16_len(caption) > MAX_CAPTION_UTF16:
        raise bad_request(errors.CAPTION_TOO_LONG)
    return caption, found


def is_button_url(url: object) -> bool:
    """A link Telegram takes on a URL button: http(s):// with a host, or tg:// with something after."""
    if not isinstance(url, str) or any(char.isspace() for char in url):
        return False
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() not in ("http", "https", "tg"):
        return False
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return bool(host) if scheme.lower() != "tg" else bool(rest)


def reply_markup(call: Call) -> Json | None:
    """The reply_markup parameter, with inline keyboards validated like Telegram."""
    markup = _json(call, "reply_markup", errors.MARKUP_INVALID)
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request(errors.MARKUP_INVALID)
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return markup
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise bad_request('Bad Request: field "inline_keyboard" must be an Array of Arrays')
    for row in keyboard:
        for button in row:
            if not isinstance(button, dict):
                raise bad_request(errors.MARKUP_INVALID)
            text = button.get("text")
            if not isinstance(text, str) or not text.strip():
                raise bad_request(errors.BUTTON_TEXT_INVALID)
            url = button.get("url")
            if url is not None and not is_button_url(url):
                raise bad_request(errors.BUTTON_URL_INVALID)
            data = button.get("callback_data")
            actions = [key for key, value in button.items() if key != "text" and value not in (None, "")]
            if not actions:
                raise bad_request(errors.TEXT_BUTTONS_UNALLOWED)
            if data is not None and (
                not isinstance(data, str) or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES
            ):
                raise bad_request(errors.BUTTON_DATA_INVALID)
    if not any(keyboard):
        return None  # an empty keyboard is no keyboard (an edit to one from none is "not modified")
    return {
        "inline_keyboard": [[{k: v for k, v in b.items() if v is not None} for b in row] for row in keyboard]
    }


# ---------------------------------------------------------------- send options

LINK_PREVIEW_FLAGS = ("is_disabled", "prefer_small_media", "prefer_large_media", "show_above_text")


def link_preview_options(call: Call) -> Json | None:
    """The link_preview_options parameter (a LinkPreviewOptions object), validated like Telegram."""
    options = _json(call, "link_preview_options", errors.LINK_PREVIEW_INVALID)
    if options is None:
        return None
    if not isinstance(options, dict):
        raise bad_request(errors.LINK_PREVIEW_INVALID)
    for name in LINK_PREVIEW_FLAGS:
        if name in options and not isinstance(options[name], bool):
            raise bad_request(f'Bad Request: field "{name}" must be of type Boolean')
    if "url" in options and not isinstance(options["url"], str):
        raise bad_request('Bad Request: field "url" must be of type String')
    return {key: value for key, value in options.items() if key in (*LINK_PREVIEW_FLAGS, "url")}


def _with_send_options(call: Call, message: StoredMessage) -> StoredMessage:
    """Keep the options every send method takes on the message it sends."""
    message.disable_notification = _bool(call, "disable_notification")
    message.protect_content = _bool(call, "protect_content")
    return message


# ---------------------------------------------------------------- sending


def _admit(call: Call) -> int:
    """Rate gate first (like Telegram's), then the recipient; returns the chat id."""
    chat_id = _chat_id(call)
    call.bot.admit_send(chat_id, paid=_bool(call, "allow_paid_broadcast"), now=call.now)
    call.world.check_chat_exists(call.bot, chat_id)
    return chat_id


def _send(call: Call, chat_id: int, message: StoredMessage) -> Json:
    _with_send_options(call, message)
    call.world.check_recipient(call.bot, chat_id)
    message.date = call.world.now()
    return call.world.deliver(call.bot, chat_id, message)


def send_message(call: Call) -> Json:
    """sendMessage."""
    chat_id = _admit(call)
    text, found = message_text(call)
    markup = reply_markup(call)
    preview = link_preview_options(call)
    message = StoredMessage(
        0, 0, True, text=text, entities=found, reply_markup=markup, link_preview_options=preview
    )
    return _send(call, chat_id, message)


def _media(call: Call, kind: str) -> FileRecord:
    value = call.params.get(kind)
    if isinstance(value, str) and value.startswith("attach://"):
        # Multipart bodies may name the file part elsewhere and point at it.
        value = call.params.get(value[len("attach://") :])
    if isinstance(value, Upload):
        default_mime = {"photo": "image/jpeg", "video": "video/mp4"}.get(kind, "application/octet-stream")
        return call.world.add_file(
            call.bot,
            kind,
            value.data,
            file_name=value.filename,
            mime_type=value.content_type or default_mime,
        )
    if isinstance(value, str) and value:
        record = call.world.owned_file(call.bot, value)
        if record.kind != kind and not (kind == "document" and record.kind != "photo"):
            raise bad_request(
                "Bad Request: wrong type of the web page content or can't use file of type "
                f"{record.kind.capitalize()} as {kind.capitalize()}"
            )
        return record
    raise bad_request(f"Bad Request: there is no {kind} in the request")


def _send_media(call: Call, kind: str) -> Json:
    chat_id = _admit(call)
    caption, found = message_caption(call)
    markup = reply_markup(call)
    record = _media(call, kind)
    message = StoredMessage(
        0, 0, True, caption=caption, caption_entities=found, media=record, reply_markup=markup
    )
    return _send(call, chat_id, message)


def send_photo(call: Call) -> Json:
    """sendPhoto."""
    return _send_media(call, "photo")


def send_document(call: Call) -> Json:
    """sendDocument."""
    return _send_media(call, "document")


def send_video(call: Call) -> Json:
    """sendVideo."""
    return _send_media(call, "video")


def send_audio(call: Call) -> Json:
    """sendAudio."""
    return _send_media(call, "audio")


def _album_items(call: Call) -> list[Json]:
    items = _json(call, "media", errors.MEDIA_GROUP_INVALID)
    if items is None or items == []:
        raise bad_request(errors.MEDIA_GROUP_NOT_SPECIFIED)
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise bad_request(errors.MEDIA_GROUP_INVALID)
    if len(items) not in MEDIA_GROUP_SIZES:
        raise bad_request(errors.MEDIA_GROUP_COUNT)
    kinds = [item.get("type") for item in items]
    for kind in kinds:
        if kind not in MEDIA_GROUP_KINDS:
            raise bad_request(errors.MEDIA_GROUP_INVALID)
    for only in ("document", "audio"):
        if only in kinds and any(kind != only for kind in kinds):
            raise bad_request(f"Bad Request: {only} can't be mixed with other media types")
    return items


def send_media_group(call: Call) -> list[Json]:
    """sendMediaGroup: 2-10 items (photos and videos, or documents only, or audios only), one
    Message per item sharing a media_group_id; each item is one message for the flood limits."""
    chat_id = _chat_id(call)
    items = _album_items(call)
    if _json(call, "reply_markup", errors.MARKUP_INVALID) is not None:
        raise bad_request(errors.MEDIA_GROUP_MARKUP)
    call.bot.admit_send(chat_id, paid=_bool(call, "allow_paid_broadcast"), now=call.now, messages=len(items))
    call.world.check_chat_exists(call.bot, chat_id)
    shared = {key: value for key, value in call.params.items() if key != "media"}
    messages: list[StoredMessage] = []
    for item in items:
        kind = str(item["type"])
        item_call = Call(
            world=call.world,
            bot=call.bot,
            params={
                **shared,
                kind: item.get("media"),
                "caption": item.get("caption"),
                "caption_entities": item.get("caption_entities"),
                "parse_mode": item.get("parse_mode"),
            },
            now=call.now,
        )
        caption, found = message_caption(item_call)
        record = _media(item_call, kind)
        messages.append(StoredMessage(0, 0, True, caption=caption, caption_entities=found, media=record))
    group_id = call.world.new_media_group_id()
    sent: list[Json] = []
    for message in messages:
        message.media_group_id = group_id
        sent.append(_send(call, chat_id, message))
    return sent


def _source(call: Call, missing: str) -> StoredMessage:
    from_chat_id = _chat_id(call, "from_chat_id")
    message_id = _int(call, "message_id", errors.MESSAGE_ID_INVALID)
    channel = call.world.readable_channel(call.bot, from_chat_id)
    if channel is not None:
        post = channel.posts.get(message_id)
        if post is None:
            raise bad_request(missing)
        return post
    source = call.world.find_message(call.bot, from_chat_id, message_id)
    if source is None:
        if from_chat_id not in call.bot.members and from_chat_id not in call.bot.chats:
            raise bad_request(errors.CHAT_NOT_FOUND)
        raise bad_request(missing)
    return source


def copy_message(call: Call) -> Json:
    """copyMessage: the content without a link to the original; returns a MessageId."""
    chat_id = _admit(call)
    source = _source(call, errors.COPY_NOT_FOUND)
    markup = reply_markup(call)
    copy = StoredMessage(
        0, 0, True, text=source.text, entities=list(source.entities), media=source.media, reply_markup=markup
    )
    if source.media is not None:
        if "caption" in call.params:
            copy.caption, copy.caption_entities = message_caption(call)
        else:
            copy.caption, copy.caption_entities = source.caption, list(source.caption_entities)
    sent = _send(call, chat_id, copy)
    return {"message_id": sent["message_id"]}


def forward_message(call: Call) -> Json:
    """forwardMessage: the content with its origin."""
    chat_id = _admit(call)
    source = _source(call, errors.FORWARD_NOT_FOUND)
    from_chat_id = _chat_id(call, "from_chat_id")
    origin = source.forward_origin
    channel = call.world.channels.get(from_chat_id)
    if origin is None and channel is not None:
        origin = {
            "type": "channel",
            "chat": channel.chat_json(),
            "message_id": source.message_id,
            "date": source.date,
        }
    sender = call.bot.user_json() if source.from_bot else call.world.profile(from_chat_id).to_json()
    forward = StoredMessage(
        0,
        0,
        True,
        text=source.text,
        entities=list(source.entities),
        caption=source.caption,
        caption_entities=list(source.caption_entities),
        media=source.media,
        forward_origin=origin or {"type": "user", "date": source.date, "sender_user": sender},
    )
    return _send(call, chat_id, forward)


# ---------------------------------------------------------------- editing and deleting


def _editable(call: Call) -> tuple[int, StoredMessage]:
    if call.params.get("inline_message_id"):
        raise bad_request(errors.EDIT_NOT_FOUND)
    chat_id = _chat_id(call)
    message_id = _int(call, "message_id", errors.MESSAGE_ID_INVALID)
    call.world.check_chat_exists(call.bot, chat_id)
    call.world.check_writable(call.bot, chat_id)
    message = call.world.find_message(call.bot, chat_id, message_id)
    if message is None or not message.from_bot:
        raise bad_request(errors.EDIT_NOT_FOUND)
    return chat_id, message


def _apply_edit(call: Call, chat_id: int, message: StoredMessage, changes: dict[str, Any]) -> Json:
    if all(getattr(message, name) == value for name, value in changes.items()):
        raise bad_request(errors.NOT_MODIFIED)
    call.bot.admit_edit(chat_id, message.message_id, call.now)
    message.history.append(message.version())
    for name, value in changes.items():
        setattr(message, name, value)
    message.edit_date = call.world.now()
    message.edit_count += 1
    call.bot.stats.edits += 1
    call.world.on_change()
    return call.world.message_json(call.bot, chat_id, message)


def edit_message_text(call: Call) -> Json:
    """editMessageText."""
    chat_id, message = _editable(call)
    text, found = message_text(call)
    if message.text is None:
        raise bad_request(errors.NO_TEXT_TO_EDIT)
    markup = reply_markup(call)
    changes: dict[str, Any] = {"text": text, "entities": found, "reply_markup": markup}
    if "link_preview_options" in call.params:
        changes["link_preview_options"] = link_preview_options(call)
    return _apply_edit(call, chat_id, message, changes)


def edit_message_caption(call: Call) -> Json:
    """editMessageCaption."""
    chat_id, message = _editable(call)
    if message.media is None:
        raise bad_request(errors.NO_CAPTION_TO_EDIT)
    caption, found = message_caption(call)
    markup = reply_markup(call)
    return _apply_edit(
        call, chat_id, message, {"caption": caption, "caption_entities": found, "reply_markup": markup}
    )


def edit_message_reply_markup(call: Call) -> Json:
    """editMessageReplyMarkup."""
    chat_id, message = _editable(call)
    return _apply_edit(call, chat_id, message, {"reply_markup": reply_markup(call)})


def delete_message(call: Call) -> bool:
    """deleteMessage: messages younger than 48 hours, in both directions."""
    chat_id = _chat_id(call)
    message_id = _int(call, "message_id", errors.MESSAGE_ID_INVALID)
    call.world.check_chat_exists(call.bot, chat_id)
    message = call.world.find_message(call.bot, chat_id, message_id)
    if message is None:
        raise bad_request(errors.DELETE_NOT_FOUND)
    if call.world.now() - message.date > call.world.settings.delete_window_s:
        raise bad_request(errors.CANT_DELETE)
    log = call.bot.chats[chat_id]
    del log.messages[message_id]
    log.deleted.append(message_id)
    call.bot.stats.deletes += 1
    if message_id in log.pinned:
        log.pinned.remove(message_id)
    call.world.on_change()
    return True


# ---------------------------------------------------------------- pins


def pin_chat_message(call: Call) -> bool:
    """pinChatMessage in a private chat: any message present in it, by either side."""
    chat_id = _chat_id(call)
    message_id = _int(call, "message_id", errors.MESSAGE_ID_INVALID)
    call.world.check_chat_exists(call.bot, chat_id)
    if not call.world.message_exists(call.bot, chat_id, message_id):
        raise bad_request(errors.PIN_NOT_FOUND)
    log = call.world.chat_log(call.bot, chat_id)
    if message_id in log.pinned:
        log.pinned.remove(message_id)
    log.pinned.append(message_id)
    call.world.on_change()
    return True


def unpin_chat_message(call: Call) -> bool:
    """unpinChatMessage: the given message, or without one the most recent pin."""
    chat_id = _chat_id(call)
    call.world.check_chat_exists(call.bot, chat_id)
    log = call.world.chat_log(call.bot, chat_id)
    if call.params.get("message_id") in (None, ""):
        if log.pinned:
            log.pinned.pop()
    else:
        message_id = _int(call, "message_id", errors.MESSAGE_ID_INVALID)
        if not call.world.message_exists(call.bot, chat_id, message_id):
            raise bad_request(errors.UNPIN_NOT_FOUND)
        if message_id in log.pinned:
            log.pinned.remove(message_id)
    call.world.on_change()
    return True


# ---------------------------------------------------------------- other methods


def get_me(call: Call) -> Json:
    """getMe."""
    return {
        **call.bot.user_json(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


def _true(call: Call) -> bool:
    return True


def get_webhook_info(call: Call) -> Json:
    """getWebhookInfo: never a webhook here."""
    return {"url": "", "has_custom_certificate": False, "pending_update_count": len(call.bot.updates)}


def _commands_key(call: Call) -> str:
    scope = _json(call, "scope", "Bad Request: can't parse BotCommandScope JSON object") or {
        "type": "default"
    }
    return json.dumps(scope, sort_keys=True) + "|" + (_str(call, "language_code") or "")


def set_my_commands(call: Call) -> bool:
    """setMyCommands."""
    commands = _json(call, "commands", "Bad Request: can't parse commands JSON object")
    if not isinstance(commands, list):
        raise bad_request("Bad Request: can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not command.get("command") or not command.get("description"):
            raise bad_request("Bad Request: BOT_COMMAND_INVALID")
    call.bot.commands[_commands_key(call)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


def get_my_commands(call: Call) -> list[Json]:
    """getMyCommands."""
    return call.bot.commands.get(_commands_key(call), [])


def delete_my_commands(call: Call) -> bool:
    """deleteMyCommands."""
    call.bot.commands.pop(_commands_key(call), None)
    return True


def get_chat(call: Call) -> Json:
    """getChat: the private chat with a user the bot knows, or a channel the bot can read."""
    chat_id = _chat_id(call)
    channel = call.world.readable_channel(call.bot, chat_id)
    if channel is not None:
        chat = channel.chat_json()
    elif not call.world.knows_user(call.bot, chat_id) and chat_id not in call.bot.chats:
        raise bad_request(errors.CHAT_NOT_FOUND)
    else:
        chat = call.world.profile(chat_id).chat_json()
    return {
        **chat,
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": True,
            "limited_gifts": True,
            "unique_gifts": True,
            "premium_subscription": True,
            "gifts_from_channels": True,
        },
    }


def get_file(call: Call) -> Json:
    """getFile: the file's download path (valid for the owning bot only)."""
    file_id = _str(call, "file_id")
    if not file_id:
        raise bad_request(errors.FILE_ID_EMPTY)
    record = call.world.owned_file(call.bot, file_id)
    if len(record.data) > MAX_DOWNLOAD_BYTES:
        raise bad_request(errors.FILE_TOO_BIG)
    return {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": len(record.data),
        "file_path": record.file_path,
    }


def answer_callback_query(call: Call) -> bool:
    """answerCallbackQuery: recorded in the chat the button was pressed in."""
    query_id = _str(call, "callback_query_id") or ""
    query = call.bot.callback_queries.get(query_id)
    timeout_s = call.world.settings.callback_answer_timeout_s
    if query is None or query.answer is not None or time.monotonic() - query.pressed_at > timeout_s:
        raise bad_request(errors.QUERY_INVALID)
    query.answer = CallbackAnswer(
        query_id=query_id,
        message_id=query.message_id,
        data=query.data,
        text=_str(call, "text"),
        show_alert=_bool(call, "show_alert"),
        url=_str(call, "url"),
    )
    call.world.chat_log(call.bot, query.chat_id).callback_answers.append(query.answer)
    call.world.on_change()
    return True


async def get_updates(call: Call) -> list[Json]:
    """getUpdates: long poll that returns as soon as an update arrives."""
    bot = call.bot
    offset = _int(call, "offset", "") if call.params.get("offset") not in (None, "") else 0
    limit = _int(call, "limit", "") if call.params.get("limit") not in (None, "") else 100
    limit = min(max(limit, 1), 100)
    timeout_s = float(_str(call, "timeout") or 0)
    allowed = _json(call, "allowed_updates", "Bad Request: can't parse allowed_updates JSON object")
    if isinstance(allowed, list):
        bot.allowed_updates = [str(kind) for kind in allowed] or None
    deadline = time.monotonic() + timeout_s
    while True:
        updates = bot.take_updates(offset, limit, bot.allowed_updates)
        remaining = deadline - time.monotonic()
        if updates or remaining <= 0 or (call.closing is not None and call.closing.is_set()):
            return updates
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        bot.poll_waiters.append(waiter)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter, remaining)


Handler = Callable[[Call], Any]
AsyncHandler = Callable[[Call], Awaitable[Any]]

HANDLERS: dict[str, Handler] = {
    "getme": get_me,
    "deletewebhook": _true,
    "setwebhook": _true,
    "getwebhookinfo": get_webhook_info,
    "logout": _true,
    "close": _true,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "sendmessage": send_message,
    "copymessage": copy_message,
    "forwardmessage": forward_message,
    "sendphoto": send_photo,
    "senddocument": send_document,
    "sendvideo": send_video,
    "sendaudio": send_audio,
    "sendmediagroup": send_media_group,
    "sendchataction": _true,
    "getfile": get_file,
    "editmessagetext": edit_message_text,
    "editmessagereplymarkup": edit_message_reply_markup,
    "editmessagecaption": edit_message_caption,
    "answercallbackquery": answer_callback_query,
    "deletemessage": delete_message,
    "pinchatmessage": pin_chat_message,
    "unpinchatmessage": unpin_chat_message,
    "getchat": get_chat,
}
ASYNC_HANDLERS: dict[str, AsyncHandler] = {"getupdates": get_updates}
