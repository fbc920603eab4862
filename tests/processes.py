"""The `broadcast` command in a real process, for tests whose simulator serves from their own loop."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path


async def broadcast_cli(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run `broadcast ARGS` in a subprocess without blocking the loop; exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        *args,
        env={**os.environ, **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()
