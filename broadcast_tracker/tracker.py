"""Record the users of a target bot into the panel's `users` table, batched."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram import Dispatcher, F, Router
from aiogram.types import (
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
    Update,
    User,
)
from sqlalchemy import Insert, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from broadcast_tracker.table import user_topic_optouts, users

log = logging.getLogger(__name__)

BLOCKED = "blocked"
UNSUBSCRIBE_PREFIX = "unsub:"
"""The callback data of the "Unsubscribe from <topic>" button the panel puts under a broadcast."""
RESUBSCRIBE_PREFIX = "resub:"
TOPIC = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
ROWS_PER_STATEMENT = 1000
"""Twelve values a row keeps one statement under SQLite's 32,766 bound parameters."""
UPDATED = (
    "username",
    "first_name",
    "last_name",
    "language_code",
    "is_unavailable",
    "unavailable_reason",
    "unavailable_at",
    "last_seen_at",
)
"""What a known user's row takes from the latest event: everything but `created_at`."""


@dataclass
class Seen:
    """The last thing a flush will write about one user."""

    user: User
    at: datetime
    blocked: bool


@dataclass(frozen=True)
class OptOutTexts:
    """What a user reads after tapping "Unsubscribe from <topic>" and its Undo (`{topic}` filled)."""

    unsubscribed: str = "🔕 Unsubscribed from {topic}. You will get no more {topic} messages here."
    undo: str = "↩️ Undo"
    resubscribed: str = "🔔 Subscribed to {topic} again."


