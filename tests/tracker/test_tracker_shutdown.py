"""What the tracker buffered is written when the dispatcher shuts down, not lost."""

from __future__ import annotations

import asyncio

from aiogram import Dispatcher
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.aiogram_bot import make_bot
from broadcast_tracker import setup_tracker
from tests.support.control import NEWS_TOKEN, NEWS_USERS, add_target_bots
from tests.tracker.test_tracker import row
from tgsim.simulator import Simulator


async def test_the_buffer_is_flushed_on_shutdown(
    sim: Simulator, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bots = await add_target_bots(sessionmaker, with_shop=False)
    dp = Dispatcher()

    @dp.message()
    async def echo(message: object) -> None:
        return None

    tracker = setup_tracker(dp, engine, bot_id=bots["news"], flush_interval_s=3600)
    bot = make_bot(NEWS_TOKEN, api_url=sim.base_url)
    polling = asyncio.create_task(dp.start_polling(bot, polling_timeout=1, handle_signals=False))
    sim.send_message(NEWS_TOKEN, NEWS_USERS[0], "hi")
    for _ in range(100):
        if tracker.buffer:
            break
        await asyncio.sleep(0.05)
    assert NEWS_USERS[0] in tracker.buffer
    user = await row(sessionmaker, bots["news"], NEWS_USERS[0])
    assert user is not None and user.last_seen_at is None  # not written yet
    await dp.stop_polling()
    await asyncio.wait_for(polling, 10)
    user = await row(sessionmaker, bots["news"], NEWS_USERS[0])
    assert user is not None and user.last_seen_at is not None and not tracker.buffer
