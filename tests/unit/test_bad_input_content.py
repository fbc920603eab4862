"""Bad message content is refused with what is wrong; valid content round-trips exactly."""

from __future__ import annotations

import pytest

from panel.content import ContentError, Media, MessageContent, bot_api_call


def test_text_at_the_limit_is_accepted_and_over_it_refused() -> None:
    assert MessageContent("x" * 4096).text
    with pytest.raises(ContentError, match="4,097 characters long; Telegram allows 4,096"):
        MessageContent("x" * 4097)


def test_limit_counts_utf16_units_like_telegram() -> None:
    # An emoji outside the BMP is two UTF-16 code units: 2,048 of them fill the message.
    assert MessageContent("😀" * 2048).text
    with pytest.raises(ContentError, match="4,098 characters"):
        MessageContent("😀" * 2049)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(ContentError, match="empty"):
        MessageContent(text)


@pytest.mark.parametrize(
    ("entity", "reason"),
    [
        ({"type": "bold", "offset": 0, "length": 99}, "past the end"),
        ({"type": "bold", "offset": -1, "length": 2}, "malformed"),
        ({"type": "bold", "offset": 0, "length": 0}, "malformed"),
        ({"offset": 0, "length": 2}, "no type"),
    ],
)
def test_broken_entities_are_refused(entity: dict[str, object], reason: str) -> None:
    with pytest.raises(ContentError, match=reason):
        MessageContent("hello", (entity,))


def test_entities_round_trip_exactly() -> None:
    entities = ({"type": "text_link", "offset": 2, "length": 4, "url": "https://example.com"},)
    content = MessageContent("😀 link", entities)
    again = MessageContent.from_json(content.to_json())
    assert again == content
    assert bot_api_call(again.to_json(), file_id=None).params == {
        "text": "😀 link",
        "entities": [dict(entities[0])],
    }


def test_media_round_trips_and_its_caption_may_be_empty() -> None:
    photo = Media("photo", "AgAC-control", "Uabc", file_size=1234)
    content = MessageContent("", media=photo)
    assert MessageContent.from_json(content.to_json()) == content
    assert bot_api_call(content.to_json(), file_id=None).params == {}
    assert content.preview_text() == "[🖼 Photo]"
    captioned = MessageContent("😀 new", ({"type": "bold", "offset": 3, "length": 3},), media=photo)
    assert bot_api_call(captioned.to_json(), file_id=None).params == {
        "caption": "😀 new",
        "caption_entities": [{"type": "bold", "offset": 3, "length": 3}],
    }
    document = MessageContent("Prices", media=Media("document", "BQAC", file_name="prices.pdf"))
    assert document.preview_text() == "[📎 File prices.pdf] Prices"
    assert bot_api_call(document.to_json(), file_id=None).method == "sendDocument"


def test_media_limits_are_telegrams() -> None:
    photo = Media("photo", "AgAC")
    assert MessageContent("c" * 1024, media=photo).text
    with pytest.raises(ContentError, match="caption is 1,025 characters long; Telegram allows 1,024"):
        MessageContent("c" * 1025, media=photo)
    assert Media("video", "BAAC", file_size=20 * 1024 * 1024).file_size
    with pytest.raises(ContentError, match="up to 20 MB"):
        Media("video", "BAAC", file_size=20 * 1024 * 1024 + 1)
    with pytest.raises(ContentError, match="sticker can't be broadcast"):
        Media("sticker", "CAAC")
    with pytest.raises(ContentError, match="no file id"):
        Media("photo", "")
