"""The bot tests' simulator and arq pool, for the secrets tests."""

from tests.bot.conftest import arq_pool, sim

__all__ = ["arq_pool", "sim"]
