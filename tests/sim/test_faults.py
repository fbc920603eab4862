"""Fault injection: deterministic from the seed, per token, each kind visible in stats."""

from __future__ import annotations

import asyncio
import random
import time

import aiohttp
import pytest

from tgsim.server import draw_fault_plan
from tgsim.settings import FaultSettings, SimSettings
from tgsim.simulator import Simulator

TARGET = "300001:AAtargetBotUnderFaults"
CONTROL = "300002:AAcontrolBotStaysClean"


async def _outcomes(sim: Simulator, token: str, count: int, timeout_s: float = 5.0) -> list[str]:
    outcomes: list[str] = []
    client_timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(timeout=client_timeout) as http:
        for number in range(count):
            try:
                async with http.post(
                    f"{sim.base_url}/bot{token}/sendMessage", data={"chat_id": "1", "text": f"n{number}"}
                ) as response:
                    outcomes.append(str(response.status))
            except TimeoutError:
                outcomes.append("timeout")
    return outcomes


async def _run(seed: int) -> tuple[list[str], dict[str, int], int]:
    faults = FaultSettings(server_error_share=0.2, hang_share=0.2, hang_s=0.05)
    async with Simulator(SimSettings(seed=seed)) as sim:
        sim.add_bot(TARGET, faults=faults)
        sim.add_users(TARGET, [1])
        sim.set_limits(TARGET, chat_burst=1000, global_rate=1000)
        outcomes = await _outcomes(sim, TARGET, 60)
        stats = sim.stats(TARGET)
        return outcomes, stats.faults, stats.delivered_total


async def test_same_seed_same_faults_and_every_kind_counted() -> None:
    first, second, other_seed = await _run(11), await _run(11), await _run(12)
    assert first == second
    assert first[0] != other_seed[0] or first[2] != other_seed[2]
    outcomes, faults, delivered = first
    assert set(outcomes) == {"200", "500", "502"}
    assert (
        faults["server_error"]
        == outcomes.count("500") + outcomes.count("502") - faults["hang_before_delivery"]
    )
    assert faults["hang_before_delivery"] > 0 and faults["hang_after_delivery"] > 0
    # A hang after delivery is delivered although the client never sees the answer.
    assert delivered == outcomes.count("200")


async def test_hang_past_client_timeout_and_latency() -> None:
    async with Simulator(SimSettings(seed=3)) as sim:
        sim.add_bot(TARGET, faults=FaultSettings(hang_share=1.0, hang_s=2.0))
        sim.add_bot(CONTROL)
        sim.add_users(TARGET, [1])
        sim.add_users(CONTROL, [1])
        assert await _outcomes(sim, TARGET, 4, timeout_s=0.2) == ["timeout"] * 4
        assert await _outcomes(sim, CONTROL, 2) == ["200", "200"]
        stats = sim.stats(TARGET)
        assert stats.faults["hang_before_delivery"] + stats.faults["hang_after_delivery"] == 4
        assert stats.delivered_total == stats.faults["hang_after_delivery"]

        sim.set_faults(TARGET, hang_share=0.0, latency_mean_s=0.1, latency_jitter_s=0.0)
        started = time.monotonic()
        assert await _outcomes(sim, TARGET, 1) == ["200"]
        assert time.monotonic() - started >= 0.1


async def test_faults_change_over_http() -> None:
    async with Simulator() as sim, aiohttp.ClientSession() as http:
        async with http.post(f"{sim.base_url}/sim/bots", json={"token": TARGET}) as response:
            assert response.status == 200
        async with http.post(
            f"{sim.base_url}/sim/users", json={"token": TARGET, "start": 1, "count": 1000}
        ) as response:
            assert (await response.json())["result"] == {"known": 1000}
        async with http.post(
            f"{sim.base_url}/sim/faults", json={"token": TARGET, "server_error_share": 1.0}
        ) as response:
            assert (await response.json())["result"]["server_error_share"] == 1.0
        assert (await _outcomes(sim, TARGET, 3))[0] in ("500", "502")
        async with http.post(
            f"{sim.base_url}/sim/storm", json={"token": TARGET, "duration_s": 5, "retry_after_s": 9}
        ):
            pass
        async with http.get(f"{sim.base_url}/sim/stats", params={"token": TARGET}) as response:
            stats = (await response.json())["result"]
        assert stats["faults"]["server_error"] == 3
        sim.set_faults(TARGET, server_error_share=0.0)
        async with http.post(
            f"{sim.base_url}/bot{TARGET}/sendMessage", json={"chat_id": 5, "text": "x"}
        ) as response:
            body = await response.json()
        assert body == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 9",
            "parameters": {"retry_after": 9},
        }


