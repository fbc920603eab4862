"""`broadcast campaigns ask-approval`, `approve` and `reject`: four-eyes approval from the server.

The CLI is one more party to the rule, never both: a request made here goes to the approvers in
the chat, and a request made in the chat may be decided here; one made here cannot be decided
here. The messages go out through the control bot (BOT_TOKEN), after the decision is committed.
"""

from __future__ import annotations

import argparse

from aiogram import Bot

from bot.aiogram_bot import make_bot
from bot.approval_notices import send_requests, tell_asker, who
from cli.common import CommandError, database, run, settings_or_exit
from panel import approval, i18n
from panel.admins import language_of, languages_of
from panel.approval import ApprovalError, ApprovalState
from panel.audience import CampaignView, campaign_view
from panel.audit import CLI
from panel.settings import Settings


def register(commands: argparse._SubParsersAction) -> None:
    """The approval subcommands of `broadcast campaigns`."""
    ask = commands.add_parser(
        "ask-approval",
        help="ask the admins who may send for its bot to approve a campaign (they get it in the chat)",
    )
    ask.add_argument("id", type=int, help="campaign id")
    ask.set_defaults(handler=_ask)
    approve = commands.add_parser(
        "approve", help="approve a campaign an admin asked approval for in the chat (the asker is told)"
    )
    approve.add_argument("id", type=int, help="campaign id")
    approve.set_defaults(handler=_approve)
    reject = commands.add_parser("reject", help="reject a campaign's request for approval, with a reason")
    reject.add_argument("id", type=int, help="campaign id")
    reject.add_argument("--reason", required=True, help="why (the asker is told)")
    reject.set_defaults(handler=_reject)


def _control_bot(settings: Settings) -> Bot:
    return make_bot(settings.require_bot_token(), api_url=settings.telegram_api_url)


def _ask(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    settings.require_bot_token()  # the request travels through the control bot: refuse before asking

    async def go() -> str:
        async with database(settings) as (_, sessionmaker), sessionmaker.begin() as session:
            view: CampaignView | None = await campaign_view(session, args.id)
            if view is None:
                raise CommandError(f"there is no campaign #{args.id}")
            need = await approval.need_of(session, view.campaign)
            if not need.required:
                raise CommandError(
                    f"campaign #{args.id} needs no approval ({need.audience:,} users, its bot asks "
                    f"for approval from {need.threshold:,}): send it with `broadcast campaigns send "
                    f"{args.id}`"
                    if need.threshold > 0
                    else f"campaign #{args.id} needs no approval: its bot asks for none"
                )
            if need.state is ApprovalState.PENDING:
                raise CommandError(f"campaign #{args.id} is waiting for approval already")
            if need.approved:
                raise CommandError(f"campaign #{args.id} is approved already: send it")
            deciders = await approval.approvers(session, view.campaign, settings.admin_ids, asker=None)
            if not deciders:
                raise CommandError(f"nobody may approve campaign #{args.id}: no admin may send for its bot")
            await approval.request(session, args.id, CLI)
            languages = await languages_of(session, deciders)
        bot = _control_bot(settings)
        try:
            reached = await send_requests(
                bot, view, deciders, asker=None, timezone=settings.timezone, languages=languages
            )
        finally:
            await bot.session.close()
        if not reached:
            return (
                f"campaign #{args.id}: approval asked, but no approver could be messaged "
                f"({', '.join(map(str, deciders))} never started the control bot?)"
            )
        return f"campaign #{args.id}: approval asked; {', '.join(map(str, reached))} can decide in the chat"

    print(run(go))
    return 0


def _decide(args: argparse.Namespace, *, approve: bool) -> int:
    settings = settings_or_exit()
    reason = None if approve else args.reason.strip()
    if not approve and not reason:
        raise SystemExit("broadcast: --reason is empty: the asker is told why, say it")

    async def go() -> str:
        async with database(settings) as (_, sessionmaker):
            try:
                async with sessionmaker.begin() as session:
                    campaign = await approval.decide(session, args.id, CLI, approve=approve, note=reason)
                    asker = campaign.approval_requested_by
                    language = await language_of(session, asker) if asker is not None else i18n.ENGLISH
            except ApprovalError as error:
                raise CommandError(str(error)) from None
        verdict = "approved" if approve else "rejected"
        told = False
        if asker is not None and settings.bot_token is not None:
            bot = _control_bot(settings)
            try:
                told = await tell_asker(
                    bot, asker, args.id, approver=None, rejected_because=reason, language=language
                )
            finally:
                await bot.session.close()
        if told:
            return f"campaign #{args.id} {verdict}; {who(asker)} was told in the chat"
        return f"campaign #{args.id} {verdict}; {who(asker)} could not be told in the chat (no BOT_TOKEN?)"

    print(run(go))
    return 0


def _approve(args: argparse.Namespace) -> int:
    return _decide(args, approve=True)


def _reject(args: argparse.Namespace) -> int:
    return _decide(args, approve=False)
