"""Roles scoped per bot: each admin sees only their bots' campaigns, a button or command beyond
their role gets one refusal naming the role it needs, and another scope's buttons and numbers are
answered as a stranger's or a missing campaign's, with nothing changed."""

from __future__ import annotations

from sqlalchemy import select

from bot.callbacks import CampaignAction, CampaignCallback
from models import Campaign, TargetBot
from panel import texts
from panel.admins import add_admin
from panel.campaigns import create_campaign
from panel.content import MessageContent
from panel.roles import Role, set_role
from tests.support.control import CONTROL_TOKEN, SHOP_TOKEN, ControlBot
from tests.support.keys import sealed

VIEWER_ID, EDITOR_ID = 9101, 9102


async def _names(control: ControlBot) -> list[str | None]:
    async with control.sessionmaker() as session:
        return list((await session.scalars(select(Campaign.name).order_by(Campaign.id))).all())


async def test_roles_and_scopes_hold_in_lists_buttons_and_commands(control: ControlBot) -> None:
    control.sim.add_user(CONTROL_TOKEN, VIEWER_ID, first_name="Val")
    control.sim.add_user(CONTROL_TOKEN, EDITOR_ID, first_name="Ed")
    async with control.sessionmaker.begin() as session:
        shop = TargetBot(codename="shop", sealed_token=sealed(SHOP_TOKEN), username="shop_bot", title="Shop")
        session.add(shop)
        await session.flush()
        news_plan = await create_campaign(
            session, bot_id=control.bots["news"], content=MessageContent("News plans"), name="NewsPlan"
        )
        shop_plan = await create_campaign(
            session, bot_id=shop.id, content=MessageContent("Shop plans"), name="ShopPlan"
        )
        for user_id in (VIEWER_ID, EDITOR_ID):
            await add_admin(session, user_id)
        await set_role(session, VIEWER_ID, Role.VIEWER)
        await set_role(session, EDITOR_ID, Role.EDITOR, bot_codenames=["shop"])

    # A viewer of every bot reads everything and changes nothing.
    listing = await control.say("/campaigns", user=VIEWER_ID, expect="Campaigns")
    assert "NewsPlan" in (listing.text or "") and "ShopPlan" in (listing.text or "")
    await control.press(listing.message_id, f"#{news_plan.id} NewsPlan", user=VIEWER_ID)
    card = await control.wait_text(listing.message_id, f"#{news_plan.id} NewsPlan\n", user=VIEWER_ID)
    answer = await control.press(card.message_id, texts.BTN_DELETE, user=VIEWER_ID)
    assert answer.text == texts.ROLE_REFUSED_ANSWER.format(role="editor")
    await control.say("/new", user=VIEWER_ID, expect=texts.ROLE_REFUSED.format(role="editor"))
    await control.say(
        f"/sendnow {news_plan.id}", user=VIEWER_ID, expect=texts.ROLE_REFUSED.format(role="sender")
    )

    # An editor of the shop bot sees only its campaigns and composes only for it.
    listing = await control.say("/campaigns", user=EDITOR_ID, expect="Campaigns")
    assert "ShopPlan" in (listing.text or "") and "NewsPlan" not in (listing.text or "")
    await control.say("/new", user=EDITOR_ID, expect=texts.ASK_MESSAGE)
    await control.say("/cancel", user=EDITOR_ID)
    # The news bot's campaign is not theirs: a forged button is a stranger's, a number is missing.
    forged = CampaignCallback(action=CampaignAction.DELETE_CONFIRM, campaign_id=news_plan.id).pack()
    query_id, _ = control.sim.push_callback(CONTROL_TOKEN, EDITOR_ID, listing.message_id, forged)
    refused = await control.sim.wait_for_callback_answer(CONTROL_TOKEN, query_id, timeout_s=10)
    assert refused.text == texts.NOT_ALLOWED_ANSWER
    await control.say(
        f"/report {news_plan.id}",
        user=EDITOR_ID,
        expect=texts.NO_SUCH_CAMPAIGN.format(campaign_id=news_plan.id),
    )
    assert await _names(control) == ["NewsPlan", "ShopPlan"]
    # Their own bot's draft they may delete.
    own = CampaignCallback(action=CampaignAction.DELETE_CONFIRM, campaign_id=shop_plan.id).pack()
    query_id, _ = control.sim.push_callback(CONTROL_TOKEN, EDITOR_ID, listing.message_id, own)
    done = await control.sim.wait_for_callback_answer(CONTROL_TOKEN, query_id, timeout_s=10)
    assert done.text == texts.DONE_DELETED.format(campaign_id=shop_plan.id)
    assert await _names(control) == ["NewsPlan"]
