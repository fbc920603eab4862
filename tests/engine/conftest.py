"""Fixtures of the engine tests (the helpers live in `engine_harness`)."""

import pytest
from engine_harness import ADMIN_CHAT_ID, CONTROL_TOKEN, TARGET_TOKEN, TEST_RATE, pool, queue_name, workers

from tests.support.sim import SimWorld
from tgsim.settings import LimitSettings, SimSettings
from tgsim.simulator import Simulator

__all__ = ["pool", "queue_name", "workers"]


def _add_engine_world(simulator: Simulator) -> None:
    simulator.add_bot(TARGET_TOKEN, username="engine_target", paid_broadcast=True)
    simulator.add_bot(CONTROL_TOKEN, username="engine_control")
    simulator.add_user(CONTROL_TOKEN, ADMIN_CHAT_ID, first_name="Admin")


@pytest.fixture
def sim_world() -> SimWorld:
    """A target bot that may send `TEST_RATE` messages per second (paid broadcast), a control bot."""
    limits = LimitSettings(global_rate=30, paid_rate=TEST_RATE, retry_after_s=1)
    return SimWorld(SimSettings(seed=11, limits=limits, keep_bot_messages=True), _add_engine_world)
