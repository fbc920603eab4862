"""Redirect latency of the link service under 200 concurrent clicks.

    python bench/links_bench.py [--clicks 200] [--rounds 20] [--database-url URL]

Starts `broadcast links serve` in a process of its own (as production runs it, on uvloop) on a
fresh database (a SQLite file by default; a PostgreSQL database given with `--database-url` is
EMPTIED first) holding one campaign's three link targets. Then `--clicks` connections, each a
different recipient, send their GET at the same moment, `--rounds` times (one warm-up round
first, not counted: it opens the connections and loads the campaign's targets). Each latency is
from writing the request to reading the end of the answer's headers, measured by a small raw
HTTP/1.1 client (so the client's own cost stays out of the figure). Prints p50 / p90 / p99 /
max, and checks that every click was answered 302 to its target and that every click reached
the database (the writer batches them every 0.2 s; the redirect never waits for it).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select, text

from jobs.engine import eventloop
from models.tables import LinkClick
from panel import link_stats
from panel.db import create_engine, create_sessionmaker, is_sqlite
from panel.links import LINK_PATH, LinkRef, LinkSigner, LinkTarget, signer_for
from panel.migrations import upgrade
from panel.settings import load_settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = base64.urlsafe_b64encode(b"links-bench-secret-key-32-bytes!").decode()
CAMPAIGN_ID = 4242
TARGETS = ("https://example.com/post", "https://shop.example/", "https://t.me/news")
FIRST_CHAT_ID = 500_000_000
SPREAD_CHAT_ID = 600_000_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def prepare(database_url: str) -> None:
    engine = create_engine(database_url)
    if not is_sqlite(database_url):
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    async with create_sessionmaker(engine).begin() as session:
        await link_stats.save_targets(
            session,
            CAMPAIGN_ID,
            [LinkTarget(index, url, f"button {index}") for index, url in enumerate(TARGETS)],
        )
    await engine.dispose()


async def recorded_clicks(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(LinkClick)) or 0)
    finally:
        await engine.dispose()


class Connection:
    """One keep-alive connection of a clicking user, speaking just enough HTTP/1.1."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def get(self, path: str) -> tuple[float, int, str | None]:
        """(seconds, status, Location) of one GET."""
        request = f"GET {path} HTTP/1.1\r\nHost: bench\r\nUser-Agent: links-bench\r\n\r\n".encode()
        start = time.perf_counter()
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        elapsed = time.perf_counter() - start
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
        }
        length = int(headers.get("content-length", "0"))
        if length:
            await self.reader.readexactly(length)
        return elapsed, status, headers.get("location")


async def wait_for_service(port: int, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the link service exited with {process.returncode}")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        status = (await Connection(reader, writer).get("/healthz"))[1]
        writer.close()
        if status == 200:
            return
    raise SystemExit("the link service did not answer")


async def spread_clicks(
    connections: list[Connection], signer: LinkSigner, *, rate_per_s: int, duration_s: float
) -> tuple[list[float], int]:
    """Every connection clicks at random moments (Poisson arrivals, `rate_per_s` in all), a
    click at a time each: the latencies, and the answers that were not the right redirect."""
    latencies: list[float] = []
    wrong = 0
    each_per_s = rate_per_s / len(connections)
    loop = asyncio.get_running_loop()
    end = loop.time() + duration_s

    async def user(number: int, connection: Connection) -> None:
        nonlocal wrong
        chance = random.Random(number)
        clicked = 0
        while True:
            await asyncio.sleep(chance.expovariate(each_per_s))
            if loop.time() >= end:
                return
            index = (number + clicked) % len(TARGETS)
            path = LINK_PATH + signer.token(LinkRef(CAMPAIGN_ID, SPREAD_CHAT_ID + number, index))
            elapsed, status, location = await connection.get(path)
            latencies.append(elapsed)
            wrong += status != 302 or location != TARGETS[index]
            clicked += 1

    await asyncio.gather(*(user(n, c) for n, c in enumerate(connections)))
    return latencies, wrong


def describe(latencies: list[float]) -> str:
    ms = [value * 1000 for value in latencies]
    return (
        f"{len(ms):,} clicks: p50 {statistics.median(ms):.2f} ms · p90 {percentile(ms, 0.90):.2f} ms · "
        f"p99 {percentile(ms, 0.99):.2f} ms · max {max(ms):.2f} ms"
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def bench(database_url: str, clicks: int, rounds: int, rate_per_s: int, duration_s: float) -> int:
    await prepare(database_url)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = load_settings(
        _env_file=None, database_url=database_url, secret_key=SECRET_KEY, links_base_url=base_url
    )
    signer = signer_for(settings)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LINKS_", "DATABASE_URL", "SECRET_KEY"))},
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "LINKS_BASE_URL": base_url,
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    service = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
        [sys.executable, "-m", "cli.main", "links", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await wait_for_service(port, service)
        connections = [Connection(*await asyncio.open_connection("127.0.0.1", port)) for _ in range(clicks)]
        paths = [
            [
                LINK_PATH + signer.token(LinkRef(CAMPAIGN_ID, FIRST_CHAT_ID + n, (n + r) % len(TARGETS)))
                for n in range(clicks)
            ]
            for r in range(rounds + 1)
        ]
        wrong = 0
        burst: list[float] = []
        for number, round_paths in enumerate(paths):
            answers = await asyncio.gather(*(c.get(p) for c, p in zip(connections, round_paths, strict=True)))
            for n, (elapsed, status, location) in enumerate(answers):
                if status != 302 or location != TARGETS[(n + number) % len(TARGETS)]:
                    wrong += 1
                if number > 0:
                    burst.append(elapsed)
            await asyncio.sleep(0.05)  # a moment between bursts
        spread, spread_wrong = await spread_clicks(
            connections, signer, rate_per_s=rate_per_s, duration_s=duration_s
        )
        wrong += spread_wrong
        sent = clicks * (rounds + 1) + len(spread)
        deadline = time.monotonic() + 10
        written = await recorded_clicks(database_url)
        while written < sent and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            written = await recorded_clicks(database_url)
        for connection in connections:
            connection.writer.close()
    finally:
        service.terminate()
        service.wait(timeout=30)
    database = "SQLite" if is_sqlite(database_url) else "PostgreSQL"
    print(f"{database}, {clicks} connections (one recipient each):")
    print(f"  bursts: {describe(burst)}  ({rounds} bursts of {clicks} clicks sent at the same instant)")
    print(f"  spread: {describe(spread)}  ({rate_per_s}/s at random moments for {duration_s:g} s)")
    print(f"answers not 302 to the right target: {wrong}; clicks recorded: {written:,} of {sent:,}")
    return 0 if wrong == 0 and written == sent else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clicks", type=int, default=200, help="concurrent clicks per burst")
    parser.add_argument("--rounds", type=int, default=20, help="bursts measured")
    parser.add_argument("--rate", type=int, default=1000, help="clicks a second in all, spread phase")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of the spread phase")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL database to EMPTY and use")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(workdir) / 'links-bench.sqlite3'}"
        return eventloop.run(bench(url, args.clicks, args.rounds, args.rate, args.duration))


if __name__ == "__main__":
    sys.exit(main())
