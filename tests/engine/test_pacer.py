"""The per-token pacer against a real Redis: spacing across limiter instances (processes share
nothing but Redis), slots never spent on a batch with nothing ready, stopping, 429 pauses."""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
from collections import deque
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from jobs.engine import slots, spread
from jobs.engine.collector import SETTLE_S, FullCollector
from jobs.engine.pacer import LATE_SLOT_S
from jobs.engine.ratelimit import TokenRateLimiter
from panel.keys import RedisKeys

KEYS = RedisKeys("test:pacer")


async def test_two_limiters_sharing_redis_hand_out_evenly_spaced_slots(redis: Redis, redis_url: str) -> None:
    # Two limiters with their own connections: what two worker processes would have.
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        limiters = [TokenRateLimiter(first, keys=KEYS), TokenRateLimiter(second, keys=KEYS)]
        key = KEYS.rate("test-two")
        rate = 200.0
        loop = asyncio.get_running_loop()
        stamps: list[float] = []

        async def sender(limiter: TokenRateLimiter) -> None:
            for _ in range(60):
                assert await limiter.acquire(key, rate)
                stamps.append(loop.time())

        await asyncio.gather(*(sender(limiter) for limiter in limiters for _ in range(8)))
    finally:
        await first.aclose()
        await second.aclose()
    stamps.sort()
    assert len(stamps) == 960
    # Any 200 consecutive sends span at least 200 intervals, less the lateness a slot may have.
    window = int(rate)
    narrowest = min(stamps[i + window - 1] - stamps[i] for i in range(len(stamps) - window + 1))
    assert narrowest >= (window - 1) / rate - LATE_SLOT_S - 0.002
    # And the pair together reached the rate: 960 sends at 200/s take about 4.8 s.
    assert stamps[-1] - stamps[0] < 960 / rate * 1.15


async def test_a_batch_with_nothing_ready_keeps_its_place_and_the_slot_goes_to_another(redis: Redis) -> None:
    limiter = TokenRateLimiter(redis, keys=KEYS)
    key = KEYS.rate("test-ready")
    empty: deque[int] = deque()
    full: deque[int] = deque(range(20))
    got: list[int] = []

    async def waiting_on_empty() -> int | None:
        return await limiter.acquire_for(key, 100, lambda: empty.popleft() if empty else None)

    async def sending_from_full() -> None:
        for _ in range(20):
            item = await limiter.acquire_for(key, 100, lambda: full.popleft() if full else None)
            assert item is not None
            got.append(item)

    blocked = asyncio.create_task(waiting_on_empty())
    await asyncio.sleep(0)
    await asyncio.wait_for(sending_from_full(), 5)
    assert got == list(range(20))  # every slot went to the batch that had a recipient
    assert not blocked.done()  # the other still waits, first in its queue
    empty.append(99)
    assert await asyncio.wait_for(blocked, 2) == 99


async def test_slots_go_to_the_oldest_batch_first_so_batches_end_one_after_another(redis: Redis) -> None:
    # Two batches with recipients ready and several senders each (as a batch runs them): the
    # older takes every slot until it has no one left, so the token is never left idle by both
    # ending at once.
    limiter = TokenRateLimiter(redis, keys=KEYS)
    key = KEYS.rate("test-oldest")
    pools = {"older": deque(range(12)), "newer": deque(range(12))}
    order: list[str] = []

    def take_from(name: str) -> Callable[[], int | None]:
        return lambda: pools[name].popleft() if pools[name] else None

    takes = {name: take_from(name) for name in pools}

    async def sender(name: str) -> None:
        for _ in range(4):
            assert await limiter.acquire_for(key, 200, takes[name]) is not None
            order.append(name)

    older = [asyncio.create_task(sender("older")) for _ in range(3)]
    await asyncio.sleep(0)
    newer = [asyncio.create_task(sender("newer")) for _ in range(3)]
    await asyncio.wait_for(asyncio.gather(*older, *newer), 5)
    assert order == ["older"] * 12 + ["newer"] * 12


