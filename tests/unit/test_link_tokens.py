"""Tracked-link tokens: compact, opaque, and refused when forged, mangled or cut."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panel.buttons import rows_of
from panel.content import MessageContent
from panel.links import LinkRef, LinkSigner, TrackedLinks, link_targets, tracking_on
from panel.settings import load_settings

KEY = bytes(range(32))
SIGNER = LinkSigner(KEY)
SECRET = base64.urlsafe_b64encode(b"k" * 32).decode()


@given(
    st.integers(0, 2**63 - 1),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(0, 2**32 - 1),
)
def test_a_token_stands_for_exactly_what_it_was_made_of(campaign_id: int, chat_id: int, index: int) -> None:
    ref = LinkRef(campaign_id, chat_id, index)
    token = SIGNER.token(ref)
    assert SIGNER.verify(token) == ref
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_typical_token_is_short_and_does_not_show_the_chat_id() -> None:
    token = SIGNER.token(LinkRef(1234, 5_123_456_789, 2))
    assert len(token) <= 30
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert (5_123_456_789 * 2).to_bytes(5, "little") not in raw
    # Two recipients of one link get unrelated tokens.
    other = SIGNER.token(LinkRef(1234, 5_123_456_790, 2))
    assert token[:8] != other[:8]


@given(st.data())
def test_any_change_to_a_token_is_refused(data: st.DataObject) -> None:
    token = SIGNER.token(LinkRef(77, 1_000_001, 1))
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("Aa0-_Zz9"))
    mangled = token[:position] + replacement + token[position + 1 :]
    if mangled != token:
        assert SIGNER.verify(mangled) is None


@pytest.mark.parametrize("token", ["", "x", "c" * 200, "!!!!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "a b"])
def test_garbage_is_refused(token: str) -> None:
    assert SIGNER.verify(token) is None


def test_another_key_refuses_the_token_and_a_cut_token_is_refused() -> None:
    token = SIGNER.token(LinkRef(5, 6, 0))
    assert LinkSigner(bytes(32)).verify(token) is None
    assert SIGNER.verify(token[:-1]) is None
    assert SIGNER.verify(token + "A") is None


def test_buttons_then_distinct_text_links_are_numbered_and_rewritten_per_recipient() -> None:
    text = "Read example.com and the shop and the shop again"
    entities = [
        {"type": "url", "offset": 5, "length": 11},
        {"type": "text_link", "offset": 25, "length": 4, "url": "https://shop.example/"},
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "text_link", "offset": 38, "length": 4, "url": "https://shop.example/"},
    ]
    buttons = rows_of([[("Go", "https://go.example/a"), ("App", "tg://resolve?domain=x")]])
    content = MessageContent(text, entities=tuple(entities), buttons=buttons).to_json()
    assert [(t.link_index, t.url, t.label) for t in link_targets(content)] == [
        (0, "https://go.example/a", "Go"),
        (1, "tg://resolve?domain=x", "App"),
        (2, "http://example.com", None),
        (3, "https://shop.example/", None),
    ]
    links = TrackedLinks(content, campaign_id=9, base_url="https://l.example/", signer=SIGNER)
    markup = links.reply_markup(42)
    (go, app) = markup["inline_keyboard"][0]
    assert go["text"] == "Go" and go["url"].startswith("https://l.example/c/")
    assert SIGNER.verify(go["url"].removeprefix("https://l.example/c/")) == LinkRef(9, 42, 0)
    assert app == {"text": "App", "url": "tg://resolve?domain=x"}  # opens in the app: not tracked
    rewritten = links.entities(42, text, entities)
    assert [e["type"] for e in rewritten] == ["text_link", "text_link", "bold", "text_link"]
    refs = [SIGNER.verify(e["url"].removeprefix("https://l.example/c/")) for e in rewritten if "url" in e]
    assert refs == [LinkRef(9, 42, 2), LinkRef(9, 42, 3), LinkRef(9, 42, 3)]
    assert links.preview_options({}) == {"url": "http://example.com"}
    assert links.preview_options({"link_preview_options": {"is_disabled": True}}) is None


def test_tracking_follows_the_base_url_and_the_campaign_choice() -> None:
    off = load_settings(_env_file=None)
    on = load_settings(_env_file=None, secret_key=SECRET, links_base_url="https://l.example/")
    assert on.links_base_url == "https://l.example"
    assert not tracking_on(None, off) and not tracking_on(True, off)
    assert tracking_on(None, on) and tracking_on(True, on) and not tracking_on(False, on)


def test_a_recipients_tracked_buttons_keep_the_unsubscribe_button_under_them() -> None:
    buttons = rows_of([[("Go", "https://go.example/a")]])
    content = MessageContent("Hi", buttons=buttons).to_json() | {
        "unsubscribe": {"topic": "offers", "text": "🔕 Unsubscribe from offers"}
    }
    links = TrackedLinks(content, campaign_id=9, base_url="https://l.example/", signer=SIGNER)
    rows = links.reply_markup(42)["inline_keyboard"]
    assert rows[0][0]["url"].startswith("https://l.example/c/")
    assert rows[1] == [{"text": "🔕 Unsubscribe from offers", "callback_data": "unsub:offers"}]
