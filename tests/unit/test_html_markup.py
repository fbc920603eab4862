"""Telegram's HTML subset read as Telegram reads it: text, UTF-16 entities, and Telegram's refusals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panel.content import ContentError, MessageContent
from panel.greetings import personalise, rendered, values_of
from panel.html_markup import MarkupError, parse_html


def _slice(text: str, entity: dict[str, Any]) -> str:
    """The characters an entity covers (offsets in UTF-16 code units, as Telegram counts)."""
    data = text.encode("utf-16-le")
    start, length = int(entity["offset"]), int(entity["length"])
    return data[2 * start : 2 * (start + length)].decode("utf-16-le")


def test_plain_text_comes_back_as_it_is() -> None:
    assert parse_html("Spring sale: 20% off > today") == ("Spring sale: 20% off > today", [])


def test_each_tag_makes_telegrams_entity() -> None:
    text, entities = parse_html(
        "<b>b</b><strong>B</strong><i>i</i><em>I</em><u>u</u><ins>U</ins><s>s</s><strike>S</strike>"
        '<del>D</del><tg-spoiler>p</tg-spoiler><span class="tg-spoiler">P</span><code>c</code>'
        "<pre>pre</pre><blockquote>q</blockquote><blockquote expandable>E</blockquote>"
    )
    assert text == "bBiIuUsSDpPcpreqE"
    assert [(e["type"], _slice(text, e)) for e in entities] == [
        ("bold", "b"),
        ("bold", "B"),
        ("italic", "i"),
        ("italic", "I"),
        ("underline", "u"),
        ("underline", "U"),
        ("strikethrough", "s"),
        ("strikethrough", "S"),
        ("strikethrough", "D"),
        ("spoiler", "p"),
        ("spoiler", "P"),
        ("code", "c"),
        ("pre", "pre"),
        ("blockquote", "q"),
        ("expandable_blockquote", "E"),
    ]


def test_entities_have_the_keys_the_chat_stores() -> None:
    text, entities = parse_html(
        '<a href="https://example.com/a?x=1&amp;y=2">Shop</a> '
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> '
        '<pre><code class="language-python">print(1)</code></pre>'
    )
    assert text == "Shop 👍 print(1)"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 4, "url": "https://example.com/a?x=1&y=2"},
        {"type": "custom_emoji", "offset": 5, "length": 2, "custom_emoji_id": "5368324170671202286"},
        {"type": "pre", "offset": 8, "length": 8, "language": "python"},
    ]
    MessageContent(text, entities=tuple(entities))  # a message the chat could have made


def test_offsets_count_utf16_units_past_emoji_and_cjk() -> None:
    text, entities = parse_html("😀👍🏽 日本語 <b>太字</b> <i>🎉 party</i>")
    assert text == "😀👍🏽 日本語 太字 🎉 party"
    assert entities == [
        {"type": "bold", "offset": 11, "length": 2},
        {"type": "italic", "offset": 14, "length": 8},
    ]
    assert [_slice(text, e) for e in entities] == ["太字", "🎉 party"]


def test_nesting_is_kept_and_ordered_as_telegram_orders_it() -> None:
    text, entities = parse_html("<b>all <i>both <u>three</u></i></b> <s><b>same</b></s>")
    assert text == "all both three same"
    assert [(e["type"], _slice(text, e)) for e in entities] == [
        ("bold", "all both three"),
        ("italic", "both three"),
        ("underline", "three"),
        ("bold", "same"),  # one span, two entities: bold goes before strikethrough
        ("strikethrough", "same"),
    ]


def test_html_entities_decode_and_unknown_ones_stay_as_written() -> None:
    text, entities = parse_html("&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42;&#128512; &amp &nbsp; &foo; &#X41;")
    assert text == '<b> & "q" AB😀 & &nbsp; &foo; &#X41;'
    assert entities == []
    assert parse_html('<a href="https://e.com/?a=1&amp;b=&quot;2&quot;">x</a>')[1][0]["url"] == (
        'https://e.com/?a=1&b="2"'
    )


def test_tags_are_case_insensitive_and_empty_ones_make_nothing() -> None:
    text, entities = parse_html("<B>loud</b><i></i><STRONG >x</STRONG>")
    assert text == "loudx"
    assert [(e["type"], _slice(text, e)) for e in entities] == [("bold", "loud"), ("bold", "x")]


def test_a_link_telegram_would_not_take_is_dropped_and_its_text_kept() -> None:
    text, entities = parse_html(
        '<a href="javascript:alert(1)">js</a> <a href="nohost">bare</a> <a>https://t.me/news</a> '
        '<a href="tg://resolve?domain=news">app</a>'
    )
    assert text == "js bare https://t.me/news app"
    assert [(e.get("url"), _slice(text, e)) for e in entities] == [
        ("https://t.me/news", "https://t.me/news"),
        ("tg://resolve?domain=news", "app"),
    ]


def test_code_with_a_language_outside_pre_is_plain_code() -> None:
    assert parse_html('<code class="language-go">x</code>')[1] == [{"type": "code", "offset": 0, "length": 1}]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("Hi <foo>x</foo>", 'Unsupported start tag "foo" at byte offset 3'),
        ("Привет <br>", 'Unsupported start tag "br" at byte offset 13'),
        ("😀 a < b", 'Unsupported start tag "" at byte offset 7'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("日本 x</b>", "Unexpected end tag at byte offset 8"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("text <b", "Unclosed start tag at byte offset 5"),
        ('<a href="https://e.com"', "Unclosed start tag at byte offset 0"),
        ("<a href", 'Unclosed start tag "a" at byte offset 0'),
        ("<b =x>", 'Empty attribute name in the tag "b" at byte offset 0'),
        ("é<a href=x/y>z</a>", "Unexpected end of name token at byte offset 10"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<tg-emoji emoji-id="abc">👍</tg-emoji>', "Invalid custom emoji identifier specified"),
        ("&#xD83D;&#xDE00;", "Text contains invalid Unicode characters after decoding HTML entities"),
    ],
)
def test_bad_markup_gets_telegrams_description(source: str, reason: str) -> None:
    with pytest.raises(MarkupError) as refused:
        parse_html(source)
    assert str(refused.value).startswith("Bad Request: can't parse entities: " + reason), refused.value
    assert isinstance(refused.value, ContentError)


def test_placeholders_after_parsing_keep_entities_on_their_words() -> None:
    text, entities = parse_html("<b>Hi {first_name|there}</b>, <i>sale</i> 😀")
    content = personalise(MessageContent(text, entities=tuple(entities)).to_json())
    got = rendered(content, values_of("🎉Ann", None, None))
    assert got["text"] == "Hi 🎉Ann, sale 😀"
    assert [_slice(got["text"], e) for e in got["entities"]] == ["Hi 🎉Ann", "sale"]


# The property: random well-formed markup over text with emoji, CJK and characters to escape.

_TEXT = st.text(alphabet="ab ¡日本😀👍🏽<>&\"'\n", max_size=6)
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_ESCAPES = {
    "&": ("&amp;", "&#38;", "&#x26;"),
    "<": ("&lt;", "&#60;"),
    ">": ("&gt;", ">"),
    '"': ('"', "&quot;"),
}


@dataclass(frozen=True)
class _Element:
    """A tag around children, with the entity it must make."""

    open_tag: str
    close_tag: str
    entity: dict[str, str]
    children: tuple[_Element | str, ...]


def _element(children: list[_Element | str], data: st.DataObject) -> _Element:
    tag = data.draw(st.sampled_from([*_SIMPLE_TAGS, "span", "a", "tg-emoji", "expandable"]))
    if tag == "span":
        return _Element('<span class="tg-spoiler">', "</span>", {"type": "spoiler"}, tuple(children))
    if tag == "a":
        url = data.draw(
            st.sampled_from(["https://example.com/?a=1&b=2", "http://t.me/news", "tg://user?id=42"])
        )
        href = url.replace("&", "&amp;")
        return _Element(f'<a href="{href}">', "</a>", {"type": "text_link", "url": url}, tuple(children))
    if tag == "tg-emoji":
        emoji_id = str(data.draw(st.integers(1, 2**63 - 1)))
        entity = {"type": "custom_emoji", "custom_emoji_id": emoji_id}
        return _Element(f'<tg-emoji emoji-id="{emoji_id}">', "</tg-emoji>", entity, tuple(children))
    if tag == "expandable":
        entity = {"type": "expandable_blockquote"}
        return _Element("<blockquote expandable>", "</blockquote>", entity, tuple(children))
    upper = data.draw(st.booleans())
    return _Element(
        f"<{tag.upper() if upper else tag}>", f"</{tag}>", {"type": _SIMPLE_TAGS[tag]}, tuple(children)
    )


_TREES = st.recursive(_TEXT, lambda inner: st.lists(inner, max_size=3), max_leaves=12)
"""Strings are text; a list is an element (its tag drawn later) around its items."""


def _build(node: str | list[Any], data: st.DataObject) -> list[_Element | str]:
    if isinstance(node, str):
        return [node]
    children = [child for item in node for child in _build(item, data)]
    return [_element(children, data)]


def _render(nodes: tuple[_Element | str, ...], data: st.DataObject) -> str:
    """The markup of `nodes`, each special character escaped one of the ways Telegram reads."""
    html: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            html += [
                data.draw(st.sampled_from(_ESCAPES[char])) if char in _ESCAPES else char for char in node
            ]
        else:
            html += [node.open_tag, _render(node.children, data), node.close_tag]
    return "".join(html)


def _plain(nodes: tuple[_Element | str, ...]) -> str:
    return "".join(node if isinstance(node, str) else _plain(node.children) for node in nodes)


def _expected(nodes: tuple[_Element | str, ...]) -> list[tuple[str, str, str]]:
    """(type, argument, covered text) of every element that holds some text."""
    found: list[tuple[str, str, str]] = []
    for node in nodes:
        if isinstance(node, _Element):
            inner = _plain(node.children)
            if inner:
                argument = node.entity.get("url") or node.entity.get("custom_emoji_id", "")
                found.append((node.entity["type"], argument, inner))
            found += _expected(node.children)
    return found


@given(st.data())
def test_any_well_formed_markup_gives_its_text_and_an_entity_per_tag(data: st.DataObject) -> None:
    nodes = tuple(_build(data.draw(_TREES), data))
    source = _render(nodes, data)
    text, entities = parse_html(source)
    assert text == _plain(nodes)
    got = [(e["type"], e.get("url") or e.get("custom_emoji_id", ""), _slice(text, e)) for e in entities]
    assert sorted(got) == sorted(_expected(nodes))
    assert [(e["offset"], -e["length"]) for e in entities] == sorted(
        (e["offset"], -e["length"]) for e in entities
    )
