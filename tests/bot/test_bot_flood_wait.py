"""The control bot waits out Telegram's per-chat limit on its replies (the bounds: tests/unit)."""

from __future__ import annotations

import logging

import pytest

from panel import texts
from tests.support.control import CONTROL_TOKEN, ControlBot


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
