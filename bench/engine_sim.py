"""The Bot API simulator in its own process, for the engine benchmark (`python bench/engine_sim.py PORT`).

It stands in for Telegram's servers, which share no CPU with the workers: it runs on uvloop with
its startup objects out of the garbage collector's sight and no full collections, so its own
pauses (which would stamp a burst of requests at its rate gate at once) disturb the figures as
little as they can. SIM_STALL_LOG_MS=N logs each of its event-loop stalls of N ms or more.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobs.engine import eventloop
from tgsim.settings import SimSettings
from tgsim.simulator import Simulator


async def serve(port: int) -> None:
    """Serve until killed; bots, users, limits and faults are set over `/sim/...`."""
    async with Simulator(SimSettings(port=port, seed=1, keep_bot_messages=False)):
        gc.collect()
        gc.freeze()
        # No full collections: one takes 10-45 ms here (a heap of delivered chats) and stamps
        # the requests that arrive meanwhile at the rate gate at once, a burst no sender made.
        # A benchmark run leaves little cyclic garbage; the young generations still collect it.
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, 2**31 - 1)
        stall_ms = float(os.environ.get("SIM_STALL_LOG_MS", "0"))
        if stall_ms > 0:
            logging.basicConfig(level=logging.WARNING, format="%(message)s")
            eventloop.StallWatch("simulator", stall_ms / 1000).start()
        await asyncio.Event().wait()


if __name__ == "__main__":
    eventloop.run(serve(int(sys.argv[1])))
