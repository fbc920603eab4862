"""The event loop of the sending workers: uvloop where it is installed, asyncio's otherwise.

uvloop takes about a fifth off a worker's CPU per message and raises its limit use at 1000/s;
aiohttp's and redis's socket work is most of what it saves (`bench/engine_bench.py --only 1000`;
the figures are in bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

logger = logging.getLogger(__name__)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coroutine)`, on uvloop when it can be imported."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without a uvloop wheel
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


class StallWatch:
    """Logs when this process's event loop wakes late or the garbage collector stops it long.

    A sender's slot is kept to a few milliseconds; a stall longer than that (a full collection,
    the machine's hypervisor taking the CPU, a blocking call) is what moves a send off its slot.
    Each line carries `time.monotonic()`, the same clock in every process of a machine, so the
    stalls of a worker and of the server it sends to can be put side by side.
    """

    def __init__(self, name: str, threshold_s: float, *, tick_s: float = 0.002) -> None:
        self.name = name
        self.threshold_s = threshold_s
        self.tick_s = tick_s
        self._task: asyncio.Task[None] | None = None
        self._gc_started = 0.0

    def start(self) -> None:
        """Watch from now on (in the running loop)."""
        import gc

        if self._task is None:
            self._task = asyncio.create_task(self._watch())
            gc.callbacks.append(self._on_gc)

    def stop(self) -> None:
        """Stop watching."""
        import gc

        if self._task is not None:
            self._task.cancel()
            self._task = None
            gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        now = time.monotonic()
        if phase == "start":
            self._gc_started = now
        elif now - self._gc_started >= self.threshold_s:
            logger.warning(
                "%s: gc generation %s took %.1f ms at %.3f (%s collected)",
                self.name,
                info.get("generation"),
                (now - self._gc_started) * 1000,
                self._gc_started,
                info.get("collected"),
            )

    async def _watch(self) -> None:
        while True:
            before, cpu_before = time.monotonic(), time.process_time()
            await asyncio.sleep(self.tick_s)
            late = time.monotonic() - before - self.tick_s
            if late >= self.threshold_s:
                # CPU time used meanwhile: about the stall when this process was busy, about
                # nothing when the machine gave its CPU to something else.
                logger.warning(
                    "%s: event loop woke %.1f ms late at %.3f (%.1f ms of CPU meanwhile)",
                    self.name,
                    late * 1000,
                    before + self.tick_s,
                    (time.process_time() - cpu_before) * 1000,
                )
