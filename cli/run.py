"""`broadcast run`: the control bot and one worker in one process, for small deployments."""

from __future__ import annotations

import argparse
import asyncio
import logging

from bot.app import run_bot
from cli.common import fail, run, settings_or_exit
from jobs.worker import close_worker, create_worker
from linktracker.serve import serve_links
from panel import metrics
from panel.settings import Settings, SettingsError, mask_token

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `run`."""
    parser = subparsers.add_parser(
        "run",
        help="run the control bot and a worker together",
        description=(
            "Run the control bot and one sending worker in one process: enough for one machine. "
            "For more throughput run `broadcast bot` once and `broadcast worker` as often as needed. "
            "With LINKS_BASE_URL set, the link service of tracked links runs too (LINKS_HOST:LINKS_PORT)."
        ),
    )
    parser.set_defaults(handler=_run)


async def run_all(settings: Settings) -> None:
    """Run the control bot and a worker until one of them stops; then stop the other."""
    worker = create_worker(settings, handle_signals=False)
    tasks = {
        asyncio.create_task(run_bot(settings), name="control-bot"),
        asyncio.create_task(worker.async_run(), name="worker"),
    }
    if settings.links_base_url is not None:
        tasks.add(asyncio.create_task(serve_links(settings), name="link-service"))
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # a part that failed ends the process with its error
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await close_worker(worker)


def _run(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    try:
        token = settings.require_bot_token()
        settings.require_secret_keys()
    except SettingsError as exc:
        fail(f"configuration error: {exc}", code=2)
    logger.info("control bot %s and a worker on queue %s", mask_token(token), settings.queue_name)
    metrics.serve(settings.metrics_port)
    run(lambda: run_all(settings))
    return 0
