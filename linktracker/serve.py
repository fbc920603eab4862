"""Running the link service: `broadcast links serve`, and part of `broadcast run`."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from linktracker.app import build_app
from panel.db import create_engine, create_sessionmaker
from panel.links import signer_for
from panel.settings import Settings

logger = logging.getLogger(__name__)


@asynccontextmanager
async def link_service(settings: Settings, *, host: str, port: int) -> AsyncIterator[web.AppRunner]:
    """The service listening on `host:port` until the block ends (port 0: any free port)."""
    engine = create_engine(settings.database_url)
    app = build_app(create_sessionmaker(engine), signer_for(settings), database_url=settings.database_url)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        logger.info(
            "link service on %s (public base %s)",
            ", ".join(map(str, runner.addresses)),
            settings.links_base_url,
        )
        yield runner
    finally:
        await runner.cleanup()
        await engine.dispose()


SWITCH_INTERVAL_S = 0.0005


def tune_for_latency() -> None:
    """For a process that only serves links: the click writer's thread gives the GIL back to the
    serving loop within 0.5 ms (Python's default lets it keep it 5 ms), and what was built at
    start (modules, the app) is left out of the garbage collector's sweeps."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.freeze()


async def serve_links(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Serve tracked links until cancelled."""
    async with link_service(
        settings,
        host=host if host is not None else settings.links_host,
        port=port if port is not None else settings.links_port,
    ):
        await asyncio.Event().wait()
