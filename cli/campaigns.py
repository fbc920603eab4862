"""`broadcast campaigns`: create, send, pause, resume, cancel and watch campaigns."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cli import abtest as abtest_commands
from cli import after_send as after_send_commands
from cli import approval as approval_commands
from cli import sent_edits as sent_edits_commands
from cli.common import CommandError, database, fail, run, settings_or_exit
from cli.segments import resolve_expression
from jobs.engine.route import RouteWatch
from jobs.engine.sendclient import BotAPI, BotAPIError, BotAPINetworkError
from models import Campaign, CampaignStatus, TargetBot, utcnow
from panel import abtest, actions, audit, campaigns, expiry, groups, texts, topics, transitions
from panel.admins import list_admins
from panel.audience import campaign_view
from panel.audit import CLI, AuditAction
from panel.block_rate import block_rate
from panel.buttons import Buttons, ButtonsError, parse_button_rows
from panel.campaigns import CampaignError, Counters
from panel.content import (
    MAX_DOWNLOAD_BYTES,
    MEDIA_KINDS,
    SEND_METHODS,
    AlbumItem,
    ChannelPost,
    ContentError,
    Media,
    MessageContent,
    sent_media,
)
from panel.greetings import GreetingError, personalise
from panel.html_markup import MarkupError, parse_html
from panel.keys import RedisKeys
from panel.link_stats import click_stats
from panel.links import has_links, tracking_on
from panel.progress import eta
from panel.queue import connect
from panel.secrets import open_token
from panel.send_options import LinkPreview, SendOptions
from panel.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `campaigns create|send|pause|resume|cancel|status|list`."""
    parser = subparsers.add_parser(
        "campaigns", help="campaigns", description="Create, send and watch campaigns."
    )
    commands = parser.add_subparsers(dest="campaigns_command", required=True, metavar="COMMAND")
    create = commands.add_parser("create", help="create a campaign (a draft, or scheduled with --schedule)")
    create.add_argument(
        "--bot",
        required=True,
        action="append",
        help="codename of the target bot; give it again for more bots, in the order you prefer: "
        "a person who uses several of them gets one copy, through the first that reaches them",
    )
    wording = create.add_mutually_exclusive_group()
    wording.add_argument("--text", default=None, help="the message text (with --file: its caption, optional)")
    wording.add_argument(
        "--html",
        default=None,
        metavar="HTML",
        help="the message text (or caption) in Telegram's HTML: <b>, <i>, <u>, <s>, <tg-spoiler>, "
        '<a href="...">, <code>, <pre>, <blockquote>, &lt; &gt; &amp;; stored as formatting entities',
    )
    create.add_argument(
        "--file",
        type=Path,
        default=None,
        help="a photo, video or file to send (up to 20 MB); the control bot (BOT_TOKEN) posts it to the "
        "first admin's chat once, which gives it the file id the workers pass on to the target bot",
    )
    create.add_argument(
        "--album",
        type=Path,
        nargs="+",
        default=None,
        metavar="PATH",
        help="2-10 photos and videos, or 2-10 files, sent as one album (--text: the first item's caption); "
        "the control bot posts each to the first admin's chat once, as for --file",
    )
    create.add_argument(
        "--follow-up",
        default=None,
        metavar="TEXT",
        help="with --album and --button: the text of the message sent right after the album with its "
        "buttons (Telegram allows none on an album)",
    )
    create.add_argument(
        "--kind", choices=MEDIA_KINDS, default=None, help="send --file as this (default: by its extension)"
    )
    create.add_argument(
        "--button",
        dest="buttons",
        action="append",
        default=[],
        metavar='"LABEL - URL | LABEL - URL"',
        help="a row of URL buttons under the message (repeat for more rows); links: http(s)://, tg://",
    )
    create.add_argument(
        "--forward",
        default=None,
        metavar="CHANNEL_ID:MESSAGE_ID",
        help="send a channel's post, forwarded as is (the target bot must be able to read the channel); "
        "write it with =, as the id starts with a minus: --forward=-1001234567890:42",
    )
    create.add_argument(
        "--copy", action="store_true", help="with --forward: send a copy, without the Forwarded from header"
    )
    create.add_argument("--name", default=None, help="a name for the campaign list")
    create.add_argument(
        "--topic",
        default=None,
        help="one of the bot's topics (broadcast bots topics): users who unsubscribed from it are left out",
    )
    create.add_argument(
        "--unsubscribe-button",
        action="store_true",
        help="put an 'Unsubscribe from TOPIC' button under the message (needs --topic)",
    )
    audience = create.add_mutually_exclusive_group()
    audience.add_argument(
        "--segment",
        default=None,
        metavar="NAME",
        help="only a saved segment's users",
    )
    audience.add_argument(
        "--where",
        default=None,
        metavar="EXPR",
        help='only the users matching an expression, e.g. "language in (ru, uk) and active within 30d"',
    )
    create.add_argument(
        "--exclude-segment",
        default=None,
        metavar="NAME",
        help="leave out a saved segment's users (e.g. paying customers)",
    )
    create.add_argument(
        "--schedule", default=None, help="send at this ISO 8601 time with a zone, e.g. 2026-12-01T18:00+01:00"
    )
    _add_send_option_arguments(create)
    create.add_argument(
        "--expire-after",
        default=None,
        metavar="SPAN",
        help="delete the message from every chat this long after the sending ends: 1h to 47h, e.g. 6h, "
        "90min (Telegram lets a bot delete its messages only within 48 hours of sending)",
    )
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
    after_send_commands.register(commands)
    sent_edits_commands.register(commands)
    approval_commands.register(commands)
    abtest_commands.register(commands)


