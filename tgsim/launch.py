"""The Bot API simulator in a process of its own, driven over its `/sim/...` control endpoints.

A benchmark or the chaos run gives Telegram's stand-in a process (and a core) apart from the
senders it measures. The program to run is the caller's: `broadcast sandbox serve --port N ...`,
or the benchmark's tuned server; anything that serves the simulator on `127.0.0.1:PORT`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import aiohttp

logger = logging.getLogger(__name__)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SimulatorProcess:
    """A simulator serving from a child process: `spawn` it, `start` (wait for it), `call` it, `stop` it."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path | None = None) -> None:
        self.process = process
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.http: aiohttp.ClientSession | None = None

    @classmethod
    def spawn(
        cls,
        arguments: Callable[[int], Sequence[str]],
        *,
        log_path: Path | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> SimulatorProcess:
        """Run `python ARGUMENTS(port)` on a free port; its output goes to `log_path` (or to ours)."""
        port = free_port()
        log: IO[bytes] | None = log_path.open("wb") if log_path is not None else None
        try:
            process = subprocess.Popen(
                [sys.executable, *arguments(port)],
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT if log is not None else None,
            )
        finally:
            if log is not None:
                log.close()
        return cls(process, port, log_path)

    @property
    def pid(self) -> int:
        """The simulator's process id."""
        return self.process.pid

    async def start(self, *, timeout_s: float = 30.0) -> None:
        """Wait until the simulator answers `/sim/health`."""
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        try:
            while loop.time() < deadline and self.process.poll() is None:
                with contextlib.suppress(aiohttp.ClientError):
                    await self.call("GET", "/sim/health")
                    return
                await asyncio.sleep(0.1)
        except BaseException:
            await self.stop()
            raise
        await self.stop()
        where = f"; see {self.log_path}" if self.log_path is not None else ""
        raise RuntimeError(f"the simulator did not start at {self.base_url}{where}")

    async def call(self, method: str, path: str, **body: Any) -> Any:
        """One `/sim/...` call (a GET's `body` goes in the query string); returns its result."""
        assert self.http is not None, "start() first"
        if method == "GET":
            request = self.http.get(f"{self.base_url}{path}", params=body)
        else:
            request = self.http.request(method, f"{self.base_url}{path}", json=body)
        async with request as response:
            answer = await response.json()
        if not answer.get("ok"):
            raise RuntimeError(f"simulator {path}: {answer}")
        return answer["result"]

    async def stats(self, token: str) -> dict[str, Any]:
        """What the simulator saw of one bot (the JSON of `StatsSnapshot`)."""
        result: dict[str, Any] = await self.call("GET", "/sim/stats", token=token)
        return result

    async def stop(self, *, timeout_s: float = 10.0) -> None:
        """SIGTERM the simulator; SIGKILL it if it has not stopped within `timeout_s`."""
        if self.http is not None:
            await self.http.close()
            self.http = None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, timeout_s)
            except subprocess.TimeoutExpired:
                logger.warning("the simulator did not stop within %.0f s; killing it", timeout_s)
                self.process.kill()
                await asyncio.to_thread(self.process.wait)
