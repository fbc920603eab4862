"""An album in the content JSON, and the one sendMediaGroup request it becomes."""

from __future__ import annotations

import pytest

from panel.buttons import Buttons, parse_buttons
from panel.content import (
    AlbumItem,
    BotApiCall,
    ContentError,
    Media,
    MessageContent,
    bot_api_call,
    follow_up_call,
)
from panel.send_options import SendOptions
from tests.support.keys import sealed

BOLD = {"type": "bold", "offset": 0, "length": 4}


def _album() -> MessageContent:
    return MessageContent(
        "",
        album=(
            AlbumItem(Media("photo", "AgAC-1", "u1"), "Look here", (BOLD,)),
            AlbumItem(Media("video", "BAAC-2", "u2")),
        ),
    )


def test_an_album_round_trips_through_json() -> None:
    content = _album()
    stored = content.to_json()
    assert stored["kind"] == "album" and "media" not in stored
    assert stored["album"][0] == {
        "kind": "photo",
        "file_id": "AgAC-1",
        "file_unique_id": "u1",
        "caption": "Look here",
        "caption_entities": [BOLD],
    }
    assert MessageContent.from_json(stored) == content
    assert content.preview_text() == "[🗂 Album of 2] Look here"


def test_an_album_is_one_send_media_group_with_the_sending_bots_file_ids() -> None:
    stored = _album().to_json()
    call = bot_api_call(
        stored, file_id=None, file_ids=["AgAC-t1", "BAAC-t2"], options=SendOptions(silent=True)
    )
    assert call == BotApiCall(
        "sendMediaGroup",
        {
            "media": [
                {"type": "photo", "media": "AgAC-t1", "caption": "Look here", "caption_entities": [BOLD]},
                {"type": "video", "media": "BAAC-t2"},
            ],
            "disable_notification": True,
        },
        None,
        (None, None),
    )
    # No file ids yet: each item is uploaded under its own multipart part.
    upload = bot_api_call(stored, file_id=None, paid_broadcast=True)
    assert [item["media"] for item in upload.params["media"]] == ["attach://file0", "attach://file1"]
    assert upload.upload_fields == ("file0", "file1") and upload.params["allow_paid_broadcast"] is True
    partly = bot_api_call(stored, file_id=None, file_ids=["AgAC-t1", None])
    assert partly.upload_fields == (None, "file1")


@pytest.mark.parametrize(
    ("items", "text", "buttons", "error"),
    [
        (1, "", "", "An album has 2 to 10 items; this one has 1."),
        (11, "", "", "An album has 2 to 10 items; this one has 11."),
        (2, "Hello", "", "An album's text goes in its items' captions."),
        (2, "", "Go - https://example.com", "An album's buttons go in a follow-up message: it needs a text."),
    ],
)
def test_bad_albums_are_refused(items: int, text: str, buttons: str, error: str) -> None:
    album = tuple(AlbumItem(Media("photo", f"id{n}")) for n in range(items))
    grid = parse_buttons(buttons) if buttons else Buttons()
    with pytest.raises(ContentError) as caught:
        MessageContent(text, album=album, buttons=grid)
    assert str(caught.value) == error


def test_an_albums_buttons_go_in_a_follow_up_message_after_it() -> None:
    grid = parse_buttons("Shop - https://shop.example")
    content = MessageContent("Tap below", (BOLD,), album=_album().album, buttons=grid)
    stored = content.to_json()
    assert MessageContent.from_json(stored) == content
    # The album goes without a keyboard; the follow-up message carries the text and the buttons.
    assert "reply_markup" not in bot_api_call(stored, file_id=None, file_ids=["a", "b"]).params
    follow_up = follow_up_call(stored, options=SendOptions(silent=True))
    assert follow_up == BotApiCall(
        "sendMessage",
        {
            "text": "Tap below",
            "entities": [BOLD],
            "disable_notification": True,
            "reply_markup": {"inline_keyboard": [[{"text": "Shop", "url": "https://shop.example"}]]},
        },
        None,
    )
    assert follow_up_call(_album().to_json()) is None
    assert follow_up_call(MessageContent("Hi", buttons=grid).to_json()) is None


