"""The in-process side of one send rate per bot token: the senders waiting for its slots.

In each process one pacer task per token does the waiting and the Redis round trips
(`jobs.engine.slots`); senders queue for it per batch (first come, first served) and wake
exactly at their slot. The next slots are reserved while the held ones last, unused ones are
given back when nobody waits, and the worker's full garbage collections run between slots.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from jobs.engine.collector import SETTLE_S, FullCollector
from jobs.engine.slots import PAUSE_CHECK_S, TokenSlots, clock
from jobs.engine.spread import RouteSpread, learning_ppm

T = TypeVar("T")

LATE_SLOT_S = 0.005
"""A slot handed out later than this (a busy event loop) is given up, not used late.

Slots are exactly 1/pace apart, so any `ceil(rate)` sends handed out within this lateness span
at least ceil(rate)/pace - LATE_SLOT_S: at a pacing factor of 0.985 that leaves 10 ms of a
one-second window for the jitter of the network between here and Telegram."""
SWEEP_S = 0.2
"""Queued senders whose batch stopped are let go within this much time, even while the token waits."""
SLOTS_PER_ROUND_TRIP_S = 0.02
"""At high rates one Redis round trip reserves this much sending time (20 slots at 1000/s)."""
MAX_SLOTS_PER_ROUND_TRIP = 32
MIN_SLOTS_PER_ROUND_TRIP = 3
"""Even at 30/s one round trip reserves a few slots (0.1 s), not one per send."""
RESERVE_AHEAD_S = 0.015
"""The next slots are asked for when the held ones end sooner than this: a round trip and a busy
event loop's delay, so the new slots follow the held ones with no gap and arrive in time."""


class _Queue:
    """The senders of one batch (one `take`, one `should_stop`) waiting for this token's slots."""

    __slots__ = ("futures", "should_stop", "take")

    def __init__(self, take: Callable[[], Any], should_stop: Callable[[], bool] | None) -> None:
        self.take = take
        """Called at a slot's time: what the sender gets (None: nothing ready yet, keep waiting)."""
        self.should_stop = should_stop
        self.futures: deque[asyncio.Future[Any]] = deque()

    def stopped(self) -> bool:
        return self.should_stop is not None and self.should_stop()

    def let_go(self) -> None:
        while self.futures:
            future = self.futures.popleft()
            if not future.done():
                future.set_result(None)

    def first_waiting(self) -> asyncio.Future[Any] | None:
        futures = self.futures
        while futures and futures[0].done():  # its sender was cancelled
            futures.popleft()
        return futures[0] if futures else None


