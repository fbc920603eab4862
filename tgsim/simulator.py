"""The simulator as tests and the demo use it: start/stop, and the user side of the world.

`async with Simulator(SimSettings()) as sim:` serves the Bot API on 127.0.0.1 at `sim.base_url`;
its methods add bots and users, act as users (messages, button presses, blocking), read chats as
the user sees them, wait for bots' replies, and read statistics and change faults.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp
from aiohttp import web

from tgsim.entities import command_entities
from tgsim.methods import Upload
from tgsim.server import BotApiServer
from tgsim.settings import FaultSettings, LimitSettings, SimSettings
from tgsim.stats import BotStats, StatsSnapshot
from tgsim.world import (
    CallbackAnswer,
    CallbackQueryRecord,
    Channel,
    Json,
    StoredMessage,
    UserState,
    World,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


class SimError(Exception):
    """A user-side action that cannot happen (unknown bot, no such button, ...)."""


@dataclass(slots=True)
class ChatEntry:
    """One message of a chat as the user sees it now."""

    message_id: int
    from_bot: bool
    date: int
    text: str | None
    entities: list[Json]
    caption: str | None
    caption_entities: list[Json]
    media_kind: str | None
    file_id: str | None
    reply_markup: Json | None
    edit_count: int
    forwarded: bool
    disable_notification: bool = False
    protect_content: bool = False
    link_preview_options: Json | None = None
    forward_origin: Json | None = None
    """Where a forwarded message comes from (a channel: its chat and the post's message id)."""
    media_group_id: str | None = None
    file_name: str | None = None
    """The document's file name as uploaded (`Simulator.file_bytes(file_id)` has its bytes)."""
    history: list[Json] = field(default_factory=list)
    """Each version an edit replaced, oldest first (`text`, `caption`, their entities, `reply_markup`)."""

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline buttons as (text, callback_data), row by row."""
        keyboard = (self.reply_markup or {}).get("inline_keyboard") or []
        return [(button["text"], button.get("callback_data")) for row in keyboard for button in row]

    @property
    def url_buttons(self) -> list[list[tuple[str, str]]]:
        """URL buttons as rows of (text, url), top to bottom, as the user sees them."""
        keyboard = (self.reply_markup or {}).get("inline_keyboard") or []
        rows = [[(button["text"], button["url"]) for button in row if "url" in button] for row in keyboard]
        return [row for row in rows if row]

    def to_json(self) -> Json:
        """A JSON-friendly dict."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class LinkOpened:
    """What a user's app got when it opened a link: the HTTP status and where it redirects."""

    url: str
    status: int
    location: str | None


USER_AGENT = "Mozilla/5.0 (tgsim; simulated Telegram user)"


async def open_link(url: str, *, timeout_s: float = 10.0) -> LinkOpened:
    """A real GET of `url` as a user's browser sends it; a redirect is reported, not followed."""
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(url, allow_redirects=False, headers={"User-Agent": USER_AGENT}) as answer,
    ):
        await answer.read()
        return LinkOpened(url, answer.status, answer.headers.get("Location"))


@dataclass(slots=True)
class ChatView:
    """A private chat between a bot and a user, as the user sees it now."""

    messages: list[ChatEntry] = field(default_factory=list)
    callback_answers: list[CallbackAnswer] = field(default_factory=list)
    pinned: list[int] = field(default_factory=list)
    """Ids of the pinned messages, oldest pin first."""
    deleted: list[int] = field(default_factory=list)
    """Ids of the messages deleted from the chat (gone from `messages`), in the order they went."""

    @property
    def bot_messages(self) -> list[ChatEntry]:
        """Only what the bot sent."""
        return [entry for entry in self.messages if entry.from_bot]

    def to_json(self) -> Json:
        """A JSON-friendly dict."""
        return {
            "messages": [entry.to_json() for entry in self.messages],
            "callback_answers": [dataclasses.asdict(answer) for answer in self.callback_answers],
            "pinned": list(self.pinned),
            "deleted": list(self.deleted),
        }


