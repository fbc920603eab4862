"""Where the benchmarks' processes run: the simulator on a core of its own, the senders elsewhere.

The simulator stands in for Telegram's servers, which share no CPU with the senders. On two or
more cores it gets the first, at real-time priority where allowed: descheduled for 18 ms, it
stamps the requests that arrived meanwhile at its rate gate at once, a burst no sender made (one
429, and a second of the token lost).
"""

from __future__ import annotations

import contextlib
import os

SIMULATOR_CORES: list[int] = []
SENDER_CORES: list[int] = []


def split_cores(*, senders_too: bool = True) -> None:
    """The first core for the simulator; the others for the senders and this process, or any
    core, leaving the simulator's to itself only as far as the scheduler does (`senders_too=False`)."""
    with contextlib.suppress(AttributeError, OSError):
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) >= 2:
            SIMULATOR_CORES[:] = cores[:1]
            if senders_too:
                SENDER_CORES[:] = cores[1:]
                pin(0, SENDER_CORES)


def pin(pid: int, cores: list[int]) -> None:
    """Keep process `pid` (0: this one) on `cores` (none: anywhere)."""
    if cores:
        with contextlib.suppress(AttributeError, OSError):
            os.sched_setaffinity(pid, cores)


def place_simulator(pid: int) -> str:
    """Put the simulator process on its core, at the highest priority allowed; says which."""
    if not SIMULATOR_CORES:
        return "normal"
    pin(pid, SIMULATOR_CORES)
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(pid, os.SCHED_FIFO, os.sched_param(1))
        return "real-time (SCHED_FIFO)"
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, pid, -10)
        return "nice -10"
    return "normal"
