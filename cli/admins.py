"""`broadcast admins`: who may use the control bot besides ADMIN_IDS, with which role over which bots."""

from __future__ import annotations

import argparse

from cli.common import CommandError, database, run, settings_or_exit
from panel import audit, i18n
from panel.admins import AdminError, add_admin, list_admins, set_language
from panel.audit import CLI, AuditAction
from panel.roles import Role, RoleError, access_of, parse_role, remove_admin, scope_codenames, set_role

ROLES_HELP = (
    "owner: everything, admins and bots included; editor: compose, test, edit drafts, schedule; "
    "sender: start, pause, resume, cancel, recall, retry; viewer: read only"
)


def _bots(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `admins add|set|remove|list`."""
    admins = subparsers.add_parser(
        "admins", help="control bot admins", description=f"Manage control bot admins. Roles: {ROLES_HELP}."
    )
    commands = admins.add_subparsers(dest="admins_command", required=True, metavar="COMMAND")
    add = commands.add_parser("add", help="add or update an admin", description="Add or update an admin.")
    add.add_argument("user_id", type=int, help="the admin's Telegram user id")
    add.add_argument("--name", default=None, help="display name")
    add.add_argument("--tz", default=None, help="IANA time zone, e.g. Europe/Berlin (default: TIMEZONE)")
    add.add_argument("--role", default=None, help="owner (a new admin's default), editor, sender or viewer")
    add.add_argument("--bots", type=_bots, default=None, metavar="A,B", help="limit the role to these bots")
    add.set_defaults(handler=_add)
    change = commands.add_parser("set", help="change an admin's role and bots", description=ROLES_HELP)
    change.add_argument("user_id", type=int)
    change.add_argument("--role", required=True, help="owner, editor, sender or viewer")
    change.add_argument(
        "--bots", type=_bots, default=None, metavar="A,B", help="limit the role to these bots (default: all)"
    )
    change.set_defaults(handler=_set)
    remove = commands.add_parser("remove", help="remove an admin (ADMIN_IDS stay owners)")
    remove.add_argument("user_id", type=int)
    remove.set_defaults(handler=_remove)
    listing = commands.add_parser(
        "list", help="list admins", description="List admins (ADMIN_IDS and the table) with role and bots."
    )
    listing.set_defaults(handler=_list)
    language = commands.add_parser(
        "language",
        help="the language the control bot speaks with an admin",
        description="Set the language the control bot and its progress messages use with an admin "
        "(as /language does in the chat). Without it, the admin's Telegram language is followed.",
    )
    language.add_argument("user_id", type=int, help="the admin's Telegram user id")
    language.add_argument("language", choices=i18n.LANGUAGES, help="en (English) or ru (Russian)")
    language.set_defaults(handler=_language)


def _role_of(value: str | None) -> Role | None:
    try:
        return None if value is None else parse_role(value)
    except RoleError as exc:
        raise CommandError(f"--role: {exc}") from None


def _add(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    role = _role_of(args.role)

    async def go() -> str:
        async with database(settings) as (_, sessionmaker), sessionmaker.begin() as session:
            try:
                admin = await add_admin(session, args.user_id, display_name=args.name, timezone=args.tz)
                if role is not None or args.bots is not None:
                    await set_role(session, admin.user_id, role or Role(admin.role), bot_codenames=args.bots)
            except (AdminError, RoleError) as exc:
                raise CommandError(str(exc)) from None
            details = {"user_id": admin.user_id, "role": admin.role, "bots": args.bots or "all"}
            await audit.record(session, CLI, AuditAction.ADD_ADMIN, details=details)
            name, timezone = admin.display_name or "no name", admin.timezone or settings.timezone
            bots = ", ".join(args.bots) if args.bots else "all bots"
            return f"admin {admin.user_id} ({name}, {timezone}): {admin.role} of {bots}"

    print(run(go))
    return 0


def _set(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    role = _role_of(args.role)
    assert role is not None
    if args.user_id in settings.admin_ids:
        raise SystemExit(f"broadcast: {args.user_id} is in ADMIN_IDS, always an owner of every bot")

    async def go() -> str:
        async with database(settings) as (_, sessionmaker), sessionmaker.begin() as session:
            try:
                await set_role(session, args.user_id, role, bot_codenames=args.bots)
            except RoleError as exc:
                raise CommandError(str(exc)) from None
            details = {"user_id": args.user_id, "role": role.value, "bots": args.bots or "all"}
            await audit.record(session, CLI, AuditAction.SET_ROLE, details=details)
        bots = ", ".join(args.bots) if args.bots else "all bots"
        return f"admin {args.user_id}: {role.value} of {bots}"

    print(run(go))
    return 0


def _remove(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> str:
        async with database(settings) as (_, sessionmaker), sessionmaker.begin() as session:
            if not await remove_admin(session, args.user_id):
                raise CommandError(f"{args.user_id} is not in the admins table")
            await audit.record(session, CLI, AuditAction.REMOVE_ADMIN, details={"user_id": args.user_id})
        note = " (still an owner through ADMIN_IDS)" if args.user_id in settings.admin_ids else ""
        return f"admin {args.user_id} removed{note}"

    print(run(go))
    return 0


def _list(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> list[str]:
        async with database(settings) as (_, sessionmaker), sessionmaker() as session:
            admins = await list_admins(session)
            lines = [
                f"{user_id:>14}  {'(ADMIN_IDS)':<24} owner of all bots" for user_id in settings.admin_ids
            ]
            for admin in admins:
                if admin.user_id in settings.admin_ids:
                    continue
                access = await access_of(session, admin.user_id, ())
                assert access is not None
                bots = ", ".join(await scope_codenames(session, access)) or "all bots"
                lines.append(
                    f"{admin.user_id:>14}  {admin.display_name or '-':<24} {access.role.value} of {bots}"
                    f"  {admin.timezone or settings.timezone}"
                )
        return lines or ["no admins yet: set ADMIN_IDS or run: broadcast admins add USER_ID"]

    print("\n".join(run(go)))
    return 0


def _language(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> str:
        async with database(settings) as (_, sessionmaker), sessionmaker.begin() as session:
            if await access_of(session, args.user_id, settings.admin_ids) is None:
                raise CommandError(f"{args.user_id} is not an admin (ADMIN_IDS or the admins table)")
            await set_language(session, args.user_id, args.language, actor=CLI)
        return f"admin {args.user_id}: the control bot speaks {args.language}"

    print(run(go))
    return 0