def _entry(message: StoredMessage) -> ChatEntry:
    return ChatEntry(
        message_id=message.message_id,
        from_bot=message.from_bot,
        date=message.date,
        text=message.text,
        entities=list(message.entities),
        caption=message.caption,
        caption_entities=list(message.caption_entities),
        media_kind=message.media.kind if message.media else None,
        file_id=message.media.file_id if message.media else None,
        reply_markup=message.reply_markup,
        edit_count=message.edit_count,
        forwarded=message.forward_origin is not None,
        disable_notification=message.disable_notification,
        protect_content=message.protect_content,
        link_preview_options=message.link_preview_options,
        forward_origin=message.forward_origin,
        media_group_id=message.media_group_id,
        file_name=message.media.file_name if message.media else None,
        history=[dict(version) for version in message.history],
    )


class Simulator:
    """A local Telegram Bot API server with a scriptable world of bots and users."""

    def __init__(self, settings: SimSettings | None = None) -> None:
        self.settings = settings or SimSettings()
        self.world = World(self.settings)
        self.world.on_change = self._notify
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ---------------------------------------------------------------- lifecycle

    def build_app(self) -> web.Application:
        """The aiohttp application: Bot API routes plus the `/sim` control endpoints."""
        from tgsim.control import add_control_routes

        app = web.Application(client_max_size=60 * 1024 * 1024)
        BotApiServer(self.world, self._closing).add_routes(app)
        add_control_routes(app, self)
        return app

    async def start(self) -> None:
        """Bind the configured host and port (0 = free port) and serve."""
        self._closing = asyncio.Event()
        self._changed = asyncio.Event()
        self._runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port, reuse_address=True)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self._port = sockets[0].getsockname()[1] if sockets else self.settings.port
        logger.info("Bot API simulator listening on %s", self.base_url)

    async def go_away(self) -> None:
        """Stop serving as if the server went away: the listening socket is closed (a connection
        is refused), open connections are dropped; the world (bots, users, messages) is kept.
        `come_back` serves it again on the same port."""
        if self._runner is None:
            raise SimError("the simulator is not serving")
        await self.stop()

    async def come_back(self) -> None:
        """Serve again on the port `go_away` left, with the same world."""
        if self._runner is not None:
            raise SimError("the simulator is serving already")
        port = self.port
        self._closing = asyncio.Event()
        self._runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.settings.host, port, reuse_address=True).start()
        logger.info("Bot API simulator back on %s", self.base_url)

    async def stop(self) -> None:
        """Release long polls and hangs, then stop serving."""
        self._closing.set()
        for bot in self.world.bots.values():
            bot.wake_pollers()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Where bots reach the API, e.g. `http://127.0.0.1:PORT`."""
        if self._port is None:
            raise SimError("the simulator is not started")
        return f"http://{self.settings.host}:{self._port}"

    @property
    def port(self) -> int:
        """The bound port."""
        if self._port is None:
            raise SimError("the simulator is not started")
        return self._port

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
    ) -> Json:
        """Register a bot; returns its `User` object (what getMe answers)."""
        return self.world.add_bot(
            token,
            username=username,
            first_name=first_name,
            paid_broadcast=paid_broadcast,
            limits=limits,
            faults=faults,
        ).user_json()

    def _bot(self, token: str) -> Any:
        bot = self.world.bots.get(token)
        if bot is None:
            raise SimError(f"unknown bot token {token!r}")
        return bot

    def add_user(
        self,
        token: str,
        chat_id: int,
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        state: UserState | str = UserState.ACTIVE,
    ) -> None:
        """Add one user with a profile and their state towards a bot."""
        bot = self._bot(token)
        self.world.set_profile(chat_id, first_name=first_name, username=username, language_code=language_code)
        bot.members[chat_id] = UserState(state)

    def add_users(
        self, token: str, chat_ids: Iterable[int], *, state: UserState | str = UserState.ACTIVE
    ) -> int:
        """Bulk-add users (generated profiles) in one state; returns how many the bot knows."""
        return self.world.add_users(self._bot(token), chat_ids, UserState(state))

    def add_group(self, token: str, chat_id: int) -> None:
        """A group chat (negative id) the bot is a member of and may write to."""
        if chat_id >= 0:
            raise SimError("group chat ids are negative")
        self._bot(token).members[chat_id] = UserState.ACTIVE

    def migrate_group(self, token: str, chat_id: int, supergroup_id: int) -> None:
        """The group becomes a supergroup: writing to the old id answers 400 with the new id."""
        bot = self._bot(token)
        if bot.members.get(chat_id) is None or not str(supergroup_id).startswith("-100"):
            raise SimError("migrate a known group to a -100... supergroup id")
        bot.migrated[chat_id] = supergroup_id
        bot.members[supergroup_id] = UserState.ACTIVE

    def set_user_state(self, token: str, chat_id: int, state: UserState | str) -> None:
        """Change a user's state towards a bot without any update (see `block` for that)."""
        self._bot(token).members[chat_id] = UserState(state)

    def user_state(self, token: str, chat_id: int) -> UserState | None:
        """A user's state towards a bot, None if the bot does not know them."""
        state: UserState | None = self._bot(token).members.get(chat_id)
        return state

    # ---------------------------------------------------------------- channels

    def add_channel(self, chat_id: int, *, title: str | None = None, readers: Iterable[str] = ()) -> None:
        """A channel (id -100...) whose posts the bots with the tokens in `readers` can read."""
        if not str(chat_id).startswith("-100"):
            raise SimError("channel ids start with -100")
        channel = self.world.channels.get(chat_id)
        if channel is None:
            channel = self.world.channels[chat_id] = Channel(chat_id, title or f"Channel {-chat_id}")
        channel.readers.update(self._bot(token).bot_id for token in readers)

    def set_channel_reader(self, token: str, chat_id: int, can_read: bool) -> None:
        """Let a bot read a channel (it joins) or not (it leaves or was never added)."""
        readers = self._channel(chat_id).readers
        bot_id = self._bot(token).bot_id
        if can_read:
            readers.add(bot_id)
        else:
            readers.discard(bot_id)

    def _channel(self, chat_id: int) -> Channel:
        channel = self.world.channels.get(chat_id)
        if channel is None:
            raise SimError(f"unknown channel {chat_id}")
        return channel

    def add_channel_post(self, chat_id: int, text: str, *, entities: list[Json] | None = None) -> int:
        """A text post in the channel; returns its message id."""
        channel = self._channel(chat_id)
        message_id = channel.next_message_id
        channel.next_message_id += 1
        channel.posts[message_id] = StoredMessage(
            message_id, self.world.now(), False, text=text, entities=list(entities or [])
        )
        return message_id

    def forward_channel_post(self, token: str, chat_id: int, channel_id: int, message_id: int) -> Json:
        """The user forwards a channel's post to the bot; returns the `Message` (with `forward_origin`)."""
        bot = self._bot(token)
        channel = self._channel(channel_id)
        post = channel.posts.get(message_id)
        if post is None:
            raise SimError(f"channel {channel_id} has no post {message_id}")
        bot.members[chat_id] = UserState.ACTIVE
        message = StoredMessage(
            0,
            self.world.now(),
            False,
            text=post.text,
            entities=list(post.entities),
            forward_origin={
                "type": "channel",
                "chat": channel.chat_json(),
                "message_id": message_id,
                "date": post.date,
            },
        )
        log = self.world.chat_log(bot, chat_id)
        message.message_id = log.new_message_id()
        log.messages[message.message_id] = message
        payload = self.world.message_json(bot, chat_id, message)
        bot.push_update("message", payload)
        self._notify()
        return payload

    def forward_user_message(
        self,
        token: str,
        chat_id: int,
        text: str,
        *,
        sender: Json | None = None,
        hidden_name: str | None = None,
    ) -> Json:
        """The user forwards another person's message to the bot; returns the `Message`.

        `sender` (a `User` object) gives `forward_origin` of type `user`; with `hidden_name`
        instead it is `hidden_user`, as Telegram sends it when the sender's privacy settings
        hide their account (only the name is known).
        """
        if (sender is None) == (hidden_name is None):
            raise SimError("a forwarded message has either a sender or a hidden sender's name")
        bot = self._bot(token)
        bot.members[chat_id] = UserState.ACTIVE
        origin: Json = (
            {"type": "user", "sender_user": sender, "date": self.world.now()}
            if sender is not None
            else {"type": "hidden_user", "sender_user_name": hidden_name, "date": self.world.now()}
        )
        message = StoredMessage(0, self.world.now(), False, text=text, entities=[], forward_origin=origin)
        log = self.world.chat_log(bot, chat_id)
        message.message_id = log.new_message_id()
        log.messages[message.message_id] = message
        payload = self.world.message_json(bot, chat_id, message)
        bot.push_update("message", payload)
        self._notify()
        return payload

    # ---------------------------------------------------------------- acting as a user

    def send_message(
        self,
        token: str,
        chat_id: int,
        text: str | None = None,
        *,
        entities: list[Json] | None = None,
        photo: bytes | None = None,
        caption: str | None = None,
        media: tuple[str, bytes] | None = None,
        file_name: str | None = None,
        media_group_id: str | None = None,
    ) -> Json:
        """The user writes to the bot (text, or media with a caption); returns the `Message`.

        `photo` is short for `media=("photo", data)`; other kinds: video, document, sticker...

        Writing starts the bot for a user who never did, and unblocks it for one who blocked it.
        """
        bot = self._bot(token)
        state = bot.members.get(chat_id)
        if state is UserState.DEACTIVATED:
            raise SimError(f"user {chat_id} is deactivated")
        if state is UserState.BLOCKED:
            self.unblock(token, chat_id)
        bot.members[chat_id] = UserState.ACTIVE
        message = StoredMessage(0, self.world.now(), False)
        if photo is not None:
            media = ("photo", photo)
        if media is not None:
            kind, data = media
            mime = {"photo": "image/jpeg", "video": "video/mp4", "sticker": "image/webp"}.get(kind)
            message.media = self.world.add_file(bot, kind, data, file_name=file_name, mime_type=mime)
            message.caption = caption
            message.caption_entities = entities or []
            message.media_group_id = media_group_id
        else:
            if not text:
                raise SimError("a text message needs text")
            message.text = text
            message.entities = entities if entities is not None else command_entities(text)
        log = self.world.chat_log(bot, chat_id)
        message.message_id = log.new_message_id()
        log.messages[message.message_id] = message
        payload = self.world.message_json(bot, chat_id, message)
        bot.push_update("message", payload)
        self._notify()
        return payload

    def send_album(
        self,
        token: str,
        chat_id: int,
        items: list[tuple[str, bytes, str | None]],
        *,
        caption_entities: list[list[Json]] | None = None,
    ) -> list[Json]:
        """The user sends an album of `(kind, bytes, caption)` items (`caption_entities`: each
        item's formatting): Telegram delivers it as separate messages (one update each) sharing a
        `media_group_id`."""
        group_id = self.world.new_media_group_id()
        formatting = caption_entities or [[] for _ in items]
        return [
            self.send_message(
                token,
                chat_id,
                media=(kind, data),
                caption=caption,
                entities=entities,
                media_group_id=group_id,
            )
            for (kind, data, caption), entities in zip(items, formatting, strict=True)
        ]

    def press_button(
        self,
        token: str,
        chat_id: int,
        message_id: int,
        *,
        data: str | None = None,
        text: str | None = None,
    ) -> str:
        """The user presses an inline button (found by callback_data or text); returns the query id."""
        bot = self._bot(token)
        message = self.world.find_message(bot, chat_id, message_id)
        if message is None or not message.from_bot:
            raise SimError(f"no bot message {message_id} in chat {chat_id}")
        keyboard = (message.reply_markup or {}).get("inline_keyboard") or []
        button = next(
            (
                b
                for row in keyboard
                for b in row
                if "callback_data" in b
                and (data is None or b["callback_data"] == data)
                and (text is None or b["text"] == text)
            ),
            None,
        )
        if button is None:
            raise SimError(f"message {message_id} has no callback button data={data!r} text={text!r}")
        query_id, _ = self.push_callback(token, chat_id, message_id, button["callback_data"])
        return query_id

    # ---------------------------------------------------------------- opening URL buttons

    def url_button(
        self, token: str, chat_id: int, message_id: int, *, text: str | None = None, index: int = 0
    ) -> str:
        """The link of a URL button on a bot's message: the one labelled `text`, else the
        `index`-th URL button (row by row, left to right)."""
        bot = self._bot(token)
        message = self.world.find_message(bot, chat_id, message_id)
        if message is None or not message.from_bot:
            raise SimError(f"no bot message {message_id} in chat {chat_id}")
        keyboard = (message.reply_markup or {}).get("inline_keyboard") or []
        links = [b for row in keyboard for b in row if "url" in b and (text is None or b["text"] == text)]
        if text is not None and not links:
            raise SimError(f"message {message_id} has no URL button {text!r}")
        if not 0 <= index < len(links):
            raise SimError(f"message {message_id} has {len(links)} URL buttons, not #{index}")
        return str(links[index]["url"])

    async def open_url_button(
        self, token: str, chat_id: int, message_id: int, *, text: str | None = None, index: int = 0
    ) -> LinkOpened:
        """The user taps a URL button: their app opens the link (a real HTTP GET, redirects not
        followed). Returns the answer's status and `Location`."""
        return await open_link(self.url_button(token, chat_id, message_id, text=text, index=index))

    def push_callback(self, token: str, chat_id: int, message_id: int, data: str) -> tuple[str, int]:
        """The user's client sends a button press with any `data` on message `message_id`.

        Unlike `press_button`, the button need not be on the message now: this is how stale,
        forged and garbage callback data reach the bot. The bot gets a `callback_query` update
        (id, from, message, chat_instance, data) and answers it with answerCallbackQuery.
        A message the simulator no longer holds (chats cleared, bot messages not kept) is
        described as a text message of the bot, as the user's chat would still show it.
        Returns (query id, update id).
        """
        bot = self._bot(token)
        message = self.world.find_message(bot, chat_id, message_id)
        if message is not None:
            message_json: Json = self.world.message_json(bot, chat_id, message)
        else:
            message_json = {
                "message_id": message_id,
                "date": self.world.now(),
                "chat": self.world.profile(chat_id).chat_json(),
                "from": bot.user_json(),
                "text": "…",
            }
        query_id = self.world.new_query_id(bot)
        bot.callback_queries[query_id] = CallbackQueryRecord(
            query_id, chat_id, message_id, data, time.monotonic()
        )
        update_id: int = bot.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": self.world.profile(chat_id).to_json(),
                "message": message_json,
                "chat_instance": f"{bot.bot_id * 31 + chat_id}",
                "data": data,
            },
        )
        return query_id, update_id

    def _member_update(self, token: str, chat_id: int, old: str, new: str) -> None:
        bot = self._bot(token)

        def member(status: str) -> Json:
            result: Json = {"status": status, "user": bot.user_json()}
            if status == "kicked":
                result["until_date"] = 0
            return result

        bot.push_update(
            "my_chat_member",
            {
                "chat": self.world.profile(chat_id).chat_json(),
                "from": self.world.profile(chat_id).to_json(),
                "date": self.world.now(),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def block(self, token: str, chat_id: int) -> None:
        """The user blocks the bot (the bot gets a `my_chat_member` update: member → kicked)."""
        bot = self._bot(token)
        if bot.members.get(chat_id) is UserState.BLOCKED:
            return
        bot.members[chat_id] = UserState.BLOCKED
        self._member_update(token, chat_id, "member", "kicked")

    def unblock(self, token: str, chat_id: int) -> None:
        """The user unblocks the bot (`my_chat_member`: kicked → member)."""
        bot = self._bot(token)
        if bot.members.get(chat_id) is not UserState.BLOCKED:
            return
        bot.members[chat_id] = UserState.ACTIVE
        self._member_update(token, chat_id, "kicked", "member")

    # ---------------------------------------------------------------- reading chats

    def chat(self, token: str, chat_id: int) -> ChatView:
        """The chat as the user sees it now: messages in order, edits applied, deletions gone."""
        log = self._bot(token).chats.get(chat_id)
        if log is None:
            return ChatView()
        return ChatView(
            messages=[_entry(message) for message in log.messages.values()],
            callback_answers=list(log.callback_answers),
            pinned=list(log.pinned),
            deleted=list(log.deleted),
        )

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes of an uploaded file, as the user opening it in the chat gets them."""
        record = self.world.files.get(file_id)
        if record is None:
            raise KeyError(f"no file {file_id!r}")
        return record.data

    def callback_answer(self, token: str, query_id: str) -> CallbackAnswer | None:
        """The bot's answer to a button press, if it answered."""
        query = self._bot(token).callback_queries.get(query_id)
        return None if query is None else query.answer

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, probe: Callable[[], T | None], *, timeout_s: float = 5.0) -> T:
        """Wait until `probe()` returns something other than None (checked on every change)."""
        deadline = time.monotonic() + timeout_s
        while True:
            changed = self._changed
            found = probe()
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"nothing matched within {timeout_s} s")
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                continue

    async def wait_for_message(
        self,
        token: str,
        chat_id: int,
        predicate: Callable[[ChatEntry], bool] | None = None,
        *,
        after_id: int = 0,
        timeout_s: float = 5.0,
    ) -> ChatEntry:
        """The first bot message in the chat with id > `after_id` that matches `predicate`."""

        def probe() -> ChatEntry | None:
            for entry in self.chat(token, chat_id).bot_messages:
                if entry.message_id > after_id and (predicate is None or predicate(entry)):
                    return entry
            return None

        return await self.wait_until(probe, timeout_s=timeout_s)

    async def wait_for_edit(
        self,
        token: str,
        chat_id: int,
        message_id: int,
        predicate: Callable[[ChatEntry], bool] | None = None,
        *,
        min_edits: int = 1,
        timeout_s: float = 5.0,
    ) -> ChatEntry:
        """The message once edited at least `min_edits` times and matching `predicate`."""

        def probe() -> ChatEntry | None:
            for entry in self.chat(token, chat_id).messages:
                if entry.message_id == message_id and entry.edit_count >= min_edits:
                    return entry if predicate is None or predicate(entry) else None
            return None

        return await self.wait_until(probe, timeout_s=timeout_s)

    async def wait_for_callback_answer(
        self, token: str, query_id: str, *, timeout_s: float = 5.0
    ) -> CallbackAnswer:
        """The bot's answer to a button press, once given."""
        return await self.wait_until(lambda: self.callback_answer(token, query_id), timeout_s=timeout_s)

    # ---------------------------------------------------------------- stats, limits, faults, time

    def stats(self, token: str) -> StatsSnapshot:
        """A copy of one bot's statistics."""
        return self._bot(token).stats.snapshot()

    def reset_stats(self, token: str | None = None) -> None:
        """Start one bot's statistics (or every bot's) from zero."""
        bots = [self._bot(token)] if token else list(self.world.bots.values())
        for bot in bots:
            bot.stats = BotStats()

    def set_faults(self, token: str, faults: FaultSettings | None = None, **changes: Any) -> FaultSettings:
        """Replace a bot's faults, or change some fields (`set_faults(t, server_error_share=0.1)`)."""
        bot = self._bot(token)
        bot.faults = dataclasses.replace(faults or bot.faults, **changes)
        return bot.faults

    def set_limits(self, token: str, limits: LimitSettings | None = None, **changes: Any) -> LimitSettings:
        """Replace a bot's flood limits, or change some fields."""
        bot = self._bot(token)
        bot.limits = dataclasses.replace(limits or bot.limits, **changes)
        bot.window.window_s = bot.limits.window_s
        bot.chat_buckets.clear()
        bot.edit_buckets.clear()
        return bot.limits

    def set_paid_broadcast(self, token: str, allowed: bool) -> None:
        """Allow or forbid paid broadcast for a bot."""
        self._bot(token).paid_broadcast = allowed

    def storm(self, token: str, duration_s: float, retry_after_s: int) -> None:
        """Make every send through `token` answer 429 (`retry_after_s`) for `duration_s`."""
        bot = self._bot(token)
        bot.storm_until = time.monotonic() + duration_s
        bot.storm_retry_after_s = retry_after_s

    def advance_clock(self, seconds: float) -> None:
        """Move Telegram's clock forward (message dates, the 48-hour delete window)."""
        self.world.clock_offset_s += seconds


__all__ = [
    "ChatEntry",
    "ChatView",
    "FaultSettings",
    "LimitSettings",
    "SimError",
    "SimSettings",
    "Simulator",
    "Upload",
    "UserState",
]
