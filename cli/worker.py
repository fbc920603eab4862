"""`broadcast worker`: run a sending worker (several may run at once, on any hosts)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from cli.common import fail, run, settings_or_exit
from jobs.worker import run_worker
from panel import metrics
from panel.settings import SettingsError, mask_token


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `worker`."""
    parser = subparsers.add_parser(
        "worker",
        help="run a sending worker",
        description="Run a worker that sends campaigns, starts scheduled ones and repairs after crashes.",
    )
    parser.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    parser.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    logger = logging.getLogger("broadcast.worker")
    try:
        settings.require_secret_keys()  # the workers open the target bots' tokens
    except SettingsError as exc:
        fail(f"configuration error: {exc}", code=2)
    token = settings.bot_token.get_secret_value() if settings.bot_token else None
    logger.info(
        "worker starting: queue %s, control bot %s",
        settings.queue_name,
        mask_token(token) if token else "none",
    )

    metrics.serve(settings.metrics_port)
    run(lambda: run_worker(settings, burst=bool(args.burst)), fast_loop=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run `worker` on its own (used by `python -m jobs`)."""
    parser = argparse.ArgumentParser(prog="broadcast worker")
    subparsers = parser.add_subparsers(dest="command")
    register(subparsers)
    args = parser.parse_args(["worker", *(argv or [])])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
