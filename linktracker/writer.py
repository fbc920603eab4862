"""Clicks recorded in the background: buffered, then written in one INSERT every `interval_s`."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from panel.link_stats import Click, record_clicks

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.2
MAX_BUFFERED = 100_000
"""Clicks kept while the database is away; beyond that the oldest are dropped (and logged)."""


class ClickWriter:
    """Takes clicks without waiting (`add`); a task writes what has gathered every `interval_s`."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        interval_s: float = FLUSH_INTERVAL_S,
        max_buffered: int = MAX_BUFFERED,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._interval_s = interval_s
        self._max_buffered = max_buffered
        self._buffer: list[Click] = []
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        """Clicks written so far (for tests and the benchmark)."""
        self.dropped = 0

    def add(self, click: Click) -> None:
        """Queue one click; returns at once."""
        if len(self._buffer) >= self._max_buffered:
            self._buffer.pop(0)
            self.dropped += 1
        self._buffer.append(click)

    @property
    def pending(self) -> int:
        """Clicks not written yet."""
        return len(self._buffer)

    async def flush(self) -> None:
        """Write what is buffered now; on a database error the clicks stay for the next try."""
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        try:
            async with self._sessionmaker.begin() as session:
                await record_clicks(session, batch)
        except Exception as exc:
            logger.warning("link clicks not written yet (%s: %s); trying again", type(exc).__name__, exc)
            self._buffer[:0] = batch[-self._max_buffered :]
            return
        self.written += len(batch)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            await self.flush()

    def start(self) -> None:
        """Start writing in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="link-click-writer")

    async def stop(self) -> None:
        """Stop the background task and write what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
