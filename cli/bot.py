"""`broadcast bot`: run the control bot, the admins' chat interface (long polling)."""

from __future__ import annotations

import argparse
import logging

from bot.app import run_bot
from cli.common import fail, run, settings_or_exit
from panel import metrics
from panel.settings import SettingsError, mask_token


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `bot`."""
    parser = subparsers.add_parser(
        "bot",
        help="run the control bot",
        description=(
            "Run the control bot that admins use to compose, send, schedule and watch campaigns. "
            "Needs BOT_TOKEN and at least one admin (ADMIN_IDS or `broadcast admins add`)."
        ),
    )
    parser.set_defaults(handler=_bot)


def _bot(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    try:
        token = settings.require_bot_token()
        settings.require_secret_keys()
    except SettingsError as exc:
        fail(f"configuration error: {exc}", code=2)
    logging.getLogger("broadcast.bot").info(
        "control bot %s starting against %s", mask_token(token), settings.telegram_api_url
    )
    metrics.serve(settings.metrics_port)
    run(lambda: run_bot(settings))
    return 0
