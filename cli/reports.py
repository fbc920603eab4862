"""`broadcast campaigns export|report`: a campaign's delivery ledger as CSV, its report chart as PNG.

Registered under `campaigns` (after `cli.campaigns` has added it): these read the ledger out,
they do not change a campaign, so they live apart from the commands that do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path
from typing import TextIO

from cli.common import CommandError, database, run, settings_or_exit
from panel.campaigns import CampaignError
from panel.exports import export_csv, exportable_campaign, outcome_series, report_summary
from panel.report_chart import draw_report_chart


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `campaigns export` and `campaigns report` to the `campaigns` command."""
    campaigns = subparsers.choices["campaigns"]
    commands = next(action for action in campaigns._actions if isinstance(action, argparse._SubParsersAction))
    export = commands.add_parser(
        "export",
        help="write a campaign's delivery ledger as CSV (one row per recipient)",
        description="Write the delivery ledger of campaign ID as CSV: chat id, status, error code, error, "
        "attempts, finished time (ISO 8601 UTC), Telegram message id(s), A/B test variant, clicked (0/1). "
        "Streams: a million rows take "
        "no more memory than a hundred.",
    )
    export.add_argument("id", type=int)
    export.add_argument(
        "--csv", required=True, type=Path, metavar="FILE", help="where to write it; - for stdout"
    )
    export.set_defaults(handler=_export)
    report = commands.add_parser(
        "report",
        help="write a campaign's report chart (PNG) and print its summary",
        description="Draw the report chart of campaign ID (messages per second over time, stacked by "
        "outcome) into a PNG file, and print the campaign's summary.",
    )
    report.add_argument("id", type=int)
    report.add_argument("--png", required=True, type=Path, metavar="FILE", help="where to write the chart")
    report.set_defaults(handler=_report)


def _export(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    to_stdout = str(args.csv) == "-"

    async def go() -> int:
        async with database(settings) as (_, sessionmaker), sessionmaker() as session:
            try:
                campaign = await exportable_campaign(session, args.id)
            except CampaignError as exc:
                raise CommandError(str(exc)) from None
            out = sys.stdout if to_stdout else _open_csv(args.csv)
            try:
                async for chunk in export_csv(session, args.id):
                    out.write(chunk)
            except BaseException:
                if not to_stdout:
                    out.close()
                    args.csv.unlink(missing_ok=True)  # no half a ledger left behind
                raise
            if not to_stdout:
                out.close()
            return campaign.total_recipients

    rows = run(go)
    if not to_stdout:
        print(f"campaign #{args.id}: {rows} rows written to {args.csv}")
    return 0


def _open_csv(path: Path) -> TextIO:
    try:
        # newline="": the csv module writes its own line ends (and newlines inside quoted fields).
        return path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None


def _report(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> str:
        async with database(settings) as (_, sessionmaker), sessionmaker() as session:
            try:
                campaign = await exportable_campaign(session, args.id)
            except CampaignError as exc:
                raise CommandError(str(exc)) from None
            series = await outcome_series(session, campaign)
            summary = await report_summary(session, campaign)
        png = await asyncio.to_thread(draw_report_chart, series)
        try:
            args.png.write_bytes(png)
        except OSError as exc:
            with contextlib.suppress(OSError):
                args.png.unlink(missing_ok=True)
            raise CommandError(f"cannot write {args.png}: {exc.strerror}") from None
        return summary

    print(run(go))
    print(f"chart written to {args.png}")
    return 0
