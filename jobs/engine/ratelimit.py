"""One send rate per bot token, shared by every worker process, kept in Redis.

Sends of a token are evenly spaced at its rate with no burst, across any number of processes,
and a 429 stops every sender of the token for the pause Telegram asked for. Two halves: the
slots in Redis (`jobs.engine.slots`) and, in each process, the senders queued for them
(`jobs.engine.pacer`); this is what the workers call.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import TypeVar

from redis.asyncio import Redis

from jobs.engine.collector import FullCollector
from jobs.engine.pacer import Pacer
from jobs.engine.slots import Reservation, TokenSlots, clock
from jobs.engine.spread import RouteSpread
from panel.keys import RedisKeys

T = TypeVar("T")


def _always() -> bool:
    return True


class TokenRateLimiter:
    """Evenly paced send slots per bot token, shared through Redis by all processes."""

    def __init__(
        self,
        redis: Redis,
        *,
        keys: RedisKeys,
        lookahead_s: float = 0.5,
        collector: FullCollector | None = None,
        pacing_factor: float | None = None,
    ) -> None:
        self.slots = TokenSlots(redis, keys=keys, lookahead_s=lookahead_s)
        self.collector = collector
        """Runs the process's full garbage collections between slots (the worker's; None: CPython's)."""
        self.route = None if pacing_factor is None else RouteSpread(pacing_factor)
        """Round trips per token, and the margin they say the route needs (None: the configured
        pacing alone, as callers that pace nothing of their own want)."""
        self._pacers: dict[str, Pacer] = {}

    def key_for(self, token: str) -> str:
        """The Redis key of one token's limit, under the deployment's prefix (never the token)."""
        return self.slots.key_for(token)

    async def reserve(self, key: str, rate_per_s: float, count: int = 1) -> Reservation:
        """Try to reserve up to `count` next slots of `key` at `rate_per_s` (one round trip)."""
        return await self.slots.reserve(key, rate_per_s, count)

    async def acquire(
        self, key: str, rate_per_s: float, *, should_stop: Callable[[], bool] | None = None
    ) -> bool:
        """Wait for a slot of `key` and return True at its time; False if `should_stop()` turned
        true first (noticed within SWEEP_S). Senders are served in the order they asked."""
        return await self.acquire_for(key, rate_per_s, _always, should_stop=should_stop) is not None

    async def acquire_for(
        self,
        key: str,
        rate_per_s: float,
        take: Callable[[], T | None],
        *,
        should_stop: Callable[[], bool] | None = None,
    ) -> T | None:
        """Wait for a slot of `key`; at its time, return what `take()` gives (the recipient).

        A sender whose `take()` has nothing yet keeps its place and the slot goes to the next
        one, so a slot is never spent on a sender that would then wait for its recipient.
        None: `should_stop()` turned true first (noticed within SWEEP_S).
        """
        pacer = self._pacers.get(key)
        if pacer is None:
            pacer = self._pacers[key] = Pacer(
                self.slots,
                key,
                collector=self.collector,
                process_next_slot_at=self.next_slot_at,
                route=self.route,
            )
        return await pacer.acquire(rate_per_s, take, should_stop)

    def answered(self, key: str, round_trip_s: float) -> None:
        """A request of `key` that Telegram answered took this long: it teaches the route's
        margin, and whether the route held it back."""
        if self.route is not None:
            self.route.answered(key, round_trip_s)

    def next_slot_at(self, now: float) -> float:
        """The earliest time any pacer of this process may hand out a slot (inf: none waits)."""
        return min((pacer.next_slot_at(now) for pacer in self._pacers.values()), default=math.inf)

    async def collect_while_idle(self, period_s: float = 1.0) -> None:
        """Run due full collections while no sender of this process waits for a slot (a task)."""
        collector = self.collector
        if collector is None:
            return
        while True:
            await asyncio.sleep(period_s)
            now = clock()
            if collector.due(now) and self.next_slot_at(now) == math.inf:
                collector.collect()

    async def pause(self, key: str, retry_after_s: float) -> float:
        """Stop every sender of `key` for `retry_after_s` (a 429); returns the pause in effect."""
        paused_s = await self.slots.pause(key, retry_after_s)
        pacer = self._pacers.get(key)
        if pacer is not None:
            pacer.void()  # reserved before the 429
        return paused_s

    async def pacing_cut(self, key: str) -> float:
        """The share of its usual pacing a token sends at after recent 429s (1.0: none)."""
        return await self.slots.pacing_cut(key)
