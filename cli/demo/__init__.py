"""`broadcast demo`: the whole product on one machine, with the simulator standing in for Telegram.

The demo wires the same parts production runs — the control bot's dispatcher, an arq worker,
the database and Redis — and points them at an in-process Bot API simulator. Then it plays an
admin's conversation with the control bot (or, with `--interactive`, lets you be the admin) and
shows in the terminal what the admin sees in Telegram.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from pathlib import Path

from cli.common import fail
from cli.demo.interactive import chat
from cli.demo.screen import Printer
from cli.demo.script import play
from cli.demo.stack import ADMIN_ID, running_stack
from cli.terminal import use_colour
from panel.settings import SettingsError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `demo`."""
    demo = subparsers.add_parser(
        "demo",
        help="see the whole product work, with no token and no Telegram",
        description=(
            "Run Broadcast Panel end to end on a SQLite file, the local Redis and the Telegram "
            "simulator: an admin composes an announcement in the control bot, confirms it, and "
            "watches it reach a few thousand simulated users."
        ),
    )
    demo.add_argument(
        "--interactive", action="store_true", help="be the admin: chat with the control bot yourself"
    )
    demo.add_argument(
        "--users", type=int, default=2000, help="simulated users of the demo bot (default 2000)"
    )
    demo.add_argument("--rate", type=int, default=30, help="the demo bot's send rate per second (default 30)")
    demo.add_argument(
        "--database", type=Path, default=Path("var") / "demo.sqlite3", help="SQLite file, recreated each run"
    )
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    if args.users < 10:
        fail("--users: at least 10")
    if not 1 <= args.rate <= 1000:
        fail("--rate: between 1 and 1000")
    logging.getLogger().setLevel(logging.WARNING)
    try:
        return asyncio.run(_run(args))
    except SettingsError as exc:
        fail(f"configuration error: {exc}", code=2)
    except TimeoutError as exc:
        fail(f"the demo stopped: {exc} (the admin's chat so far is above)")
    except KeyboardInterrupt:
        fail("interrupted", code=130)


async def _run(args: argparse.Namespace) -> int:
    colour = use_colour()
    say = Printer(colour)
    started = time.monotonic()
    say.step("Starting the Telegram simulator, the database, the control bot and a worker…")
    async with running_stack(users=args.users, rate_per_s=args.rate, database=args.database) as stack:
        say.step(
            f"Demo bot @demo_news_bot has {args.users:,} simulated users "
            f"(some blocked or deleted); the admin is user {ADMIN_ID}."
        )
        if args.interactive:
            return await chat(stack, say)
        code = await play(stack, say)
    say.step(f"Everything stopped. The demo took {time.monotonic() - started:.0f} s.")
    return code
