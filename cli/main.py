"""The `broadcast` command: one entry point for every part of Broadcast Panel."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from panel import logsafe

# Subcommand modules, each with `register(subparsers)`; imported lazily so that
# `broadcast --help` stays fast and one broken part does not hide the others.
COMMAND_MODULES = (
    "cli.db",
    "cli.bots",
    "cli.users",
    "cli.admins",
    "cli.sandbox",
    "cli.bot",
    "cli.worker",
    "cli.run",
    "cli.links",
    "cli.campaigns",
    "cli.segments",
    "cli.secrets",
    "cli.audit",
    "cli.reports",  # adds `campaigns export|report`: after cli.campaigns
    "cli.demo",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="broadcast",
        description="Broadcast Panel: send announcements to the users of your Telegram bots.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `broadcast` command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logsafe.install()
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    result = args.handler(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
