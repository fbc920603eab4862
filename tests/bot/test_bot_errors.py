"""A handler that fails still answers: the tap stops spinning, the admin is told to try again."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, NoReturn

import pytest

from bot.handlers import campaigns as campaigns_handlers
from models import Campaign
from panel import texts
from panel.content import MessageContent
from tests.support.control import CONTROL_TOKEN, ControlBot


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


async def _boom(*args: Any, **kwargs: Any) -> NoReturn:
    raise RuntimeError("database password is hunter2")


async def test_a_failing_button_is_answered_and_logged_once(
    control: ControlBot, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with control.sessionmaker() as session, session.begin():
        session.add(Campaign(bot_id=control.bots["news"], content=MessageContent("Hi").to_json(), name="Hi"))
    listing = await control.say("/campaigns", expect="Campaigns")
    monkeypatch.setattr(campaigns_handlers, "campaign_view", _boom)
    button = next(text for text, _ in listing.buttons if text.startswith("#"))
    answer = await control.press(listing.message_id, button)
    assert answer.text == texts.SOMETHING_WENT_WRONG
    (record,) = _errors(caplog)  # ours, with the traceback; not aiogram's as well
    assert record.name == "bot.handlers.errors" and record.exc_info is not None
    assert "RuntimeError" in record.getMessage() and "hunter2" not in record.getMessage()


async def test_a_failing_command_gets_a_short_reply(
    control: ControlBot, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(campaigns_handlers, "_list_page", _boom)
    reply = await control.say("/campaigns")
    assert reply.text == texts.SOMETHING_WENT_WRONG
    assert len(_errors(caplog)) == 1


async def test_telegram_asking_for_a_long_pause_is_a_warning(
    control: ControlBot, caplog: pytest.LogCaptureFixture
) -> None:
    control.sim.storm(CONTROL_TOKEN, duration_s=1.5, retry_after_s=30)
    control.send("/help")
    update_id = control.sim.world.bots[CONTROL_TOKEN].next_update_id - 1

    def logged() -> logging.LogRecord | None:
        return next((r for r in caplog.records if r.getMessage().startswith(f"update {update_id} ")), None)

    for _ in range(100):  # the log is no simulator change to wait on: look every 50 ms
        record = logged()
        if record is not None:
            break
        await asyncio.sleep(0.05)
    assert record is not None, "the failed reply was not logged"
    assert record.levelno == logging.WARNING and "TelegramRetryAfter" in record.getMessage()
    assert not _errors(caplog)
