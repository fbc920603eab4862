"""`broadcast admins`: who may use the control bot besides ADMIN_IDS."""

from __future__ import annotations

import argparse

from cli.common import CommandError, database, run, settings_or_exit
from panel import audit
from panel.admins import AdminError, add_admin, list_admins
from panel.audit import CLI, AuditAction


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `admins add` and `admins list`."""
    admins = subparsers.add_parser(
        "admins", help="control bot admins", description="Manage control bot admins."
    )
    commands = admins.add_subparsers(dest="admins_command", required=True, metavar="COMMAND")
    add = commands.add_parser("add", help="add or update an admin", description="Add or update an admin.")
    add.add_argument("user_id", type=int, help="the admin's Telegram user id")
    add.add_argument("--name", default=None, help="display name")
    add.add_argument("--tz", default=None, help="IANA time zone, e.g. Europe/Berlin (default: TIMEZONE)")
    add.set_defaults(handler=_add)
    listing = commands.add_parser(
        "list", help="list admins", description="List admins (ADMIN_IDS and the table)."
    )
    listing.set_defaults(handler=_list)


def _add(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> str:
        async with database(settings) as (_, sessionmaker), sessionmaker.begin() as session:
            try:
                admin = await add_admin(session, args.user_id, display_name=args.name, timezone=args.tz)
            except AdminError as exc:
                raise CommandError(str(exc)) from None
            await audit.record(session, CLI, AuditAction.ADD_ADMIN, details={"user_id": admin.user_id})
            name, timezone = admin.display_name or "no name", admin.timezone or settings.timezone
            return f"admin {admin.user_id} ({name}, {timezone})"

    print(run(go))
    return 0


def _list(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> list[str]:
        async with database(settings) as (_, sessionmaker), sessionmaker() as session:
            admins = await list_admins(session)
        lines = [f"{user_id:>14}  (ADMIN_IDS)" for user_id in settings.admin_ids]
        lines += [
            f"{a.user_id:>14}  {a.display_name or '-':<24} {a.timezone or settings.timezone}"
            for a in admins
            if a.user_id not in settings.admin_ids
        ]
        return lines or ["no admins yet: set ADMIN_IDS or run: broadcast admins add USER_ID"]

    print("\n".join(run(go)))
    return 0
