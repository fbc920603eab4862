"""One send rate per bot token, shared by every worker process, kept in Redis.

Each token has a "next free slot" time in Redis (Redis's own clock, microseconds). A process
atomically reserves the next few slots, then hands them out at their times, one sender each: sends
are evenly spaced at the rate with no burst, across any number of processes. A 429 pushes the next
slot past the pause that Telegram asked for, so every sender of that token waits it out.
Reservations reach at most `lookahead_s` into the future: a paused or cancelled campaign strands
no slot beyond that.

In each process one pacer task per token does the waiting and the Redis round trips; senders queue
for it (first come, first served) and wake exactly at their slot. Slot times are absolute on
Redis's clock, turned into local time with an offset measured on the fastest round trip, so a
reply read late (a busy event loop) does not shift the slots onto another process's.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from redis.asyncio import Redis

from jobs.engine.collector import SETTLE_S, FullCollector
from panel.keys import RedisKeys

logger = logging.getLogger(__name__)

T = TypeVar("T")

PAUSE_SUFFIX = ":paused"
PAUSE_CHECK_S = 0.05
"""How stale a process's view of another process's 429 pause may be (one Redis read per interval)."""
LATE_SLOT_S = 0.005
"""A slot handed out later than this (a busy event loop) is given up, not used late.

Slots are exactly 1/pace apart, so any `ceil(rate)` sends handed out within this lateness span
at least ceil(rate)/pace - LATE_SLOT_S: at a pacing factor of 0.985 that leaves 10 ms of a
one-second window for the jitter of the network between here and Telegram."""
CUT_SUFFIX = ":cut"
CUT_PER_429 = 0.99
"""Each 429 (the first of its pause) narrows the token's pacing by 1%: a route jitterier than the
pacing factor allows for stops drawing them after a few, instead of losing a second now and then."""
LOWEST_CUT = 0.9
CUT_LASTS_S = 600.0
"""The pacing goes back to the configured factor once no 429 came for this long."""
SWEEP_S = 0.2
"""Queued senders whose batch stopped are let go within this much time, even while the token waits."""
OFFSET_REFRESH_S = 30.0
"""The clock offset keeps the fastest round trip of this long; then it is measured again."""

# KEYS[1]: the token's next free slot (µs, Redis clock), KEYS[2]: the token's pacing cut (a hash,
# see _PAUSE); ARGV: interval µs, lookahead µs, floor µs, slots wanted. Returns {granted, wait_us,
# slot_us, count, now_us, interval_us}: granted=1 → `count` consecutive slots from slot_us, the
# interval (widened by the cut) apart, all within the lookahead; 0 → ask again in wait_us.
# A missing key is either a first use or a flushed Redis: slots up to `lookahead` may already be
# held by senders, so the first new slot comes after them. `floor` is the caller's own next slot
# (after the last one it was granted), so a process never rewinds even if the key vanished.
# string.format('%d') keeps all digits (Lua would print a 16-digit number as 1.7e+15).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local lookahead = tonumber(ARGV[2])
local stored = redis.call('GET', KEYS[1])
local slot
if stored then slot = tonumber(stored) else slot = now + lookahead end
local floor = tonumber(ARGV[3])
if slot < floor then slot = floor end
if slot < now then slot = now end
local ahead = slot - now
if ahead > lookahead then
  return {0, ahead - lookahead, 0, 0, string.format('%d', now)}
end
local interval = tonumber(ARGV[1])
local cut = tonumber(redis.call('HGET', KEYS[2], 'ppm') or '1000000')
interval = math.ceil(interval * 1000000 / cut)
local count = math.min(tonumber(ARGV[4]), math.floor((lookahead - ahead) / interval) + 1)
local next_slot = slot + interval * count
redis.call('SET', KEYS[1], string.format('%d', next_slot), 'PX', math.floor((next_slot - now) / 1000) + KEEP_MS)
return {1, ahead, string.format('%d', slot), count, string.format('%d', now), interval}
""".replace("KEEP_MS", str(24 * 3600 * 1000))

# KEYS[1]: as above, KEYS[2]: the pause's end, KEYS[3]: the pacing cut; ARGV: pause µs, cut ppm,
# lowest ppm, how long the cut lasts (ms). The next slot moves to now + pause unless already
# later, and the pause's end is kept for senders holding a slot. The first 429 of a pause (not
# the others of its burst) narrows the token's pacing by the cut, down to the lowest; the cut
# lapses when no 429 came for its duration. Returns {µs until the next slot, the cut in ppm}.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
local resume_at = now + tonumber(ARGV[1])
local ttl = math.floor(tonumber(ARGV[1]) / 1000) + 60000
if slot < resume_at then
  redis.call('SET', KEYS[1], string.format('%d', resume_at), 'PX', ttl)
  slot = resume_at
end
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused < resume_at then
  redis.call('SET', KEYS[2], string.format('%d', resume_at), 'PX', ttl)
