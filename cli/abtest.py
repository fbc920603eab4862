"""`broadcast campaigns ab` and `ab-winner`: make a draft an A/B test, pick a test's winner."""

from __future__ import annotations

import argparse
from typing import Any

from cli.common import CommandError, database, run, settings_or_exit
from panel import abtest, actions, campaigns, texts
from panel.audit import CLI
from panel.buttons import Buttons, ButtonsError, parse_button_rows
from panel.content import ContentError, MessageContent
from panel.queue import connect


def register(commands: argparse._SubParsersAction) -> None:
    """The `ab` and `ab-winner` subcommands of `broadcast campaigns`."""
    ab = commands.add_parser(
        "ab",
        help="make a draft an A/B test: variant A is its message, each --variant-text adds B, C, D",
    )
    ab.add_argument("id", type=int, help="campaign id (a draft)")
    ab.add_argument(
        "--variant-text",
        dest="variant_texts",
        action="append",
        required=True,
        metavar="TEXT",
        help="the text of variant B (repeat for C and D)",
    )
    ab.add_argument(
        "--variant-button",
        dest="variant_buttons",
        action="append",
        default=[],
        metavar='B:"LABEL - URL | LABEL - URL"',
        help="a row of URL buttons of one variant, prefixed with its letter (repeat for more rows)",
    )
    ab.add_argument(
        "--split", required=True, metavar="A,B,...,HOLDOUT", help="percents of each variant, then the holdout"
    )
    ab.add_argument("--window", required=True, help="how long the test runs before the winner goes out: 2h")
    ab.add_argument(
        "--measure",
        choices=[measure.value for measure in abtest.Measure],
        default=abtest.Measure.CLICKS.value,
        help="what wins: clicks (unique click rate) or clicks-minus-blocks",
    )
    ab.set_defaults(handler=_ab)
    winner = commands.add_parser("ab-winner", help="pick an A/B test's winner now: the rest gets it")
    winner.add_argument("id", type=int, help="campaign id (sending or paused)")
    winner.add_argument("label", help="the winning variant: A, B, C or D")
    winner.set_defaults(handler=_ab_winner)


def _variant_contents(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: dict[str, list[str]] = {}
    for typed in args.variant_buttons:
        label, _, grid = str(typed).partition(":")
        label = label.strip().upper()
        if label not in abtest.LABELS[1 : len(args.variant_texts) + 1] or not grid.strip():
            raise CommandError(
                f'--variant-button {typed!r}: start it with the variant\'s letter, like B:"Shop - https://…"'
            )
        rows.setdefault(label, []).append(grid)
    contents = []
    for label, text in zip(abtest.LABELS[1:], args.variant_texts, strict=False):
        try:
            buttons = parse_button_rows(rows[label]) if label in rows else Buttons()
            contents.append(MessageContent(text=text, buttons=buttons).to_json())
        except (ButtonsError, ContentError) as exc:
            raise CommandError(f"variant {label}: {exc}") from None
    return contents


def _ab(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    if len(args.variant_texts) > len(abtest.LABELS) - 1:
        raise SystemExit(f"broadcast: {texts.AB_SPLIT_COUNT}")

    async def go() -> str:
        try:
            contents = _variant_contents(args)
            split = abtest.parse_split(args.split, len(contents) + 1)
            window = abtest.parse_window(args.window)
        except abtest.AbTestError as exc:
            raise CommandError(f"{exc}; nothing was changed") from None
        measure = abtest.Measure(args.measure)
        async with database(settings) as (_, sessionmaker):
            try:
                changed = await actions.set_ab_test(
                    sessionmaker,
                    args.id,
                    contents=contents,
                    split=split,
                    window=window,
                    measure=measure,
                    actor=CLI,
                )
            except abtest.AbTestError as exc:
                raise CommandError(f"{exc}; nothing was changed") from None
            if not changed:
                async with sessionmaker() as session:
                    if await campaigns.get_campaign(session, args.id) is None:
                        raise CommandError(f"there is no campaign #{args.id}")
                raise CommandError(texts.AB_NOT_A_DRAFT.format(campaign_id=args.id))
        return texts.AB_SET.format(
            campaign_id=args.id,
            split=" · ".join(
                f"{label} {share}%" for label, share in zip(split.labels, split.shares, strict=True)
            ),
            holdout=split.holdout,
            window=texts.duration(window),
            measure=texts.AB_MEASURES[measure.value],
        )

    print(run(go))
    return 0


def _ab_winner(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> str:
        pool = await connect(settings.redis_url)
        try:
            async with database(settings) as (_, sessionmaker):
                try:
                    released = await actions.pick_ab_winner(
                        sessionmaker, pool, args.id, args.label, queue_name=settings.queue_name, actor=CLI
                    )
                except abtest.AbTestError as exc:
                    raise CommandError(str(exc)) from None
        finally:
            await pool.aclose()
        if released is None:
            raise CommandError(texts.AB_WINNER_REFUSED.format(campaign_id=args.id))
        return texts.AB_WINNER_SET.format(
            label=args.label.strip().upper(), campaign_id=args.id, released=texts.number(released)
        )

    print(run(go))
    return 0
