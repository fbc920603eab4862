"""The processes of a chaos run besides this one: the simulator with the plan's faults, the worker
processes (one of them killed and started again), and the database outages."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.chaos_plan import TARGET_TOKEN, ChaosPlan
from bench.cores import SENDER_CORES, pin, place_simulator
from jobs.launch import WorkerProcesses, clean_environment
from panel.db import create_engine
from tgsim.launch import SimulatorProcess

logger = logging.getLogger("bench.chaos")

PROJECT_ROOT = Path(__file__).resolve().parents[1]


async def start_simulator(plan: ChaosPlan, log_path: Path) -> SimulatorProcess:
    """`broadcast sandbox serve` with the plan's faults and its target bot, on a core of its own."""

    def serve(port: int) -> list[str]:
        return [
            "-m", "cli.main", "sandbox", "serve", "--port", str(port),
            "--bot", f"{TARGET_TOKEN}:chaos_target", "--paid", "--seed", str(plan.seed),
            "--error-share", str(plan.server_error_share), "--hang-share", str(plan.hang_share),
            "--hang-s", str(plan.hang_s),
            "--latency-ms", str(plan.latency_ms), "--jitter-ms", str(plan.jitter_ms),
        ]  # fmt: skip

    simulator = SimulatorProcess.spawn(serve, log_path=log_path, env=clean_environment(), cwd=PROJECT_ROOT)
    place_simulator(simulator.pid)
    await simulator.start()
    return simulator


@dataclass
class WorkerSlots:
    """The run's worker processes on the sender cores, each in a slot whose worker can be killed
    and replaced, as a supervisor would replace it."""

    processes: WorkerProcesses
    slots: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _spawn(self) -> subprocess.Popen[bytes]:
        (process,) = self.processes.start(1)
        pin(process.pid, SENDER_CORES)
        return process

    def start(self, count: int) -> None:
        """Start `count` workers in new slots."""
        self.slots.extend(self._spawn() for _ in range(count))

    def is_ready(self, slot: int) -> bool:
        """Whether the slot's worker has finished starting."""
        return self.processes.is_ready(self.slots[slot])

    def kill(self, slot: int) -> int:
        """SIGKILL the slot's worker (no cleanup of any kind); returns its pid."""
        process = self.slots[slot]
        self.processes.kill(process)
        return process.pid

    def restart(self, slot: int) -> None:
        """A new worker in the slot."""
        self.slots[slot] = self._spawn()


LOCK_SCRIPT = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
print("released", flush=True)
"""


async def hold_sqlite_lock(database_url: str, hold_s: float) -> None:
    """Another process (plain sqlite3) holds the database's write lock for `hold_s` seconds."""
    path = make_url(database_url).database
    assert path
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCK_SCRIPT, path, str(hold_s), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        locked = await asyncio.wait_for(process.stdout.readline(), 60)
        if locked.strip() != b"locked":
            raise RuntimeError("the lock holder could not take the lock")
        logger.info("SQLite write lock held by pid %s for %.1f s", process.pid, hold_s)
        await asyncio.wait_for(process.wait(), hold_s + 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def terminate_postgres_backends(database_url: str, rounds: int) -> int:
    """Drop every other connection to the database, `rounds` times: what a restart does to clients.

    Returns how many connections were terminated in all.
    """
    engine = create_engine(database_url)
    total = 0
    try:
        async with engine.connect() as connection:
            for _ in range(rounds):
                terminated = await connection.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                await connection.commit()
                total += int(terminated or 0)
                logger.info("terminated %s PostgreSQL connections", terminated)
                await asyncio.sleep(0.4)
    finally:
        await engine.dispose()
    return total


async def restart_postgres() -> None:
    """Restart the local PostgreSQL cluster (`pg_ctlcluster VERSION main restart`)."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    process = await asyncio.create_subprocess_exec(
        "pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"
    )
    if await asyncio.wait_for(process.wait(), 120) != 0:
        raise RuntimeError("pg_ctlcluster restart failed")
    logger.info("PostgreSQL %s restarted", version)
