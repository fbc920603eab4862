"""`broadcast secrets`: the key target bot tokens are encrypted under (SECRET_KEY)."""

from __future__ import annotations

import argparse

from cli.common import CommandError, database, run, settings_or_exit
from panel import audit
from panel.audit import CLI, AuditAction
from panel.bots import rotate_tokens
from panel.secrets import TokenError, generate_key, token_box


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `secrets generate` and `secrets rotate`."""
    parser = subparsers.add_parser(
        "secrets",
        help="the key that encrypts bot tokens",
        description=(
            "Target bot tokens are stored encrypted under SECRET_KEY. To change the key: put a new one"
            " first (SECRET_KEY=NEW,OLD), run `broadcast secrets rotate`, then drop the old one."
        ),
    )
    commands = parser.add_subparsers(dest="secrets_command", required=True, metavar="COMMAND")
    generate = commands.add_parser("generate", help="print a new random key for SECRET_KEY")
    generate.set_defaults(handler=_generate)
    rotate = commands.add_parser("rotate", help="re-encrypt every stored token under SECRET_KEY's first key")
    rotate.set_defaults(handler=_rotate)


def _generate(args: argparse.Namespace) -> int:
    print(generate_key())
    return 0


def _rotate(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def go() -> str:
        box = token_box(settings)
        try:
            async with database(settings) as (_, sessionmaker), sessionmaker.begin() as session:
                done = await rotate_tokens(session, box)
                details = {"rotated": done.rotated, "tokens": done.total}
                await audit.record(session, CLI, AuditAction.ROTATE_KEYS, details=details)
        except TokenError as exc:
            raise CommandError(f"{exc}; nothing was changed") from None
        if done.rotated == 0:
            return f"all {done.total} tokens are already encrypted under the first key"
        return f"re-encrypted {done.rotated} of {done.total} tokens under the first key"

    print(run(go))
    return 0
