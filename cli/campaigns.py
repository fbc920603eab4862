"""`broadcast campaigns`: create, send, pause, resume, cancel and watch campaigns."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from cli.common import CommandError, database, run, settings_or_exit
from models import Campaign, CampaignStatus, utcnow
from panel import campaigns, texts
from panel.campaigns import CampaignError, Counters
from panel.content import ContentError, MessageContent
from panel.progress import eta
from panel.queue import connect
from panel.sending import cancel_campaign, pause_campaign, resume_campaign, start_campaign_now
from panel.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `campaigns create|send|pause|resume|cancel|status|list`."""
    parser = subparsers.add_parser("campaigns", help="campaigns", description="Create, send and watch campaigns.")
    commands = parser.add_subparsers(dest="campaigns_command", required=True, metavar="COMMAND")
    create = commands.add_parser("create", help="create a campaign (a draft, or scheduled with --schedule)")
    create.add_argument("--bot", required=True, help="codename of the target bot")
    create.add_argument("--text", required=True, help="the message text")
    create.add_argument("--name", default=None, help="a name for the campaign list")
    create.add_argument("--schedule", default=None, help="send at this ISO 8601 time with a zone, e.g. 2026-12-01T18:00+01:00")
    create.set_defaults(handler=_create)
    for name, helptext, handler in (
        ("send", "send a draft or scheduled campaign now", _send),
        ("pause", "pause a sending campaign", _pause),
        ("resume", "resume a paused campaign", _resume),
        ("cancel", "cancel a campaign (unsent recipients are marked cancelled)", _cancel),
    ):
        command = commands.add_parser(name, help=helptext)
        command.add_argument("id", type=int, help="campaign id")
        command.set_defaults(handler=handler)
    status = commands.add_parser("status", help="status, counters, rate and ETA of a campaign")
    status.add_argument("id", type=int, help="campaign id")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=_status)
    listing = commands.add_parser("list", help="list recent campaigns")
    listing.add_argument("--limit", type=int, default=20)
    listing.set_defaults(handler=_list)


def _parse_when(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--schedule: {value!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise CommandError("--schedule: add a time zone, e.g. 2026-12-01T18:00+01:00 or ...Z")
    return when


def _create(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> int:
        try:
            content = MessageContent(text=args.text)
        except ContentError as exc:
            raise CommandError(str(exc)) from None
        async with database(settings) as (_, sessionmaker), sessionmaker.begin() as session:
            bot = await campaigns.get_bot_by_codename(session, args.bot)
            if bot is None:
                raise CommandError(f"there is no target bot {args.bot!r}; see `broadcast bots list`")
            try:
                campaign = await campaigns.create_campaign(session, bot_id=bot.id, content=content, name=args.name)
                if args.schedule:
                    await campaigns.schedule(session, campaign.id, _parse_when(args.schedule))
            except CampaignError as exc:
                raise CommandError(str(exc)) from None
            return campaign.id

    print(run(go))
    return 0


async def _require(session: AsyncSession, campaign_id: int) -> Campaign:
    campaign = await campaigns.get_campaign(session, campaign_id)
    if campaign is None:
        raise CommandError(f"there is no campaign #{campaign_id}")
    return campaign


def _lifecycle(args: argparse.Namespace, action: str) -> int:
    settings = settings_or_exit()

    async def go() -> str:
        pool = await connect(settings.redis_url)
        try:
            async with database(settings) as (_, sessionmaker), sessionmaker() as session:
                campaign = await _require(session, args.id)
                if action == "send":
                    changed = await start_campaign_now(session, pool, args.id, queue_name=settings.queue_name)
                elif action == "pause":
                    changed = await pause_campaign(session, args.id)
                elif action == "resume":
                    changed = await resume_campaign(session, pool, args.id, settings.queue_name)
                else:
                    changed = await cancel_campaign(session, pool, args.id, settings.queue_name)
                if not changed:
                    raise CommandError(f"campaign #{args.id} is {campaign.status.value}: cannot {action} it")
                return f"campaign #{args.id}: {action} requested"
        finally:
            await pool.aclose()

    print(run(go))
    return 0


def _send(args: argparse.Namespace) -> int:
    return _lifecycle(args, "send")


def _pause(args: argparse.Namespace) -> int:
    return _lifecycle(args, "pause")


def _resume(args: argparse.Namespace) -> int:
    return _lifecycle(args, "resume")


def _cancel(args: argparse.Namespace) -> int:
    return _lifecycle(args, "cancel")


def status_report(campaign: Campaign, *, now: datetime | None = None) -> dict[str, object]:
    """Status, counters, average rate and ETA of a campaign, as plain values."""
    counters = Counters.of(campaign)
    now = now or utcnow()
    rate: float | None = None
    if campaign.started_at is not None:
        end = campaign.completed_at or now
        seconds = (end - campaign.started_at).total_seconds()
        attempted = counters.finished - counters.cancelled
        rate = attempted / seconds if seconds > 0 else None
    left = eta(counters.remaining, rate) if campaign.status is CampaignStatus.SENDING else None
    return {
        "id": campaign.id,
        "name": campaign.name,
        "status": campaign.status.value,
        "reason": campaign.status_reason,
        "total": counters.total,
        "sent": counters.sent,
        "failed": counters.failed,
        "unavailable": counters.unavailable,
        "unconfirmed": counters.unconfirmed,
        "cancelled": counters.cancelled,
        "remaining": counters.remaining,
        "rate_per_s": round(rate, 2) if rate is not None else None,
        "eta_s": int(left.total_seconds()) if left is not None else None,
        "scheduled_at": campaign.scheduled_at.isoformat() if campaign.scheduled_at else None,
        "started_at": campaign.started_at.isoformat() if campaign.started_at else None,
        "completed_at": campaign.completed_at.isoformat() if campaign.completed_at else None,
    }


def _status(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> dict[str, object]:
        async with database(settings) as (_, sessionmaker), sessionmaker() as session:
            return status_report(await _require(session, args.id))

    report = run(go)
    if args.json:
        print(json.dumps(report))
        return 0
    lines = [f"campaign #{report['id']}{' ' + str(report['name']) if report['name'] else ''}: {report['status']}"]
    if report["reason"]:
        lines.append(f"reason: {report['reason']}")
    lines.append(
        "sent {sent} · failed {failed} · unavailable {unavailable} · unconfirmed {unconfirmed} · "
        "cancelled {cancelled} · remaining {remaining} of {total}".format(**report)
    )
    if report["rate_per_s"] is not None:
        eta_s = report["eta_s"]
        eta_text = f", ETA {texts.duration(timedelta(seconds=int(eta_s)))}" if isinstance(eta_s, int) else ""
        lines.append(f"rate {report['rate_per_s']}/s{eta_text}")
    print("\n".join(lines))
    return 0


def _list(args: argparse.Namespace) -> int:
    settings: Settings = settings_or_exit()

    async def go() -> list[str]:
        async with database(settings) as (_, sessionmaker), sessionmaker() as session:
            found, total = await campaigns.list_campaigns(session, limit=args.limit)
            lines = [f"{total} campaign(s)"]
            for campaign in found:
                counters = Counters.of(campaign)
                lines.append(
                    f"#{campaign.id:<6} {campaign.status.value:<10} {counters.sent:>9,}/{counters.total:<9,} "
                    f"{campaign.name or ''}"
                )
            return lines

    print("\n".join(run(go)))
    return 0
