"""The Redis side of one send rate per bot token: its next free slot, its 429 pause, its cut.

Each token has a "next free slot" time in Redis (Redis's own clock, microseconds). A process
atomically reserves the next few slots (a Lua script), so sends are evenly spaced at the rate
across any number of processes. A 429 pushes the next slot past the pause Telegram asked for,
and narrows the token's pacing for a while. Reservations reach at most `lookahead_s` into the
future: a paused or cancelled campaign strands no slot beyond that. Slot times are absolute on
Redis's clock, turned into local time with an offset measured on the fastest round trip, so a
reply read late (a busy event loop) does not shift the slots onto another process's.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from panel.keys import RedisKeys

logger = logging.getLogger(__name__)

PAUSE_SUFFIX = ":paused"
PAUSE_CHECK_S = 0.05
"""How stale a process's view of another process's 429 pause may be (one Redis read per interval);
for a slow token, the time of one reservation's few slots (3 sends), if that is longer."""
CUT_SUFFIX = ":cut"
LEARNED_SUFFIX = ":route"
SKIPS_SUFFIX = ":skips"
LEARNED_LASTS_S = 10.0
"""A token's lowest proposed pacing (`jobs.engine.spread`) holds this long after it was last
proposed: a calmer route is believed once the jittery one has not been seen for this long."""
CUT_PER_429 = 0.99
"""Each 429 (the first of its pause) narrows the token's pacing by 1%: a route jitterier than the
pacing factor allows for stops drawing them after a few, instead of losing a second now and then."""
LOWEST_CUT = 0.9
CUT_LASTS_S = 600.0
"""The pacing goes back to the configured factor once no 429 came for this long."""
OFFSET_REFRESH_S = 30.0
"""The clock offset keeps the fastest round trip of this long; then it is measured again."""

# KEYS[1]: the token's next free slot (µs, Redis clock), KEYS[2]: the token's pacing cut (a hash,
# see _PAUSE), KEYS[3]: the pacing the route's spread allows (ppm, `jobs.engine.spread`); ARGV:
# interval µs, lookahead µs, floor µs, slots wanted, this process's proposal for KEYS[3] (0: none),
# the pacing while nobody knows, how long a proposal holds (ms). The lowest proposal wins until
# it lapses. KEYS[4]: slots to leave unused (a sorted set of µs; ARGV[8...] adds to it): the
# first slot at or after each is skipped, and a reservation stops before the next one.
# Returns {granted, wait_us, slot_us, count, now_us, interval_us}: granted=1 → `count`
# consecutive slots from slot_us, the interval (widened by the cut and the route) apart, all
# within the lookahead; 0 → ask again in wait_us.
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
local interval = tonumber(ARGV[1])
local cut = tonumber(redis.call('HGET', KEYS[2], 'ppm') or '1000000')
local learned = tonumber(redis.call('GET', KEYS[3]) or '0')
local proposed = tonumber(ARGV[5])
if proposed > 0 and (learned == 0 or proposed <= learned) then
  redis.call('SET', KEYS[3], ARGV[5], 'PX', tonumber(ARGV[7]))
  learned = proposed
end
if learned == 0 then learned = tonumber(ARGV[6]) end
interval = math.ceil(interval * 1000000 / cut * 1000000 / learned)
for i = 8, #ARGV do
  redis.call('ZADD', KEYS[4], ARGV[i], ARGV[i])
end
if #ARGV >= 8 then redis.call('PEXPIRE', KEYS[4], 60000) end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. string.format('%d', slot - 1000000))
local due = redis.call('ZCOUNT', KEYS[4], '-inf', string.format('%d', slot))
if due > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', string.format('%d', slot))
  slot = slot + interval * due
  redis.call('SET', KEYS[1], string.format('%d', slot), 'PX', math.floor((slot - now) / 1000) + KEEP_MS)
end
local ahead = slot - now
if ahead > lookahead then
  return {0, ahead - lookahead, 0, 0, string.format('%d', now)}
