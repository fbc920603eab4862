"""The margin a route needs, read from round trips (`jobs.engine.spread`): pure, no I/O."""

from __future__ import annotations

import pytest

from jobs.engine import spread
from jobs.engine.spread import MIN_SAMPLES, RouteSpread, allowed_ppm, learning_ppm

KEY = "rate:test"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(spread, "clock", fake)
    return fake


def uniform_round_trips(mean_s: float, jitter_s: float, count: int) -> list[float]:
    """Round trips spread evenly over mean ± jitter, in a shuffled order."""
    step = 2 * jitter_s / (count - 1)
    ordered = [mean_s - jitter_s + i * step for i in range(count)]
    return ordered[::2] + ordered[1::2]


def feed(route: RouteSpread, clock: Clock, round_trips: list[float], every_s: float) -> None:
    for rtt in round_trips:
        clock.now += every_s
        route.answered(KEY, rtt)


def test_the_spread_at_the_gate_is_half_the_round_trips_spread(clock: Clock) -> None:
    # 100 ms ± 25 ms round trips, half of them before the gate: the gate sees a 25 ms spread.
    route = RouteSpread(0.985)
    feed(route, clock, uniform_round_trips(0.1, 0.025, 41), every_s=1 / 30)
    assert route.gate_spread_s(KEY) == pytest.approx(0.025, abs=0.002)


def test_too_few_round_trips_propose_nothing(clock: Clock) -> None:
    route = RouteSpread(0.985)
    feed(route, clock, uniform_round_trips(0.1, 0.05, MIN_SAMPLES - 1), every_s=0.01)
    assert route.gate_spread_s(KEY) is None
    assert route.proposal_ppm(KEY) == 0


def test_round_trips_older_than_the_window_no_longer_count(clock: Clock) -> None:
    # A jittery minute, then a calm route: after SAMPLES_FOR_S only the calm round trips count.
    route = RouteSpread(0.985)
    feed(route, clock, uniform_round_trips(0.1, 0.05, 60), every_s=1 / 30)
    assert route.gate_spread_s(KEY) == pytest.approx(0.05, abs=0.004)
    feed(route, clock, uniform_round_trips(0.1, 0.005, 61), every_s=1 / 30)
    assert route.gate_spread_s(KEY) == pytest.approx(0.005, abs=0.001)


def test_a_stall_holding_a_few_requests_back_hardly_moves_the_estimate(clock: Clock) -> None:
    # A 200 ms stall at 30/s: the six requests sent during it come back up to 200 ms late.
    route = RouteSpread(0.985)
    calm = uniform_round_trips(0.1, 0.01, 60)
    stalled = [rtt + 0.2 - i / 30 for i, rtt in enumerate(calm[:6])]
    feed(route, clock, calm[6:30] + stalled + calm[30:], every_s=1 / 30)
    estimate = route.gate_spread_s(KEY)
    assert estimate is not None and estimate < 0.015


def test_the_pacing_allowed_leaves_the_window_room_for_the_spread() -> None:
    # At a spread of s the window holds 1/(1+s) of the limit, less the sender's own lateness;
    # the configured factor stays the ceiling.
    assert allowed_ppm(0.0, 0.985) == 1_000_000
    room = 1 / (1 + 0.05 + spread.OWN_LATENESS_S)
    assert allowed_ppm(0.05, 0.985) == pytest.approx(room / 0.985 * 1e6, abs=1)
    assert allowed_ppm(0.025, 0.985) > allowed_ppm(0.05, 0.985)
    assert learning_ppm(0.985) == int(spread.LEARNING_FACTOR / 0.985 * 1e6)
    assert learning_ppm(0.9) == 1_000_000  # a factor set lower than the learning one stays


def test_a_proposal_is_estimated_again_only_every_so_often(clock: Clock) -> None:
    route = RouteSpread(0.985)
    feed(route, clock, uniform_round_trips(0.1, 0.05, 40), every_s=0.01)
    first = route.proposal_ppm(KEY)
    assert 0 < first < 1_000_000
    feed(route, clock, uniform_round_trips(0.1, 0.001, 200), every_s=0.0001)  # 20 ms later
    assert route.proposal_ppm(KEY) == first
    clock.now += spread.ESTIMATE_EVERY_S
    assert route.proposal_ppm(KEY) == 1_000_000
