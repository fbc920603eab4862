"""`broadcast campaigns edit`: after the send, correct the message in every chat it reached (its
text or caption, formatting kept, and/or its buttons); recipients not reached yet get the new one."""

from __future__ import annotations

import argparse

from sqlalchemy.ext.asyncio import AsyncSession

from cli.common import CommandError, database, fail, run, settings_or_exit
from models import ActionKind
from panel import after_send, campaigns, sent_edits, texts
from panel.audit import CLI
from panel.buttons import Buttons, ButtonsError, parse_button_rows
from panel.html_markup import MarkupError, parse_html
from panel.queue import connect
from panel.sent_edits import EditOutcome


def register(commands: argparse._SubParsersAction) -> None:
    """The `edit` subcommand of `broadcast campaigns`."""
    edit = commands.add_parser(
        "edit",
        help="edit a campaign's sent messages everywhere (text or caption, buttons); "
        "recipients not reached yet get the new version",
    )
    edit.add_argument("id", type=int, help="campaign id")
    wording = edit.add_mutually_exclusive_group()
    wording.add_argument("--text", default=None, help="the corrected text (a caption for media and albums)")
    wording.add_argument(
        "--html", default=None, metavar="HTML", help="the corrected text in Telegram's HTML (as for create)"
    )
    buttons = edit.add_mutually_exclusive_group()
    buttons.add_argument(
        "--button",
        dest="buttons",
        action="append",
        default=[],
        metavar='"LABEL - URL | LABEL - URL"',
        help="a row of the new URL buttons (repeat for more rows); replaces every button",
    )
    buttons.add_argument("--no-buttons", action="store_true", help="remove the buttons")
    control = edit.add_mutually_exclusive_group()
    control.add_argument("--pause", action="store_true", help="pause the campaign's running edit")
    control.add_argument("--resume", action="store_true", help="resume its paused edit")
    control.add_argument("--stop", action="store_true", help="stop its edit (messages not edited yet stay)")
    edit.set_defaults(handler=_edit)


async def edits_report(session: AsyncSession, campaign_id: int) -> list[dict[str, object]]:
    """Every edit of the campaign with its counts, oldest first (for `status --json`)."""
    found: list[dict[str, object]] = []
    for entry in await sent_edits.content_history(session, campaign_id):
        if entry.action_id is None:
            continue
        action = await after_send.get_action(session, entry.action_id)
        if action is None or action.kind is not ActionKind.EDIT:
            continue
        counts = await after_send.recall_counts(session, action.id)
        found.append(
            {
                "id": action.id,
                "status": action.status.value,
                "by": action.created_by,
                "at": action.created_at.isoformat(),
                **sent_edits.counts_json(counts),
            }
        )
    return found


def _change_of(args: argparse.Namespace) -> tuple[str | None, list[dict[str, object]], Buttons | None]:
    text: str | None = args.text
    entities: list[dict[str, object]] = []
    if args.html is not None:
        try:
            text, entities = parse_html(args.html)
        except MarkupError as exc:
            raise CommandError(f"--html: {exc}; nothing was edited") from None
    buttons: Buttons | None = None
    if args.no_buttons:
        buttons = Buttons()
    elif args.buttons:
        try:
            buttons = parse_button_rows(args.buttons)
        except ButtonsError as exc:
            raise CommandError(f"--button: {exc}; nothing was edited") from None
    return text, entities, buttons


def _edit(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    controlling = args.pause or args.resume or args.stop
    if (
        not controlling
        and args.text is None
        and args.html is None
        and not args.buttons
        and not args.no_buttons
    ):
        fail("give the corrected message: --text, --html, --button or --no-buttons", code=2)
    text, entities, buttons = (None, [], None) if controlling else _change_of(args)

    async def go() -> str:
        async with database(settings) as (_, sessionmaker):
            async with sessionmaker() as session:
                if await campaigns.get_campaign(session, args.id) is None:
                    raise CommandError(f"there is no campaign #{args.id}")
                previous = await sent_edits.latest_edit(session, args.id)
            pool = await connect(settings.redis_url)
            try:
                if args.stop:
                    if previous is None or not await after_send.cancel_recall(sessionmaker, previous.id):
                        raise CommandError(f"campaign #{args.id} has no running edit to stop")
                    return f"campaign #{args.id}: edit stopped (messages not edited yet stay as they were)"
                if args.pause:
                    if previous is None or not await after_send.pause_recall(sessionmaker, previous.id):
                        raise CommandError(f"campaign #{args.id} has no running edit to pause")
                    return f"campaign #{args.id}: edit paused"
                if args.resume:
                    if previous is None or not await sent_edits.resume_edit(
                        sessionmaker, pool, previous.id, queue_name=settings.queue_name
                    ):
                        raise CommandError(f"campaign #{args.id} has no paused edit to resume")
                    return f"campaign #{args.id}: edit resumed"
                outcome, action_id, reason = await sent_edits.edit(
                    sessionmaker,
                    pool,
                    args.id,
                    queue_name=settings.queue_name,
                    text=text,
                    entities=entities,
                    buttons=buttons,
                    actor=CLI,
                )
            finally:
                await pool.aclose()
            async with sessionmaker() as session:
                preview = await sent_edits.edit_preview(session, args.id)
        if outcome is EditOutcome.STARTED and preview is not None:
            return (
                f"campaign #{args.id}: edit #{action_id} started ({preview.editable} sent messages, about "
                f"{preview.duration.total_seconds():.0f} s); "
                f"follow it with `broadcast campaigns status {args.id}`"
            )
        refusals = {
            EditOutcome.RUNNING: f"campaign #{args.id} is being edited now (edit #{action_id})",
            EditOutcome.NOTHING_SENT: f"campaign #{args.id} has no sent message to edit",
            EditOutcome.RECALLED: f"campaign #{args.id} was recalled: there is no message left to edit",
            EditOutcome.REFUSED: f"campaign #{args.id} can't be edited so: {reason}",
            EditOutcome.MISSING: f"there is no campaign #{args.id}",
            EditOutcome.AB_TEST: texts.EDIT_AB_TEST.format(campaign_id=args.id),
        }
        raise CommandError(refusals[outcome])

    print(run(go))
    return 0
