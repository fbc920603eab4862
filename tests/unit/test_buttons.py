"""The grid of URL buttons an admin types: parsed to rows, refused with the line and the button."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panel.buttons import Buttons, ButtonsError, UrlButton, parse_button_rows, parse_buttons, rows_of


def test_a_grid_is_rows_of_label_and_link() -> None:
    grid = "Read more - https://example.com/post | Shop - https://shop.example\nChannel - https://t.me/news"
    assert parse_buttons(grid) == rows_of(
        [
            [("Read more", "https://example.com/post"), ("Shop", "https://shop.example")],
            [("Channel", "https://t.me/news")],
        ]
    )


def test_the_label_is_split_at_the_last_dash_and_tg_links_are_accepted() -> None:
    buttons = parse_buttons("Q&A - live - tg://resolve?domain=news\n\n")
    assert buttons.rows == ((UrlButton("Q&A - live", "tg://resolve?domain=news"),),)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("Read - https://a.example\nShop -", "line 2: `Shop -` has no link"),
        ("Shop - htp://x", "line 1: `htp://x` is not an http(s) or tg:// link"),
        ("Shop - https://", "line 1: `https://` is not an http(s) or tg:// link"),
        ("Shop https://a.example", "line 1: `Shop https://a.example` has no ` - ` between"),
        ("A - https://a.example |  - https://b.example", "line 1: `- https://b.example` has no label"),
        ("x" * 65 + " - https://a.example", "is 65 characters; at most 64"),
        (
            "\n\n" + " | ".join(["A - https://a.example"] * 9),
            "line 3 has 9 buttons; Telegram shows at most 8",
        ),
        ("\n".join(["A - https://a.example"] * 101), "The grid has 101 buttons; at most 100 in all"),
        ("  \n", "The grid has no buttons"),
    ],
)
def test_every_mistake_names_the_line_and_the_button(grid: str, message: str) -> None:
    with pytest.raises(ButtonsError) as refused:
        parse_buttons(grid)
    assert message in str(refused.value)


def test_a_huge_mistake_is_quoted_short() -> None:
    with pytest.raises(ButtonsError) as refused:
        parse_buttons("a" * 5000)
    assert len(str(refused.value)) < 200 and "…` has no ` - `" in str(refused.value)


def test_the_limits_themselves_are_accepted() -> None:
    row = " | ".join([("x" * 64) + " - https://a.example"] * 8)
    assert parse_buttons("\n".join([row] * 12 + ["A - https://b.example"] * 4)).count == 100


def test_cli_rows_are_one_grid() -> None:
    assert (
        parse_button_rows(["A - https://a.example | B - tg://user?id=1", "C - http://c.example"]).count == 3
    )


def test_stored_buttons_round_trip_and_old_content_has_none() -> None:
    buttons = parse_buttons("A - https://a.example | B - tg://user?id=1\nC - http://c.example")
    assert Buttons.from_json(buttons.to_json()) == buttons
    assert Buttons.from_json(None) == Buttons()
    assert not Buttons()
    assert buttons.inline_keyboard()[0][1] == {"text": "B", "url": "tg://user?id=1"}


_label = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="|"),
    min_size=1,
    max_size=64,
).filter(lambda label: label == label.strip() and label.strip() != "" and not label.startswith("- "))
_url = st.builds(
    lambda scheme, host, path: f"{scheme}{host}{path}",
    st.sampled_from(["https://", "http://", "tg://", "https://t.me/"]),
    st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?", fullmatch=True),
    st.from_regex(r"(/[A-Za-z0-9_?=&%.-]{0,12}){0,3}", fullmatch=True),
)
_grid = st.lists(
    st.lists(st.builds(UrlButton, _label, _url), min_size=1, max_size=8), min_size=1, max_size=12
)


@given(_grid)
def test_any_grid_rendered_as_text_parses_to_itself(rows: list[list[UrlButton]]) -> None:
    buttons = Buttons(tuple(tuple(row) for row in rows))
    assert parse_buttons(buttons.to_text()) == buttons
