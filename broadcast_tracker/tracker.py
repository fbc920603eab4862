"""Record the users of a target bot into the panel's `users` table, batched."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.types import ChatMemberUpdated, TelegramObject, Update, User
from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from broadcast_tracker.table import users

log = logging.getLogger(__name__)

BLOCKED = "blocked"
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


class Tracker:
    """A buffer of the users seen since the last flush and the task that writes them."""

    def __init__(self, engine: AsyncEngine, bot_id: int, flush_interval_s: float = 0.5) -> None:
        self.engine = engine
        self.bot_id = bot_id
        self.flush_interval_s = flush_interval_s
        self.buffer: dict[int, Seen] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

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

        return router


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
) -> Tracker:
    """Install the tracker on `dispatcher`: a middleware, a router and a flush task."""
    engine = create_async_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    tracker = Tracker(engine, bot_id, flush_interval_s)
    dispatcher.update.outer_middleware(tracker.middleware)
    dispatcher.include_router(tracker.router())
    dispatcher.startup.register(tracker.start)
    dispatcher.shutdown.register(tracker.stop)
    return tracker
