"""HTML and MarkdownV2 parsing: entities in UTF-16 units and Telegram's errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from tests.support.sim import TOKEN
from tgsim.entities import EntityParseError, parse_html, parse_markdown_v2, strip_text, utf16_len
from tgsim.simulator import Simulator


def test_html_offsets_count_utf16_units() -> None:
    text, entities = parse_html(
        '😀 <b>bold <i>both</i></b> <a href="https://x.org/?a=1&amp;b=2">link</a> &lt;tag&gt;'
    )
    assert text == "😀 bold both link <tag>"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "url": "https://x.org/?a=1&b=2", "offset": 13, "length": 4},
    ]


def test_html_spoilers_quotes_and_pre_language() -> None:
    text, entities = parse_html(
        '<tg-spoiler>a</tg-spoiler><span class="tg-spoiler">b</span><blockquote>q</blockquote>'
        '<pre><code class="language-python">x = 1</code></pre><s>s</s><u>u</u><code>c</code>'
    )
    assert text == "abqx = 1suc"
    assert [e["type"] for e in entities] == [
        "spoiler",
        "spoiler",
        "blockquote",
        "pre",
        "strikethrough",
        "underline",
        "code",
    ]
    assert entities[3] == {"type": "pre", "language": "python", "offset": 3, "length": 5}


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("é<marquee>x</marquee>", 'Unsupported start tag "marquee" at byte offset 2'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("a <b", "Unclosed start tag at byte offset 2"),
    ],
)
def test_html_errors(markup: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(markup)
    assert str(caught.value) == error


def test_markdown_v2_offsets_count_utf16_units() -> None:
    text, entities = parse_markdown_v2("🎉 *bold _it_* __u__ ~s~ ||sp|| `c` [l](https://e\\.x) 1\\.5")
    assert text == "🎉 bold it u s sp c l 1.5"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 7},
        {"type": "italic", "offset": 8, "length": 2},
        {"type": "underline", "offset": 11, "length": 1},
        {"type": "strikethrough", "offset": 13, "length": 1},
        {"type": "spoiler", "offset": 15, "length": 2},
        {"type": "code", "offset": 18, "length": 1},
        {"type": "text_link", "offset": 20, "length": 1, "url": "https://e.x"},
    ]


def test_markdown_v2_pre_and_blockquote() -> None:
    text, entities = parse_markdown_v2("```python\nprint(1)```\n>quoted\n>lines\nafter")
    assert text == "print(1)\nquoted\nlines\nafter"
    assert entities == [
        {"type": "pre", "offset": 0, "length": 8, "language": "python"},
        {"type": "blockquote", "offset": 9, "length": 12},
    ]


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("Price 1.5", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
        ("ü _it", "Can't find end of Italic entity at byte offset 3"),
    ],
)
def test_markdown_v2_errors(markup: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_markdown_v2(markup)
    assert str(caught.value) == error


def test_strip_moves_entities() -> None:
    text, entities = strip_text("  😀 hi  ", [{"type": "bold", "offset": 2, "length": 7}])
    assert text == "😀 hi"
    assert entities == [{"type": "bold", "offset": 0, "length": utf16_len("😀 hi")}]


async def test_parse_modes_through_aiogram(sim: Simulator, make_bot: Callable[[str], Bot]) -> None:
    sim.add_user(TOKEN, 1)
    bot = make_bot(TOKEN)
    html = await bot.send_message(1, "👨‍👩‍👧 <b>family</b>", parse_mode="HTML")
    assert html.entities is not None
    assert (html.entities[0].offset, html.entities[0].length) == (9, 6)
    markdown = await bot.send_message(1, "💡 *idea*", parse_mode="MarkdownV2")
    assert markdown.entities is not None and (markdown.entities[0].offset, markdown.entities[0].length) == (
        3,
        4,
    )
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(1, "v1.2", parse_mode="MarkdownV2")
    assert caught.value.message.startswith("Bad Request: can't parse entities: Character '.' is reserved")
