"""`broadcast campaigns recall` and `retry`: after the send, delete the message everywhere, or send it
again to exactly the recipients whose send failed."""

from __future__ import annotations

import argparse

from sqlalchemy.ext.asyncio import AsyncSession

from cli.common import CommandError, database, run, settings_or_exit
from models import ActionStatus
from panel import after_send, campaigns
from panel.after_send import RecallOutcome, RetryOutcome
from panel.audit import CLI
from panel.queue import connect


def register(commands: argparse._SubParsersAction) -> None:
    """The after-send subcommands of `broadcast campaigns`."""
    recall = commands.add_parser(
        "recall",
        help="delete a campaign's message from every chat it reached (within Telegram's 48 hours)",
    )
    recall.add_argument("id", type=int, help="campaign id")
    recall.add_argument(
        "--yes", action="store_true", help="recall now (without it: only say what it would do)"
    )
    control = recall.add_mutually_exclusive_group()
    control.add_argument("--pause", action="store_true", help="pause the campaign's running recall")
    control.add_argument("--resume", action="store_true", help="resume its paused recall")
    control.add_argument(
        "--stop", action="store_true", help="stop its recall (what is not deleted yet stays)"
    )
    recall.set_defaults(handler=_recall)
    retry = commands.add_parser(
        "retry",
        help="send a finished campaign again, as a new campaign, to the recipients whose send failed "
        "on a temporary error (5xx, timeout, network)",
    )
    retry.add_argument("id", type=int, help="campaign id")
    retry.add_argument(
        "--include-unconfirmed",
        action="store_true",
        help="also the unconfirmed recipients (their send timed out: they may get it twice)",
    )
    retry.set_defaults(handler=_retry)


async def recall_report(session: AsyncSession, campaign_id: int) -> dict[str, object] | None:
    """The campaign's latest recall with its counts (for `status --json`), None without one."""
    action = await after_send.latest_recall(session, campaign_id)
    if action is None:
        return None
    counts = await after_send.recall_counts(session, action.id)
    return {"id": action.id, "status": action.status.value, **counts.to_json()}


async def family_report(session: AsyncSession, campaign_id: int) -> dict[str, object]:
    """The campaign's parent and retries, and their combined reach (for `status --json`)."""
    family = await after_send.campaign_family(session, campaign_id)
    if family is None:
        return {}
    return {
        "parent_id": family.parent_id,
        "retries": list(family.children),
        "combined_sent": family.combined_sent,
    }


def _retry(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> str:
        async with database(settings) as (_, sessionmaker):
            async with sessionmaker() as session:
                preview = await after_send.retry_preview(session, args.id)
            if preview is None:
                raise CommandError(f"there is no campaign #{args.id}")
            pool = await connect(settings.redis_url)
            try:
                outcome, child_id = await after_send.retry_failed(
                    sessionmaker,
                    pool,
                    args.id,
                    queue_name=settings.queue_name,
                    actor=CLI,
                    include_unconfirmed=args.include_unconfirmed,
                )
            finally:
                await pool.aclose()
        count = preview.retryable + (preview.unconfirmed if args.include_unconfirmed else 0)
        if outcome is RetryOutcome.STARTED:
            lines = [f"campaign #{args.id}: retry #{child_id} sending to {count} recipients"]
            if preview.unconfirmed and not args.include_unconfirmed:
                lines.append(
                    f"{preview.unconfirmed} unconfirmed left out (they may have it): --include-unconfirmed "
                    "would send to them too"
                )
            return "\n".join(lines)
        if outcome is RetryOutcome.NOTHING_TO_RETRY and preview.unconfirmed:
            raise CommandError(
                f"campaign #{args.id} has no failed recipient to retry; {preview.unconfirmed} are "
                "unconfirmed (they may have it): --include-unconfirmed sends to them"
            )
        refusals = {
            RetryOutcome.NOT_FINISHED: (
                f"campaign #{args.id} is not finished: retry its failed recipients once it is"
            ),
            RetryOutcome.NOTHING_TO_RETRY: f"campaign #{args.id} has no failed recipient to retry",
            RetryOutcome.ALREADY_RETRIED: (
                f"campaign #{args.id} was retried already as #{child_id}: retry from that one"
            ),
            RetryOutcome.MISSING: f"there is no campaign #{args.id}",
        }
        raise CommandError(refusals[outcome])

    print(run(go))
    return 0


def _recall(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> str:
        async with database(settings) as (_, sessionmaker):
            async with sessionmaker() as session:
                if await campaigns.get_campaign(session, args.id) is None:
                    raise CommandError(f"there is no campaign #{args.id}")
                preview = await after_send.recall_preview(session, args.id)
                previous = await after_send.latest_recall(session, args.id)
            assert preview is not None
            if args.stop:
                if previous is None or not await after_send.cancel_recall(sessionmaker, previous.id):
                    raise CommandError(f"campaign #{args.id} has no running recall to stop")
                return f"campaign #{args.id}: recall stopped (messages not deleted yet stay)"
            if args.pause:
                if previous is None or not await after_send.pause_recall(sessionmaker, previous.id):
                    raise CommandError(f"campaign #{args.id} has no running recall to pause")
                return f"campaign #{args.id}: recall paused"
            if args.resume:
                pool = await connect(settings.redis_url)
                try:
                    resumed = previous is not None and await after_send.resume_recall(
                        sessionmaker, pool, previous.id, queue_name=settings.queue_name
                    )
                finally:
                    await pool.aclose()
                if not resumed:
                    raise CommandError(f"campaign #{args.id} has no paused recall to resume")
                return f"campaign #{args.id}: recall resumed"
            if not args.yes:
                if previous is not None and previous.status is not ActionStatus.CANCELLED:
                    return f"campaign #{args.id}: recall {previous.status.value} already"
                return (
                    after_send.render_recall_confirmation(preview)
                    + "\nNothing done yet: run again with --yes to recall."
                )
            pool = await connect(settings.redis_url)
            try:
                outcome, action_id = await after_send.recall(
                    sessionmaker, pool, args.id, queue_name=settings.queue_name, actor=CLI
                )
            finally:
                await pool.aclose()
        if outcome is RecallOutcome.STARTED:
            return (
                f"campaign #{args.id}: recall #{action_id} started ({preview.recallable} chats, "
                f"{preview.too_old} too old to recall); follow it with `broadcast campaigns status {args.id}`"
            )
        refusals = {
            RecallOutcome.RUNNING: f"campaign #{args.id} is being recalled now",
            RecallOutcome.ALREADY_RECALLED: f"campaign #{args.id} was already recalled",
            RecallOutcome.NOTHING_SENT: f"campaign #{args.id} has no delivered message to recall",
            RecallOutcome.ALL_TOO_OLD: (
                f"campaign #{args.id} reached every chat more than 48 hours ago: "
                "Telegram no longer lets a bot delete it"
            ),
            RecallOutcome.MISSING: f"there is no campaign #{args.id}",
        }
        raise CommandError(refusals[outcome])

    print(run(go))
    return 0
