"""`broadcast segments`: saved audience rules (see `panel.segments` for the expression language)."""

from __future__ import annotations

import argparse
import json

from sqlalchemy.ext.asyncio import AsyncSession

from cli.common import CommandError, database, run, settings_or_exit
from panel import audit
from panel.audit import CLI, AuditAction
from panel.bots import bot_summaries
from panel.segments import (
    SegmentError,
    count_segment,
    get_segment,
    list_segments,
    parse_segment,
    save_segment,
)

EXAMPLE = "language in (ru, uk) and active within 30d and not received 12"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `segments add`, `segments list` and `segments count`."""
    parser = subparsers.add_parser(
        "segments",
        help="saved audience rules",
        description=f"Rules over the users of your bots, e.g. “{EXAMPLE}”.",
    )
    commands = parser.add_subparsers(dest="segments_command", required=True, metavar="COMMAND")
    add = commands.add_parser("add", help="save a segment (replaces one of the same name)")
    add.add_argument("name", help="letters, digits, _ or -")
    add.add_argument("--where", required=True, metavar="EXPR", help=f"the rule, e.g. “{EXAMPLE}”")
    add.set_defaults(handler=_add)
    listing = commands.add_parser("list", help="list saved segments")
    listing.add_argument("--json", action="store_true", help="as JSON")
    listing.set_defaults(handler=_list)
    count = commands.add_parser("count", help="how many available users a segment selects, per bot")
    which = count.add_mutually_exclusive_group(required=True)
    which.add_argument("--segment", metavar="NAME", help="a saved segment")
    which.add_argument("--where", metavar="EXPR", help="an expression")
    count.add_argument("--bot", action="append", default=[], metavar="NAME", help="a bot (default: all)")
    count.set_defaults(handler=_count)


def _checked(expression: str) -> str:
    try:
        parse_segment(expression)
    except SegmentError as exc:
        raise CommandError(f"--where: {exc}") from None
    return expression


def _add(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    _checked(args.where)

    async def go() -> str:
        async with database(settings) as (_, sessionmaker), sessionmaker.begin() as session:
            try:
                segment = await save_segment(session, args.name, args.where)
            except SegmentError as exc:
                raise CommandError(str(exc)) from None
            details = {"name": segment.name, "rule": segment.expression}
            await audit.record(session, CLI, AuditAction.SAVE_SEGMENT, details=details)
            return f"segment {segment.name}: {segment.expression}"

    print(run(go))
    return 0


def _list(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> list[tuple[str, str]]:
        async with database(settings) as (_, sessionmaker), sessionmaker() as session:
            return [(s.name, s.expression) for s in await list_segments(session)]

    found = run(go)
    if args.json:
        print(json.dumps([{"name": name, "where": where} for name, where in found], ensure_ascii=False))
    elif not found:
        print("no segments yet: broadcast segments add NAME --where EXPR")
    for name, where in [] if args.json else found:
        print(f"{name}: {where}")
    return 0


async def resolve_expression(session: AsyncSession, segment: str | None, where: str | None) -> str | None:
    """The expression of `--segment NAME` or `--where EXPR` (None: neither given)."""
    if where is not None:
        return _checked(where)
    if segment is None:
        return None
    saved = await get_segment(session, segment)
    if saved is None:
        raise CommandError(f"there is no segment {segment!r}; see `broadcast segments list`")
    return saved.expression


def _count(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    if args.where is not None:
        _checked(args.where)

    async def go() -> list[str]:
        async with database(settings) as (_, sessionmaker), sessionmaker() as session:
            expression = await resolve_expression(session, args.segment, args.where)
            bots = [item.bot for item in await bot_summaries(session)]
            if args.bot:
                named = {bot.codename: bot for bot in bots}
                missing = [name for name in args.bot if name not in named]
                if missing:
                    raise CommandError(f"there is no target bot {missing[0]!r}; see `broadcast bots list`")
                bots = [named[name] for name in args.bot]
            counts = await count_segment(session, [bot.id for bot in bots], expression)
            return [f"{bot.codename}: {counts[bot.id]:,}" for bot in bots]

    print("\n".join(run(go)))
    return 0
