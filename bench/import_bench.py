"""Time `broadcast users import` of a generated CSV (default 1,000,000 rows) on a fresh database.

    python bench/import_bench.py [--rows N] [--database-url URL]

Prints the rows per second and the wall time of the command as a user runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.secret import sealed
from models import TargetBot
from panel.db import create_engine, create_sessionmaker
from panel.migrations import upgrade

LANGUAGES = ("en", "de", "es", "ru", "pt-br", "")


def write_csv(path: Path, rows: int, *, seed: int = 1) -> None:
    """A users CSV with `rows` distinct chat ids and realistic optional columns."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("chat_id,username,first_name,last_name,language_code\n")
        base = 100_000_000
        for index in range(rows):
            chat_id = base + index
            handle.write(
                f"{chat_id},user{chat_id},Name{index % 997},Surname{rng.randrange(10_000)},"
                f"{LANGUAGES[index % len(LANGUAGES)]}\n"
            )


async def prepare(database_url: str) -> None:
    engine = create_engine(database_url)
    await upgrade(engine)
    async with create_sessionmaker(engine).begin() as session:
        session.add(
            TargetBot(
                codename="bench",
                sealed_token=sealed("100001:BENCH-token"),
                username="bench_bot",
                title="Bench",
            )
        )
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "users.csv"
        started = time.perf_counter()
        write_csv(csv_path, args.rows)
        print(
            f"generated {args.rows:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
        asyncio.run(prepare(url))
        env = {**os.environ, "DATABASE_URL": url}
        command = [sys.executable, "-m", "cli.main", "users", "import", str(csv_path), "--bot", "bench"]
        started = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        print(result.stdout.strip())
        if result.returncode != 0:
            print(result.stderr.strip(), file=sys.stderr)
            raise SystemExit(result.returncode)
        print(
            f"broadcast users import: {args.rows:,} rows in {elapsed:.1f} s "
            f"({args.rows / elapsed:,.0f} rows/s)"
        )


if __name__ == "__main__":
    main()
