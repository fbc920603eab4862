"""The event loop of the sending workers: uvloop where it is installed, asyncio's otherwise.

Measured with `bench/engine_bench.py --only 1000 --set ...` on 2 cores (2026-11-28): uvloop
takes a worker from 1.13 to 0.88 ms of CPU per message and limit use at 1000/s from 75% to 84%
(one worker) and 85% to 90% (two); aiohttp's and redis's socket work is most of what it saves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coroutine)`, on uvloop when it can be imported."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without a uvloop wheel
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)
