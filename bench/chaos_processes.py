"""The processes of a chaos run besides this one: the simulator with the plan's faults, the worker
processes (one of them killed and started again), and the database outages."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.chaos_plan import TARGET_TOKEN, ChaosPlan
from bench.cores import SENDER_CORES, pin, place_simulator
from panel.db import create_engine

logger = logging.getLogger("bench.chaos")

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def clean_environment() -> dict[str, str]:
    """This process's environment without project settings that would leak into children."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH"}
    return {key: value for key, value in os.environ.items() if not key.isupper() or key in keep}


@dataclass
class WorkerFleet:
    """`python -m jobs` worker processes, each in a slot; a slot's worker can be killed and restarted."""

    env: dict[str, str]
    log_dir: Path
    slots: list[subprocess.Popen[bytes]] = field(default_factory=list)
    every: list[subprocess.Popen[bytes]] = field(default_factory=list)
    killed: set[int] = field(default_factory=set)
    logs_by_pid: dict[int, Path] = field(default_factory=dict)

    def _spawn(self) -> subprocess.Popen[bytes]:
        path = self.log_dir / f"worker-{len(self.every)}.log"
        with open(path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "jobs"],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        pin(process.pid, SENDER_CORES)
        self.every.append(process)
        self.logs_by_pid[process.pid] = path
        return process

    def start(self, count: int) -> None:
        """Start `count` workers in new slots."""
        for _ in range(count):
            self.slots.append(self._spawn())

    def is_ready(self, slot: int) -> bool:
        """Whether the slot's worker has finished starting (it logged that it is ready)."""
        process = self.slots[slot]
        return process.poll() is None and b"ready on queue" in self.logs_by_pid[process.pid].read_bytes()

    def kill(self, slot: int) -> int:
        """SIGKILL the slot's worker (no cleanup of any kind); returns its pid."""
        process = self.slots[slot]
        self.killed.add(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        return process.pid

    def restart(self, slot: int) -> None:
        """A new worker in the slot, as a supervisor would start one."""
        self.slots[slot] = self._spawn()

    def crashed(self) -> int:
        """Workers that ended although nobody killed them."""
        return sum(1 for p in self.every if p.poll() is not None and p.pid not in self.killed)

    def stop_all(self) -> None:
        """SIGTERM every worker still running, SIGKILL any that does not stop within 10 s."""
        for process in self.every:
            if process.poll() is None:
                self.killed.add(process.pid)
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.every:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self, tail_chars: int = 3000) -> str:
        """The end of every worker's log, for failure messages."""
        return "\n".join(
            f"--- {path.name} ---\n{path.read_text(errors='replace')[-tail_chars:]}"
            for path in sorted(self.logs_by_pid.values())
        )


def _open_log(path: Path) -> Any:
    return path.open("wb")


@dataclass
class SimulatorProcess:
    """`broadcast sandbox serve` in its own process, driven over its `/sim/...` endpoints."""

    plan: ChaosPlan
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    base_url: str = ""
    http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Start the simulator with the plan's faults and wait for its address."""
        plan = self.plan
        with _open_log(self.log_path) as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "cli.main", "sandbox", "serve", "--port", "0",
                "--bot", f"{TARGET_TOKEN}:chaos_target", "--paid", "--seed", str(plan.seed),
                "--error-share", str(plan.server_error_share), "--hang-share", str(plan.hang_share),
                "--hang-s", str(plan.hang_s), "--latency-ms", str(plan.latency_ms), "--jitter-ms", str(plan.jitter_ms),
                cwd=PROJECT_ROOT, env=clean_environment(), stdout=asyncio.subprocess.PIPE, stderr=log,
            )  # fmt: skip
        place_simulator(self.process.pid)
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        words = line.decode().split()
        url = next((word for word in words if word.startswith("http://")), None)
        if url is None:
            raise RuntimeError(f"the simulator did not start: {line!r}; see {self.log_path}")
        self.base_url = url
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))

    async def call(self, method: str, path: str, **body: Any) -> Any:
        """One `/sim/...` call; returns its result."""
        assert self.http is not None
        if method == "GET":
            request = self.http.get(f"{self.base_url}{path}", params=body)
        else:
            request = self.http.post(f"{self.base_url}{path}", json=body)
        async with request as response:
            answer = await response.json()
        if not answer.get("ok"):
            raise RuntimeError(f"simulator {path}: {answer}")
        return answer["result"]

    async def stop(self) -> None:
        """Stop the simulator process."""
        if self.http is not None:
            await self.http.close()
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


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
