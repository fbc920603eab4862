"""The simulated world: bots, users and their per-bot state, chats, messages, files, updates.

Pure state with no I/O; the server and the simulator drive it. Per-user memory is one dict
entry per (bot, chat id); chat histories and user profiles are created only when needed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import itertools
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tgsim import errors
from tgsim.errors import ApiError
from tgsim.flood import SlidingWindow, TokenBucket
from tgsim.settings import FaultSettings, LimitSettings, SimSettings
from tgsim.stats import BotStats

Json = dict[str, Any]


class UserState(StrEnum):
    """How a user stands with one bot."""

    ACTIVE = "active"
    BLOCKED = "blocked"
    DEACTIVATED = "deactivated"
    NOT_STARTED = "not_started"


_STATE_ERRORS = {
    UserState.BLOCKED: errors.BLOCKED,
    UserState.DEACTIVATED: errors.DEACTIVATED,
    UserState.NOT_STARTED: errors.CANT_INITIATE,
}


@dataclass(slots=True)
class UserProfile:
    """A Telegram user's public profile."""

    chat_id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "en"

    def to_json(self) -> Json:
        """The Bot API `User` object."""
        user: Json = {"id": self.chat_id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat_json(self) -> Json:
        """The Bot API `Chat` object of the private chat with this user."""
        chat: Json = {"id": self.chat_id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass(slots=True)
class FileRecord:
    """An uploaded file; its `file_id` works only for the bot that owns it."""

    file_id: str
    file_unique_id: str
    owner_bot_id: int
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None

    def media_json(self, settings: SimSettings) -> Any:
        """The Bot API media object(s) for a message: PhotoSize list, Document or Video."""
        base: Json = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        width, height = settings.photo_size
        if self.kind == "photo":
            return [{**base, "width": width, "height": height}]
        if self.file_name:
            base["file_name"] = self.file_name
        if self.mime_type:
            base["mime_type"] = self.mime_type
        if self.kind == "video":
            return {**base, "width": width, "height": height, "duration": 1}
        if self.kind == "audio":
            return {**base, "duration": 1}
        if self.kind == "sticker":
            return {
                **base,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        return base


@dataclass(slots=True)
class StoredMessage:
    """One message of a private chat, as it is now (edits applied in place)."""

    message_id: int
    date: int
    from_bot: bool
    text: str | None = None
    entities: list[Json] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[Json] = field(default_factory=list)
    media: FileRecord | None = None
    reply_markup: Json | None = None
    edit_date: int | None = None
    edit_count: int = 0
    forward_origin: Json | None = None
    disable_notification: bool = False
    protect_content: bool = False
    link_preview_options: Json | None = None
    """As the sender passed it (sendMessage and editMessageText only)."""
    media_group_id: str | None = None
    """Shared by the messages of one album (sendMediaGroup)."""
    history: list[Json] = field(default_factory=list)
    """Each version an edit replaced, oldest first: text, caption, their entities, reply_markup."""

    def version(self) -> Json:
        """What an edit can change, as it is now."""
        return {
            "text": self.text,
            "entities": list(self.entities),
            "caption": self.caption,
            "caption_entities": list(self.caption_entities),
            "reply_markup": self.reply_markup,
        }

    def content_key(self) -> tuple[Any, ...]:
        """What makes two messages the same content (for duplicate counting)."""
        if self.media is not None:
            return ("media", self.media.file_unique_id, self.caption, _entities_key(self.caption_entities))
        return ("text", self.text, _entities_key(self.entities))


def _entities_key(entities: list[Json]) -> tuple[Any, ...]:
    return tuple(tuple(sorted((k, str(v)) for k, v in entity.items())) for entity in entities)


@dataclass(slots=True)
class CallbackAnswer:
    """What a bot answered to a button press (`answerCallbackQuery`)."""

    query_id: str
    message_id: int
    data: str | None
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(slots=True)
class CallbackQueryRecord:
    """A button press waiting for its answer."""

    query_id: str
    chat_id: int
    message_id: int
    data: str | None
    pressed_at: float
    answer: CallbackAnswer | None = None


@dataclass(slots=True)
class ChatLog:
    """The private chat between one bot and one user."""

    next_message_id: int = 1
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    callback_answers: list[CallbackAnswer] = field(default_factory=list)
    pinned: list[int] = field(default_factory=list)
    """Ids of the pinned messages, oldest pin first."""
    deleted: list[int] = field(default_factory=list)
    """Ids of the messages deleted from the chat, in the order they went."""

    def new_message_id(self) -> int:
        """The next message id of this chat (monotonic)."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass(slots=True)
class Channel:
    """A channel (id -100...) with its posts, readable only by the bots let in."""

    chat_id: int
    title: str
    readers: set[int] = field(default_factory=set)
    """Ids of the bots that can read the channel (its members)."""
    posts: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1

    def chat_json(self) -> Json:
        """The Bot API `Chat` object of the channel."""
        return {"id": self.chat_id, "type": "channel", "title": self.title}

    def readable_by(self, bot: BotRecord) -> bool:
        """Whether the bot can read the channel's posts (getChat, forwardMessage, copyMessage)."""
        return bot.bot_id in self.readers


class BotRecord:
    """A bot known by its token, with its users, chats, updates, limits, faults and stats."""

    def __init__(
        self,
        *,
        token: str,
        username: str,
        first_name: str,
        paid_broadcast: bool,
        limits: LimitSettings,
        faults: FaultSettings,
        seed: int,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.username = username
        self.first_name = first_name
        self.paid_broadcast = paid_broadcast
        self.limits = limits
        self.faults = faults
        self.rng = random.Random(f"{seed}:{token}")
        self.members: dict[int, UserState] = {}
        """Users (and the group chats the bot is in) and how they stand with the bot."""
        self.migrated: dict[int, int] = {}
        """Group chats upgraded to supergroups: the old chat id and the new one."""
        self.chats: dict[int, ChatLog] = {}
        self.updates: deque[tuple[int, str, Json]] = deque()
        self.next_update_id = 1
        self.allowed_updates: list[str] | None = None
        self.poll_waiters: list[asyncio.Future[None]] = []
        self.commands: dict[str, list[Json]] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.window = SlidingWindow(limits.window_s)
        self.chat_buckets: dict[int, TokenBucket] = {}
        self.edit_buckets: dict[tuple[int, int], TokenBucket] = {}
        self.storm_until = 0.0
        self.storm_retry_after_s = 1
        self.stats = BotStats()
        self.last_gate_at = 0.0
        """When the latest call reached the rate gate (monotonic clock)."""
        self.faults_started_at: float | None = None
        """When the first faulted send request came (monotonic): the start of drifts and stalls."""

    def user_json(self) -> Json:
        """The Bot API `User` object of this bot."""
        return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    def admit_send(self, chat_id: int, *, paid: bool, now: float, messages: int = 1) -> None:
        """The rate gate of send-type methods: storm, per-token window, per-chat bucket.

        Raises a 429 `ApiError`; an admitted request is recorded in the window and the stats.
        `messages`: how many messages the request sends (an album: one per item), each one
        counted in the per-token window; the chat's bucket takes one token per request.
        """
        if now < self.storm_until:
            self.stats.faults["storm"] += 1
            raise errors.too_many_requests(self.storm_retry_after_s)
        limits = self.limits
        limit = limits.paid_rate if paid and self.paid_broadcast else limits.global_rate
        if not self.window.has_room(now, limit, messages):
            self.stats.refused(now)
            raise errors.too_many_requests(limits.retry_after_s)
        bucket = self.chat_buckets.get(chat_id)
        if bucket is None:
            if len(self.chat_buckets) > 100_000:
                self._forget_full_buckets(now)
            bucket = self.chat_buckets[chat_id] = TokenBucket(
                limits.chat_burst, limits.chat_refill_per_s, now
            )
        if not bucket.has_token(now):
            raise errors.too_many_requests(limits.retry_after_s)
        bucket.take(now)
        for _ in range(messages):
            self.window.record(now)
            self.stats.passed(now, limit)

    def admit_edit(self, chat_id: int, message_id: int, now: float) -> None:
        """The per-message edit limit; raises a 429 `ApiError`."""
        key = (chat_id, message_id)
        bucket = self.edit_buckets.get(key)
        if bucket is None:
            bucket = self.edit_buckets[key] = TokenBucket(
                self.limits.edit_burst, self.limits.edit_refill_per_s, now
            )
        if not bucket.has_token(now):
            raise errors.too_many_requests(self.limits.retry_after_s)
        bucket.take(now)

    def _forget_full_buckets(self, now: float) -> None:
        self.chat_buckets = {chat: b for chat, b in self.chat_buckets.items() if not b.is_full(now)}

    def push_update(self, kind: str, payload: Json) -> int:
        """Queue an update for getUpdates and wake the long poll; returns its update_id."""
        update_id = self.next_update_id
        self.next_update_id += 1
        self.updates.append((update_id, kind, payload))
        self.wake_pollers()
        return update_id

    def wake_pollers(self) -> None:
        """Release every waiting getUpdates call."""
        waiters, self.poll_waiters = self.poll_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def take_updates(self, offset: int, limit: int, allowed: list[str] | None) -> list[Json]:
        """Confirm updates below `offset`, then return up to `limit` pending ones of allowed kinds."""
        updates = self.updates
        if offset < 0 and updates:
            keep = max(0, -offset)
            while len(updates) > keep:
                updates.popleft()
        else:
            while updates and updates[0][0] < offset:
                updates.popleft()
        result: list[Json] = []
        for update_id, kind, payload in updates:
            if allowed and kind not in allowed:
                continue
            result.append({"update_id": update_id, kind: payload})
            if len(result) >= limit:
                break
        return result


class World:
    """All bots, users, chats and files of one simulator."""

    def __init__(self, settings: SimSettings) -> None:
        self.settings = settings
        self.bots: dict[str, BotRecord] = {}
        self.bots_by_username: dict[str, BotRecord] = {}
        self.profiles: dict[int, UserProfile] = {}
        self.files: dict[str, FileRecord] = {}
        self.files_by_path: dict[str, FileRecord] = {}
        self.channels: dict[int, Channel] = {}
        self.clock_offset_s = 0.0
        self._file_counter = itertools.count(1)
        self._query_counter = itertools.count(1)
        self._media_group_counter = itertools.count(1)
        self.on_change: Callable[[], None] = lambda: None

    # ---------------------------------------------------------------- time

    def now(self) -> int:
        """Unix time as Telegram stamps messages (shifted by `clock_offset_s`)."""
        return int(time.time() + self.clock_offset_s)

    # ---------------------------------------------------------------- bots and users

    def add_bot(
        self,
        token: str,
        *,
        username: str | None = None,
        first_name: str | None = None,
        paid_broadcast: bool = False,
        limits: LimitSettings | None = None,
        faults: FaultSettings | None = None,
    ) -> BotRecord:
        """Register a bot (or return the existing one with that token)."""
        head, _, tail = token.partition(":")
        if not head.isdigit() or not tail:
            raise ValueError(f"token must look like 123456:ABC..., got {token!r}")
        existing = self.bots.get(token)
        if existing is not None:
            return existing
        bot_id = int(head)
        bot = BotRecord(
            token=token,
            username=username or f"bot{bot_id}_bot",
            first_name=first_name or f"Bot {bot_id}",
            paid_broadcast=paid_broadcast,
            limits=limits or dataclasses.replace(self.settings.limits),
            faults=faults or dataclasses.replace(self.settings.faults),
            seed=self.settings.seed,
        )
        self.bots[token] = bot
        self.bots_by_username[bot.username.lower()] = bot
        return bot

    def bot(self, token: str) -> BotRecord:
        """The bot with that token; `KeyError` if unknown."""
        return self.bots[token]

    def set_profile(
        self, chat_id: int, *, first_name: str | None, username: str | None, language_code: str | None
    ) -> UserProfile:
        """Create or update a user's profile."""
        profile = self.profiles.get(chat_id)
        if profile is None:
            profile = self.profiles[chat_id] = UserProfile(chat_id, first_name or f"User {chat_id}")
        if first_name:
            profile.first_name = first_name
        if username is not None:
            profile.username = username or None
        if language_code is not None:
            profile.language_code = language_code or None
        return profile

    def profile(self, chat_id: int) -> UserProfile:
        """The user's profile; users added in bulk get a generated one."""
        profile = self.profiles.get(chat_id)
        if profile is None:
            return UserProfile(chat_id, f"User {chat_id}", f"user{chat_id}", "en")
        return profile

    def knows_user(self, bot: BotRecord, chat_id: int) -> bool:
        """Whether `chat_id` is a real user (known to this bot or to anyone)."""
        return chat_id in bot.members or chat_id in self.profiles

    def add_users(self, bot: BotRecord, chat_ids: Iterable[int], state: UserState) -> int:
        """Bulk-add users with one state to a bot; returns how many the bot now knows."""
        bot.members.update(dict.fromkeys(chat_ids, state))
        return len(bot.members)

    def check_recipient(self, bot: BotRecord, chat_id: int) -> None:
        """Raise Telegram's error if the bot cannot write to `chat_id` now."""
        moved_to = bot.migrated.get(chat_id)
        if moved_to is not None:
            raise ApiError(400, errors.GROUP_MIGRATED, {"migrate_to_chat_id": moved_to})
        state = bot.members.get(chat_id)
        if state is None:
            if chat_id in self.profiles:
                raise ApiError(403, errors.CANT_INITIATE)
            raise errors.bad_request(errors.CHAT_NOT_FOUND)
        if state is not UserState.ACTIVE:
            raise ApiError(403, _STATE_ERRORS[state])

    def check_writable(self, bot: BotRecord, chat_id: int) -> None:
        """Raise Telegram's 403 if the user blocked the bot or is gone (edits, like sends, refused)."""
        state = bot.members.get(chat_id)
        if state is not None and state is not UserState.ACTIVE:
            raise ApiError(403, _STATE_ERRORS[state])

    def check_chat_exists(self, bot: BotRecord, chat_id: int) -> None:
        """Raise `chat not found` unless the chat is one the bot has seen."""
        if chat_id not in bot.members and chat_id not in bot.chats and chat_id not in self.profiles:
            raise errors.bad_request(errors.CHAT_NOT_FOUND)

    # ---------------------------------------------------------------- chats and messages

    def chat_log(self, bot: BotRecord, chat_id: int) -> ChatLog:
        """The chat of the bot with a user, created on first use."""
        log = bot.chats.get(chat_id)
        if log is None:
            log = bot.chats[chat_id] = ChatLog()
        return log

    def message_json(self, bot: BotRecord, chat_id: int, message: StoredMessage) -> Json:
        """The Bot API `Message` object of a stored message."""
        profile = self.profile(chat_id)
        chat = profile.chat_json()
        if chat_id < 0:  # a group the bot is in (ids of supergroups start with -100)
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            chat = {"id": chat_id, "type": kind, "title": f"Group {-chat_id}"}
        result: Json = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": chat,
            "from": bot.user_json() if message.from_bot else profile.to_json(),
        }
        if message.text is not None:
            result["text"] = message.text
            if message.entities:
                result["entities"] = message.entities
        if message.media is not None:
            result[message.media.kind] = message.media.media_json(self.settings)
            if message.caption is not None:
                result["caption"] = message.caption
                if message.caption_entities:
                    result["caption_entities"] = message.caption_entities
        if message.media_group_id is not None:
            result["media_group_id"] = message.media_group_id
        if message.reply_markup is not None:
            result["reply_markup"] = message.reply_markup
        if message.edit_date is not None:
            result["edit_date"] = message.edit_date
        if message.forward_origin is not None:
            result["forward_origin"] = message.forward_origin
        if message.protect_content:
            result["has_protected_content"] = True
        if message.link_preview_options is not None:
            result["link_preview_options"] = message.link_preview_options
        return result

    def deliver(self, bot: BotRecord, chat_id: int, message: StoredMessage) -> Json:
        """Store a bot's message in the chat, count it, and return its `Message` object."""
        log = self.chat_log(bot, chat_id)
        message.message_id = log.new_message_id()
        if self.settings.keep_bot_messages:
            log.messages[message.message_id] = message
        bot.stats.delivered(chat_id, message.content_key())
        self.on_change()
        return self.message_json(bot, chat_id, message)

    def find_message(self, bot: BotRecord, chat_id: int, message_id: int) -> StoredMessage | None:
        """A message still present in a chat, or None."""
        log = bot.chats.get(chat_id)
        return None if log is None else log.messages.get(message_id)

    def message_exists(self, bot: BotRecord, chat_id: int, message_id: int) -> bool:
        """Whether a message is present in a chat (any id already given out when messages are not kept)."""
        if self.settings.keep_bot_messages:
            return self.find_message(bot, chat_id, message_id) is not None
        log = bot.chats.get(chat_id)
        return log is not None and 0 < message_id < log.next_message_id

    def readable_channel(self, bot: BotRecord, chat_id: int) -> Channel | None:
        """The channel if `bot` can read it; `chat not found` for a channel it cannot; None: no channel."""
        channel = self.channels.get(chat_id)
        if channel is not None and not channel.readable_by(bot):
            raise errors.bad_request(errors.CHAT_NOT_FOUND)
        return channel

    # ---------------------------------------------------------------- files and queries

    def add_file(
        self, bot: BotRecord, kind: str, data: bytes, *, file_name: str | None, mime_type: str | None
    ) -> FileRecord:
        """Store an uploaded file owned by `bot`."""
        number = next(self._file_counter)
        digest = hashlib.sha1(data).hexdigest()[:16]
        folder = {"photo": "photos", "video": "videos", "audio": "music"}.get(kind, "documents")
        suffix = {"photo": ".jpg", "video": ".mp4", "audio": ".mp3"}.get(kind, "")
        if kind in ("document", "audio") and file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1]
        record = FileRecord(
            file_id=f"{kind[:2].upper()}{bot.bot_id}x{number}x{digest}",
            file_unique_id=f"U{digest}",
            owner_bot_id=bot.bot_id,
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{number}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[record.file_id] = record
        self.files_by_path[record.file_path] = record
        return record

    def owned_file(self, bot: BotRecord, file_id: str) -> FileRecord:
        """The file if `bot` may use this file_id, else Telegram's error."""
        record = self.files.get(file_id)
        if record is None or record.owner_bot_id != bot.bot_id:
            raise errors.bad_request(errors.WRONG_FILE)
        return record

    def new_media_group_id(self) -> str:
        """A fresh media_group_id for one album."""
        return f"{13_000_000_000_000_000 + next(self._media_group_counter)}"

    def new_query_id(self, bot: BotRecord) -> str:
        """A fresh callback query id."""
        return f"{bot.bot_id}{next(self._query_counter):010d}"
