"""Flood-control primitives: a sliding window of timestamps and token buckets. Pure, no I/O."""

from __future__ import annotations

from collections import deque


class SlidingWindow:
    """Counts events in the last `window_s` seconds; admits one only while under a limit."""

    __slots__ = ("_stamps", "window_s")

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._stamps: deque[float] = deque()

    def _expire(self, now: float) -> None:
        stamps = self._stamps
        edge = now - self.window_s
        while stamps and stamps[0] <= edge:
            stamps.popleft()

    def count(self, now: float) -> int:
        """Events inside the window ending at `now`."""
        self._expire(now)
        return len(self._stamps)

    def has_room(self, now: float, limit: int, count: int = 1) -> bool:
        """Whether `count` more events fit under `limit` at `now` (does not record them)."""
        self._expire(now)
        return len(self._stamps) + count <= limit

    def record(self, now: float) -> int:
        """Record an event at `now`; returns the count in the window including it."""
        self._stamps.append(now)
        return len(self._stamps)


class TokenBucket:
    """A bucket of `burst` tokens refilled at `refill_per_s`; each admitted event takes one."""

    __slots__ = ("_last", "_tokens", "burst", "refill_per_s")

    def __init__(self, burst: float, refill_per_s: float, now: float) -> None:
        self.burst = burst
        self.refill_per_s = refill_per_s
        self._tokens = burst
        self._last = now

    def _refill(self, now: float) -> None:
        if now > self._last:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.refill_per_s)
            self._last = now

    def has_token(self, now: float) -> bool:
        """Whether an event would be admitted at `now` (does not take a token)."""
        self._refill(now)
        return self._tokens >= 1.0

    def take(self, now: float) -> None:
        """Take one token (call after `has_token`)."""
        self._refill(now)
        self._tokens -= 1.0

    def is_full(self, now: float) -> bool:
        """Whether the bucket is back to its burst, so it can be forgotten."""
        self._refill(now)
        return self._tokens >= self.burst
