"""`broadcast db`: schema migrations."""

from __future__ import annotations

import argparse

from cli.common import database, run, settings_or_exit
from panel.migrations import upgrade


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `db upgrade`."""
    db = subparsers.add_parser("db", help="database schema", description="Manage the database schema.")
    commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    up = commands.add_parser(
        "upgrade",
        help="apply migrations",
        description="Apply every migration not yet applied (alembic upgrade).",
    )
    up.add_argument("--revision", default="head", help="migrate to this revision (default: head)")
    up.set_defaults(handler=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> None:
        async with database(settings) as (engine, _):
            await upgrade(engine, args.revision)

    run(go)
    print(f"database is at revision {args.revision}")
    return 0
