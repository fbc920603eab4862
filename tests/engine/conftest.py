"""Fixtures of the engine tests (the helpers live in `engine_harness`)."""

from engine_harness import pool, queue_name, sim, workers

__all__ = ["pool", "queue_name", "sim", "workers"]