end
local count = math.min(tonumber(ARGV[4]), math.floor((lookahead - ahead) / interval) + 1)
local skip = redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. string.format('%d', slot), '+inf', 'LIMIT', 0, 1)
if #skip > 0 then
  count = math.min(count, math.ceil((tonumber(skip[1]) - slot) / interval))
end
local next_slot = slot + interval * count
local keep_ms = math.floor((next_slot - now) / 1000) + KEEP_MS
redis.call('SET', KEYS[1], string.format('%d', next_slot), 'PX', keep_ms)
return {1, ahead, string.format('%d', slot), count, string.format('%d', now), interval}
""".replace("KEEP_MS", str(24 * 3600 * 1000))

# KEYS[1]: as above, KEYS[2]: the pause's end, KEYS[3]: the pacing cut, KEYS[4]: the slots to
# leave unused (those before the pause's end are moot: the pause empties the window); ARGV: pause µs, cut ppm,
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
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', string.format('%d', resume_at))
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
local keep_ms = math.max(0, math.floor((back - now) / 1000)) + KEEP_MS
redis.call('SET', KEYS[1], string.format('%d', back), 'PX', keep_ms)
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


clock = time.monotonic
"""Slot times are kept on this clock: the event loop's own may tick in whole milliseconds
(uvloop's does), too coarse for slots 1 ms apart and for the offset to Redis's clock."""


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


class TokenSlots:
    """The send slots of every bot token of one deployment, in Redis, for one process."""

    def __init__(self, redis: Redis, *, keys: RedisKeys, lookahead_s: float = 0.5) -> None:
        self._redis = redis
        self._keys = keys
        self._lookahead_us = int(lookahead_s * 1_000_000)
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)
        self._paused_for = redis.register_script(_PAUSED_FOR)
        self._give_back = redis.register_script(_GIVE_BACK)
        self._background: set[asyncio.Task[None]] = set()
        self._pause_seen: dict[str, tuple[float, float]] = {}
        # The last slot this process was granted per key (Redis clock, µs): a flushed Redis
        # cannot make it hand out a slot before one it already used.
        self._last_slot_us: dict[str, int] = {}
        self._clock = _ClockOffset()

    def key_for(self, token: str) -> str:
        """The Redis key of one token's limit, under the deployment's prefix (never the token)."""
        return self._keys.rate(token)

    async def reserve(
        self,
        key: str,
        rate_per_s: float,
        count: int = 1,
        *,
        route_ppm: int = 0,
        learning_ppm: int = 1_000_000,
        skips: Sequence[float] = (),
    ) -> Reservation:
        """Try to reserve up to `count` next slots of `key` at `rate_per_s` (one round trip).

        `route_ppm`: the share of `rate_per_s` this process's round trips say the route allows
        (0: not known); `learning_ppm`: the share while no process of the token knows; `skips`:
        times (this process's clock) whose next slot no process of the token may use.
        """
        interval_us = max(1, int(1_000_000 / rate_per_s))
        floor_us = self._last_slot_us.get(key, -interval_us) + interval_us
        offset = self._clock.offset_s
        skips_us = [] if offset is None else [int((at + offset) * 1_000_000) for at in skips]
        sent_at = clock()
        granted, wait_us, slot_us, got, now_us, *rest = await self._reserve(
            keys=[key, key + CUT_SUFFIX, key + LEARNED_SUFFIX, key + SKIPS_SUFFIX],
            args=[
                interval_us,
                self._lookahead_us,
                floor_us,
                max(1, count),
                route_ppm,
                learning_ppm,
                int(LEARNED_LASTS_S * 1000),
                *skips_us,
            ],
        )
        received_at = clock()
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
            keys=[key, key + PAUSE_SUFFIX, key + CUT_SUFFIX, key + SKIPS_SUFFIX],
            args=[
                int(retry_after_s * 1_000_000),
                int(CUT_PER_429 * 1_000_000),
                int(LOWEST_CUT * 1_000_000),
                int(CUT_LASTS_S * 1000),
            ],
        )
        now = time.monotonic()
        self._pause_seen[key] = (now, now + int(wait_us) / 1_000_000)
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
