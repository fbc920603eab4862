"""Tracked links in the control bot: the toggle on the summary card, and clicks on the card."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Campaign, utcnow
from models.tables import LinkClick
from panel import link_stats, texts
from panel.links import link_targets
from tests.support.control import ControlBot, add_target_bots, control_settings
from tests.support.keys import TEST_SECRET_KEY
from tgsim.simulator import Simulator

SECRET_KEY = TEST_SECRET_KEY
"""The suite's key: it seals the bots' tokens and signs the links."""
LINK_TEXT = "Our new shop: https://example.com/shop"
LINK_ENTITIES = [{"type": "url", "offset": 14, "length": 24}]
TRACK = texts.BTN_OPTION_TRACK_LINKS


@pytest.fixture
async def control(
    sim: Simulator,
    database_url: str,
    redis_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    arq_pool: ArqRedis,
) -> AsyncIterator[ControlBot]:
    """The control bot of a deployment with a link service (LINKS_BASE_URL set)."""
    harness = ControlBot(
        sim=sim,
        settings=control_settings(
            sim, database_url, redis_url, secret_key=SECRET_KEY, links_base_url="https://l.example"
        ),
        sessionmaker=sessionmaker,
        redis=redis,
        arq_pool=arq_pool,
    )
    harness.bots = await add_target_bots(sessionmaker, with_shop=False)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


def _labels(control: ControlBot, card_id: int) -> list[str]:
    return [text for text, _ in control.message(card_id).buttons]


async def test_tracking_is_on_by_default_and_turned_off_on_the_card(control: ControlBot) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)
    await control.skip_buttons(after_id=control.send(LINK_TEXT, entities=LINK_ENTITIES))
    card = await control.say("Shop", expect=texts.COMPOSE_PREVIEW_NOTE)
    assert TRACK.format(state="on") in _labels(control, card.message_id)[:5]
    await control.press(card.message_id, TRACK.format(state="on"))
    await control.wait_buttons(card.message_id, TRACK.format(state="off"))
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SAVE)
    await control.reply(after_id=before, expect="Saved as draft")
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert campaign.track_links is False

    listing = await control.say("/campaigns")
    await control.press(listing.message_id, texts.LIST_BUTTON.format(campaign_id=campaign.id, name="Shop"))
    shown = await control.wait_text(listing.message_id, "Options:")
    assert texts.CARD_OPTION_UNTRACKED in (shown.text or "")


async def test_no_tracking_toggle_without_a_link_and_the_card_shows_clicks(control: ControlBot) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)
    await control.skip_buttons(after_id=control.send("No links here"))
    card = await control.say("Plain", expect=texts.COMPOSE_PREVIEW_NOTE)
    assert not any(label.startswith("📊") for label in _labels(control, card.message_id))

    await control.say("/new", expect=texts.ASK_MESSAGE)
    await control.skip_buttons(after_id=control.send(LINK_TEXT, entities=LINK_ENTITIES))
    card = await control.say("Shop", expect=texts.COMPOSE_PREVIEW_NOTE)
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SAVE)
    await control.reply(after_id=before, expect="Saved as draft")
    async with control.sessionmaker.begin() as session:
        campaign = (await session.execute(select(Campaign).where(Campaign.name == "Shop"))).scalar_one()
        assert campaign.track_links is None  # the default: on while LINKS_BASE_URL is set
        # The clicks as the link service records them (its own tests send and click for real).
        await link_stats.save_targets(session, campaign.id, link_targets(campaign.content))
        session.add_all(
            LinkClick(campaign_id=campaign.id, chat_id=chat_id, link_index=0, clicked_at=utcnow())
            for chat_id in (1, 1, 2)
        )
    listing = await control.say("/campaigns")
    await control.press(listing.message_id, texts.LIST_BUTTON.format(campaign_id=campaign.id, name="Shop"))
    shown = await control.wait_text(listing.message_id, "Clicks")
    assert texts.CLICKS_TOTAL.format(unique=2, total=3) in (shown.text or "")
    assert "• link https://example.com/shop: 2 people · 3 opens" in (shown.text or "")
