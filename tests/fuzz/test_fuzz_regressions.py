"""Bugs the conversation fuzz found, one small reproduction each, kept as regression tests.

A reproduction still marked `known_bug` fails until the control bot is fixed (RUN_KNOWN_BUGS=1
runs it); once fixed it runs always, and its entry of `KNOWN_BUGS` in test_fuzz_conversation.py
is gone.
"""

from __future__ import annotations

import os

import pytest

from bot.keyboards import CampaignAction, CampaignCallback
from panel import texts
from panel.campaigns import create_campaign
from panel.content import MessageContent
from tests.bot.conftest import ADMIN_ID, CONTROL_TOKEN, ControlBot
from tests.fuzz.conftest import LogWatch, push_callback

known_bug = pytest.mark.skipif(
    not os.environ.get("RUN_KNOWN_BUGS"),
    reason="known control-bot bugs, reported; RUN_KNOWN_BUGS=1 runs them",
)

TOO_BIG_ID = 2**63  # one past PostgreSQL's BIGINT and SQLite's INTEGER


async def _draft(control: ControlBot) -> int:
    async with control.sessionmaker() as session, session.begin():
        draft = await create_campaign(session, bot_id=control.bots["news"], content=MessageContent("Hi"))
        return draft.id


async def _say(control: ControlBot, watch: LogWatch, text: str) -> str | None:
    sent = control.send(text)
    await watch.wait_handled(control.sim.world.bots[CONTROL_TOKEN].next_update_id - 1)
    assert watch.errors == []
    return (await control.reply(after_id=sent)).text


async def test_not_now_tapped_twice_is_answered_both_times(
    fuzz_control: ControlBot, log_watch: LogWatch
) -> None:
    draft_id = await _draft(fuzz_control)
    confirm = await fuzz_control.say(f"/sendnow {draft_id}", expect="now?")
    # A double tap: both presses leave the client before the first edit arrives.
    data = next(d for _, d in confirm.buttons if d and d.startswith("snd:no:"))
    _, first_update = push_callback(fuzz_control.sim, ADMIN_ID, confirm.message_id, data)
    await log_watch.wait_handled(first_update)
    second, second_update = push_callback(fuzz_control.sim, ADMIN_ID, confirm.message_id, data)
    await log_watch.wait_handled(second_update)
    assert log_watch.errors == []
    assert fuzz_control.sim.callback_answer(CONTROL_TOKEN, second) is not None


@known_bug
async def test_campaign_numbers_beyond_64_bits_are_just_missing(
    fuzz_control: ControlBot, log_watch: LogWatch
) -> None:
    reply = await _say(fuzz_control, log_watch, f"/sendnow {TOO_BIG_ID}")
    assert reply in (
        texts.NO_SUCH_CAMPAIGN.format(campaign_id=TOO_BIG_ID),
        texts.BAD_CAMPAIGN_ID.format(value=str(TOO_BIG_ID), command="sendnow"),
    )
    listing = await fuzz_control.say("/campaigns")
    data = CampaignCallback(action=CampaignAction.OPEN, campaign_id=TOO_BIG_ID).pack()
    query_id, update_id = push_callback(fuzz_control.sim, ADMIN_ID, listing.message_id, data)
    await log_watch.wait_handled(update_id)
    assert log_watch.errors == []
    answer = fuzz_control.sim.callback_answer(CONTROL_TOKEN, query_id)
    assert answer is not None and answer.text == texts.NO_SUCH_CAMPAIGN.format(campaign_id=TOO_BIG_ID)


@known_bug
@pytest.mark.parametrize("typed", ["²", "#①"])
async def test_unicode_digits_are_not_a_campaign_number(
    fuzz_control: ControlBot, log_watch: LogWatch, typed: str
) -> None:
    reply = await _say(fuzz_control, log_watch, f"/sendnow {typed}")
    assert reply == texts.BAD_CAMPAIGN_ID.format(value=typed, command="sendnow")


@known_bug
async def test_a_negative_list_page_shows_the_first_page(
    fuzz_control: ControlBot, log_watch: LogWatch
) -> None:
    await _draft(fuzz_control)
    listing = await fuzz_control.say("/campaigns")
    data = CampaignCallback(action=CampaignAction.PAGE, page=-1).pack()
    query_id, update_id = push_callback(fuzz_control.sim, ADMIN_ID, listing.message_id, data)
    await log_watch.wait_handled(update_id)
    assert log_watch.errors == []  # PostgreSQL: "OFFSET must not be negative"
    assert fuzz_control.sim.callback_answer(CONTROL_TOKEN, query_id) is not None
