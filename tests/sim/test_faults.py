"""Fault injection: deterministic from the seed, per token, each kind visible in stats."""

from __future__ import annotations

import time

import aiohttp

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