async def test_a_stopped_batch_lets_its_senders_go_while_the_token_is_paused(redis: Redis) -> None:
    limiter = TokenRateLimiter(redis, keys=KEYS)
    key = KEYS.rate("test-stop")
    await limiter.pause(key, 30)  # a 429 with retry_after 30: no slot for half a minute
    stopping = False
    senders = [
        asyncio.create_task(limiter.acquire_for(key, 50, lambda: 1, should_stop=lambda: stopping))
        for _ in range(5)
    ]
    await asyncio.sleep(0.3)
    assert not any(task.done() for task in senders)
    stopping = True  # pause or cancel of the campaign
    results = await asyncio.wait_for(asyncio.gather(*senders), 1.0)
    assert results == [None] * 5


async def test_a_429_pause_is_kept_by_every_limiter(redis: Redis, redis_url: str) -> None:
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        here, there = TokenRateLimiter(first, keys=KEYS), TokenRateLimiter(second, keys=KEYS)
        key = KEYS.rate("test-pause")
        loop = asyncio.get_running_loop()
        assert await there.acquire(key, 100)
        # A slot `there` reserved before the pause reached Redis may still be used for up to
        # PAUSE_CHECK_S (its reservation ran first); the pause binds every one reserved after.
        await asyncio.sleep(slots.PAUSE_CHECK_S * 2)
        paused_at = loop.time()  # before the call: the pause starts while it runs, not after
        await here.pause(key, 1.0)
        assert await there.acquire(key, 100)
        assert loop.time() - paused_at >= 1.0 - 0.01
    finally:
        await first.aclose()
        await second.aclose()


async def test_full_collections_run_between_slots_not_between_a_slot_and_its_send(redis: Redis) -> None:
    # Automatic full collections are off; a due one runs when the next slot leaves time for it,
    # after the request of the last slot has been written, and the slots stay evenly spaced.
    collector = FullCollector(every_s=0.2, overdue_s=60.0)
    gc.collect()
    gc.freeze()  # as a worker does at startup: a collection then takes milliseconds, not 50+
    collector.enable()
    try:
        assert gc.get_threshold()[2] == 2**31 - 1
        limiter = TokenRateLimiter(redis, keys=KEYS, collector=collector)
        key = KEYS.rate("test-gc")
        rate = 10.0
        stamps: list[float] = []
        collected_after: list[float] = []
        ran: list[tuple[float, float]] = []
        real_collect = collector.collect

        def collect() -> None:
            started = time.monotonic()
            if stamps:  # (the first slot of a fresh key is half a second out: one runs before it)
                collected_after.append(started - collector.last_hand_out_at)
            real_collect()
            ran.append((started, time.monotonic()))

        collector.collect = collect  # type: ignore[method-assign]
        for _ in range(20):
            assert await limiter.acquire(key, rate)
            stamps.append(time.monotonic())
    finally:
        collector.disable()
        gc.unfreeze()
    assert gc.get_threshold()[2] == 10  # CPython's own again
    assert collector.collections >= 4  # due every 0.2 s over 2 s of sending
    # Each ran after the last slot's send had had its few milliseconds, and ended before the
    # next slot was handed out (a loaded machine may give a late slot up: the gap is then longer).
    assert all(gap >= SETTLE_S for gap in collected_after), collected_after
    assert not [(a, b) for a, b in ran for stamp in stamps if a < stamp < b], (ran, stamps)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 1 / rate - LATE_SLOT_S - 0.002


def test_an_overdue_collection_is_not_waited_for_a_free_moment_forever() -> None:
    collector = FullCollector(every_s=10.0, overdue_s=5.0)
    collector.enabled = True
    start = collector.last_full_at
    assert not collector.due(start + 9.9)
    assert collector.due(start + 10.0) and not collector.overdue(start + 14.9)
    assert collector.overdue(start + 15.0)
    # A free moment: the last send written (SETTLE_S ago) and the next slot further than a collection.
    collector.handed_out(start + 10.0)
    assert not collector.free_for(start + 10.001, start + 10.2)  # the request may not be out yet
    assert collector.free_for(start + 10.004, start + 10.2)
    assert not collector.free_for(start + 10.004, start + 10.004 + collector.duration_s)


