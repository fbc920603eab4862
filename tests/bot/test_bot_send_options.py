"""Send-option toggles on the compose summary card, through the real dispatcher and simulator."""

from __future__ import annotations

from sqlalchemy import select

from bot.states import Compose
from models import Campaign
from panel import texts
from panel.send_options import LinkPreview, SendOptions
from tests.support.control import ADMIN_ID, NEWS_TOKEN, ControlBot, fsm_state

LINK_TEXT = "Our new shop: https://example.com/shop"
LINK_ENTITIES = [{"type": "url", "offset": 14, "length": 24}]


def _labels(control: ControlBot, card_id: int) -> list[str]:
    return [text for text, _ in control.message(card_id).buttons]


async def _tap(control: ControlBot, card_id: int, button: str, becomes: str) -> None:
    await control.press(card_id, button)
    await control.wait_buttons(card_id, becomes)


async def test_toggles_are_shown_with_their_state_flipped_and_kept(control: ControlBot) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)
    await control.skip_buttons(after_id=control.send(LINK_TEXT, entities=LINK_ENTITIES))
    card = await control.say("Shop", expect=texts.COMPOSE_PREVIEW_NOTE)
    card_id = card.message_id
    silent, preview, protect, pin = (
        texts.BTN_OPTION_SILENT,
        texts.BTN_OPTION_LINK_PREVIEW,
        texts.BTN_OPTION_PROTECT,
        texts.BTN_OPTION_PIN,
    )
    assert _labels(control, card_id)[:4] == [
        silent.format(state="off"),
        preview.format(state="on"),
        protect.format(state="off"),
        pin.format(state="off"),
    ]
    await _tap(control, card_id, silent.format(state="off"), silent.format(state="on"))
    await _tap(control, card_id, protect.format(state="off"), protect.format(state="on"))
    await _tap(control, card_id, pin.format(state="off"), pin.format(state="on"))
    # The preview cycles on → off → small → large → above → on.
    for label, after in (("on", "off"), ("off", "small"), ("small", "large"), ("large", "above the text")):
        await _tap(control, card_id, preview.format(state=label), preview.format(state=after))
    await _tap(control, card_id, silent.format(state="on"), silent.format(state="off"))
    await _tap(control, card_id, silent.format(state="off"), silent.format(state="on"))
    assert await fsm_state(control) == Compose.reviewing.state

    # Test to me goes as recipients will get it.
    before = control.last_id()
    await control.press(card_id, texts.BTN_TEST)
    await control.reply(after_id=before, expect="Test sent")
    (tested,) = control.sim.chat(NEWS_TOKEN, ADMIN_ID).bot_messages
    assert (tested.disable_notification, tested.protect_content) == (True, True)
    assert tested.link_preview_options == {"show_above_text": True}

    before = control.last_id()
    await control.press(card_id, texts.BTN_SAVE)
    await control.reply(after_id=before, expect="Saved as draft")
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert SendOptions.from_json(campaign.send_options) == SendOptions(
        silent=True, protect=True, link_preview=LinkPreview.ABOVE, pin=True
    )

    # The campaign's card shows its options.
    listing = await control.say("/campaigns")
    await control.press(listing.message_id, texts.LIST_BUTTON.format(campaign_id=campaign.id, name="Shop"))
    shown = await control.wait_text(listing.message_id, "Options:")
    assert "🔕 silent · 🔒 protected · 🔗 link preview above the text · 📌 pin after sending" in (
        shown.text or ""
    )


async def test_no_link_preview_toggle_without_a_link(control: ControlBot) -> None:
    await control.say("/new", expect=texts.ASK_MESSAGE)
    await control.skip_buttons(after_id=control.send("No links here"))
    card = await control.say("Plain", expect=texts.COMPOSE_PREVIEW_NOTE)
    labels = _labels(control, card.message_id)
    assert not any(label.startswith("🔗") for label in labels)
    assert labels[:3] == [
        texts.BTN_OPTION_SILENT.format(state="off"),
        texts.BTN_OPTION_PROTECT.format(state="off"),
        texts.BTN_OPTION_PIN.format(state="off"),
    ]
    await _tap(control, card.message_id, labels[2], texts.BTN_OPTION_PIN.format(state="on"))
    before = control.last_id()
    await control.press(card.message_id, texts.BTN_SAVE)
    await control.reply(after_id=before, expect="Saved as draft")
    async with control.sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
    assert SendOptions.from_json(campaign.send_options) == SendOptions(pin=True)
