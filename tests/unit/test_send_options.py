"""Send options: stored with the campaign, and turned into the Bot API parameters of every send."""

from __future__ import annotations

from dataclasses import replace

from models import CampaignStatus
from panel.campaigns import Counters
from panel.content import Media, MessageContent, bot_api_call
from panel.progress import SummaryView, render_summary
from panel.send_options import LinkPreview, SendOptions


def test_the_defaults_add_nothing_to_a_send() -> None:
    text = MessageContent("See https://example.com").to_json()
    assert bot_api_call(text, file_id=None, options=SendOptions()).params == {
        "text": "See https://example.com"
    }
    assert SendOptions().to_json() == {"silent": False, "protect": False, "link_preview": "on", "pin": False}


def test_silent_and_protected_go_with_text_and_media() -> None:
    options = SendOptions(silent=True, protect=True)
    flags = {"disable_notification": True, "protect_content": True}
    text = MessageContent("Hi").to_json()
    assert bot_api_call(text, file_id=None, options=options).params == {"text": "Hi"} | flags
    photo = MessageContent("", media=Media("photo", "AgAC")).to_json()
    assert bot_api_call(photo, file_id="AgAC-t", options=options).params == {"photo": "AgAC-t"} | flags


def test_each_link_preview_choice_has_its_parameter_on_text_only() -> None:
    expected = {
        LinkPreview.OFF: {"is_disabled": True},
        LinkPreview.SMALL: {"prefer_small_media": True},
        LinkPreview.LARGE: {"prefer_large_media": True},
        LinkPreview.ABOVE: {"show_above_text": True},
    }
    text = MessageContent("https://example.com").to_json()
    video = MessageContent("https://example.com", media=Media("video", "BAAC")).to_json()
    for preview, shape in expected.items():
        options = SendOptions(link_preview=preview)
        assert bot_api_call(text, file_id=None, options=options).params["link_preview_options"] == shape
        # Telegram has link_preview_options on sendMessage only.
        assert "link_preview_options" not in bot_api_call(video, file_id="BAAC", options=options).params


def test_the_preview_cycles_through_every_choice() -> None:
    seen = [LinkPreview.ON]
    for _ in range(5):
        seen.append(seen[-1].next())
    assert seen == ["on", "off", "small", "large", "above", "on"]
    options = SendOptions().toggled("silent").toggled("pin").toggled("link_preview")
    assert options == SendOptions(silent=True, pin=True, link_preview=LinkPreview.OFF)
    assert options.toggled("silent").silent is False


def test_stored_options_read_back_and_bad_values_read_as_defaults() -> None:
    options = SendOptions(silent=True, protect=True, link_preview=LinkPreview.ABOVE, pin=True)
    assert SendOptions.from_json(options.to_json()) == options
    assert SendOptions.from_json(None) == SendOptions()
    assert SendOptions.from_json({"silent": "yes", "link_preview": "huge"}) == SendOptions()


def test_the_summary_shows_the_pins_of_a_campaign_that_pins() -> None:
    view = SummaryView(
        campaign_id=3,
        name=None,
        status=CampaignStatus.COMPLETED,
        counters=Counters(total=10, sent=9, failed=0, unavailable=1, unconfirmed=0, cancelled=0),
        started_at=None,
        completed_at=None,
    )
    assert "📌" not in render_summary(view)
    assert "📌 Pinned: 1,200" in render_summary(replace(view, pinned=1200))
