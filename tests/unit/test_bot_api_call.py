"""A stored message becomes one Bot API request, the same for the workers and the control bot."""

from __future__ import annotations

from panel.buttons import Buttons, parse_buttons
from panel.content import BotApiCall, Media, MessageContent, bot_api_call

BOLD = {"type": "bold", "offset": 0, "length": 2}


def test_a_text_goes_with_its_entities_and_no_parse_mode() -> None:
    text = MessageContent("Hi there", (BOLD,)).to_json()
    assert bot_api_call(text, file_id=None) == BotApiCall(
        "sendMessage", {"text": "Hi there", "entities": [BOLD]}, file_field=None
    )
    assert bot_api_call(MessageContent("Plain").to_json(), file_id=None).params == {"text": "Plain"}


def test_media_goes_with_the_sending_bots_file_id_and_its_caption() -> None:
    photo = {
        "kind": "photo",
        "text": "Caption",
        "entities": [BOLD | {"url": None}],  # nulls as a server may report them: left out
        "media": {"kind": "photo", "file_id": "AgAC"},
    }
    # The target bot's own file id, never the control bot's.
    assert bot_api_call(photo, file_id="AgAC-target") == BotApiCall(
        "sendPhoto",
        {"photo": "AgAC-target", "caption": "Caption", "caption_entities": [BOLD]},
        file_field="photo",
    )
    # No file id yet: the caller uploads the bytes under `file_field`.
    assert bot_api_call(photo | {"text": "", "entities": []}, file_id=None) == BotApiCall(
        "sendPhoto", {}, file_field="photo"
    )
    document = MessageContent("", media=Media("document", "BQAC", file_name="prices.pdf")).to_json()
    assert bot_api_call(document, file_id="BQAC-target") == BotApiCall(
        "sendDocument", {"document": "BQAC-target"}, file_field="document"
    )
    video = MessageContent("Clip", media=Media("video", "BAAC")).to_json()
    assert bot_api_call(video, file_id="BAAC").method == "sendVideo"


def test_a_paid_broadcast_says_so_in_every_request() -> None:
    text = MessageContent("Hi").to_json()
    assert bot_api_call(text, file_id=None, paid_broadcast=True).params == {
        "text": "Hi",
        "allow_paid_broadcast": True,
    }
    photo = MessageContent("", media=Media("photo", "AgAC")).to_json()
    assert bot_api_call(photo, file_id=None, paid_broadcast=True).params == {"allow_paid_broadcast": True}


def test_content_stored_under_other_rules_still_becomes_a_request() -> None:
    # Not re-validated: Telegram's refusal says what is wrong, and the campaign pauses with it.
    assert bot_api_call({"text": ""}, file_id=None) == BotApiCall("sendMessage", {"text": ""})
    sticker = {"text": "", "media": {"kind": "sticker", "file_id": "CAAC"}}
    assert bot_api_call(sticker, file_id="CAAC") == BotApiCall(
        "sendSticker", {"sticker": "CAAC"}, file_field="sticker"
    )


def test_buttons_go_as_an_inline_keyboard_under_text_and_media_alike() -> None:
    buttons = parse_buttons(
        "Read - https://a.example | Shop - https://shop.example\nNews - tg://resolve?domain=n"
    )
    keyboard = {
        "inline_keyboard": [
            [{"text": "Read", "url": "https://a.example"}, {"text": "Shop", "url": "https://shop.example"}],
            [{"text": "News", "url": "tg://resolve?domain=n"}],
        ]
    }
    text = MessageContent("Hi", buttons=buttons).to_json()
    assert bot_api_call(text, file_id=None).params == {"text": "Hi", "reply_markup": keyboard}
    photo = MessageContent("Cap", media=Media("photo", "AgAC"), buttons=buttons).to_json()
    assert bot_api_call(photo, file_id="AgAC-t").params["reply_markup"] == keyboard


def test_buttons_round_trip_with_the_content_and_old_content_still_loads() -> None:
    buttons = parse_buttons("Read - https://a.example")
    content = MessageContent("Hi", buttons=buttons)
    assert MessageContent.from_json(content.to_json()) == content
    assert "buttons" not in MessageContent("Hi").to_json()
    old = {"kind": "text", "text": "Hi", "entities": []}
    assert MessageContent.from_json(old).buttons == Buttons()
    assert "reply_markup" not in bot_api_call(old, file_id=None).params


UNSUBSCRIBE = {"unsubscribe": {"topic": "news", "text": "🔕 Unsubscribe from news"}}
UNSUBSCRIBE_ROW = [{"text": "🔕 Unsubscribe from news", "callback_data": "unsub:news"}]


def test_the_unsubscribe_button_goes_under_the_url_buttons() -> None:
    alone = MessageContent("Hi").to_json() | UNSUBSCRIBE
    assert bot_api_call(alone, file_id=None).params["reply_markup"] == {"inline_keyboard": [UNSUBSCRIBE_ROW]}
    buttons = parse_buttons("Go - https://example.com")
    with_buttons = MessageContent("Hi", buttons=buttons).to_json() | UNSUBSCRIBE
    assert bot_api_call(with_buttons, file_id=None).params["reply_markup"] == {
        "inline_keyboard": [*buttons.inline_keyboard(), UNSUBSCRIBE_ROW]
    }
