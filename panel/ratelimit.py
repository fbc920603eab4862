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
import time
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

# KEYS[1]: the token's next free slot (µs, Redis clock); ARGV: interval µs, lookahead µs.
# Returns {granted, wait_us}: granted=1 → the slot starts in wait_us; 0 → ask again in wait_us.
# string.format('%d') keeps all digits (Lua would print a 16-digit number as 1.7e+15).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
local ahead = slot - now
local lookahead = tonumber(ARGV[2])
if ahead > lookahead then
  return {0, ahead - lookahead}
end
local next_slot = slot + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', next_slot), 'PX', math.floor((next_slot - now) / 1000) + 60000)
return {1, ahead}
"""

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
    """Granted: how long until the reserved slot. Not granted: when to ask again."""


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

    async def reserve(self, key: str, rate_per_s: float) -> Reservation:
        """Try to reserve the next slot of `key` at `rate_per_s` (one round trip)."""
        interval_us = max(1, int(1_000_000 / rate_per_s))
        granted, wait_us = await self._reserve(keys=[key], args=[interval_us, self._lookahead_us])
        return Reservation(bool(granted), int(wait_us) / 1_000_000)

    async def acquire(
        self, key: str, rate_per_s: float, *, should_stop: Callable[[], bool] | None = None
    ) -> bool:
        """Wait for a slot and return True at its time; False if `should_stop()` turned true first.

        The wait for a grant is cut into short sleeps so a pause or cancel is noticed promptly.
        """
        lock = self._locks.setdefault(key, asyncio.Lock())
        while True:
            async with lock:
                while True:
                    if should_stop is not None and should_stop():
                        return False
                    reservation = await self.reserve(key, rate_per_s)
                    if reservation.granted:
                        break
                    await asyncio.sleep(min(reservation.wait_s, self._poll_cap_s))
            loop = asyncio.get_running_loop()
            target = loop.time() + reservation.wait_s
            if reservation.wait_s > 0:
                await asyncio.sleep(reservation.wait_s)
            # A sender woken late (a busy event loop) would land on top of the next slots and
            # make a burst: it gives its slot up and queues again instead.
            if loop.time() - target > max(LATE_SLOT_S, 2 / rate_per_s):
                continue
            # A 429 seen by any sender after this slot was reserved voids it: queue again.
            if not await self._is_paused(key):
                return True

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
        logger.info("token paused for %.1f s after a 429", int(wait_us) / 1_000_000)
        return int(wait_us) / 1_000_000