class Pacer:
    """The slots of one token in this process: one task reserves them and hands each to a sender.

    Senders queue per batch; each slot goes to the first sender of the oldest batch that has a
    recipient ready, so one batch waiting for its next claim costs no slot.
    """

    def __init__(
        self,
        slots: TokenSlots,
        key: str,
        *,
        collector: FullCollector | None,
        process_next_slot_at: Callable[[float], float],
        route: RouteSpread | None = None,
    ) -> None:
        self.slots = slots
        self.key = key
        self.route = route
        """The round trips of this process, which say how much margin the route needs (None: none)."""
        self.collector = collector
        self._process_next_slot_at = process_next_slot_at
        """When any pacer of this process hands out its next slot (a collection must fit before)."""
        self.rate_per_s = 1.0
        self.queues: dict[tuple[Callable[[], Any], Callable[[], bool] | None], _Queue] = {}
        self.held: deque[tuple[float, float, int]] = deque()
        """Slots reserved and not yet handed out: (slot time, when it was reserved) on the monotonic
        clock, and the slot on Redis's clock (µs)."""
        self.reserved_end_us = 0
        """The token's next free slot as the last reservation left it (Redis's clock, µs)."""
        self.interval_us = 0
        self.task: asyncio.Task[None] | None = None
        self.reserving: asyncio.Task[None] | None = None
        """The reservation under way: the next slots are asked for before the held ones run out."""
        self.reserve_error: Exception | None = None
        self.ask_again_at = 0.0
        """After a refusal (the token's slots are taken that far ahead): no new request before this."""
        self.generation = 0
        """Bumped by a 429: a reservation under way then brings slots from before the pause."""
        self.swept_at = 0.0
        self.pause_checked_at = -math.inf

    async def acquire(
        self, rate_per_s: float, take: Callable[[], T | None], should_stop: Callable[[], bool] | None
    ) -> T | None:
        if should_stop is not None and should_stop():
            return None
        self.rate_per_s = rate_per_s
        queue = self.queues.get((take, should_stop))
        if queue is None:
            queue = self.queues[(take, should_stop)] = _Queue(take, should_stop)
        future: asyncio.Future[T | None] = asyncio.get_running_loop().create_future()
        queue.futures.append(future)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())
        return await future

    def _waiting(self) -> int:
        return sum(len(queue.futures) for queue in self.queues.values())

    def _sweep(self, now: float) -> None:
        """Let go of senders whose batch stopped, forget empty queues; at most every SWEEP_S."""
        if now - self.swept_at < SWEEP_S:
            return
        self.swept_at = now
        for ident, queue in list(self.queues.items()):
            if queue.stopped():
                queue.let_go()
            if queue.first_waiting() is None:
                del self.queues[ident]

    def _hand_out(self) -> bool:
        """Give the current slot to the oldest batch with a recipient ready; False if none has.

        Oldest first, not in turn: the batches of a token then end one after another, and the
        next one is already sending when one ends (in turn, they would all end at once and leave
        the token idle while the next ones start).
        """
        for queue in list(self.queues.values()):
            future = queue.first_waiting()
            if future is None:
                continue
            if queue.stopped():
                queue.let_go()
                continue
            item = queue.take()
            if item is None:
                continue
            queue.futures.popleft()
            future.set_result(item)
            return True
        return False

    def void(self) -> None:
        """Forget the slots reserved so far, and those of the reservation under way (a 429)."""
        self.generation += 1
        self.held.clear()

    def _want(self) -> int:
        rate = self.rate_per_s
        per_trip = max(MIN_SLOTS_PER_ROUND_TRIP, int(rate * SLOTS_PER_ROUND_TRIP_S))
        return max(1, min(MAX_SLOTS_PER_ROUND_TRIP, self._waiting(), per_trip))

    async def _reserve(self) -> None:
        """One round trip for the next slots; they join `held` unless a 429 voided them meanwhile."""
        generation = self.generation
        rate = self.rate_per_s
        try:
            route = self.route
            if route is None:
                reservation = await self.slots.reserve(self.key, rate, self._want())
            else:
                reservation = await self.slots.reserve(
                    self.key,
                    rate,
                    self._want(),
                    route_ppm=route.proposal_ppm(self.key),
                    learning_ppm=learning_ppm(route.pacing_factor),
                    skips=route.take_skips(self.key),
                )
        except Exception as exc:
            self.reserve_error = exc
            return
        finally:
            self.reserving = None
        if generation != self.generation:
            return
        if not reservation.granted:
            self.ask_again_at = clock() + reservation.wait_s
            return
        reserved_at = clock()
        interval_us = reservation.interval_us
        interval = interval_us / 1_000_000
        first_at = reservation.first_at
        self.held.extend(
            (first_at + i * interval, reserved_at, reservation.slot_us + i * interval_us)
            for i in range(reservation.count)
        )
        self.reserved_end_us = reservation.slot_us + reservation.count * interval_us
        self.interval_us = interval_us

    def _unused_tail(self) -> int | None:
        """The first of the held slots that run unbroken to the end of this pacer's reservations
        (Redis's clock, µs); None if there are none."""
        held, interval_us = self.held, self.interval_us
        if not held or interval_us <= 0 or held[-1][2] + interval_us != self.reserved_end_us:
            return None
        first_us = held[-1][2]
        for index in range(len(held) - 2, -1, -1):
            if held[index][2] + interval_us != first_us:
                break
            first_us = held[index][2]
        return first_us

    def _go_idle(self) -> None:
        """Nobody waits: return the unused slots at the end of the token's schedule to Redis, so
        another process (or this one, later) uses them instead of waiting past them; forget the rest."""
        first_us = self._unused_tail()
        if first_us is not None:
            self.slots.give_back(self.key, self.reserved_end_us, first_us, self.interval_us)
        self.void()

    def next_slot_at(self, now: float) -> float:
        """When this pacer may hand out its next slot (inf: it has no sender waiting)."""
        if not self._waiting():
            return math.inf
        return self.held[0][0] if self.held else now

    async def _run(self) -> None:
        collector = self.collector
        held = self.held
        try:
            while True:
                if self.reserve_error is not None:
                    error, self.reserve_error = self.reserve_error, None
                    raise error
                now = clock()
                self._sweep(now)
                if not self._waiting():
                    if self.reserving is not None:  # its slots join `held`, to be given back too
                        await asyncio.wait({self.reserving}, timeout=SWEEP_S)
                        continue
                    self.queues.clear()
                    self._go_idle()
                    self.reserve_error = None  # nobody to tell; the next senders ask afresh
                    return
                # The next slots are asked for while the held ones last, so they follow on
                # without a gap. A 429 pause needs no check here: it moved the token's next slot.
                if (
                    self.reserving is None
                    and now >= self.ask_again_at
                    and (not held or held[-1][0] - now < RESERVE_AHEAD_S)
                ):
                    self.reserving = asyncio.create_task(self._reserve())
                if not held:
                    if self.reserving is not None:
                        await asyncio.wait({self.reserving}, timeout=SWEEP_S)
                    else:
                        await asyncio.sleep(min(max(self.ask_again_at - now, 0.0), SWEEP_S))
                    continue
                target, reserved_at, _ = held[0]
                if target - now > 0.0005:
                    if collector is not None and collector.due(now):
                        # A full collection fits before this process's next slot: now, not
                        # whenever allocation would trigger it (maybe between a slot and its send).
                        if collector.free_for(now, self._process_next_slot_at(now)):
                            collector.collect()
                            continue
                        if now - collector.last_hand_out_at < SETTLE_S:
                            await asyncio.sleep(SETTLE_S)
                            continue
                    await asyncio.sleep(min(target - now, SWEEP_S))
                    continue
                if now - target > LATE_SLOT_S:
                    held.popleft()  # woken too late: using it would crowd the next slots
                    continue
                # A 429 that another process saw after this slot was reserved voids the slots.
                # The check is a round trip: then the slot is looked at again (it may be late).
                # A slow token's reservation of a few slots is not checked before its own end:
                # at 30/s checks every 50 ms were a Redis round trip for most sends.
                stale_s = max(PAUSE_CHECK_S, MIN_SLOTS_PER_ROUND_TRIP / self.rate_per_s)
                if now - reserved_at > stale_s and now - self.pause_checked_at > PAUSE_CHECK_S:
                    paused = await self.slots.paused_for(self.key) > 0
                    self.pause_checked_at = clock()
                    if paused:
                        self.void()
                    continue
                if collector is not None and collector.overdue(now):
                    # No free moment came: the slots wait for the collection (the late ones lapse).
                    if not collector.holding:
                        collector.holding = True
                        try:
                            await asyncio.sleep(SETTLE_S)
                            collector.collect()
                        finally:
                            collector.holding = False
                    else:
                        await asyncio.sleep(0.001)
                    continue
                if self._hand_out():
                    held.popleft()
                    if collector is not None:
                        collector.handed_out(now)
                else:
                    await asyncio.sleep(0.001)  # nobody has a recipient yet: the slot may lapse
        except BaseException as exc:
            # The pacer cannot go on (Redis away, shutdown): every queued sender hears of it.
            if self.reserving is not None:
                self.reserving.cancel()
                self.reserving = None
            for queue in self.queues.values():
                for future in queue.futures:
                    if not future.done():
                        if isinstance(exc, Exception):
                            future.set_exception(exc)
                        else:
                            future.cancel()
            self.queues.clear()
            self.void()
            if not isinstance(exc, Exception):
                raise
