"""Whether Telegram can be reached through a token's route: outages noticed across recipients.

A route outage is the network failing, not Telegram answering: connection refused or reset, a
DNS failure, no connection within the timeout, a proxy's own 502/503/504 page (`sendclient`). Any
HTTP answer from Telegram (a 429, a 4xx, a 5xx with its JSON envelope) shows the route works.

A process that sees `OUTAGE_FAILURES` such failures in a row for one token, within
`OUTAGE_WINDOW_S`, marks the route down in Redis; every batch of the token, in every process,
stops claiming and goes back to the queue. One process at a time probes with `getMe`, each
probe's turn twice as far as the last (`PROBE_FIRST_S` up to `PROBE_MAX_S`), and the first answer
clears the mark: the batches carry on by themselves. The mark lives in Redis, so a worker
restarted during the outage sees it too.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from jobs.engine.sendclient import BotAPI, BotAPIError, BotAPINetworkError
from panel.keys import RedisKeys

logger = logging.getLogger(__name__)

OUTAGE_FAILURES = 5
"""Transport failures in a row, for one token in one process, that mean the route is down."""
OUTAGE_WINDOW_S = 30.0
"""...all within this many seconds: at 30/s they take a fraction of a second; a token sending
one message every few seconds is still noticed."""
PROBE_FIRST_S = 1.0
PROBE_MAX_S = 10.0
"""At most this long between probes: one getMe per token and turn costs nothing, and sending
resumes within that long of the route coming back."""
MARK_KEPT_S = 86_400
"""A down mark nobody probes any more (no batch of the token left) is forgotten after a day."""
LAST_KEPT_S = 86_400
"""How long the last outage of a token is remembered (the progress message tells of it)."""


@dataclass(frozen=True, slots=True)
class Outage:
    """An outage of a token's route: since when, and until when (None: still down)."""

    since: datetime
    until: datetime | None = None


def _turn_s(probes: int) -> float:
    """The time between probes after `probes` of them failed: 1 s, doubling, up to PROBE_MAX_S."""
    return float(min(PROBE_FIRST_S * 2**probes, PROBE_MAX_S))


def _at(raw: bytes | str | None) -> datetime | None:
    if raw is None:
        return None
    return datetime.fromtimestamp(float(raw), UTC)


class RouteWatch:
    """One process's view of its tokens' routes (shared by its batches)."""

    def __init__(self, redis: Redis, keys: RedisKeys) -> None:
        self.redis = redis
        self.keys = keys
        self._failures: dict[str, deque[float]] = {}

    def answered(self, token: str) -> None:
        """Telegram answered a request of `token` (whatever it said): the route works."""
        if self._failures:
            self._failures.pop(token, None)

    async def failed(self, token: str) -> bool:
        """A request of `token` failed in transport; whether the route is down now."""
        now = time.monotonic()
        failures = self._failures.setdefault(token, deque(maxlen=OUTAGE_FAILURES))
        failures.append(now)
        if len(failures) >= OUTAGE_FAILURES and now - failures[0] <= OUTAGE_WINDOW_S:
            await self.mark_down(token)
            return True
        return await self.down_since(token) is not None

    async def mark_down(self, token: str) -> None:
        """Mark the route down (the first process to see it sets the time)."""
        key = self.keys.route(token, "down")
        if await self.redis.hsetnx(key, "since", repr(time.time())):  # type: ignore[misc]
            await self.redis.expire(key, MARK_KEPT_S)
            logger.warning("Telegram can't be reached for bot %s: sending paused", token.partition(":")[0])

    async def down_since(self, token: str) -> datetime | None:
        """Since when the route is down, or None when it is up."""
        return _at(await self.redis.hget(self.keys.route(token, "down"), "since"))  # type: ignore[misc]

    async def last_outage(self, token: str) -> Outage | None:
        """The route's outage now, else its last one (within a day), else None."""
        since = await self.down_since(token)
        if since is not None:
            return Outage(since)
        last = await self.redis.hmget(self.keys.route(token, "last"), ["since", "until"])  # type: ignore[misc]
        if last[0] is None:
            return None
        return Outage(_at(last[0]) or datetime.now(UTC), _at(last[1]))

    async def check(self, token: str, bot: BotAPI) -> float:
        """0 when the route is up. While it is down: probe it if this process's turn has come
        (the first answer clears the mark: 0), else how long until the next turn, in seconds."""
        down = self.keys.route(token, "down")
        state = await self.redis.hmget(down, ["since", "probes"])  # type: ignore[misc]
        if state[0] is None:
            return 0.0
        probes = int(state[1] or 0)
        turn_s = _turn_s(probes)
        if not await self.redis.set(self.keys.route(token, "probe"), b"1", nx=True, px=int(turn_s * 1000)):
            return turn_s  # another process probes in this turn
        try:
            await bot.call("getMe", {})
        except BotAPINetworkError as exc:
            await self.redis.hincrby(down, "probes", 1)  # type: ignore[misc]
            logger.info("bot %s: Telegram still can't be reached (%s)", bot.bot_id, exc)
            return turn_s  # the next probe's turn (this one's lock ends then)
        except BotAPIError:
            pass  # Telegram answered: the route is back (what it said is the batches' to find out)
        await self.clear(token, since=state[0])
        return 0.0

    async def clear(self, token: str, *, since: bytes | str) -> None:
        """The route is back: clear the mark and remember the outage."""
        last = self.keys.route(token, "last")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.keys.route(token, "down"))
            pipe.hset(last, mapping={"since": since, "until": repr(time.time())})
            pipe.expire(last, LAST_KEPT_S)
            await pipe.execute()
        self._failures.pop(token, None)
        bot_id = token.partition(":")[0]
        logger.warning("Telegram can be reached again for bot %s: sending carries on", bot_id)
