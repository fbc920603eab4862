"""The secrets tests run in the bot tests' world: the control bot and its target bots."""

import pytest

from tests.support.control import control_world
from tests.support.sim import SimWorld


@pytest.fixture
def sim_world() -> SimWorld:
    """The control bot, two target bots, the admin and recipients."""
    return control_world()
