"""One send rate per bot token, shared by every worker process, kept in Redis.

Each token has a "next free slot" time in Redis (Redis's own clock, microseconds). A sender
atomically reserves the next slot and sleeps until it, so sends are evenly spaced at the rate
with no burst, across any number of processes. A 429 pushes the next slot past the pause that
Telegram asked for, so every sender of that token waits it out. Reservations reach at most
`lookahead_s` into the future: a paused or cancelled campaign strands no slot beyond that.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "bp:rate:"
PAUSE_SUFFIX = ":paused"
PAUSE_CHECK_S = 0.05
LATE_SLOT_S = 0.01
"""A slot more than this (or two send intervals) in the past is given up, not used late."""
"""How stale a process's view of another process's 429 pause may be (one Redis read per interval)."""

# KEYS[1]: the token's next free slot (µs, Redis clock); ARGV: interval µs, lookahead µs, floor µs,
# slots wanted. Returns {granted, wait_us, slot_us, count}: granted=1 → `count` consecutive slots,
# the first in wait_us (all within the lookahead); 0 → ask again in wait_us.
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
  return {0, ahead - lookahead, 0, 0}
end
local interval = tonumber(ARGV[1])
local count = math.min(tonumber(ARGV[4]), math.floor((lookahead - ahead) / interval) + 1)
local next_slot = slot + interval * count
redis.call('SET', KEYS[1], string.format('%d', next_slot), 'PX', math.floor((next_slot - now) / 1000) + KEEP_MS)
return {1, ahead, string.format('%d', slot), count}
""".replace("KEEP_MS", str(24 * 3600 * 1000))

