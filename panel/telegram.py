"""Bot API clients for the control bot and the target bots, pointed at `TELEGRAM_API_URL`."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer

from panel.settings import TELEGRAM_API_URL


def api_server(api_url: str) -> TelegramAPIServer:
    """The Bot API server at `api_url` (Telegram's own, the simulator, or a local server)."""
    if api_url.rstrip("/") == TELEGRAM_API_URL:
        return PRODUCTION
    return TelegramAPIServer.from_base(api_url.rstrip("/"))


def make_bot(token: str, *, api_url: str, timeout_s: float = 30.0, limit: int = 100) -> Bot:
    """An aiogram `Bot` for `token`; `limit` caps its open connections."""
    session = AiohttpSession(api=api_server(api_url), limit=limit, timeout=timeout_s)
    return Bot(token, session=session)