async def test_bulk_users_and_stats_reset() -> None:
    async with Simulator() as sim:
        sim.add_bot(TARGET)
        started = time.monotonic()
        assert sim.add_users(TARGET, range(1, 200_001)) == 200_000
        assert time.monotonic() - started < 1.0
        assert await _outcomes(sim, TARGET, 2) == ["200", "200"]
        assert sim.stats(TARGET).delivered_per_chat == {1: 2}
        assert sim.stats(TARGET).duplicates == 0
        sim.reset_stats(TARGET)
        assert sim.stats(TARGET).delivered_total == 0


def test_latency_drifts_from_the_mean_to_its_target_then_stays() -> None:
    faults = FaultSettings(latency_mean_s=0.04, latency_drift_to_s=0.16, latency_drift_over_s=20.0)
    assert not faults.is_clean()
    assert [round(faults.mean_latency_s(at_s), 3) for at_s in (0.0, 5.0, 10.0, 20.0, 60.0)] == [
        0.04,
        0.07,
        0.1,
        0.16,
        0.16,
    ]
    plan = draw_fault_plan(faults, random.Random(1), elapsed_s=10.0)
    assert (plan.before_s, plan.after_s) == pytest.approx((0.05, 0.05))
    assert FaultSettings(latency_drift_to_s=0.1).is_clean() is False
    assert FaultSettings(latency_mean_s=0.1, latency_drift_to_s=0.1).drifts() is False


def test_a_stall_holds_requests_until_it_ends() -> None:
    faults = FaultSettings(latency_mean_s=0.1, stall_every_s=5.0, stall_s=0.2)
    assert not faults.is_clean()
    assert FaultSettings(stall_every_s=5.0).is_clean()
    assert [faults.stall_end_s(at_s) for at_s in (0.1, 4.99, 5.0, 5.19, 5.2, 10.1)] == [
        None,
        None,
        5.2,
        5.2,
        None,
        pytest.approx(10.2),
    ]
    # Sent at 4.97 s, it would reach the gate at 5.02 s, in the stall: it reaches it at 5.2 s.
    plan = draw_fault_plan(faults, random.Random(1), elapsed_s=4.97)
    assert plan.before_s == pytest.approx(0.23)
    assert plan.stalled_s == pytest.approx(0.18)
    assert plan.after_s == pytest.approx(0.05)
    assert draw_fault_plan(faults, random.Random(1), elapsed_s=4.0).stalled_s == 0.0


async def test_requests_sent_during_a_stall_reach_the_gate_together() -> None:
    async with Simulator(SimSettings(seed=5)) as sim, aiohttp.ClientSession() as http:
        async with http.post(
            f"{sim.base_url}/sim/bots",
            json={
                "token": TARGET,
                "limits": {"global_rate": 1000, "chat_burst": 1000},
                "faults": {"latency_mean_s": 0.02, "stall_every_s": 0.6, "stall_s": 0.3},
            },
        ) as response:
            assert response.status == 200
        async with http.post(
            f"{sim.base_url}/sim/faults", json={"token": TARGET, "latency_drift_to_s": 0.02}
        ) as response:
            assert (await response.json())["result"]["stall_s"] == 0.3
        sim.add_users(TARGET, [1])

        async def send_at(delay_s: float) -> float:
            await asyncio.sleep(delay_s)
            async with http.post(
                f"{sim.base_url}/bot{TARGET}/sendMessage", data={"chat_id": "1", "text": "x"}
            ) as response:
                assert response.status == 200
            return time.monotonic()

        # The first send starts the clock; the next five go out 10 ms apart inside the stall
        # (0.6-0.9 s), the last one after it.
        await send_at(0)
        started = time.monotonic()
        answered = await asyncio.gather(*(send_at(0.65 + 0.01 * n) for n in range(5)), send_at(1.0))
        stats = sim.stats(TARGET)
        assert stats.faults["stalled"] == 5
        in_stall = [at - started for at in answered[:5]]
        # Each answers half a latency after the stall's end, within a few ms of each other.
        assert max(in_stall) - min(in_stall) < 0.02
        assert min(in_stall) >= 0.9 - 0.02
        assert answered[5] - started >= 1.0