async def test_a_429_narrows_the_tokens_pacing_for_every_limiter_until_quiet(
    redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A route jitterier than the pacing factor allows for draws a 429 now and then: each pause
    # (not each 429 of its burst) narrows the token's pacing by 1%, for every process, down to 90%,
    # and the cut lapses once no 429 came for CUT_LASTS_S.
    monkeypatch.setattr(slots, "CUT_LASTS_S", 0.5)
    other = Redis.from_url(redis_url)
    try:
        here, there = TokenRateLimiter(redis, keys=KEYS), TokenRateLimiter(other, keys=KEYS)
        key = KEYS.rate("test-cut")
        assert (await there.reserve(key, 100)).interval_us == 10_000
        for _ in range(5):  # one burst: five 429s answered within the same pause
            await here.pause(key, 0.2)
        assert await there.pacing_cut(key) == pytest.approx(0.99)
        await asyncio.sleep(0.25)  # the burst's pause is over
        granted = await there.reserve(key, 100)
        assert granted.granted and granted.interval_us == pytest.approx(10_000 / 0.99, abs=1)
        for _ in range(20):  # later pauses cut again, never below 90%
            await asyncio.sleep(0.015)
            await here.pause(key, 0.01)
        assert await there.pacing_cut(key) == pytest.approx(slots.LOWEST_CUT)
        await asyncio.sleep(0.6)  # quiet for longer than the cut lasts
        assert await there.pacing_cut(key) == 1.0
        await asyncio.sleep(0.05)
        assert (await there.reserve(key, 100)).interval_us == 10_000
    finally:
        await other.aclose()


async def test_a_pacer_going_idle_gives_its_unused_slots_back_to_the_token(
    redis: Redis, redis_url: str
) -> None:
    # One send takes one of the slots a round trip reserves (at least 3); when nobody waits any
    # more, the others go back to Redis, so another process sends in the next interval instead
    # of waiting until after them (what a batch ending on one worker used to cost the other).
    other = Redis.from_url(redis_url)
    try:
        here, there = TokenRateLimiter(redis, keys=KEYS), TokenRateLimiter(other, keys=KEYS)
        key = KEYS.rate("test-give-back")
        # Slow enough that a loaded machine's scheduling delay cannot pass for a lost interval.
        rate = 5.0
        assert await here.acquire(key, rate)
        sent_here = time.monotonic()
        await asyncio.sleep(0.03)  # the pacer goes idle and gives the rest back
        assert await there.acquire(key, rate)
        sent_there = time.monotonic()
        # The next interval, not after the three reserved ones: and never sooner than one interval.
        assert 1 / rate - LATE_SLOT_S - 0.002 <= sent_there - sent_here < 2.5 / rate
        # Slots taken since stay one interval apart for both.
        stamps = [sent_there]
        for limiter in (here, there, here):
            assert await limiter.acquire(key, rate)
            stamps.append(time.monotonic())
            await asyncio.sleep(0.03)
        assert min(b - a for a, b in itertools.pairwise(stamps)) >= 1 / rate - LATE_SLOT_S - 0.002
    finally:
        await other.aclose()


async def test_the_lowest_pacing_a_route_allows_holds_for_every_limiter_until_it_lapses(
    redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each process proposes the pacing its round trips allow; Redis keeps the lowest for
    # LEARNED_LASTS_S, and a token nobody measured yet is paced at the learning share.
    monkeypatch.setattr(slots, "LEARNED_LASTS_S", 0.3)
    other = Redis.from_url(redis_url)
    try:
        here, there = TokenRateLimiter(redis, keys=KEYS), TokenRateLimiter(other, keys=KEYS)
        key = KEYS.rate("test-route")

        async def interval(limiter: TokenRateLimiter, route_ppm: int) -> int:
            await asyncio.sleep(0.02)
            granted = await limiter.slots.reserve(key, 100, route_ppm=route_ppm, learning_ppm=950_000)
            assert granted.granted
            return granted.interval_us

        assert await interval(here, 0) == pytest.approx(10_000 / 0.95, abs=1)  # nobody knows yet
        assert await interval(here, 960_000) == pytest.approx(10_000 / 0.96, abs=1)
        assert await interval(there, 0) == pytest.approx(10_000 / 0.96, abs=1)  # shared
        assert await interval(there, 990_000) == pytest.approx(10_000 / 0.96, abs=1)  # higher: not yet
        assert await interval(there, 940_000) == pytest.approx(10_000 / 0.94, abs=1)  # lower: at once
        await asyncio.sleep(0.35)  # nobody proposed it again for longer than it lasts
        assert await interval(here, 990_000) == pytest.approx(10_000 / 0.99, abs=1)
    finally:
        await other.aclose()


async def test_a_limiter_with_a_route_proposes_what_its_round_trips_allow(redis: Redis) -> None:
    # Round trips of 100 ms ± 50 ms: a 50 ms spread at the gate, so the token slows to what
    # leaves the window room for it, however the configured factor would pace it.
    limiter = TokenRateLimiter(redis, keys=KEYS, pacing_factor=0.985)
    key = KEYS.rate("test-route-rtt")
    assert limiter.route is not None
    for i in range(41):
        limiter.answered(key, 0.05 + i * 0.1 / 40)
    assert await limiter.acquire(key, 100 * 0.985)
    granted = await limiter.slots.reserve(key, 100 * 0.985)
    expected = 1 / (1 + 0.05 + spread.OWN_LATENESS_S)
    assert granted.interval_us == pytest.approx(1_000_000 / (100 * expected), rel=0.01)


async def test_a_slot_marked_to_skip_is_left_unused_by_every_limiter(redis: Redis, redis_url: str) -> None:
    # A request a stall held back lands in a later second of Telegram's window: one slot there
    # is left out, by whichever process reserves it; a reservation stops short of it.
    other = Redis.from_url(redis_url)
    try:
        here, there = TokenRateLimiter(redis, keys=KEYS), TokenRateLimiter(other, keys=KEYS)
        key = KEYS.rate("test-skip")
        first = await here.slots.reserve(key, 100)  # a new key: its first slot is a lookahead away
        await asyncio.sleep(0.45)
        assert (await here.slots.reserve(key, 100, 3)).count == 3  # slots 1-3
        await there.slots.reserve(key, 100, 1)  # slot 4; gives `there` its clock offset
        skip_at = first.first_at + 5.5 * first.interval_us / 1_000_000  # between slots 5 and 6
        before = await there.slots.reserve(key, 100, 10, skips=[skip_at])
        assert before.granted and before.count == 1  # slot 5, and it stops short of the skip
        after = await here.slots.reserve(key, 100, 2)
        assert after.granted
        # Slot 6 was left out: the next one granted is slot 7.
        assert after.slot_us - first.slot_us == 7 * first.interval_us
    finally:
        await other.aclose()


def test_a_request_held_on_the_way_leaves_the_next_slot_unused(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [50.0]
    monkeypatch.setattr(spread, "clock", lambda: now[0])
    route = spread.RouteSpread(0.985)
    for i in range(30):  # 100 ms ± 10 ms: the usual
        now[0] += 1 / 30
        route.answered("k", 0.09 + i * 0.02 / 29)
    assert route.proposal_ppm("k") > 0
    assert route.take_skips("k") == []
    now[0] += 0.28  # held 180 ms by a stall
    route.answered("k", 0.28)
    seen_at = now[0]
    now[0] += 0.001
    route.answered("k", 0.101)  # one sent late in the stall: barely held
    now[0] += 1.2
    route.answered("k", 1.3)  # held past its second: no window holds it twice
    assert route.take_skips("k") == [seen_at]
    assert route.take_skips("k") == []
