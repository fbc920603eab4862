"""Clicks recorded in the background: buffered, then written in one INSERT every `interval_s`.

The writing runs in a thread of its own, with its own event loop and database engine: building
and sending a batch of a few hundred rows takes milliseconds of Python, which on the serving
loop would hold up every redirect waiting behind it. The serving loop only appends to a deque.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from panel.db import create_engine, create_sessionmaker
from panel.link_stats import Click, record_clicks

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.2
MAX_BUFFERED = 1_000_000
"""Clicks kept while the database is away; beyond that the oldest are dropped (and counted)."""
STOP_TIMEOUT_S = 30.0
WARN_EVERY_S = 60.0


class ClickWriter:
    """Takes clicks without waiting (`add`); a thread writes what has gathered every `interval_s`."""

    def __init__(
        self, database_url: str, *, interval_s: float = FLUSH_INTERVAL_S, max_buffered: int = MAX_BUFFERED
    ) -> None:
        self._database_url = database_url
        self._interval_s = interval_s
        self._max_buffered = max_buffered
        self._pending: collections.deque[Click] = collections.deque()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        """Clicks written so far."""
        self.dropped = 0
        """Clicks given up because the buffer was full (the database away for long)."""
        self._last_warning = -WARN_EVERY_S

    def add(self, click: Click) -> None:
        """Queue one click; returns at once (a deque's append is safe across threads)."""
        if len(self._pending) >= self._max_buffered:
            self._pending.popleft()
            self.dropped += 1
        self._pending.append(click)

    @property
    def pending(self) -> int:
        """Clicks not written yet."""
        return len(self._pending)

    async def _flush(self, sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
        """Write what is buffered now; on a database error the clicks go back for the next try."""
        batch: list[Click] = []
        while self._pending and len(batch) < 10_000:
            batch.append(self._pending.popleft())
        if not batch:
            return True
        try:
            async with sessionmaker.begin() as session:
                await record_clicks(session, batch)
        except Exception as exc:
            self._pending.extendleft(reversed(batch))
            now = time.monotonic()
            if now - self._last_warning >= WARN_EVERY_S:  # once a minute while the database is away
                self._last_warning = now
                first_line = str(exc).splitlines()[0] if str(exc) else ""
                logger.warning(
                    "%d link clicks not written yet, kept to try again (%s: %s)",
                    len(self._pending),
                    type(exc).__name__,
                    first_line,
                )
            return False
        self._last_warning = -WARN_EVERY_S
        self.written += len(batch)
        return True

    async def _write_until_stopped(self) -> None:
        engine = create_engine(self._database_url)
        sessionmaker = create_sessionmaker(engine)
        try:
            while not self._stopping.is_set():
                await asyncio.sleep(self._interval_s)
                while len(self._pending) >= 10_000 and await self._flush(sessionmaker):
                    pass  # a backlog (the database was away): catch up before sleeping
                await self._flush(sessionmaker)
            while self._pending and await self._flush(sessionmaker):
                pass
            if self._pending:
                logger.error("%d link clicks lost: the database did not take them", len(self._pending))
        finally:
            await engine.dispose()

    def start(self) -> None:
        """Start writing in the background."""
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(
                target=lambda: asyncio.run(self._write_until_stopped()), name="link-click-writer", daemon=True
            )
            self._thread.start()

    async def stop(self) -> None:
        """Write what is left, then stop the thread."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            await asyncio.to_thread(thread.join, STOP_TIMEOUT_S)
