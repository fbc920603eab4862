"""How much of a token's one-second window the route to Telegram needs as margin, from round trips.

Telegram counts a token's messages as they reach its rate gate, after the first half of the
route; sends evenly spaced here arrive there spread by that half's jitter. At a spread of s
seconds, no sender can use more than about 1/(1 + s) of a one-second window without some
window holding one message too many: a 429, and a whole second lost. A fixed pacing factor fits
one route; this measures the route instead.

Each answered request's round trip is recorded per token. Half the round trip's spread is taken
as the spread at the gate (the way there and the way back are alike: their ranges add up, so
either half is half the range), read as the interquartile range of the round trips, which is
half the range of a uniform spread and shrugs off the few requests that a stall or a busy event
loop kept late. The sender's own lateness (`LATE_SLOT_S`) is added: a slot handed out late
arrives late too. The pacing the margin allows is proposed to Redis with every reservation
(`jobs.engine.slots`), where the lowest proposal of every process of the token holds for
`LEARNED_LASTS_S` and then gives way to what the route says now.
"""

from __future__ import annotations

from collections import deque

from jobs.engine.slots import clock

SAMPLES_FOR_S = 2.0
"""Round trips of the last this many seconds count: a route whose latency drifts is judged on
its spread now, not on where its mean was."""
MAX_SAMPLES = 256
MIN_SAMPLES = 12
"""Fewer round trips than this (a token's first moments) propose nothing; Redis then paces the
token at LEARNING_FACTOR until some process knows."""
LEARNING_FACTOR = 0.95
"""A token no process has measured yet is paced at this share of its limit: safe for a spread of
50 ms at the gate, and only for its first few dozen sends."""
OWN_LATENESS_S = 0.006
"""What this side adds to the spread: a slot is used up to `pacer.LATE_SLOT_S` (5 ms) late."""
ESTIMATE_EVERY_S = 0.25
HELD_MIN_S = 0.012
"""A request whose round trip exceeds the recent median by more than this (and by more than two
spreads: the route's own jitter goes no further than one from the middle) was held on the way,
by a stall of the route: see `RouteSpread.answered`."""


class RouteSpread:
    """Recent round trips per token in one process, and the pacing their spread allows."""

    def __init__(self, pacing_factor: float) -> None:
        self.pacing_factor = pacing_factor
        """The configured share of the limit (`PACING_FACTOR`): proposals are relative to it."""
        self._samples: dict[str, deque[tuple[float, float]]] = {}
        self._estimates: dict[str, tuple[float, int]] = {}
        self._typical: dict[str, tuple[float, float]] = {}
        """Per token, the median round trip and the spread at the gate, as last estimated."""
        self._skips: dict[str, list[float]] = {}

    def answered(self, key: str, round_trip_s: float) -> None:
        """Record the round trip of one request of the token that Telegram answered.

        A request held on the way (a stall: what reached the gate during it arrives together at
        its end) moved from its place in Telegram's one-second window into a later one: every
        window that now holds it holds one message more than its pacing allowed. Those windows
        all hold the stall's end and the second after the request was sent; the next slot from
        now on reaches the gate in that span, so it is left unused.
        """
        now = clock()
        samples = self._samples.get(key)
        if samples is None:
            samples = self._samples[key] = deque(maxlen=MAX_SAMPLES)
        samples.append((now, round_trip_s))
        typical = self._typical.get(key)
        if typical is None:
            return
        median, spread = typical
        held = round_trip_s - median
        if max(HELD_MIN_S, 2 * spread) < held < 1.0:
            self._skips.setdefault(key, []).append(now)

    def take_skips(self, key: str) -> list[float]:
        """The slots (this process's clock) to leave unused since the last call."""
        return self._skips.pop(key, [])

    def gate_spread_s(self, key: str) -> float | None:
        """The spread of arrival at Telegram's gate the recent round trips say (None: too few)."""
        samples = self._samples.get(key)
        if not samples:
            return None
        since = clock() - SAMPLES_FOR_S
        while samples and samples[0][0] < since:
            samples.popleft()
        if len(samples) < MIN_SAMPLES:
            return None
        ordered = sorted(rtt for _, rtt in samples)
        n = len(ordered)
        spread = ordered[(3 * n) // 4] - ordered[n // 4]
        self._typical[key] = (ordered[n // 2], spread)
        return spread

    def proposal_ppm(self, key: str) -> int:
        """The pacing the route allows, in millionths of the configured pace (0: not known yet).

        At most 1,000,000: the configured factor stays the ceiling, the route only narrows it.
        """
        now = clock()
        estimated_at, ppm = self._estimates.get(key, (-1.0, 0))
        if now - estimated_at < ESTIMATE_EVERY_S:
            return ppm
        spread = self.gate_spread_s(key)
        ppm = 0 if spread is None else allowed_ppm(spread, self.pacing_factor)
        self._estimates[key] = (now, ppm)
        return ppm


def allowed_ppm(gate_spread_s: float, pacing_factor: float) -> int:
    """The share of the configured pace (ppm) that leaves a one-second window room for a spread."""
    factor = 1.0 / (1.0 + gate_spread_s + OWN_LATENESS_S)
    return max(1, min(1_000_000, int(factor / pacing_factor * 1_000_000)))


def learning_ppm(pacing_factor: float) -> int:
    """The share of the configured pace (ppm) for a token no process has measured yet."""
    return max(1, min(1_000_000, int(LEARNING_FACTOR / pacing_factor * 1_000_000)))
