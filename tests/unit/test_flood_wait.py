"""The flood-wait middleware of the control bot's session: how often it retries and how long it waits."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage

from bot.aiogram_bot import make_bot
from bot.flood_wait import FloodWait, install_flood_wait
from tests.support.control import ADMIN_ID, CONTROL_TOKEN


def _refusing(retry_after: int, calls: list[str]) -> Any:
    async def make_request(bot: Bot, method: Any) -> Any:
        calls.append(type(method).__name__)
        raise TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=retry_after)

    return make_request


async def test_a_short_wait_is_retried_twice_then_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("bot.flood_wait.asyncio.sleep", sleep)
    calls: list[str] = []
    control_bot = make_bot(CONTROL_TOKEN, api_url="http://127.0.0.1:9")
    try:
        with pytest.raises(TelegramRetryAfter):
            await FloodWait()(_refusing(3, calls), control_bot, SendMessage(chat_id=ADMIN_ID, text="hi"))
    finally:
        await control_bot.session.close()
    assert calls == ["SendMessage"] * 3
    assert slept == [3, 3]


async def test_a_long_wait_is_raised_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    async def sleep(seconds: float) -> None:  # pragma: no cover - must not be called
        raise AssertionError(f"slept {seconds} s")

    monkeypatch.setattr("bot.flood_wait.asyncio.sleep", sleep)
    calls: list[str] = []
    control_bot = make_bot(CONTROL_TOKEN, api_url="http://127.0.0.1:9")
    try:
        with pytest.raises(TelegramRetryAfter):
            await FloodWait()(_refusing(237, calls), control_bot, SendMessage(chat_id=ADMIN_ID, text="hi"))
    finally:
        await control_bot.session.close()
    assert calls == ["SendMessage"]


async def test_installing_twice_adds_one_middleware() -> None:
    control_bot = make_bot(CONTROL_TOKEN, api_url="http://127.0.0.1:9")
    try:
        install_flood_wait(install_flood_wait(control_bot))
        assert sum(isinstance(m, FloodWait) for m in control_bot.session.middleware) == 1
    finally:
        await control_bot.session.close()
