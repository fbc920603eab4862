"""The segment expression language: what parses into which rules, and where a mistake is."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panel.segments import (
    ActiveWithin,
    AllOf,
    AnyOf,
    Attribute,
    Joined,
    Language,
    Not,
    Received,
    SegmentError,
    Subscribed,
    parse_segment,
)


def test_the_issue_example_parses_with_and_binding_tighter_than_or() -> None:
    assert parse_segment("language in (ru, uk) and active within 30d and not received 12") == AllOf(
        (Language(("ru", "uk")), ActiveWithin(timedelta(days=30)), Not(Received(12)))
    )
    assert parse_segment('joined after 2026-01-01 or plan = pro and not city = "New York"') == AnyOf(
        (
            Joined(after=True, day=date(2026, 1, 1)),
            AllOf((Attribute("plan", "pro", equal=True), Not(Attribute("city", "New York", equal=True)))),
        )
    )
    assert parse_segment("(language = EN or language = de) and active within 12h") == AllOf(
        (AnyOf((Language(("en",)), Language(("de",)))), ActiveWithin(timedelta(hours=12)))
    )
    assert parse_segment("NOT joined before 2025-06-30") == Not(Joined(after=False, day=date(2025, 6, 30)))
    assert parse_segment("plan != free") == Attribute("plan", "free", equal=False)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "at character 1: expected a rule"),
        ("language in ru", "at character 13: expected “(” and a list of language codes, found “ru”"),
        ("language in (ru uk)", "at character 17: expected “,” or “)”, found “uk”"),
        ("active within 30", "at character 15: expected a period like 30d or 12h, found “30”"),
        ("active 30d", "at character 8: expected “within”, found “30d”"),
        ("joined after yesterday", "at character 14: expected a date like 2026-01-31, found “yesterday”"),
        ("joined after 2026-02-30", "at character 14: “2026-02-30” is not a date"),
        ("received x", "at character 10: expected a campaign id, found “x”"),
        ("language = ru and", "at character 18: expected a rule"),
        ("(language = ru", "at character 15: expected “)”, found the end"),
        ("plan pro", "at character 6: expected “=” or “!=” after the attribute “plan”, found “pro”"),
        ("language = ru; drop table users", "at character 14: unexpected “;”"),
        ("language = ru received 3", "at character 15: expected “and”, “or” or the end, found “received”"),
        ("and language = ru", "at character 1: expected a rule"),
    ],
)
def test_a_mistake_says_where_and_what_was_expected(text: str, error: str) -> None:
    with pytest.raises(SegmentError) as caught:
        parse_segment(text)
    assert str(caught.value).startswith(error), str(caught.value)


@given(st.text(max_size=60))
def test_any_text_parses_or_is_refused_with_a_position_inside_it(text: str) -> None:
    try:
        parse_segment(text)
    except SegmentError as error:
        assert 1 <= error.position <= len(text) + 1


def test_subscribed_names_a_topic_and_an_attribute_called_subscribed_stays_one() -> None:
    assert parse_segment("not subscribed news and subscribed Offers") == AllOf(
        (Not(Subscribed("news")), Subscribed("offers"))
    )
    assert parse_segment("subscribed = yes") == Attribute("subscribed", "yes", equal=True)
    with pytest.raises(SegmentError, match="at character 11: expected a topic such as news, found the end"):
        parse_segment("subscribed")
