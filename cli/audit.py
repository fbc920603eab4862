"""`broadcast audit`: who changed what, when and from where (the chat or the CLI)."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime, timedelta

from cli.common import CommandError, database, run, settings_or_exit
from models import AuditEntry
from panel import audit

SINCE_SPAN = re.compile(r"^(\d{1,4})([hd])$")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `audit`."""
    parser = subparsers.add_parser(
        "audit",
        help="who changed what, and when",
        description="The audit log, newest first: every change made from the chat or the CLI.",
    )
    parser.add_argument("--campaign", type=int, metavar="ID", help="only the entries of this campaign")
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="only entries since then: 24h, 7d, or a date/time like 2026-12-01T09:00",
    )
    parser.add_argument("--limit", type=int, default=100, metavar="N", help="at most N entries (default 100)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(handler=_audit)


def parse_since(value: str, *, now: datetime) -> datetime:
    """`24h`, `7d` (back from `now`) or an ISO date/time (UTC unless it names a zone)."""
    span = SINCE_SPAN.match(value.strip())
    if span:
        amount, unit = int(span.group(1)), span.group(2)
        return now - (timedelta(hours=amount) if unit == "h" else timedelta(days=amount))
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            f"--since: cannot read {value!r}; use 24h, 7d or a date/time like 2026-12-01T09:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _as_json(entry: AuditEntry) -> str:
    return json.dumps(
        {
            "id": entry.id,
            "at": entry.at.isoformat(),
            "source": entry.source,
            "actor_id": entry.actor_id,
            "action": entry.action,
            "campaign_id": entry.campaign_id,
            "bot_id": entry.bot_id,
            "details": entry.details,
        },
        ensure_ascii=False,
    )


def _as_line(entry: AuditEntry) -> str:
    when = entry.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{entry.id:>6}  {when}  {audit.actor_of(entry).describe():<24} {audit.describe(entry)}"


def _audit(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    if not 1 <= args.limit <= 100_000:
        raise SystemExit("broadcast: --limit is 1 to 100000")

    async def go() -> list[str]:
        since = parse_since(args.since, now=datetime.now(UTC)) if args.since else None
        async with database(settings) as (_, sessionmaker), sessionmaker() as session:
            found = await audit.entries(session, campaign_id=args.campaign, since=since, limit=args.limit)
        if args.json:
            return [_as_json(entry) for entry in found]
        return [_as_line(entry) for entry in found] or ["nothing recorded"]

    print("\n".join(run(go)))
    return 0
