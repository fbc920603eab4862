"""`broadcast links serve`: the link service of tracked links (see README, "Tracked links")."""

from __future__ import annotations

import argparse

from cli.common import fail, run, settings_or_exit
from linktracker.serve import serve_links, tune_for_latency
from panel import metrics


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `links serve`."""
    parser = subparsers.add_parser("links", help="the tracked-links service")
    commands = parser.add_subparsers(dest="links_command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="answer tracked links: redirect at once, count the click",
        description=(
            "Serve LINKS_BASE_URL/c/<token>: each tracked link redirects (302) to its target and"
            " the click is recorded. Put it behind the public address of LINKS_BASE_URL."
        ),
    )
    serve.add_argument("--host", help="address to listen on (default: LINKS_HOST, 0.0.0.0)")
    serve.add_argument("--port", type=int, help="port to listen on (default: LINKS_PORT, 8080)")
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    if settings.links_base_url is None:
        fail(
            "configuration error: LINKS_BASE_URL: missing; set the public address of the link service", code=2
        )
    if args.port is not None and not 0 <= args.port <= 65535:
        fail(f"--port {args.port}: not a port (0-65535)", code=2)
    tune_for_latency()
    metrics.serve(settings.metrics_port)
    run(lambda: serve_links(settings, host=args.host, port=args.port), fast_loop=True)
    return 0
