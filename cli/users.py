"""`broadcast users`: fill a target bot's audience."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cli.common import CommandError, database, run, settings_or_exit
from cli.users_import import ImportFileError, ImportReport, import_users
from panel import audit
from panel.audit import CLI, AuditAction
from panel.campaigns import get_bot_by_codename


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `users import`."""
    users = subparsers.add_parser(
        "users", help="target bots' users", description="Manage target bots' users."
    )
    commands = users.add_subparsers(dest="users_command", required=True, metavar="COMMAND")
    imp = commands.add_parser(
        "import",
        help="import users from CSV",
        description=(
            "Upsert users from a UTF-8 CSV file with a header line. Columns: chat_id (required), "
            "username, first_name, last_name, language_code. Malformed rows are reported by line "
            "number and skipped; the valid rows are imported."
        ),
    )
    imp.add_argument("file", type=Path, help="the CSV file")
    imp.add_argument("--bot", required=True, help="codename of the target bot")
    imp.set_defaults(handler=_import)


def _import(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> tuple[ImportReport, float]:
        started = time.perf_counter()
        async with database(settings) as (engine, sessionmaker):
            async with sessionmaker() as session:
                bot = await get_bot_by_codename(session, args.bot)
            if bot is None:
                raise CommandError(f"--bot: no target bot called {args.bot!r}; see: broadcast bots list")
            try:
                report = await import_users(engine, args.file, bot_id=bot.id, platform=bot.platform)
            except ImportFileError as exc:
                raise CommandError(str(exc)) from None
            async with sessionmaker.begin() as session:
                details = {
                    "file": Path(args.file).name,
                    "inserted": report.inserted,
                    "updated": report.updated,
                }
                await audit.record(session, CLI, AuditAction.IMPORT_USERS, bot_id=bot.id, details=details)
        return report, time.perf_counter() - started

    report, elapsed = run(go)
    for error in report.errors:
        print(f"line {error.line}: {error.reason}")
    if report.error_count > len(report.errors):
        print(f"... and {report.error_count - len(report.errors):,} more malformed rows")
    print(
        f"read {report.rows_read:,} rows in {elapsed:.1f} s: {report.inserted:,} new users, "
        f"{report.updated:,} updated, {report.duplicates:,} repeated chat ids, "
        f"{report.error_count:,} malformed rows skipped"
    )
    return 0 if report.error_count == 0 else 3
