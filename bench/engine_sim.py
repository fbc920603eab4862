"""The Bot API simulator in its own process, for the engine benchmark (`python bench/engine_sim.py PORT`)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tgsim.settings import SimSettings
from tgsim.simulator import Simulator


async def serve(port: int) -> None:
    """Serve until killed; bots, users, limits and faults are set over `/sim/...`."""
    async with Simulator(SimSettings(port=port, seed=1, keep_bot_messages=False)):
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
