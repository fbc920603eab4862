"""The aiohttp application of the link service: GET /c/<token> answers 302 to the link's target.

The token is checked without the database (`panel.links.LinkSigner`); a campaign's targets are
read once and kept in memory; the click goes to the `ClickWriter`, so the answer never waits
for the database. A token that is not ours gets a plain 404 and nothing is recorded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from linktracker.writer import FLUSH_INTERVAL_S, ClickWriter
from models import utcnow
from panel import metrics
from panel.link_stats import Click, load_targets
from panel.links import LINK_PATH, LinkSigner

logger = logging.getLogger(__name__)

PREVIEW_AGENTS = ("TelegramBot", "TwitterBot", "facebookexternalhit", "Slackbot")
"""Link-preview fetchers: redirected like anyone, but not counted as a person's click."""
MAX_CACHED_CAMPAIGNS = 10_000


class TargetCache:
    """Each campaign's link targets, read from the database once per campaign id."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._targets: dict[int, dict[int, str]] = {}
        self._loading: dict[int, asyncio.Future[dict[int, str]]] = {}

    def cached(self, campaign_id: int) -> dict[int, str] | None:
        """The targets if already read (the fast path: no await)."""
        return self._targets.get(campaign_id)

    async def targets(self, campaign_id: int) -> dict[int, str]:
        """The campaign's targets; concurrent first clicks share one read."""
        found = self._targets.get(campaign_id)
        if found is not None:
            return found
        loading = self._loading.get(campaign_id)
        if loading is None:
            loading = asyncio.get_running_loop().create_future()
            self._loading[campaign_id] = loading
            try:
                async with self._sessionmaker() as session:
                    found = await load_targets(session, campaign_id)
            except Exception as exc:
                loading.set_exception(exc)
                loading.exception()  # retrieved: a lone waiter does not log it as lost
                raise
            finally:
                del self._loading[campaign_id]
            if found:  # an empty answer is not kept: the first batch may not have written yet
                if len(self._targets) >= MAX_CACHED_CAMPAIGNS:
                    self._targets.pop(next(iter(self._targets)))
                self._targets[campaign_id] = found
            loading.set_result(found)
            return found
        return await asyncio.shield(loading)


@dataclass
class LinkService:
    """What the handlers share: the signer, the targets and the click writer."""

    signer: LinkSigner
    targets: TargetCache
    writer: ClickWriter


SERVICE_KEY = web.AppKey("link_service", LinkService)


def _not_found() -> web.Response:
    return web.Response(status=404, text="Not found")


async def _redirect(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE_KEY]
    ref = service.signer.verify(request.match_info["token"])
    if ref is None:
        metrics.REDIRECTS.labels("404").inc()
        return _not_found()
    targets = service.targets.cached(ref.campaign_id)
    if targets is None:
        try:
            targets = await service.targets.targets(ref.campaign_id)
        except Exception as exc:
            logger.warning("link targets of campaign %s unreadable: %s", ref.campaign_id, exc)
            return web.Response(status=503, text="Try again in a moment")
    url = targets.get(ref.link_index)
    if url is None:
        metrics.REDIRECTS.labels("404").inc()
        return _not_found()
    agent = request.headers.get("User-Agent", "")
    if not any(bot in agent for bot in PREVIEW_AGENTS):
        service.writer.add(Click(ref.campaign_id, ref.chat_id, ref.link_index, utcnow()))
        metrics.CLICKS.inc()
    metrics.REDIRECTS.labels("302").inc()
    return web.Response(status=302, headers={"Location": url, "Cache-Control": "no-store"})


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def build_app(
    sessionmaker: async_sessionmaker[AsyncSession],
    signer: LinkSigner,
    *,
    database_url: str,
    flush_interval_s: float = FLUSH_INTERVAL_S,
) -> web.Application:
    """The link service's application: targets read through `sessionmaker`, clicks written by a
    `ClickWriter` of its own on `database_url`, started and stopped with the app."""
    app = web.Application()
    writer = ClickWriter(database_url, interval_s=flush_interval_s)
    service = LinkService(signer, TargetCache(sessionmaker), writer)
    app[SERVICE_KEY] = service

    async def writer_context(app: web.Application) -> AsyncIterator[None]:
        service.writer.start()
        yield
        await service.writer.stop()

    app.cleanup_ctx.append(writer_context)
    app.router.add_get(LINK_PATH + "{token}", _redirect)
    app.router.add_get("/healthz", _health)
    return app
