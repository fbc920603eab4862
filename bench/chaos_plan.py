"""The plan of a chaos run: its audience, the faults of the simulated Telegram, the worker settings,
and the seeded schedule of kills, 429 storms, Redis flushes and database outages."""

from __future__ import annotations

import random
from dataclasses import dataclass

TARGET_TOKEN = "424242:AAchaosTargetBotToken"
FIRST_CHAT_ID = 5_000_000


@dataclass(frozen=True, slots=True)
class ChaosPlan:
    """What the chaos run does: audience, faults, crashes and the worker settings it runs with."""

    recipients: int = 20_000
    blocked_share: float = 0.10
    rate_per_s: int = 800
    """The target bot's rate (a paid broadcast bot)."""
    seed: int = 7
    server_error_share: float = 0.05
    hang_share: float = 0.02
    hang_s: float = 4.0
    """How long a hanging request hangs: past `request_timeout_s`, so the worker gives up on it."""
    latency_ms: float = 20.0
    jitter_ms: float = 10.0
    storms: int = 2
    storm_s: float = 3.0
    storm_retry_after_s: int = 2
    kills: int = 5
    flushes: int = 1
    lock_sqlite_s: float = 0.0
    """Another process holds `BEGIN EXCLUSIVE` on the SQLite file this long, once (0: never)."""
    terminate_postgres: int = 0
    """Rounds of `pg_terminate_backend` on every other connection to the database (0: none)."""
    restart_postgres: bool = False
    """Restart the PostgreSQL cluster once, mid-campaign (needs root and pg_ctlcluster)."""
    workers: int = 2
    timeout_s: float = 300.0
    # Worker settings (environment of `python -m jobs`).
    request_timeout_s: float = 2.0
    send_concurrency: int = 32
    worker_max_jobs: int = 4
    batch_size: int = 500
    worker_lease_s: float = 3.0
    cron_interval_s: int = 1
    max_attempts: int = 8
    retry_backoff_s: float = 0.2

    @property
    def in_flight_cap(self) -> int:
        """Requests one worker process can have in flight: its senders (and HTTP connections)."""
        return self.send_concurrency * self.worker_max_jobs

    def worker_settings(self) -> dict[str, object]:
        """The engine settings of the worker processes, by name."""
        return {
            "request_timeout_s": self.request_timeout_s,
            "send_concurrency": self.send_concurrency,
            "worker_max_jobs": self.worker_max_jobs,
            "batch_size": self.batch_size,
            "worker_lease_s": self.worker_lease_s,
            "cron_interval_s": self.cron_interval_s,
            "max_attempts": self.max_attempts,
            "retry_backoff_s": self.retry_backoff_s,
            "progress_interval_s": 1,
        }


@dataclass(frozen=True, slots=True)
class ChaosEvent:
    """Something done to the system once the campaign's progress reaches `at` (a share of recipients)."""

    at: float
    kind: str
    """"kill", "storm", "flush", "lock-sqlite", "terminate-postgres" or "restart-postgres"."""
    pause_s: float = 0.0
    """For a kill: how long the worker stays dead before it is started again."""


def _spread(rng: random.Random, count: int, low: float, high: float) -> list[float]:
    """`count` random points in `low..high`, one in each of `count` equal parts (so they do not bunch)."""
    width = (high - low) / max(count, 1)
    return [rng.uniform(low + i * width, low + (i + 1) * width) for i in range(count)]


def draw_events(plan: ChaosPlan) -> list[ChaosEvent]:
    """The seeded schedule of the run's events, by progress."""
    rng = random.Random(plan.seed)
    events = [
        ChaosEvent(at, "kill", pause_s=rng.uniform(0.2, 1.5)) for at in _spread(rng, plan.kills, 0.05, 0.85)
    ]
    events += [ChaosEvent(at, "storm") for at in _spread(rng, plan.storms, 0.1, 0.75)]
    events += [ChaosEvent(at, "flush") for at in _spread(rng, plan.flushes, 0.2, 0.7)]
    if plan.lock_sqlite_s > 0:
        events.append(ChaosEvent(rng.uniform(0.25, 0.5), "lock-sqlite"))
    if plan.terminate_postgres > 0:
        events.append(ChaosEvent(rng.uniform(0.25, 0.5), "terminate-postgres"))
    if plan.restart_postgres:
        events.append(ChaosEvent(rng.uniform(0.25, 0.5), "restart-postgres"))
    return sorted(events, key=lambda event: event.at)
