"""/new for several bots: picked in order, one copy per person, and the group acts as one."""

from __future__ import annotations

from arq.worker import Worker
from sqlalchemy import select

from models import Campaign, CampaignStatus, TargetBot, User
from panel import texts
from panel.admins import add_admin
from panel.roles import Role, set_role
from tests.support.control import (
    CONTROL_TOKEN,
    NEWS_TOKEN,
    NEWS_USERS,
    SHOP_TOKEN,
    ControlBot,
    fsm_state,
)
from tests.support.engine import wait_for_status
from tests.support.keys import sealed

SHOP_ONLY = [60_001, 60_002, 60_003]
SENDER_ID = 9201


async def _groups(control: ControlBot) -> list[tuple[int, str, int | None, int | None]]:
    async with control.sessionmaker() as session:
        found = await session.execute(
            select(Campaign.id, TargetBot.codename, Campaign.group_id, Campaign.group_position)
            .join(TargetBot, TargetBot.id == Campaign.bot_id)
            .order_by(Campaign.id)
        )
        return [tuple(row) for row in found.all()]  # type: ignore[misc]


async def test_picking_several_bots_in_order_makes_one_group_sent_once_per_person(
    control: ControlBot, worker: Worker
) -> None:
    # The shop bot: five of the news bot's users, and three of its own.
    control.sim.add_users(SHOP_TOKEN, [*NEWS_USERS[:5], *SHOP_ONLY])
    async with control.sessionmaker.begin() as session:
        shop = TargetBot(codename="shop", sealed_token=sealed(SHOP_TOKEN), username="shop_bot", rate_per_s=30)
        session.add(shop)
        await session.flush()
        session.add_all(User(bot_id=shop.id, chat_id=chat) for chat in [*NEWS_USERS[:5], *SHOP_ONLY])

    question = await control.say("/new", expect=texts.CHOOSE_BOT)
    assert [text for text, _ in question.buttons] == [
        "news (@news_bot) · 12 users",
        "shop (@shop_bot) · 8 users",
        texts.CHOOSE_BOTS_BUTTON,
    ]
    await control.press(question.message_id, texts.CHOOSE_BOTS_BUTTON)
    picker = await control.wait_text(question.message_id, texts.CHOOSE_BOTS)
    assert [text for text, _ in picker.buttons] == [
        "news (@news_bot) · 12 users",
        "shop (@shop_bot) · 8 users",
        texts.BTN_BOTS_DONE,
    ]
    # Done with nothing picked: told so, and still picking.
    assert (await control.press(question.message_id, texts.BTN_BOTS_DONE)).text == texts.CHOOSE_BOTS_NONE
    # Taps number the bots in order; a second tap takes one out.
    await control.press(question.message_id, "shop (@shop_bot) · 8 users")
    await control.wait_buttons(question.message_id, "1. shop (@shop_bot) · 8 users")
    await control.press(question.message_id, "news (@news_bot) · 12 users")
    await control.wait_buttons(question.message_id, "2. news (@news_bot) · 12 users")
    await control.press(question.message_id, "1. shop (@shop_bot) · 8 users")
    await control.wait_buttons(question.message_id, "1. news (@news_bot) · 12 users")
    await control.press(question.message_id, "shop (@shop_bot) · 8 users")
    picked = await control.wait_buttons(question.message_id, "2. shop (@shop_bot) · 8 users")
    assert [text for text, _ in picked.buttons][:2] == [
        "1. news (@news_bot) · 12 users",
        "2. shop (@shop_bot) · 8 users",
    ]
    before = control.last_id()
    await control.press(question.message_id, texts.BTN_BOTS_DONE)
    asked = await control.reply(after_id=before, expect=texts.ASK_MESSAGE)
    assert (asked.text or "").startswith(
        "Targets, in this order: news (@news_bot) → shop (@shop_bot).\n"
        "Audience, one copy per person: news 12 · shop 3 (5 already reached via news) — 15 in all"
    )

    name_question = await control.skip_buttons(after_id=control.send("Hello from both bots"))
    before = control.last_id()
    await control.press(name_question.message_id, texts.BTN_SKIP)
    card = await control.reply(after_id=before, expect=texts.COMPOSE_PREVIEW_NOTE)
    assert "Bots, in this order: news (@news_bot) → shop (@shop_bot)" in (card.text or "")
    assert "news 12 · shop 3 (5 already reached via news) — 15 in all" in (card.text or "")
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SAVE)
    await control.reply(after_id=before, expect="Saved as draft")
    assert await fsm_state(control) is None
    found = await _groups(control)
    news_id, shop_id = found[0][0], found[1][0]
    assert found == [(news_id, "news", news_id, 0), (shop_id, "shop", news_id, 1)]

    # A sender limited to the news bot may not send the group (it goes through shop too).
    control.sim.add_user(CONTROL_TOKEN, SENDER_ID, first_name="Sam")
    async with control.sessionmaker.begin() as session:
        await add_admin(session, SENDER_ID)
        await set_role(session, SENDER_ID, Role.SENDER, bot_codenames=["news"])
    await control.say(
        f"/sendnow {news_id}", user=SENDER_ID, expect=texts.NO_SUCH_CAMPAIGN.format(campaign_id=news_id)
    )

    # The confirmation shows each bot's share; confirming sends the whole group.
    confirm = await control.say(f"/sendnow {shop_id}", expect=f"#{shop_id}")
    assert f"Group #{news_id}: #{news_id}, #{shop_id}" in (confirm.text or "")
    assert "news 12 · shop 3 (5 already reached via news)" in (confirm.text or "")
    await control.press(confirm.message_id, texts.BTN_CONFIRM)
    for campaign_id in (news_id, shop_id):
        done = await wait_for_status(control.sessionmaker, campaign_id)
        assert done.status is CampaignStatus.COMPLETED
    assert sorted(control.sim.stats(NEWS_TOKEN).delivered_per_chat) == NEWS_USERS
    assert sorted(control.sim.stats(SHOP_TOKEN).delivered_per_chat) == SHOP_ONLY
    # Each bot's progress message names its place in the group and every bot's share.
    await control.reply(after_id=confirm.message_id, expect=f"Bot 2 of 2 of group #{news_id}: shop")
    await control.reply(after_id=confirm.message_id, expect="Group: news 12/12 · shop 3/3", timeout_s=20)