# KEYS[1]: as above, KEYS[2]: the pause's end; ARGV[1]: pause µs. The next slot moves to
# now + pause unless already later, and the pause's end is kept for senders holding a slot.
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
return slot - now
"""

# KEYS[1]: the pause's end. Returns µs until it ends (0: not paused).
_PAUSED_FOR = """
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if paused > now then return paused - now end
return 0
"""


def token_key(token: str) -> str:
    """The Redis key of one token's limit; a digest, so the token never appears in Redis."""
    return KEY_PREFIX + hashlib.sha256(token.encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Reservation:
    """The answer to one reservation attempt."""

    granted: bool
    wait_s: float
    """Granted: how long until the first reserved slot. Not granted: when to ask again."""
    count: int = 1
    """Granted: consecutive slots reserved, one interval apart."""


SLOTS_PER_ROUND_TRIP_S = 0.01
"""At high rates one Redis round trip reserves this much sending time (10 slots at 1000/s)."""
MAX_SLOTS_PER_ROUND_TRIP = 16


class TokenRateLimiter:
    """Evenly paced send slots per bot token, shared through Redis by all processes."""

    def __init__(self, redis: Redis, *, lookahead_s: float = 0.5, poll_cap_s: float = 0.5) -> None:
        self._redis = redis
        self._lookahead_us = int(lookahead_s * 1_000_000)
        self._poll_cap_s = poll_cap_s
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)
        self._paused_for = redis.register_script(_PAUSED_FOR)
        # One waiter per key and process asks Redis for a slot; the others queue locally,
        # so a thousand senders do not poll Redis while the token is saturated or paused.
        self._locks: dict[str, asyncio.Lock] = {}
        self._pause_seen: dict[str, tuple[float, float]] = {}
        # The last slot this process was granted per key (Redis clock, µs): a flushed Redis
        # cannot make it hand out a slot before one it already used.
        self._last_slot_us: dict[str, int] = {}
        # Slots reserved in one round trip and not yet handed to a sender (loop time).
        self._held: dict[str, deque[float]] = {}
        # When this process's last sends of each key actually went out (loop time).
        self._sent: dict[str, deque[float]] = {}

    async def reserve(self, key: str, rate_per_s: float, count: int = 1) -> Reservation:
        """Try to reserve up to `count` next slots of `key` at `rate_per_s` (one round trip)."""
        interval_us = max(1, int(1_000_000 / rate_per_s))
        floor_us = self._last_slot_us.get(key, -interval_us) + interval_us
        granted, wait_us, slot_us, got = await self._reserve(
            keys=[key], args=[interval_us, self._lookahead_us, floor_us, max(1, count)]
        )
        if not granted:
            return Reservation(False, int(wait_us) / 1_000_000, 0)
        last_us = int(slot_us) + (int(got) - 1) * interval_us
        self._last_slot_us[key] = max(last_us, self._last_slot_us.get(key, 0))
        return Reservation(True, int(wait_us) / 1_000_000, int(got))

    async def acquire(
        self, key: str, rate_per_s: float, *, should_stop: Callable[[], bool] | None = None
    ) -> bool:
        """Wait for a slot and return True at its time; False if `should_stop()` turned true first.

        The wait for a grant is cut into short sleeps so a pause or cancel is noticed promptly.
        At high rates one round trip reserves several consecutive slots, handed out locally.
        """
        lock = self._locks.setdefault(key, asyncio.Lock())
        loop = asyncio.get_running_loop()
        interval_s = 1 / rate_per_s
        while True:
            async with lock:
                while True:
                    if should_stop is not None and should_stop():
                        return False
                    held = self._held.get(key)
                    if held:
                        target = held.popleft()
                        break
                    want = max(1, min(MAX_SLOTS_PER_ROUND_TRIP, int(rate_per_s * SLOTS_PER_ROUND_TRIP_S)))
                    reservation = await self.reserve(key, rate_per_s, want)
                    if reservation.granted:
                        first = loop.time() + reservation.wait_s
                        self._held[key] = deque(first + i * interval_s for i in range(reservation.count))
                        continue
                    await asyncio.sleep(min(reservation.wait_s, self._poll_cap_s))
            wait_s = target - loop.time()
            if wait_s > 0:
                await asyncio.sleep(wait_s)
            # A sender woken late (a busy event loop) would land on top of the next slots and
            # make a burst: it gives its slot up and queues again instead.
            if loop.time() - target > max(LATE_SLOT_S, 2 * interval_s):
                continue
            # A 429 seen by any sender after this slot was reserved voids it: queue again.
            if await self._is_paused(key):
                continue
            await self._keep_window(key, rate_per_s)
            return True

    async def _keep_window(self, key: str, rate_per_s: float) -> None:
        """Hold a send until this process's previous `ceil(rate)` sends span `ceil(rate) / rate` s.

        Slots are evenly spaced, but a sender woken a few ms late still narrows the gap to the
        send one window later; with the pacing margin already spent on arrival jitter that is
        a 429. The log of actual send times keeps every window of this process within the pace.
        """
        count = math.ceil(rate_per_s)
        sent = self._sent.get(key)
        if sent is None or sent.maxlen != count:
            sent = self._sent[key] = deque(maxlen=count)
        loop = asyncio.get_running_loop()
        if len(sent) == count:
            wait_s = sent[0] + count / rate_per_s - loop.time()
            if wait_s > 0:
                await asyncio.sleep(wait_s)
        sent.append(loop.time())

    async def _is_paused(self, key: str) -> bool:
        """Whether the token is in a 429 pause; asks Redis at most every PAUSE_CHECK_S per process."""
        now = time.monotonic()
        checked_at, paused_until = self._pause_seen.get(key, (-1.0, 0.0))
        if now - checked_at >= PAUSE_CHECK_S:
            remaining_us = int(await self._paused_for(keys=[key + PAUSE_SUFFIX]))
            now = time.monotonic()
            paused_until = now + remaining_us / 1_000_000
            self._pause_seen[key] = (now, paused_until)
        return paused_until > now

    async def pause(self, key: str, retry_after_s: float) -> float:
        """Stop every sender of `key` for `retry_after_s` (a 429); returns the pause in effect."""
        wait_us = await self._pause(keys=[key, key + PAUSE_SUFFIX], args=[int(retry_after_s * 1_000_000)])
        now = time.monotonic()
        self._pause_seen[key] = (now, now + int(wait_us) / 1_000_000)
        self._held.pop(key, None)  # reserved before the 429: void
        logger.info("token paused for %.1f s after a 429", int(wait_us) / 1_000_000)
        return int(wait_us) / 1_000_000