end
if now >= tonumber(redis.call('HGET', KEYS[3], 'until') or '0') then
  local ppm = tonumber(redis.call('HGET', KEYS[3], 'ppm') or '1000000')
  ppm = math.max(tonumber(ARGV[3]), math.floor(ppm * tonumber(ARGV[2]) / 1000000))
  redis.call('HSET', KEYS[3], 'ppm', ppm, 'until', string.format('%d', resume_at))
end
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[4]))
return {slot - now, tonumber(redis.call('HGET', KEYS[3], 'ppm'))}
"""

# KEYS[1]: the token's next free slot; ARGV: where a pacer's last reservation left it, the first
# slot it did not use. Moves the next slot back to that one if nobody reserved since; returns 1 if so.
_GIVE_BACK = """
local stored = redis.call('GET', KEYS[1])
if not stored or tonumber(stored) ~= tonumber(ARGV[1]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local back = tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%d', back), 'PX', math.max(0, math.floor((back - now) / 1000)) + KEEP_MS)
return 1
""".replace("KEEP_MS", str(24 * 3600 * 1000))

# KEYS[1]: the pause's end. Returns µs until it ends (0: not paused).
_PAUSED_FOR = """
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if paused > now then return paused - now end
return 0
"""


_clock = time.monotonic
"""Slot times are kept on this clock: the event loop's own may tick in whole milliseconds
(uvloop's does), too coarse for slots 1 ms apart and for the offset to Redis's clock."""


def _always() -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Reservation:
    """The answer to one reservation attempt."""

    granted: bool
    wait_s: float
    """Granted: how long until the first reserved slot. Not granted: when to ask again."""
    count: int = 1
    """Granted: consecutive slots reserved, one interval apart."""
    first_at: float = 0.0
    """Granted: the first slot's time on this process's monotonic clock."""
    interval_us: int = 0
    """Granted: µs between the reserved slots (the rate's, widened by a 429 cut)."""
    slot_us: int = 0
    """Granted: the first slot on Redis's clock (µs)."""


SLOTS_PER_ROUND_TRIP_S = 0.02
"""At high rates one Redis round trip reserves this much sending time (20 slots at 1000/s)."""
MAX_SLOTS_PER_ROUND_TRIP = 32
MIN_SLOTS_PER_ROUND_TRIP = 3
"""Even at 30/s one round trip reserves a few slots (0.1 s), not one per send."""
RESERVE_AHEAD_S = 0.015
"""The next slots are asked for when the held ones end sooner than this: a round trip and a busy
event loop's delay, so the new slots follow the held ones with no gap and arrive in time."""


class _ClockOffset:
    """Redis's clock minus this process's monotonic clock, from the round trip that took least time.

    A reply read late says nothing new about the offset, so the fastest recent round trip wins;
    it is measured again every OFFSET_REFRESH_S in case either clock drifts.
    """

    __slots__ = ("_best_rtt", "_measured_at", "offset_s")

    def __init__(self) -> None:
        self.offset_s: float | None = None
        self._best_rtt = math.inf
        self._measured_at = -math.inf

    def sample(self, sent_at: float, received_at: float, redis_now_s: float) -> None:
        rtt = received_at - sent_at
        if rtt <= self._best_rtt or received_at - self._measured_at > OFFSET_REFRESH_S:
            self._best_rtt = rtt
            self._measured_at = received_at
            self.offset_s = redis_now_s - (sent_at + received_at) / 2


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


class _Pacer:
    """The slots of one token in this process: one task reserves them and hands each to a sender.

    Senders queue per batch; each slot goes to the first sender of the oldest batch that has a
    recipient ready, so one batch waiting for its next claim costs no slot.
    """

    def __init__(self, limiter: TokenRateLimiter, key: str) -> None:
        self.limiter = limiter
        self.key = key
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
            reservation = await self.limiter.reserve(self.key, rate, self._want())
        except Exception as exc:
            self.reserve_error = exc
            return
        finally:
            self.reserving = None
        if generation != self.generation:
            return
        if not reservation.granted:
            self.ask_again_at = _clock() + reservation.wait_s
            return
        reserved_at = _clock()
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
            self.limiter.give_back(self.key, self.reserved_end_us, first_us, self.interval_us)
        self.void()

    def next_slot_at(self, now: float) -> float:
        """When this pacer may hand out its next slot (inf: it has no sender waiting)."""
        if not self._waiting():
            return math.inf
        return self.held[0][0] if self.held else now

    async def _run(self) -> None:
        limiter = self.limiter
        collector = limiter.collector
        held = self.held
        try:
            while True:
                if self.reserve_error is not None:
                    error, self.reserve_error = self.reserve_error, None
                    raise error
                now = _clock()
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
                        if collector.free_for(now, limiter.next_slot_at(now)):
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
                if now - reserved_at > PAUSE_CHECK_S and now - self.pause_checked_at > PAUSE_CHECK_S:
                    paused = await limiter.paused_for(self.key) > 0
                    self.pause_checked_at = _clock()
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


class TokenRateLimiter:
    """Evenly paced send slots per bot token, shared through Redis by all processes."""

    def __init__(
        self,
        redis: Redis,
        *,
        keys: RedisKeys,
        lookahead_s: float = 0.5,
        collector: FullCollector | None = None,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self.collector = collector
        """Runs the process's full garbage collections between slots (the worker's; None: CPython's)."""
        self._lookahead_us = int(lookahead_s * 1_000_000)
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)
        self._paused_for = redis.register_script(_PAUSED_FOR)
        self._give_back = redis.register_script(_GIVE_BACK)
        self._background: set[asyncio.Task[None]] = set()
        self._pacers: dict[str, _Pacer] = {}
        self._pause_seen: dict[str, tuple[float, float]] = {}
        # The last slot this process was granted per key (Redis clock, µs): a flushed Redis
        # cannot make it hand out a slot before one it already used.
        self._last_slot_us: dict[str, int] = {}
        self._clock = _ClockOffset()

    def key_for(self, token: str) -> str:
        """The Redis key of one token's limit, under the deployment's prefix (never the token)."""
        return self._keys.rate(token)

    async def reserve(self, key: str, rate_per_s: float, count: int = 1) -> Reservation:
        """Try to reserve up to `count` next slots of `key` at `rate_per_s` (one round trip)."""
        interval_us = max(1, int(1_000_000 / rate_per_s))
        floor_us = self._last_slot_us.get(key, -interval_us) + interval_us
        sent_at = _clock()
        granted, wait_us, slot_us, got, now_us, *rest = await self._reserve(
            keys=[key, key + CUT_SUFFIX], args=[interval_us, self._lookahead_us, floor_us, max(1, count)]
        )
        received_at = _clock()
        self._clock.sample(sent_at, received_at, int(now_us) / 1_000_000)
        if not granted:
            return Reservation(False, int(wait_us) / 1_000_000, 0)
        interval_us = int(rest[0]) if rest else interval_us
        last_us = int(slot_us) + (int(got) - 1) * interval_us
        self._last_slot_us[key] = max(last_us, self._last_slot_us.get(key, 0))
        offset = self._clock.offset_s
        assert offset is not None
        first_at = int(slot_us) / 1_000_000 - offset
        return Reservation(
            True, max(0.0, first_at - received_at), int(got), first_at, interval_us, int(slot_us)
        )

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
            pacer = self._pacers[key] = _Pacer(self, key)
        return await pacer.acquire(rate_per_s, take, should_stop)

    def give_back(self, key: str, expected_us: int, back_to_us: int, interval_us: int) -> None:
        """Move the token's next slot back from `expected_us` to `back_to_us` if nobody reserved
        since (in the background; a failure only leaves those slots unused, as before)."""

        async def run() -> None:
            try:
                if await self._give_back(keys=[key], args=[expected_us, back_to_us]):
                    self._last_slot_us[key] = min(self._last_slot_us.get(key, 0), back_to_us - interval_us)
            except Exception as exc:  # Redis away: the slots lapse, as they did before
                logger.debug("giving back slots failed: %s", exc)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

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
            now = _clock()
            if collector.due(now) and self.next_slot_at(now) == math.inf:
                collector.collect()

    async def paused_for(self, key: str) -> float:
        """Seconds left of the token's 429 pause (0: none); asks Redis at most every PAUSE_CHECK_S."""
        now = time.monotonic()
        checked_at, paused_until = self._pause_seen.get(key, (-1.0, 0.0))
        if now - checked_at >= PAUSE_CHECK_S:
            remaining_us = int(await self._paused_for(keys=[key + PAUSE_SUFFIX]))
            now = time.monotonic()
            # A pause set here while the read was under way is newer than what the read saw.
            paused_until = max(now + remaining_us / 1_000_000, self._pause_seen.get(key, (0.0, 0.0))[1])
            self._pause_seen[key] = (now, paused_until)
        return max(0.0, paused_until - now)

    async def pause(self, key: str, retry_after_s: float) -> float:
        """Stop every sender of `key` for `retry_after_s` (a 429); returns the pause in effect."""
        wait_us, cut_ppm = await self._pause(
            keys=[key, key + PAUSE_SUFFIX, key + CUT_SUFFIX],
            args=[
                int(retry_after_s * 1_000_000),
                int(CUT_PER_429 * 1_000_000),
                int(LOWEST_CUT * 1_000_000),
                int(CUT_LASTS_S * 1000),
            ],
        )
        now = time.monotonic()
        self._pause_seen[key] = (now, now + int(wait_us) / 1_000_000)
        pacer = self._pacers.get(key)
        if pacer is not None:
            pacer.void()  # reserved before the 429
        logger.info(
            "token paused for %.1f s after a 429; its pacing is %.1f%% of the usual for %.0f min",
            int(wait_us) / 1_000_000,
            int(cut_ppm) / 10_000,
            CUT_LASTS_S / 60,
        )
        return int(wait_us) / 1_000_000

    async def pacing_cut(self, key: str) -> float:
        """The share of its usual pacing a token sends at after recent 429s (1.0: none)."""
        ppm: Any = await self._redis.hget(key + CUT_SUFFIX, "ppm")  # type: ignore[misc]
        return 1.0 if ppm is None else int(ppm) / 1_000_000
