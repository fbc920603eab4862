"""Worker processes (`python -m jobs`) started from another program: the benchmarks, the chaos run, the tests.

Each worker is configured through its environment, exactly like `broadcast worker` under a
supervisor, and writes its log to a file of its own. A worker can be SIGKILLed (no cleanup of any
kind, as a crashed host would leave it) or stopped gracefully with SIGTERM.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The directory holding the `jobs` package: `python -m jobs` started there runs this very code.
PACKAGE_ROOT = Path(__file__).resolve().parents[1]

# Kept from this process's environment; every other upper-case name could be a project setting
# (DATABASE_URL, QUEUE_NAME, ...) that must not leak into a worker.
KEPT_VARIABLES = frozenset({"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH"})

READY_MARKER = b"ready on queue"
"""What a worker logs once it is connected and takes jobs (jobs/worker.py)."""

PR_SET_PDEATHSIG = 1
try:
    _prctl: Any = ctypes.CDLL(None, use_errno=True).prctl  # loaded here, not after the fork
except (OSError, AttributeError):  # not Linux
    _prctl = None


def _ends_with_parent() -> None:
    """In a worker about to start: be killed when the starting process dies (a killed test or
    benchmark run would otherwise leave workers behind, sending on until someone finds them)."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def clean_environment() -> dict[str, str]:
    """This process's environment without the project settings that would leak into a child."""
    return {key: value for key, value in os.environ.items() if not key.isupper() or key in KEPT_VARIABLES}


def worker_environment(
    *,
    database_url: str,
    redis_url: str,
    telegram_api_url: str,
    queue_name: str,
    secret_key: str,
    bot_token: str | None = None,
    **settings: object,
) -> dict[str, str]:
    """The environment of a worker: the clean environment plus these settings.

    `secret_key` opens the target bots' tokens; `settings` are further worker settings by name
    (`batch_size=100`); `bot_token=None` leaves the control bot's token unset.
    """
    env = clean_environment()
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "TELEGRAM_API_URL": telegram_api_url,
            "QUEUE_NAME": queue_name,
            "SECRET_KEY": secret_key,
            "PYTHONUNBUFFERED": "1",
        }
    )
    if bot_token is not None:
        env["BOT_TOKEN"] = bot_token
    env.update({name.upper(): str(value) for name, value in settings.items()})
    return env


@dataclass
class WorkerProcesses:
    """Worker processes started with one environment, each logging to `log_dir/worker-N.log`."""

    env: dict[str, str]
    log_dir: Path
    profile: bool = False
    """Run each worker under cProfile, its profile written to `worker-N.prof` when it stops."""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    killed: set[int] = field(default_factory=set)
    """Pids of the workers this object SIGKILLed or stopped."""

    def start(self, count: int = 1, **settings: object) -> list[subprocess.Popen[bytes]]:
        """Start `count` workers; `settings` override settings of the environment (`at_least_once=True`)."""
        env = dict(self.env)
        env.update({name.upper(): str(value) for name, value in settings.items()})
        return [self._spawn(env) for _ in range(count)]

    def _spawn(self, env: dict[str, str]) -> subprocess.Popen[bytes]:
        name = f"worker-{len(self.processes)}"
        command = [sys.executable, "-m", "jobs"]
        if self.profile:
            command[1:1] = ["-m", "cProfile", "-o", str(self.log_dir / f"{name}.prof")]
        with open(self.log_dir / f"{name}.log", "wb") as log:
            process = subprocess.Popen(
                command,
                cwd=PACKAGE_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_ends_with_parent,
            )
        self.processes.append(process)
        return process

    def log_path(self, process: subprocess.Popen[bytes]) -> Path:
        """Where the worker writes its log."""
        return self.log_dir / f"worker-{self.processes.index(process)}.log"

    def is_ready(self, process: subprocess.Popen[bytes]) -> bool:
        """Whether the worker is running and has finished starting (it logged that it is ready)."""
        return process.poll() is None and READY_MARKER in self.log_path(process).read_bytes()

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL one worker: no cleanup of any kind."""
        self.killed.add(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def crashed(self) -> int:
        """Workers that ended although nobody killed or stopped them."""
        return sum(1 for p in self.processes if p.poll() is not None and p.pid not in self.killed)

    def stop_all(self, *, timeout_s: float = 10.0) -> None:
        """SIGTERM every worker still running; SIGKILL any not stopped within `timeout_s`."""
        for process in self.processes:
            if process.poll() is None:
                self.killed.add(process.pid)
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for process in self.processes:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self, *, tail_chars: int = 4000) -> str:
        """The end of every worker's log, for failure messages."""
        paths = [self.log_path(process) for process in self.processes]
        return "\n".join(
            f"--- {path.name} ---\n{path.read_text(errors='replace')[-tail_chars:]}" for path in paths
        )
