"""The control bot waits out Telegram's per-chat limit on its replies, briefly and boundedly."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage

from bot import flood_wait
from bot.aiogram_bot import make_bot
from bot.flood_wait import FloodWait, install_flood_wait
from panel import texts
from tests.support.control import ADMIN_ID, CONTROL_TOKEN, ControlBot


async def test_a_burst_of_admin_actions_gets_every_reply(
    control: ControlBot, caplog: pytest.LogCaptureFixture
) -> None:
    # One message a second to the admin's chat, no burst: three quick commands outrun it.
    control.sim.set_limits(CONTROL_TOKEN, chat_burst=1, chat_refill_per_s=1)
    control.sim.reset_stats(CONTROL_TOKEN)
    first = control.last_id()
    for command in ("/help", "/campaigns", "/cancel"):
        control.send(command)
    for expected in (texts.HELP.split("\n")[0], texts.NO_CAMPAIGNS, texts.NOTHING_TO_CANCEL):
        await control.reply(after_id=first, expect=expected)
    assert control.sim.stats(CONTROL_TOKEN).too_many_requests >= 1  # the limit was really hit
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def _refusing(retry_after: int, calls: list[str]) -> Any:
    async def make_request(bot: Bot, method: Any) -> Any:
        calls.append(type(method).__name__)
        raise TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=retry_after)

    return make_request


async def test_a_short_wait_is_retried_twice_then_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(flood_wait.asyncio, "sleep", sleep)
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

    monkeypatch.setattr(flood_wait.asyncio, "sleep", sleep)
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
