"""aiogram clients for everything but the bulk send path, pointed at `TELEGRAM_API_URL`.

The control bot, the admins' test sends through a target bot and token checks use aiogram's
`Bot`. The workers' send path uses the lean client in `jobs.engine.sendclient` instead: one
prepared request per recipient, without aiogram's per-call model building.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

from panel.bots import BotError, BotIdentity
from panel.settings import TELEGRAM_API_URL, mask_token


def api_server(api_url: str) -> TelegramAPIServer:
    """The Bot API server at `api_url` (Telegram's own, the simulator, or a local server)."""
    if api_url.rstrip("/") == TELEGRAM_API_URL:
        return PRODUCTION
    return TelegramAPIServer.from_base(api_url.rstrip("/"))


def make_bot(token: str, *, api_url: str, timeout_s: float = 30.0, limit: int = 100) -> Bot:
    """An aiogram `Bot` for `token`; `limit` caps its open connections."""
    session = AiohttpSession(api=api_server(api_url), limit=limit, timeout=timeout_s)
    return Bot(token, session=session)


async def fetch_identity(token: str, *, api_url: str, timeout_s: float = 15.0) -> BotIdentity:
    """Ask Telegram who `token` belongs to; raise `BotError` with Telegram's answer if it refuses."""
    bot = make_bot(token, api_url=api_url, timeout_s=timeout_s)
    try:
        me = await bot.get_me()
    except TelegramNetworkError as exc:
        raise BotError(f"Telegram could not be reached at {api_url}: {exc.message}") from None
    except TelegramAPIError as exc:
        raise BotError(f"Telegram refused token {mask_token(token)}: {exc.message}") from None
    finally:
        await bot.session.close()
    return BotIdentity(username=me.username, title=me.full_name)
