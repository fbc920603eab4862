"""Per-token statistics: deliveries, duplicates, flood control, errors, faults and edits."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tgsim.flood import SlidingWindow

MAX_TIMES_KEPT = 5000
"""Slow gaps and refusals kept per token (a benchmark run has far fewer; a long run stops there)."""


@dataclass(slots=True)
class StatsSnapshot:
    """A copy of one token's statistics at a moment (safe to keep and compare)."""

    delivered_total: int
    delivered_per_chat: dict[int, int]
    duplicates: int
    too_many_requests: int
    peak_per_second: int
    passed_gate: int
    first_passed_at: float | None
    last_passed_at: float | None
    passed_per_second: list[int]
    slow_gaps: list[tuple[float, float]]
    refused_at: list[float]
    first_gate_at: float
    errors: dict[str, int]
    faults: dict[str, int]
    edits: int
    deletes: int
    requests: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly dict (chat ids become strings)."""
        return {
            "delivered_total": self.delivered_total,
            "delivered_per_chat": {str(chat): count for chat, count in self.delivered_per_chat.items()},
            "duplicates": self.duplicates,
            "too_many_requests": self.too_many_requests,
            "peak_per_second": self.peak_per_second,
            "passed_gate": self.passed_gate,
            "first_passed_at": self.first_passed_at,
            "last_passed_at": self.last_passed_at,
            "passed_per_second": list(self.passed_per_second),
            "slow_gaps": [list(gap) for gap in self.slow_gaps],
            "refused_at": list(self.refused_at),
            "first_gate_at": self.first_gate_at,
            "errors": dict(self.errors),
            "faults": dict(self.faults),
            "edits": self.edits,
            "deletes": self.deletes,
            "requests": dict(self.requests),
        }


@dataclass(slots=True)
class BotStats:
    """Mutable counters of one bot token, updated by the server as requests are answered."""

    delivered_per_chat: Counter[int] = field(default_factory=Counter)
    delivered_total: int = 0
    duplicates: int = 0
    too_many_requests: int = 0
    peak_per_second: int = 0
    passed_gate: int = 0
    first_passed_at: float | None = None
    last_passed_at: float | None = None
    passed_per_second: list[int] = field(default_factory=list)
    slow_gaps: list[tuple[float, float]] = field(default_factory=list)
    """Gaps between gate passes longer than 1.6 intervals at the limit: (when the gap began on the
    monotonic clock, gap), the first MAX_TIMES_KEPT; where a sender left the limit unused."""
    refused_at: list[float] = field(default_factory=list)
    """When the per-token window refused a call (monotonic clock), the first MAX_TIMES_KEPT."""
    errors: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    edits: int = 0
    deletes: int = 0
    """Messages deleted (each at most once: a deleted message is gone)."""
    requests: Counter[str] = field(default_factory=Counter)
    _second: SlidingWindow = field(default_factory=lambda: SlidingWindow(1.0))
    _seen: dict[tuple[Any, ...], set[int]] = field(default_factory=dict)
    _first_gate_at: float = 0.0
    _last_gate_at: float = 0.0

    def passed(self, now_monotonic: float, limit_per_s: float = 0.0) -> None:
        """A send-type request passed the rate gate (at `now_monotonic`, under `limit_per_s`)."""
        if self.passed_gate == 0:
            self._first_gate_at = now_monotonic
        elif limit_per_s > 0 and len(self.slow_gaps) < MAX_TIMES_KEPT:
            gap = now_monotonic - self._last_gate_at
            if gap > 1.6 / limit_per_s:
                self.slow_gaps.append((round(self._last_gate_at, 4), round(gap, 4)))
        self._last_gate_at = now_monotonic
        self.passed_gate += 1
        wall = time.time()
        if self.first_passed_at is None:
            self.first_passed_at = wall
        self.last_passed_at = wall
        second = int(wall - self.first_passed_at)
        if second >= len(self.passed_per_second):
            self.passed_per_second.extend([0] * (second + 1 - len(self.passed_per_second)))
        self.passed_per_second[second] += 1
        self._second.count(now_monotonic)
        in_window = self._second.record(now_monotonic)
        if in_window > self.peak_per_second:
            self.peak_per_second = in_window

    def refused(self, now_monotonic: float) -> None:
        """The per-token window refused a send-type call (a 429)."""
        if len(self.refused_at) < MAX_TIMES_KEPT:
            self.refused_at.append(round(now_monotonic, 4))

    def delivered(self, chat_id: int, content_key: tuple[Any, ...]) -> None:
        """A message reached a chat; identical content to the same chat counts as a duplicate."""
        self.delivered_total += 1
        self.delivered_per_chat[chat_id] += 1
        chats = self._seen.get(content_key)
        if chats is None:
            self._seen[content_key] = {chat_id}
        elif chat_id in chats:
            self.duplicates += 1
        else:
            chats.add(chat_id)

    def error(self, status: int, description: str) -> None:
        """An error answer was given."""
        self.errors[description] += 1
        if status == 429:
            self.too_many_requests += 1

    def snapshot(self) -> StatsSnapshot:
        """A copy of the counters."""
        return StatsSnapshot(
            delivered_total=self.delivered_total,
            delivered_per_chat=dict(self.delivered_per_chat),
            duplicates=self.duplicates,
            too_many_requests=self.too_many_requests,
            peak_per_second=self.peak_per_second,
            passed_gate=self.passed_gate,
            first_passed_at=self.first_passed_at,
            last_passed_at=self.last_passed_at,
            passed_per_second=list(self.passed_per_second),
            slow_gaps=list(self.slow_gaps),
            refused_at=list(self.refused_at),
            first_gate_at=self._first_gate_at,
            errors=dict(self.errors),
            faults=dict(self.faults),
            edits=self.edits,
            deletes=self.deletes,
            requests=dict(self.requests),
        )
