"""Bugs the conversation fuzz found, one small reproduction each, kept as regression tests.

Each fed the real dispatcher an update that made a handler raise: nothing may be logged at
ERROR, and every button press gets its answer.
"""

from __future__ import annotations

import pytest

from bot.callbacks import CampaignAction, CampaignCallback
from panel import texts
from panel.campaigns import create_campaign
from panel.content import MessageContent
from tests.support.control import ADMIN_ID, CONTROL_TOKEN, ControlBot
from tests.support.log_watch import LogWatch

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


async def _press(control: ControlBot, watch: LogWatch, message_id: int, data: str) -> str | None:
    """Press a button with `data` (shown or forged); the bot's answer to it."""
    query_id, update_id = control.sim.push_callback(CONTROL_TOKEN, ADMIN_ID, message_id, data)
    await watch.wait_handled(update_id)
    assert watch.errors == []
    answer = control.sim.callback_answer(CONTROL_TOKEN, query_id)
    assert answer is not None, f"{data!r} was not answered"
    return answer.text


async def test_not_now_tapped_twice_is_answered_both_times(
    fuzz_control: ControlBot, log_watch: LogWatch
) -> None:
    draft_id = await _draft(fuzz_control)
    confirm = await fuzz_control.say(f"/sendnow {draft_id}", expect="now?")
    # A double tap: both presses leave the client before the first edit arrives.
    data = next(d for _, d in confirm.buttons if d and d.startswith("snd:no:"))
    await _press(fuzz_control, log_watch, confirm.message_id, data)
    await _press(fuzz_control, log_watch, confirm.message_id, data)
    assert fuzz_control.message(confirm.message_id).text == texts.SEND_NOT_NOW.format(campaign_id=draft_id)


@pytest.mark.parametrize("typed", [str(TOO_BIG_ID), "#99999999999999999999", "0", "#0"])
async def test_campaign_numbers_no_row_can_have_are_just_missing(
    fuzz_control: ControlBot, log_watch: LogWatch, typed: str
) -> None:
    number = int(typed.removeprefix("#"))
    for command in ("sendnow", "schedule"):
        reply = await _say(fuzz_control, log_watch, f"/{command} {typed}")
        assert reply == texts.NO_SUCH_CAMPAIGN.format(campaign_id=number)


async def test_a_number_longer_than_any_id_is_not_a_campaign_number(
    fuzz_control: ControlBot, log_watch: LogWatch
) -> None:
    typed = "9" * 4000
    reply = await _say(fuzz_control, log_watch, f"/sendnow {typed}")
    assert reply == texts.BAD_CAMPAIGN_ID.format(value=typed[:32], command="sendnow")


@pytest.mark.parametrize(
    "data",
    [
        f"cpg:open:{TOO_BIG_ID}:0",
        f"cpg:del_yes:{TOO_BIG_ID}:0",
        f"cpg:open:1:{TOO_BIG_ID}",
        "cpg:open:-1:0",
        f"snd:ok:{TOO_BIG_ID}",
        f"pg:pause:{TOO_BIG_ID}",
        f"sch:pick:{TOO_BIG_ID}",
        f"cmp:bot:{TOO_BIG_ID}",
    ],
)
async def test_callback_data_with_ids_no_row_can_have_is_a_stale_button(
    fuzz_control: ControlBot, log_watch: LogWatch, data: str
) -> None:
    # Such data does not unpack into its class, so it falls through to the last router.
    listing = await fuzz_control.say("/campaigns")
    assert await _press(fuzz_control, log_watch, listing.message_id, data) == texts.STALE_BUTTON


@pytest.mark.parametrize("typed", ["²", "#①", "٣", "１２", "#1²"])
async def test_unicode_digits_are_not_a_campaign_number(
    fuzz_control: ControlBot, log_watch: LogWatch, typed: str
) -> None:
    reply = await _say(fuzz_control, log_watch, f"/sendnow {typed}")
    assert reply == texts.BAD_CAMPAIGN_ID.format(value=typed, command="sendnow")
    reply = await _say(fuzz_control, log_watch, f"/schedule {typed}")
    assert reply == texts.BAD_CAMPAIGN_ID.format(value=typed, command="schedule")


async def test_a_negative_list_page_is_a_stale_button(fuzz_control: ControlBot, log_watch: LogWatch) -> None:
    await _draft(fuzz_control)
    listing = await fuzz_control.say("/campaigns")
    data = CampaignCallback.model_construct(action=CampaignAction.PAGE, page=-1).pack()
    # PostgreSQL refused the OFFSET -8 this made ("OFFSET must not be negative").
    assert await _press(fuzz_control, log_watch, listing.message_id, data) == texts.STALE_BUTTON
    assert fuzz_control.message(listing.message_id).text == listing.text
