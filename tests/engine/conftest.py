"""Fixtures of the engine tests (the helpers live in `tests.support.engine`)."""

from tests.support.engine import pool, queue_name, sim, workers

__all__ = ["pool", "queue_name", "sim", "workers"]
