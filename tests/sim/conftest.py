"""Fixtures: aiogram bots pointed at the simulator (the root conftest's `sim`, two target bots)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from tests.support.sim import TOKEN
from tgsim.simulator import Simulator


@pytest.fixture
async def make_bot(sim: Simulator) -> AsyncIterator[Callable[[str], Bot]]:
    bots: list[Bot] = []

    def factory(token: str = TOKEN) -> Bot:
        bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(sim.base_url)))
        bots.append(bot)
        return bot

    yield factory
    for bot in bots:
        await bot.session.close()