class Tracker:
    """A buffer of the users seen since the last flush and the task that writes them."""

    def __init__(
        self,
        engine: AsyncEngine,
        bot_id: int,
        flush_interval_s: float = 0.5,
        *,
        opt_out_texts: OptOutTexts | None = None,
    ) -> None:
        self.engine = engine
        self.bot_id = bot_id
        self.flush_interval_s = flush_interval_s
        self.opt_out_texts = opt_out_texts or OptOutTexts()
        self.buffer: dict[int, Seen] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def opt_out(self, chat_id: int, topic: str) -> None:
        """Record that `chat_id` opted out of `topic` (at once: the next campaign must see it)."""
        row = {"bot_id": self.bot_id, "chat_id": chat_id, "topic": topic, "created_at": datetime.now(UTC)}
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        async with self.engine.begin() as conn:
            await conn.execute(insert(user_topic_optouts).values(row).on_conflict_do_nothing())

    async def opt_in(self, chat_id: int, topic: str) -> None:
        """Take back `chat_id`'s opt-out of `topic`."""
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(user_topic_optouts).where(
                    user_topic_optouts.c.bot_id == self.bot_id,
                    user_topic_optouts.c.chat_id == chat_id,
                    user_topic_optouts.c.topic == topic,
                )
            )

    def seen(self, user: User, *, blocked: bool = False) -> None:
        """Remember `user`'s latest state; the last event of a user before a flush wins."""
        self.buffer[user.id] = Seen(user=user, at=datetime.now(UTC), blocked=blocked)

    def statement(self, batch: list[Seen]) -> Insert:
        """One upsert for `batch`: new users are inserted, known ones updated (created_at kept)."""
        rows = [
            {
                "bot_id": self.bot_id,
                "platform": "telegram",
                "chat_id": s.user.id,
                "username": s.user.username,
                "first_name": s.user.first_name,
                "last_name": s.user.last_name,
                "language_code": s.user.language_code,
                "is_unavailable": s.blocked,
                "unavailable_reason": BLOCKED if s.blocked else None,
                "unavailable_at": s.at if s.blocked else None,
                "created_at": s.at,
                "last_seen_at": s.at,
            }
            for s in batch
        ]
        keys = [users.c.bot_id, users.c.chat_id]
        if self.engine.dialect.name == "postgresql":
            pg = postgresql.insert(users).values(rows)
            return pg.on_conflict_do_update(
                index_elements=keys, set_={name: pg.excluded[name] for name in UPDATED}
            )
        lite = sqlite.insert(users).values(rows)
        return lite.on_conflict_do_update(
            index_elements=keys, set_={name: lite.excluded[name] for name in UPDATED}
        )

    async def flush(self) -> int:
        """Write the buffer; returns how many users were written."""
        async with self._lock:
            batch, self.buffer = list(self.buffer.values()), {}
            if not batch:
                return 0
            async with self.engine.begin() as conn:
                for start in range(0, len(batch), ROWS_PER_STATEMENT):
                    await conn.execute(self.statement(batch[start : start + ROWS_PER_STATEMENT]))
            return len(batch)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval_s)
            try:
                await self.flush()
            except Exception:
                log.exception("tracker: flush failed")

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def middleware(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        """Outer middleware: every private update's user was here, so is reachable again."""
        if isinstance(event, Update):
            user = private_user(event)
            if user is not None and event.my_chat_member is None:
                self.seen(user)
        return await handler(event, data)

    def router(self) -> Router:
        router = Router(name="broadcast_tracker")

        @router.my_chat_member()
        async def member_changed(event: ChatMemberUpdated) -> None:
            if event.chat.type != "private":
                return
            status = event.new_chat_member.status
            if status == "kicked":
                self.seen(event.from_user, blocked=True)
            elif status == "member":
                self.seen(event.from_user)

        @router.callback_query(F.data.startswith(UNSUBSCRIBE_PREFIX))
        async def unsubscribe(query: CallbackQuery) -> None:
            topic = topic_of(query.data, UNSUBSCRIBE_PREFIX)
            if topic is None:
                await query.answer()
                return
            await self.opt_out(query.from_user.id, topic)
            done = self.opt_out_texts.unsubscribed.format(topic=topic)
            await query.answer(done)
            undo = InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=self.opt_out_texts.undo, callback_data=RESUBSCRIBE_PREFIX + topic
                        )
                    ]
                ]
            )
            if query.bot is not None:
                await query.bot.send_message(query.from_user.id, done, reply_markup=undo)

        @router.callback_query(F.data.startswith(RESUBSCRIBE_PREFIX))
        async def resubscribe(query: CallbackQuery) -> None:
            topic = topic_of(query.data, RESUBSCRIBE_PREFIX)
            if topic is None:
                await query.answer()
                return
            await self.opt_in(query.from_user.id, topic)
            done = self.opt_out_texts.resubscribed.format(topic=topic)
            await query.answer(done)
            if isinstance(query.message, Message):
                await query.message.edit_text(done)

        return router


def topic_of(data: str | None, prefix: str) -> str | None:
    """The topic in an (un)subscribe button's callback data, None when it names none."""
    topic = (data or "")[len(prefix) :]
    return topic if TOPIC.fullmatch(topic) else None


def private_user(update: Update) -> User | None:
    """The user behind `update` if it came from a private chat with the bot."""
    event = update.event
    chat = getattr(event, "chat", None)
    if chat is None:
        message = getattr(event, "message", None)  # a callback query's message
        chat = getattr(message, "chat", None)
    if chat is not None and chat.type != "private":
        return None
    user = getattr(event, "from_user", None)
    return user if isinstance(user, User) and not user.is_bot else None


def setup_tracker(
    dispatcher: Dispatcher,
    engine_or_url: AsyncEngine | str,
    *,
    bot_id: int,
    flush_interval_s: float = 0.5,
    opt_out_texts: OptOutTexts | None = None,
) -> Tracker:
    """Install the tracker on `dispatcher`: a middleware, a router (blocks, and the taps on
    "Unsubscribe from <topic>" with their Undo) and a flush task."""
    engine = create_async_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    tracker = Tracker(engine, bot_id, flush_interval_s, opt_out_texts=opt_out_texts)
    dispatcher.update.outer_middleware(tracker.middleware)
    dispatcher.include_router(tracker.router())
    dispatcher.startup.register(tracker.start)
    dispatcher.shutdown.register(tracker.stop)
    return tracker