def _add_send_option_arguments(create: argparse.ArgumentParser) -> None:
    """`--silent`, `--protect`, `--pin`, `--link-preview`: how the campaign's message is sent."""
    create.add_argument(
        "--silent", action="store_true", help="recipients get no sound (disable_notification)"
    )
    create.add_argument(
        "--protect", action="store_true", help="the message cannot be forwarded or saved (protect_content)"
    )
    create.add_argument("--pin", action="store_true", help="pin each delivered message in its chat, silently")
    create.add_argument(
        "--track",
        dest="track_links",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="send the URL buttons and the text's links through the link service, counting clicks "
        "(default: on when LINKS_BASE_URL is set)",
    )
    create.add_argument(
        "--link-preview",
        choices=[choice.value for choice in LinkPreview],
        default=LinkPreview.ON.value,
        help="the link preview of a text message: on (Telegram's default), off, small, large, above the text",
    )


def _send_options(args: argparse.Namespace) -> SendOptions:
    return SendOptions(
        silent=args.silent,
        protect=args.protect,
        link_preview=LinkPreview(args.link_preview),
        pin=args.pin,
        track_links=getattr(args, "track_links", None),
    )


def _options_line(options: SendOptions, pinned: int) -> str | None:
    """The options of a campaign for `status`, or None when they are the defaults."""
    found = [name for name, on in (("silent", options.silent), ("protected", options.protect)) if on]
    if options.link_preview is not LinkPreview.ON:
        found.append(f"link preview {options.link_preview.value}")
    if options.pin:
        found.append(f"pin ({pinned:,} pinned)")
    return "options: " + ", ".join(found) if found else None


