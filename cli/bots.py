"""`broadcast bots`: the target bots whose users receive broadcasts."""

from __future__ import annotations

import argparse

from bot.aiogram_bot import fetch_identity
from cli.common import CommandError, database, run, settings_or_exit
from panel import audit, topics
from panel.approval import ApprovalError, set_threshold
from panel.audit import CLI, AuditAction
from panel.bots import BotError, add_bot, bot_summaries, check_bot_fields
from panel.campaigns import get_bot_by_codename
from panel.secrets import is_sealed, token_box
from panel.settings import Settings, mask_token


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `bots add` and `bots list`."""
    bots = subparsers.add_parser("bots", help="target bots", description="Register and list target bots.")
    commands = bots.add_subparsers(dest="bots_command", required=True, metavar="COMMAND")
    add = commands.add_parser(
        "add",
        help="register a target bot",
        description="Register a target bot; its token is checked with Telegram's getMe first.",
    )
    add.add_argument("--codename", required=True, help="short unique name, e.g. news")
    add.add_argument("--token", required=True, help="the bot's token from @BotFather (never printed)")
    add.add_argument(
        "--rate", type=int, default=None, help="messages per second (default 30; up to 1000 with --paid)"
    )
    add.add_argument(
        "--paid", action="store_true", help="paid broadcasts are enabled in @BotFather (allow_paid_broadcast)"
    )
    add.set_defaults(handler=_add)
    listing = commands.add_parser(
        "list", help="list target bots", description="List target bots and audiences."
    )
    listing.set_defaults(handler=_list)
    cap = commands.add_parser(
        "cap",
        help="set a bot's frequency cap",
        description="Leave out of a bot's campaigns everyone it reached within the last HOURS (0: off).",
    )
    cap.add_argument("codename", help="the bot")
    cap.add_argument("hours", type=int, help="hours (0 turns the cap off; at most 720)")
    cap.set_defaults(handler=_cap)
    four_eyes = commands.add_parser(
        "approval",
        help="campaigns reaching N users need a second admin's approval",
        description="Campaigns of this bot reaching N users or more need a second admin's approval.",
    )
    four_eyes.add_argument("codename", help="the bot")
    four_eyes.add_argument("users", type=int, help="the threshold in users (0 turns approval off)")
    four_eyes.set_defaults(handler=_approval)
    topics = commands.add_parser(
        "topics",
        help="a bot's topics, which users may unsubscribe from",
        description="Add, list or remove a bot's topics (news, offers): a campaign may have one, and "
        "users who tapped its unsubscribe button are left out of that topic's campaigns.",
    )
    topics.add_argument("codename", help="the bot")
    topics.add_argument("action", choices=("add", "list", "remove"), help="what to do")
    topics.add_argument("topic", nargs="?", default=None, help="the topic (for add and remove), e.g. news")
    topics.set_defaults(handler=_topics)


def _add(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    rate = args.rate if args.rate is not None else (1000 if args.paid else 30)
    try:
        check_bot_fields(args.codename, args.token, rate, args.paid)
    except BotError as exc:
        raise SystemExit(f"broadcast: {exc}") from None

    async def go() -> str:
        try:
            identity = await fetch_identity(args.token, api_url=settings.telegram_api_url)
            async with database(settings) as (_, sessionmaker), sessionmaker.begin() as session:
                bot = await add_bot(
                    session,
                    codename=args.codename,
                    token=args.token,
                    identity=identity,
                    box=token_box(settings),
                    rate_per_s=rate,
                    paid_broadcast=args.paid,
                )
                await audit.record(
                    session, CLI, AuditAction.ADD_BOT, bot_id=bot.id, details={"codename": bot.codename}
                )
                return (
                    f"added bot #{bot.id} {bot.codename} "
                    f"(@{bot.username or '?'}, token {mask_token(args.token)}), "
                    f"{bot.rate_per_s}/s{' paid' if bot.paid_broadcast else ''}"
                )
        except BotError as exc:
            raise CommandError(str(exc)) from None

    print(run(go))
    return 0


def _token_state(settings: Settings, sealed_token: str) -> str:
    """How a token is stored, without opening it for show: under the writing key or an older one."""
    if not is_sealed(sealed_token):
        return "NOT ENCRYPTED (run `broadcast db upgrade`)"
    if settings.secret_key is None:
        return "encrypted"
    current = token_box(settings).is_current(sealed_token)
    return "encrypted" if current else "encrypted, older key (run `broadcast secrets rotate`)"


def _list(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> list[str]:
        async with database(settings) as (_, sessionmaker), sessionmaker() as session:
            summaries = await bot_summaries(session)
        if not summaries:
            return ["no target bots yet; add one with: broadcast bots add --codename NAME --token TOKEN"]
        lines = [
            f"{'id':>4}  {'codename':<16} {'username':<24} {'rate':>6}  "
            f"{'users':>10} {'available':>10}  token"
        ]
        for item in summaries:
            bot = item.bot
            rate = f"{bot.rate_per_s}/s" + ("*" if bot.paid_broadcast else "")
            lines.append(
                f"{bot.id:>4}  {bot.codename:<16} {'@' + (bot.username or '?'):<24} {rate:>6}  "
                f"{item.users:>10,} {item.available:>10,}  {_token_state(settings, bot.sealed_token)}"
            )
        if any(item.bot.paid_broadcast for item in summaries):
            lines.append("* paid broadcast (allow_paid_broadcast)")
        return lines

    print("\n".join(run(go)))
    return 0


MAX_CAP_HOURS = 720


def _cap(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    if not 0 <= args.hours <= MAX_CAP_HOURS:
        raise SystemExit(f"broadcast: the cap is 0 to {MAX_CAP_HOURS} hours, not {args.hours}")

    async def go() -> str:
        async with database(settings) as (_, sessionmaker), sessionmaker.begin() as session:
            bot = await get_bot_by_codename(session, args.codename)
            if bot is None:
                raise CommandError(f"there is no target bot {args.codename!r}; see `broadcast bots list`")
            bot.frequency_cap_hours = args.hours
            await audit.record(
                session, CLI, AuditAction.SET_FREQUENCY_CAP, bot_id=bot.id, details={"hours": args.hours}
            )
            if not args.hours:
                return f"{bot.codename}: no frequency cap"
            return f"{bot.codename}: users reached within {args.hours} h are left out of its next campaigns"

    print(run(go))
    return 0


def _approval(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> str:
        async with database(settings) as (_, sessionmaker), sessionmaker.begin() as session:
            try:
                bot = await set_threshold(session, args.codename, args.users)
            except ApprovalError as exc:
                raise CommandError(str(exc)) from None
            details = {"users": args.users}
            await audit.record(session, CLI, AuditAction.SET_APPROVAL, bot_id=bot.id, details=details)
        if not args.users:
            return f"{args.codename}: campaigns need no approval"
        return f"{args.codename}: campaigns reaching {args.users:,} users need a second admin's approval"

    print(run(go))
    return 0


def _topics(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    if args.action != "list" and args.topic is None:
        raise SystemExit(f"broadcast: bots topics {args.codename} {args.action} needs the topic, e.g. news")

    async def go() -> str:
        async with database(settings) as (_, sessionmaker), sessionmaker.begin() as session:
            try:
                if args.action == "add":
                    topic = await topics.add_topic(session, args.codename, args.topic, actor=CLI)
                    return f"{args.codename}: topic {topic} added"
                if args.action == "remove":
                    topic = await topics.remove_topic(session, args.codename, args.topic, actor=CLI)
                    return f"{args.codename}: topic {topic} removed"
                bot = await get_bot_by_codename(session, args.codename)
                if bot is None:
                    raise topics.TopicError(f"there is no target bot {args.codename!r}")
                found = await topics.topic_counts(session, bot.id)
            except topics.TopicError as exc:
                raise CommandError(str(exc)) from None
        if not found:
            return f"{args.codename}: no topics yet (add one: broadcast bots topics {args.codename} add news)"
        return "\n".join(f"{topic}: {count:,} opted out" for topic, count in found)

    print(run(go))
    return 0
