"""A stored channel post becomes forwardMessage or copyMessage, with what each method allows."""

from __future__ import annotations

import pytest

from panel.buttons import parse_buttons
from panel.content import BotApiCall, ChannelPost, ContentError, Media, MessageContent, bot_api_call
from panel.send_options import LinkPreview, SendOptions, offers_link_preview

CHANNEL = -1001234567890


def test_a_channel_post_round_trips_through_the_stored_form() -> None:
    content = MessageContent("Big news", channel_post=ChannelPost(CHANNEL, 7, "copy"))
    stored = content.to_json()
    assert stored["kind"] == "channel_post"
    assert stored["channel_post"] == {"from_chat_id": CHANNEL, "message_id": 7, "mode": "copy"}
    assert MessageContent.from_json(stored) == content
    assert content.preview_text() == "[📢 Copied post] Big news"
    # The post's text only previews it: a post without text is still content.
    assert MessageContent("", channel_post=ChannelPost(CHANNEL, 7)).preview_text() == "[📢 Forwarded post]"


def test_a_forward_carries_only_silent_and_protected() -> None:
    stored = MessageContent("Big news", channel_post=ChannelPost(CHANNEL, 7)).to_json()
    options = SendOptions(silent=True, protect=True, link_preview=LinkPreview.OFF)
    assert bot_api_call(stored, file_id=None, paid_broadcast=True, options=options) == BotApiCall(
        "forwardMessage",
        {"from_chat_id": CHANNEL, "message_id": 7, "disable_notification": True, "protect_content": True},
    )
    assert bot_api_call(stored, file_id=None).params == {"from_chat_id": CHANNEL, "message_id": 7}


def test_a_copy_carries_buttons_options_and_paid_broadcast() -> None:
    buttons = parse_buttons("Read - https://example.com")
    stored = MessageContent(
        "Big news", buttons=buttons, channel_post=ChannelPost(CHANNEL, 7, "copy")
    ).to_json()
    call = bot_api_call(stored, file_id=None, paid_broadcast=True, options=SendOptions(silent=True))
    assert call == BotApiCall(
        "copyMessage",
        {
            "from_chat_id": CHANNEL,
            "message_id": 7,
            "allow_paid_broadcast": True,
            "disable_notification": True,
            "reply_markup": {"inline_keyboard": [[{"text": "Read", "url": "https://example.com"}]]},
        },
    )


def test_a_channel_post_refuses_what_telegram_cannot_send() -> None:
    with pytest.raises(ContentError, match="forwarded or copied"):
        ChannelPost(CHANNEL, 7, "quote")
    with pytest.raises(ContentError, match="no message id"):
        ChannelPost(CHANNEL, 0)
    with pytest.raises(ContentError, match="copy it instead"):
        MessageContent(
            "x", buttons=parse_buttons("A - https://a.example"), channel_post=ChannelPost(CHANNEL, 1)
        )
    with pytest.raises(ContentError, match="without another file"):
        MessageContent("", media=Media("photo", "AgAC"), channel_post=ChannelPost(CHANNEL, 1, "copy"))


def test_a_channel_post_offers_no_link_preview_toggle() -> None:
    link = {"type": "url", "offset": 0, "length": 19}
    text = MessageContent("https://example.com", (link,))
    assert offers_link_preview(text.to_json())
    post = MessageContent("https://example.com", (link,), channel_post=ChannelPost(CHANNEL, 3, "copy"))
    assert not offers_link_preview(post.to_json())
