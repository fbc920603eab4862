"""`broadcast sandbox serve`: run the Telegram Bot API simulator standalone on 127.0.0.1."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `sandbox` command (with `serve`) to the CLI."""
    sandbox = subparsers.add_parser("sandbox", help="local Telegram Bot API simulator")
    commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = commands.add_parser("serve", help="serve the Bot API simulator until interrupted")
    serve.add_argument(
        "--host", default="127.0.0.1", choices=["127.0.0.1"], help="bind address (loopback only)"
    )
    serve.add_argument("--port", type=int, default=8081, help="port (0 picks a free one)")
    serve.add_argument(
        "--bot",
        action="append",
        default=[],
        metavar="TOKEN:USERNAME",
        help="a bot to create, e.g. 123456:ABC...:my_bot (repeatable)",
    )
    serve.add_argument("--users", type=int, default=0, help="active users 1..N added to every bot")
    serve.add_argument("--seed", type=int, default=0, help="seed of the fault injector")
    serve.add_argument("--rate", type=int, default=30, help="messages per second per token")
    serve.add_argument("--paid-rate", type=int, default=1000, help="the same with allow_paid_broadcast")
    serve.add_argument("--paid", action="store_true", help="allow paid broadcast for every bot")
    serve.add_argument(
        "--retry-after", type=int, default=1, help="retry_after of flood-control 429s, seconds"
    )
    serve.add_argument("--chat-burst", type=float, default=5.0, help="messages one chat may get in a burst")
    serve.add_argument("--latency-ms", type=float, default=0.0, help="mean latency added to sends")
    serve.add_argument("--jitter-ms", type=float, default=0.0, help="latency jitter (uniform +-)")
    serve.add_argument("--error-share", type=float, default=0.0, help="share of sends answered 5xx")
    serve.add_argument("--hang-share", type=float, default=0.0, help="share of sends that hang")
    serve.add_argument("--hang-s", type=float, default=30.0, help="how long a hang lasts")
    serve.set_defaults(handler=run_serve)


def parse_bot(spec: str) -> tuple[str, str | None]:
    """`123:ABC:name` → (`123:ABC`, `name`); `123:ABC` → (`123:ABC`, None)."""
    parts = spec.split(":")
    if len(parts) >= 3:
        return ":".join(parts[:2]), parts[2] or None
    return spec, None


def run_serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM."""
    from tgsim.settings import FaultSettings, LimitSettings, SimSettings
    from tgsim.simulator import Simulator

    settings = SimSettings(
        host=args.host,
        port=args.port,
        seed=args.seed,
        limits=LimitSettings(
            global_rate=args.rate,
            paid_rate=args.paid_rate,
            retry_after_s=args.retry_after,
            chat_burst=args.chat_burst,
        ),
        faults=FaultSettings(
            latency_mean_s=args.latency_ms / 1000,
            latency_jitter_s=args.jitter_ms / 1000,
            server_error_share=args.error_share,
            hang_share=args.hang_share,
            hang_s=args.hang_s,
        ),
    )

    async def serve() -> None:
        async with Simulator(settings) as sim:
            for spec in args.bot:
                token, username = parse_bot(spec)
                sim.add_bot(token, username=username, paid_broadcast=args.paid)
                if args.users:
                    sim.add_users(token, range(1, args.users + 1))
            logger.info("simulator ready at %s with %d bot(s)", sim.base_url, len(args.bot))
            print(f"Bot API simulator at {sim.base_url} (Ctrl+C to stop)", flush=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(signum, stop.set)
            await stop.wait()

    asyncio.run(serve())
    return 0
