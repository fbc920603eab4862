"""Fixtures: a running simulator and aiogram bots pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from tgsim.settings import LimitSettings, SimSettings
from tgsim.simulator import Simulator

TOKEN = "100001:AAbroadcastTargetBotToken"
OTHER_TOKEN = "100002:AAanotherBotTokenForTests"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(SimSettings(seed=7, limits=LimitSettings(retry_after_s=3))) as simulator:
        simulator.add_bot(TOKEN, username="target_bot", first_name="Target")
        simulator.add_bot(OTHER_TOKEN, username="other_bot", first_name="Other")
        yield simulator


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
