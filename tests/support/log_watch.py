"""Which updates the control bot's dispatcher finished, read from aiogram's own log lines."""

from __future__ import annotations

import asyncio
import logging
import time

HANDLED_PREFIX = "Update id="


class LogWatch(logging.Handler):
    """Which updates the dispatcher finished, and every ERROR record from any logger.

    aiogram logs "Update id=N is handled/not handled" when it is done with an update (after the
    handler, even one that raised) and logs a handler's exception instead of raising it.
    """

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.handled: set[int] = set()
        self.errors: list[str] = []
        self._changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "aiogram.event" and str(record.msg).startswith(HANDLED_PREFIX) and record.args:
            self.handled.add(int(record.args[0]))  # type: ignore[index, call-overload]
        elif record.levelno >= logging.ERROR:
            rendered = record.getMessage()
            if record.exc_info:
                rendered += "\n" + logging.Formatter().formatException(record.exc_info)
            self.errors.append(f"{record.name}: {rendered}")
        self._changed.set()

    async def wait_handled(self, update_id: int, *, timeout_s: float = 15.0) -> None:
        """Wait until the dispatcher is done with `update_id`."""
        deadline = time.monotonic() + timeout_s
        while update_id not in self.handled:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"update {update_id} was not handled within {timeout_s} s")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))
            except TimeoutError:
                continue
