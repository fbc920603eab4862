"""`python -m jobs [--burst]`: run one worker with settings from the environment.

Self-contained (the workers never import the command line): the same settings, logging and
token redaction as `broadcast worker`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from jobs.engine import eventloop
from panel import logsafe
from panel.settings import SettingsError, load_settings, mask_token


def main(argv: Sequence[str] | None = None) -> int:
    """Run a worker until SIGTERM/SIGINT; 2 if the settings are wrong."""
    parser = argparse.ArgumentParser(
        prog="python -m jobs", description="Run a Broadcast Panel sending worker."
    )
    parser.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logsafe.install()
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    # Imported after the settings check: a wrong setting answers fast, without loading the engine.
    from jobs.worker import run_worker

    token = settings.bot_token.get_secret_value() if settings.bot_token else None
    logging.getLogger("jobs").info(
        "worker starting: queue %s, control bot %s",
        settings.queue_name,
        mask_token(token) if token else "none",
    )
    try:
        eventloop.run(run_worker(settings, burst=args.burst))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