def _parse_when(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--schedule: {value!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise CommandError("--schedule: add a time zone, e.g. 2026-12-01T18:00+01:00 or ...Z")
    return when


PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v"}


def _kind_of(path: Path, kind: str | None) -> str:
    if kind is not None:
        return kind
    suffix = path.suffix.lower()
    return "photo" if suffix in PHOTO_SUFFIXES else "video" if suffix in VIDEO_SUFFIXES else "document"


def _read_file(path: Path, option: str = "--file") -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"{option}: cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise CommandError(
            f"{option}: {path.name} is {len(data) / 1024 / 1024:.1f} MB; "
            "bots can pass on files of up to 20 MB"
        )
    if not data:
        raise CommandError(f"{option}: {path.name} is empty")
    return data


async def _upload_through_control_bot(
    settings: Settings, name: str, data: bytes, kind: str, admin_id: int
) -> Media:
    """Post the file to the admin's chat with the control bot; the control bot's file id comes back."""
    if settings.bot_token is None:
        raise CommandError("--file needs BOT_TOKEN: the control bot uploads the file")
    control = BotAPI(
        settings.bot_token.get_secret_value(), api_url=settings.telegram_api_url, timeout_s=300.0, limit=1
    )
    try:
        message = await control.upload(
            SEND_METHODS[kind],
            {"chat_id": admin_id, "caption": texts.CLI_FILE_CAPTION.format(name=name)},
            field=kind,
            data=data,
            filename=name,
        )
    except BotAPIError as exc:
        hint = " (the admin has to start the control bot first)" if exc.error_code in (400, 403) else ""
        raise CommandError(
            f"the control bot could not post the file to admin {admin_id}: {exc.description}{hint}"
        ) from None
    except BotAPINetworkError as exc:
        raise CommandError(f"the control bot could not post the file: {exc.description}") from None
    finally:
        await control.close()
    found = sent_media(message, kind)
    if found is None or not found.get("file_id"):
        raise CommandError("Telegram's answer to the upload carries no file id")
    return Media.from_json({"kind": kind, **found})


def _channel_post_of(args: argparse.Namespace) -> MessageContent:
    """The channel post of --forward CHANNEL_ID:MESSAGE_ID [--copy]."""
    if args.file is not None or args.text is not None or getattr(args, "html", None) is not None:
        raise CommandError("--forward sends the channel's post as it is: leave out --text, --html and --file")
    channel, separator, message_id = str(args.forward).partition(":")
    try:
        post = ChannelPost(int(channel), int(message_id), "copy" if args.copy else "forward")
    except ValueError:
        if not separator:
            raise CommandError("--forward takes CHANNEL_ID:MESSAGE_ID, e.g. -1001234567890:42") from None
        raise CommandError(f"--forward {args.forward}: the channel and message ids are numbers") from None
    try:
        buttons = parse_button_rows(args.buttons) if args.buttons else Buttons()
        return MessageContent(text="", buttons=buttons, channel_post=post)
    except (ContentError, ButtonsError) as exc:
        raise CommandError(str(exc)) from None


async def _check_channel_readable(settings: Settings, token: str, post: ChannelPost, bot_name: str) -> None:
    """The target bot's own token must read the channel (getChat), or nothing is created."""
    target = BotAPI(token, api_url=settings.telegram_api_url, timeout_s=30.0, limit=1)
    try:
        await target.call("getChat", {"chat_id": post.from_chat_id})
    except BotAPIError as exc:
        raise CommandError(
            f"bot {bot_name!r} cannot read channel {post.from_chat_id} ({exc.description}): "
            "add it to the channel first; nothing was created"
        ) from None
    except BotAPINetworkError as exc:
        raise CommandError(f"could not check channel {post.from_chat_id}: {exc.description}") from None
    finally:
        await target.close()


async def _set_expiry(session: AsyncSession, campaign: Campaign, typed: str | None) -> None:
    """--expire-after, checked against the time the sending takes (a refusal creates nothing)."""
    if typed is None:
        return
    after = expiry.parse_span(typed)
    if after is None:
        raise CommandError(f"--expire-after: {typed!r} is no span; write it like 6h or 90min")
    await session.flush()
    view = await campaign_view(session, campaign.id)
    assert view is not None
    try:
        expiry.check_expiry(after, sending_takes=view.audience.duration)
    except expiry.ExpiryError as error:
        raise CommandError(f"--expire-after: {error}; nothing was created") from None
    campaign.expire_after_s = int(after.total_seconds())


def _wording_of(args: argparse.Namespace) -> tuple[str, tuple[dict[str, object], ...]]:
    """The text (or caption) and its entities from --text or --html; Telegram's error for bad HTML.

    Placeholders stay in the parsed text: they are filled per recipient after the markup is read,
    so a name is never read as markup.
    """
    html: str | None = getattr(args, "html", None)
    if html is None:
        return args.text or "", ()
    try:
        text, entities = parse_html(html)
    except MarkupError as exc:
        raise CommandError(f"--html: {exc}; nothing was created") from None
    return text, tuple(entities)


def _message_of(args: argparse.Namespace) -> tuple[MessageContent, str | None, bytes | None]:
    """The message from --text / --file / --forward, checked before anything is uploaded: its
    content (a placeholder file id with --file), the media kind and the file's bytes."""
    if args.copy and args.forward is None:
        raise CommandError("--copy goes with --forward")
    if args.forward is not None:
        return _channel_post_of(args), None, None
    text, entities = _wording_of(args)
    if args.file is None and args.text is None and getattr(args, "html", None) is None:
        raise CommandError(
            "give the message with --text, or a photo, video or file with --file "
            "(--html: the text in Telegram's HTML)"
        )
    if args.kind is not None and args.file is None:
        raise CommandError("--kind goes with --file")
    kind = _kind_of(args.file, args.kind) if args.file is not None else None
    try:
        # With a file, the text is its caption.
        content = MessageContent(
            text=text,
            entities=entities,
            media=Media(kind, "unsent") if kind else None,
            buttons=parse_button_rows(args.buttons) if args.buttons else Buttons(),
        )
        personalise(content.to_json())  # placeholders checked here, applied when it is stored
    except (ContentError, ButtonsError, GreetingError) as exc:
        raise CommandError(str(exc)) from None
    data = _read_file(args.file) if args.file is not None else None
    return content, kind, data


def _album_of(args: argparse.Namespace) -> tuple[MessageContent, list[tuple[Path, str, bytes]]]:
    """The album from --album (and --text, the first item's caption), checked before anything is
    uploaded: its content (placeholder file ids) and each file's path, kind and bytes."""
    paths: list[Path] = args.album
    if args.file is not None or args.kind is not None:
        raise CommandError("--album goes without --file and --kind")
    if bool(args.buttons) != bool(args.follow_up):
        raise CommandError(
            "--album with --button needs --follow-up TEXT (and --follow-up needs --button): Telegram "
            "allows no buttons on an album, so they go in a message right after it"
        )
    kinds = [_kind_of(path, None) for path in paths]
    caption, entities = _wording_of(args)
    try:
        content = MessageContent(
            args.follow_up or "",
            album=tuple(
                AlbumItem(Media(kind, "unsent"), caption, entities)
                if index == 0
                else AlbumItem(Media(kind, "unsent"))
                for index, kind in enumerate(kinds)
            ),
            buttons=parse_button_rows(args.buttons) if args.buttons else Buttons(),
        )
        personalise(content.to_json())  # placeholders are checked before anything is uploaded
    except (ContentError, ButtonsError, GreetingError) as exc:
        raise CommandError(f"--album: {exc}") from None
    return content, [
        (path, kind, _read_file(path, "--album")) for path, kind in zip(paths, kinds, strict=True)
    ]


async def _bots_and_admins(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, codenames: list[str]
) -> tuple[list[TargetBot], list[int]]:
    """The target bots named on the command line (in their order), and the admins a file can be
    uploaded to."""
    if len(set(codenames)) != len(codenames):
        raise CommandError("a --bot is given twice: name each bot once, in the order you prefer")
    bots = []
    async with sessionmaker() as session:
        for codename in codenames:
            bot = await campaigns.get_bot_by_codename(session, codename)
            if bot is None:
                raise CommandError(f"there is no target bot {codename!r}; see `broadcast bots list`")
            bots.append(bot)
        admins = [*settings.admin_ids, *(a.user_id for a in await list_admins(session))]
    return bots, admins


async def _store(
    sessionmaker: async_sessionmaker[AsyncSession],
    bot_ids: list[int],
    message: MessageContent,
    args: argparse.Namespace,
) -> str:
    """Create the draft (marked personalised when it greets by name), scheduled if asked: one
    per bot, a group when there are several (`panel.groups`); what to print (its id, or each
    sibling's id and bot)."""
    async with sessionmaker.begin() as session:
        audience_filter = await resolve_expression(
            session, getattr(args, "segment", None), getattr(args, "where", None)
        )
        excluded = await resolve_expression(session, getattr(args, "exclude_segment", None), None)
        if excluded is not None:
            audience_filter = (
                f"({audience_filter}) and not ({excluded})" if audience_filter else f"not ({excluded})"
            )
        try:
            group = await groups.create_group(
                session, bot_ids=bot_ids, content=message, name=args.name, options=_send_options(args)
            )
            when = _parse_when(args.schedule) if args.schedule else None
            for campaign in group:
                if message.channel_post is None:  # a channel's post is sent as it is
                    campaign.content = personalise(campaign.content)
                campaign.audience_filter = audience_filter
                await audit.record(
                    session, CLI, AuditAction.CREATE, campaign_id=campaign.id, bot_id=campaign.bot_id
                )
                await _set_expiry(session, campaign, getattr(args, "expire_after", None))
                topic = getattr(args, "topic", None)
                if topic is not None or getattr(args, "unsubscribe_button", False):
                    try:
                        await topics.set_campaign_topic(
                            session, campaign, topic, unsubscribe_button=args.unsubscribe_button
                        )
                    except topics.TopicError as exc:
                        raise CommandError(f"--topic: {exc}; nothing was created") from None
                if when is not None:
                    await transitions.schedule(session, campaign.id, when)
                    details = {"for": when.isoformat(timespec="minutes")}
                    await audit.record(
                        session, CLI, AuditAction.SCHEDULE, campaign_id=campaign.id, details=details
                    )
        except CampaignError as exc:
            raise CommandError(str(exc)) from None
        if len(group) == 1:
            return str(group[0].id)
        codenames = dict(zip(bot_ids, args.bot, strict=True))
        return "\n".join(
            [texts.CLI_GROUP_CREATED.format(group_id=group[0].id, bots=len(group))]
            + [f"#{c.id} {codenames.get(c.bot_id, c.bot_id)}" for c in group]
        )


def _check_tracking(args: argparse.Namespace, settings: Settings) -> None:
    """`--track` needs the link service (tracked links)."""
    if args.track_links is True and settings.links_base_url is None:
        fail(texts.LINKS_TRACK_NEEDS_BASE_URL)


def _create(args: argparse.Namespace) -> int:
    if args.album is not None:
        return _create_album(args)
    if args.follow_up is not None:
        fail("--follow-up goes with --album (the message after the album that carries its buttons)")
    settings = settings_or_exit()
    _check_tracking(args, settings)
    try:
        content, kind, data = _message_of(args)
    except CommandError as exc:
        fail(str(exc))

    async def go() -> str:
        message = content
        async with database(settings) as (_, sessionmaker):
            bots, admins = await _bots_and_admins(sessionmaker, settings, args.bot)
            if content.channel_post is not None:
                for bot in bots:  # every bot of a group forwards the post with its own token
                    await _check_channel_readable(
                        settings, open_token(settings, bot.sealed_token), content.channel_post, bot.codename
                    )
            if kind is not None and data is not None:
                if not admins:
                    raise CommandError(
                        "--file needs an admin to upload to: set ADMIN_IDS or `broadcast admins add`"
                    )
                # No transaction is open across the upload.
                media = await _upload_through_control_bot(settings, args.file.name, data, kind, admins[0])
                message = MessageContent(
                    text=content.text, entities=content.entities, media=media, buttons=content.buttons
                )
            return await _store(sessionmaker, [bot.id for bot in bots], message, args)

    print(run(go))
    return 0


def _create_album(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    _check_tracking(args, settings)
    try:
        content, files = _album_of(args)
    except CommandError as exc:
        fail(str(exc))

    async def go() -> str:
        async with database(settings) as (_, sessionmaker):
            bots, admins = await _bots_and_admins(sessionmaker, settings, args.bot)
            if not admins:
                raise CommandError(
                    "--album needs an admin to upload to: set ADMIN_IDS or `broadcast admins add`"
                )
            # One upload per file, no transaction open across them.
            items = []
            for item, (path, kind, data) in zip(content.album, files, strict=True):
                media = await _upload_through_control_bot(settings, path.name, data, kind, admins[0])
                items.append(AlbumItem(media, item.caption, item.entities))
            message = MessageContent(content.text, album=tuple(items), buttons=content.buttons)
            return await _store(sessionmaker, [bot.id for bot in bots], message, args)

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
            async with database(settings) as (_, sessionmaker):
                async with sessionmaker() as session:
                    campaign = await _require(session, args.id)
                if action == "send":
                    # A start claimed by an earlier call is requested already, unless the
                    # campaign has moved on (sending, finished): that gets the refusal below.
                    outcome = await actions.start(
                        sessionmaker, pool, args.id, queue_name=settings.queue_name, actor=CLI
                    )
                    if outcome is actions.StartOutcome.NEEDS_APPROVAL:
                        raise CommandError(
                            f"campaign #{args.id} needs a second admin's approval before it is sent:"
                            " ask for it in the chat (/sendnow) or with"
                            f" `broadcast campaigns ask-approval {args.id}`"
                        )
                    changed = outcome is actions.StartOutcome.STARTED or (
                        outcome is actions.StartOutcome.ALREADY_CLAIMED and actions.can_start(campaign.status)
                    )
                elif action == "pause":
                    changed = await actions.pause(sessionmaker, args.id, actor=CLI)
                elif action == "resume":
                    changed = await actions.resume(
                        sessionmaker, pool, args.id, queue_name=settings.queue_name, actor=CLI
                    )
                else:
                    changed = await actions.cancel(
                        sessionmaker, pool, args.id, queue_name=settings.queue_name, actor=CLI
                    )
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
        **counters.as_dict(),
        "rate_per_s": round(rate, 2) if rate is not None else None,
        "eta_s": int(left.total_seconds()) if left is not None else None,
        "scheduled_at": campaign.scheduled_at.isoformat() if campaign.scheduled_at else None,
        "started_at": campaign.started_at.isoformat() if campaign.started_at else None,
        "completed_at": campaign.completed_at.isoformat() if campaign.completed_at else None,
        "options": SendOptions.from_json(campaign.send_options).to_json(),
        "audience_filter": campaign.audience_filter,
        "pinned": campaign.pinned_count,
        "expire_after_s": campaign.expire_after_s,
        "expiry_started_at": campaign.expiry_started_at.isoformat() if campaign.expiry_started_at else None,
        "buttons": Buttons.from_json(campaign.content.get("buttons")).inline_keyboard(),
        # The message as stored (text, entities, media, album, post); the target bots' own file
        # ids are the engine's bookkeeping.
        "content": {key: value for key, value in campaign.content.items() if not key.startswith("target_")},
    }


async def _outage_report(
    settings: Settings, session: AsyncSession, campaign: Campaign
) -> dict[str, str | None] | None:
    """While a campaign sends: since when Telegram can't be reached through its bot's route
    (or, after it came back, from when to when), as the progress message says; else None."""
    if campaign.status is not CampaignStatus.SENDING:
        return None
    bot = await session.get(TargetBot, campaign.bot_id)
    if bot is None:
        return None
    pool = await connect(settings.redis_url)
    try:
        outage = await RouteWatch(pool, RedisKeys(settings.queue_name)).last_outage(
            open_token(settings, bot.sealed_token)
        )
    finally:
        await pool.aclose()
    if outage is None or (
        outage.until is not None and campaign.started_at and outage.until < campaign.started_at
    ):
        return None
    return {
        "since": outage.since.isoformat(),
        "until": outage.until.isoformat() if outage.until is not None else None,
    }


def _status(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> dict[str, object]:
        async with database(settings) as (_, sessionmaker), sessionmaker() as session:
            campaign = await _require(session, args.id)
            report = status_report(campaign)
            # Tracked links: whether this campaign's links go through the link service, and its clicks.
            report["track_links"] = tracking_on(campaign.track_links, settings) and has_links(
                campaign.content
            )
            report["clicks"] = (await click_stats(session, args.id)).to_json()
            rate = await block_rate(session, campaign)
            report["block_rate"] = None if rate is None else rate.to_json()
            report["recall"] = await after_send_commands.recall_report(session, args.id)
            report.update(await after_send_commands.family_report(session, args.id))
            report["edits"] = await sent_edits_commands.edits_report(session, args.id)
            report["telegram_unreachable"] = await _outage_report(settings, session, campaign)
            # A campaign of a group (`panel.groups`): its siblings, each bot's share.
            report["group_id"] = campaign.group_id
            report["group"] = [
                {"id": c.id, "bot_id": c.bot_id, "status": c.status.value, **Counters.of(c).as_dict()}
                for c in (await groups.siblings(session, args.id) if campaign.group_id else [])
            ]
            report["group_lines"] = list(await groups.group_lines(session, campaign))
            report["topic"] = campaign.topic
            report["unsubscribe_button"] = campaign.unsubscribe_button
            figures = await abtest.ab_figures(session, campaign)  # A/B tests (issue 17)
            report["ab_test"] = None if figures is None else figures.to_json()
            report["held_out"] = campaign.held_out_count
            report["ab_lines"] = abtest.render_figures(figures)
            return report

    report = run(go)
    ab_lines = report.pop("ab_lines", None)
    if args.json:
        print(json.dumps(report))
        return 0
    lines = [
        f"campaign #{report['id']}{' ' + str(report['name']) if report['name'] else ''}: {report['status']}"
    ]
    group_lines = report["group_lines"]
    if isinstance(group_lines, list):
        lines.extend(str(line) for line in group_lines)
    if report["topic"]:
        button = " · with an unsubscribe button" if report["unsubscribe_button"] else ""
        lines.append(f"topic: {report['topic']}{button}")
    if report["reason"]:
        lines.append(f"reason: {report['reason']}")
    outage = report["telegram_unreachable"]
    if isinstance(outage, dict):
        since = datetime.fromisoformat(str(outage["since"])).strftime(texts.UNREACHABLE_TIME_FORMAT)
        if outage["until"] is None:
            lines.append(texts.PROGRESS_UNREACHABLE.format(since=since))
        else:
            until = datetime.fromisoformat(str(outage["until"])).strftime(texts.UNREACHABLE_TIME_FORMAT)
            lines.append(texts.PROGRESS_UNREACHABLE_OVER.format(since=since, until=until))
    lines.append(
        "sent {sent} · failed {failed} · unavailable {unavailable} · unconfirmed {unconfirmed} · "
        "cancelled {cancelled} · remaining {remaining} of {total}".format(**report)
    )
    if report["rate_per_s"] is not None:
        eta_s = report["eta_s"]
        eta_text = f", ETA {texts.duration(timedelta(seconds=int(eta_s)))}" if isinstance(eta_s, int) else ""
        lines.append(f"rate {report['rate_per_s']}/s{eta_text}")
    options = report["options"]
    pinned = report["pinned"]
    if isinstance(options, dict) and isinstance(pinned, int):
        options_line = _options_line(SendOptions.from_json(options), pinned)
        if options_line is not None:
            lines.append(options_line)
    if report["track_links"]:
        lines.append("links: tracked (LINKS_BASE_URL)")
    clicks = report["clicks"]
    if isinstance(clicks, dict) and clicks["links"]:
        lines.append(f"clicks: {clicks['unique']:,} people · {clicks['total']:,} opens")
        lines.extend(
            f"  {link['label'] or link['url']}: {link['unique']:,} people · {link['total']:,} opens"
            for link in clicks["links"]
        )
    blocks = report.get("block_rate")
    if isinstance(blocks, dict):
        baseline = blocks["baseline"]
        lines.append(
            f"blocked within 72 h: {blocks['blocked']:,} of {blocks['recipients']:,}"
            + ("" if baseline is None else f" · the bot's other users: {float(str(baseline)) * 100:.2f}%")
        )
    if isinstance(ab_lines, str):
        lines.append(ab_lines)
    retries = report.get("retries")
    if report.get("parent_id") is not None:
        lines.append(f"retry of #{report['parent_id']}")
    if isinstance(retries, list) and retries:
        children = ", ".join(f"#{child}" for child in retries)
        lines.append(f"retried as {children} · reached together {report['combined_sent']}")
    recall = report["recall"]
    if isinstance(recall, dict):
        lines.append(
            "recall {status}: deleted {deleted} · already gone {gone} · too old {too_old} · "
            "unavailable {unavailable} · failed {failed} · cancelled {cancelled} · pending {pending}".format(
                **recall
            )
        )
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