def test_files_do_not_mix_with_photos_and_captions_are_limited() -> None:
    with pytest.raises(ContentError, match="files only"):
        MessageContent("", album=(AlbumItem(Media("photo", "a")), AlbumItem(Media("document", "b"))))
    MessageContent("", album=(AlbumItem(Media("document", "a")), AlbumItem(Media("document", "b"))))
    with pytest.raises(ContentError, match="1,025 characters"):
        AlbumItem(Media("photo", "a"), "x" * 1025)
    with pytest.raises(ContentError, match="past the end"):
        AlbumItem(Media("photo", "a"), "ab", (BOLD,))


def test_an_album_drafts_card_offers_no_buttons() -> None:
    from bot.keyboards import campaign_card
    from models import Campaign, CampaignStatus

    def labels(content: dict[str, object]) -> list[str]:
        campaign = Campaign(id=7, status=CampaignStatus.DRAFT, content=content)
        return [button.text for row in campaign_card(campaign, page=0).inline_keyboard for button in row]

    assert "🔘 Edit buttons" in labels(MessageContent("Hello").to_json())
    assert "🔘 Edit buttons" not in labels(_album().to_json())
    grid = parse_buttons("Shop - https://shop.example")
    with_follow_up = MessageContent("Tap below", album=_album().album, buttons=grid).to_json()
    assert "🔘 Edit buttons" in labels(with_follow_up) and "✖️ Remove buttons" in labels(with_follow_up)


def test_an_album_takes_a_message_per_item_and_a_forward_goes_at_the_free_rate() -> None:
    from models import TargetBot
    from panel.campaigns import effective_rate, estimate_duration
    from panel.content import ChannelPost, messages_per_recipient

    grid = parse_buttons("Shop - https://shop.example")
    assert messages_per_recipient(MessageContent("Hi").to_json()) == 1
    assert messages_per_recipient(_album().to_json()) == 2
    with_follow_up = MessageContent("Tap below", album=_album().album, buttons=grid).to_json()
    assert messages_per_recipient(with_follow_up) == 3
    assert estimate_duration(100, 30, messages_each=3).total_seconds() == 10

    paid = TargetBot(codename="big", sealed_token=sealed("1:x"), rate_per_s=500, paid_broadcast=True)
    forward = MessageContent("", channel_post=ChannelPost(-100, 7, "forward")).to_json()
    copy = MessageContent("", channel_post=ChannelPost(-100, 7, "copy")).to_json()
    assert effective_rate(paid) == 500 and effective_rate(paid, copy) == 500
    # forwardMessage takes no allow_paid_broadcast: a paid bot forwards at 30 a second.
    assert effective_rate(paid, forward) == 30


def test_a_second_never_holds_more_album_messages_than_the_limit() -> None:
    import math

    from jobs.batch import send_pace

    assert send_pace(30, 1, 0.985) == 30 * 0.985
    for rate in (1, 5, 30, 100, 1000):
        for messages in range(1, 12):
            pace = send_pace(rate, messages, 0.97)
            assert pace > 0
            if rate >= messages:
                # Evenly spaced, a one-second window holds at most ceil(pace) sends.
                assert math.ceil(pace) * messages <= rate, (rate, messages, pace)


def test_album_captions_greet_by_name_and_are_checked_item_by_item() -> None:
    from panel.greetings import PERSONALISED_KEY, GreetingError, personalise, rendered

    photo, video = _album().album
    plain = MessageContent("", album=(AlbumItem(photo.media, "{{braces}}"), video)).to_json()
    assert PERSONALISED_KEY not in personalise(plain)
    assert personalise(plain)["album"][0]["caption"] == "{braces}"

    greeting = AlbumItem(
        photo.media, "Hi {first_name|friend}", ({"type": "bold", "offset": 3, "length": 19},)
    )
    stored = personalise(MessageContent("", album=(video, greeting)).to_json())
    assert stored[PERSONALISED_KEY] is True
    seen = rendered(stored, {"first_name": "Zoë 😀"})
    assert seen["album"][1]["caption"] == "Hi Zoë 😀"
    assert seen["album"][1]["caption_entities"] == [{"type": "bold", "offset": 3, "length": 6}]
    assert seen["album"][0] == stored["album"][0]

    with pytest.raises(GreetingError, match="unknown placeholder"):
        personalise(MessageContent("", album=(video, AlbumItem(photo.media, "{frist_name}"))).to_json())
    long_caption = "x" * 1000 + " {full_name}"
    with pytest.raises(GreetingError, match="the caption of item 2"):
        personalise(MessageContent("", album=(video, AlbumItem(photo.media, long_caption))).to_json())
