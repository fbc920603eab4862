"""How many sendMessage requests per second the simulator serves on one core, no latency added.

The simulator runs in its own process pinned to one core; a separate client process drives it
with many concurrent keep-alive aiohttp requests carrying aiogram-like form bodies.

    .venv/bin/python bench/sim_throughput.py [--seconds 5] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import time
from multiprocessing.connection import Connection

import aiohttp

from tgsim.settings import LimitSettings, SimSettings
from tgsim.simulator import Simulator

TOKEN = "777000:AAbenchThroughputToken"
USERS = 100_000


def _pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cores[core % len(cores)]})


def serve(ready: Connection, stop: Connection) -> None:
    """The simulator process."""
    _pin(0)

    async def main() -> None:
        limits = LimitSettings(global_rate=10_000_000, chat_burst=1e9, chat_refill_per_s=1e9)
        async with Simulator(SimSettings(limits=limits, keep_bot_messages=False)) as sim:
            sim.add_bot(TOKEN, username="bench_bot")
            sim.add_users(TOKEN, range(1, USERS + 1))
            ready.send(sim.base_url)
            await asyncio.get_running_loop().run_in_executor(None, stop.recv)
            ready.send(sim.stats(TOKEN).delivered_total)

    asyncio.run(main())


async def drive(base_url: str, seconds: float, concurrency: int) -> tuple[int, int, float]:
    """Send for `seconds` from `concurrency` workers; returns (ok, failed, elapsed)."""
    url = f"{base_url}/bot{TOKEN}/sendMessage"
    connector = aiohttp.TCPConnector(limit=concurrency)
    ok = failed = 0
    async with aiohttp.ClientSession(connector=connector) as http:
        deadline = time.monotonic() + seconds

        async def worker(offset: int) -> None:
            nonlocal ok, failed
            chat_id = offset
            while time.monotonic() < deadline:
                form = aiohttp.FormData(quote_fields=False)
                form.add_field("chat_id", str(chat_id % USERS + 1))
                form.add_field("text", "Weekly announcement: the new release is out!")
                form.add_field(
                    "reply_markup", '{"inline_keyboard":[[{"text":"Open","url":"https://example.org"}]]}'
                )
                async with http.post(url, data=form) as response:
                    await response.read()
                    if response.status == 200:
                        ok += 1
                    else:
                        failed += 1
                chat_id += concurrency

        started = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        return ok, failed, time.monotonic() - started


def main() -> None:
    """Run the benchmark and print the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    ready_parent, ready_child = multiprocessing.Pipe()
    stop_parent, stop_child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(ready_child, stop_child), daemon=True)
    server.start()
    base_url = ready_parent.recv()
    _pin(1)
    ok, failed, elapsed = asyncio.run(drive(base_url, args.seconds, args.concurrency))
    stop_parent.send(True)
    delivered = ready_parent.recv()
    server.join(timeout=10)
    rate = ok / elapsed
    print(f"sendMessage requests per second: {rate:.0f}")
    print(
        f"summary: {ok} ok, {failed} failed, {delivered} delivered in {elapsed:.1f} s with "
        f"{args.concurrency} keep-alive connections; simulator pinned to one core; target >= 3000 req/s: "
        f"{'met' if rate >= 3000 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
