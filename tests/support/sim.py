"""The simulated worlds the `sim` fixture can start: the simulator's settings, its bots and users.

The root conftest's `sim` starts whatever the `sim_world` fixture returns; a directory whose tests
need another world overrides `sim_world` in its conftest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tgsim.settings import LimitSettings, SimSettings
from tgsim.simulator import Simulator

TOKEN = "100001:AAbroadcastTargetBotToken"
OTHER_TOKEN = "100002:AAanotherBotTokenForTests"


@dataclass(frozen=True)
class SimWorld:
    """What the `sim` fixture starts: the simulator's settings, then who is in it."""

    settings: SimSettings
    populate: Callable[[Simulator], None]


def _add_target_bots(simulator: Simulator) -> None:
    simulator.add_bot(TOKEN, username="target_bot", first_name="Target")
    simulator.add_bot(OTHER_TOKEN, username="other_bot", first_name="Other")


def target_bots_world() -> SimWorld:
    """Two target bots (`TOKEN`, `OTHER_TOKEN`) with no users, Telegram's limits, 3 s floods."""
    return SimWorld(SimSettings(seed=7, limits=LimitSettings(retry_after_s=3)), _add_target_bots)
