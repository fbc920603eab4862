"""Full garbage collections in a sending process, at moments its send slots leave free.

CPython's collector runs a full collection whenever enough objects have survived the younger
ones: in a worker that is tens of milliseconds with the event loop stopped, at whatever moment
allocation happens to trigger it. Between a slot being handed out and its request being written,
that moves the request off its slot by the whole pause, and a request 20 ms late counts in the
same one-second window at Telegram as the 30 (or 1,000) after it: a 429 and a second of the token
lost (`bench/engine_bench.py --profile` with `STALL_LOG_MS` shows it; bench/RESULTS.md has the
runs).

So the worker turns automatic full collections off and the pacers run them instead: when no slot
of this process is due for longer than a collection takes and the last request handed out has had
time to be written; or, when the token's slots leave no such moment (1,000/s from one process),
by holding every slot back for the collection (the slots that pass meanwhile are given up, as any
late slot is). The young generations keep collecting automatically: their pauses are ~1 ms.
"""

from __future__ import annotations

import gc
import logging
import math
import time

logger = logging.getLogger(__name__)

FULL_EVERY_S = 20.0
"""A full collection is due this long after the last one (CPython's own rhythm in a busy worker)."""
OVERDUE_S = 10.0
"""A due collection that found no free moment for this long holds the slots back for itself."""
SETTLE_S = 0.003
"""After a slot is handed out, the time its request takes to be written (a few loop turns)."""
FIRST_ESTIMATE_S = 0.02


class FullCollector:
    """Runs this process's full collections when its pacers say the slots leave time for one."""

    def __init__(self, *, every_s: float = FULL_EVERY_S, overdue_s: float = OVERDUE_S) -> None:
        self.every_s = every_s
        self.overdue_s = overdue_s
        self.enabled = False
        self.last_full_at = time.monotonic()
        self.last_hand_out_at = -math.inf
        self.duration_s = FIRST_ESTIMATE_S
        """How long the last full collection took (what a free moment must leave)."""
        self.holding = False
        """A collection holds every slot back until it has run."""
        self.collections = 0

    def enable(self) -> None:
        """Stop CPython's automatic full collections; from now on they run through `collect`."""
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, 2**31 - 1)
        self.enabled = True
        self.last_full_at = time.monotonic()

    def disable(self) -> None:
        """Give full collections back to CPython."""
        if self.enabled:
            young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, 10)
            self.enabled = False

    def due(self, now: float) -> bool:
        """Whether a full collection should run at the next free moment."""
        return self.enabled and now - self.last_full_at >= self.every_s

    def overdue(self, now: float) -> bool:
        """Whether the due collection has waited for a free moment long enough."""
        return self.enabled and now - self.last_full_at >= self.every_s + self.overdue_s

    def free_for(self, now: float, next_slot_at: float) -> bool:
        """Whether a collection started now ends before the next slot, with the last request out."""
        settled = now - self.last_hand_out_at >= SETTLE_S
        return settled and next_slot_at - now >= self.duration_s * 1.2 + 0.001

    def handed_out(self, now: float) -> None:
        """A slot was just handed out: its request is being written."""
        self.last_hand_out_at = now

    def collect(self) -> None:
        """Run a full collection now."""
        started = time.monotonic()
        collected = gc.collect()
        ended = time.monotonic()
        self.duration_s = ended - started
        self.last_full_at = ended
        self.collections += 1
        logger.debug("full collection: %.1f ms, %s objects freed", self.duration_s * 1000, collected)
