"""Placeholders filled per recipient: the text, the fallbacks, and entities that stay on their words."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panel.content import Media, MessageContent, utf16_length
from panel.greetings import PERSONALISED_KEY, PLACEHOLDERS, GreetingError, Template, personalise, values_of


def _slice(text: str, entity: dict[str, Any]) -> str:
    """The characters an entity covers (offsets in UTF-16 code units, as Telegram counts)."""
    data = text.encode("utf-16-le")
    start, length = int(entity["offset"]), int(entity["length"])
    return data[2 * start : 2 * (start + length)].decode("utf-16-le")


def _bold(text: str, word: str) -> dict[str, Any]:
    offset = utf16_length(text[: text.index(word)])
    return {"type": "bold", "offset": offset, "length": utf16_length(word)}


def test_a_value_or_its_fallback_fills_the_placeholder() -> None:
    template = Template.parse("Hi {first_name|friend}!")
    assert template.render(values_of("Ann", None, None))[0] == "Hi Ann!"
    assert template.render(values_of(None, None, None))[0] == "Hi friend!"
    assert template.render(values_of("", "Lee", None))[0] == "Hi friend!"


def test_an_empty_value_takes_the_space_before_it() -> None:
    template = Template.parse("Hello {first_name}, welcome back {username}")
    assert template.render(values_of(None, None, None))[0] == "Hello, welcome back"
    assert template.render(values_of("Ann", None, "ann"))[0] == "Hello Ann, welcome back ann"


def test_full_name_joins_what_there_is() -> None:
    template = Template.parse("Dear {full_name|customer}")
    assert template.render(values_of("Ann", "Lee", None))[0] == "Dear Ann Lee"
    assert template.render(values_of(None, "Lee", None))[0] == "Dear Lee"
    assert template.render(values_of(None, None, None))[0] == "Dear customer"


def test_an_emoji_name_does_not_shift_the_bold_on_the_next_word() -> None:
    source = "Hi {first_name}, big sale today"
    template = Template.parse(source, [_bold(source, "big"), _bold(source, "today")])
    for name in ("😀😀", "山田太郎", "A", "👨‍👩‍👧"):
        text, entities = template.render(values_of(name, None, None))
        assert [_slice(text, entity) for entity in entities] == ["big", "today"], name


def test_an_entity_over_a_placeholder_covers_the_whole_value() -> None:
    source = "Hi {first_name}!"
    template = Template.parse(source, [_bold(source, "{first_name}")])
    text, (entity,) = template.render(values_of("🎉Zoë", None, None))
    assert text == "Hi 🎉Zoë!" and _slice(text, entity) == "🎉Zoë"
    # An empty value leaves an empty entity, which is dropped rather than sent.
    text, entities = template.render(values_of(None, None, None))
    assert text == "Hi!" and entities == []


def test_names_are_data_not_markup() -> None:
    text, entities = Template.parse("Hi {first_name}").render(values_of("<b>x</b> *y*", None, None))
    assert text == "Hi <b>x</b> *y*" and entities == []


def test_double_braces_write_literal_braces_and_entities_follow() -> None:
    source = "{{first_name}} is literal, {first_name} is not"
    template = Template.parse(source, [_bold(source, "literal")])
    text, (entity,) = template.render(values_of("Ann", None, None))
    assert text == "{first_name} is literal, Ann is not"
    assert _slice(text, entity) == "literal"
    assert not Template.parse("a {{ b }}").has_placeholders


def test_an_unknown_placeholder_is_refused_with_the_known_ones() -> None:
    with pytest.raises(GreetingError) as refused:
        Template.parse("Hi {frist_name}")
    message = str(refused.value)
    assert "{frist_name}" in message
    assert all(f"{{{name}}}" in message for name in PLACEHOLDERS)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Price {10", "lone “{” at character 7"),
        ("a } b", "lone “}” at character 3"),
        ("{{x} y", "lone “}” at character 4"),
        ("{{ {first_name", "lone “{” at character 4"),
    ],
)
def test_a_lone_brace_is_refused_with_where_it_is(text: str, reason: str) -> None:
    with pytest.raises(GreetingError, match=reason):
        Template.parse(text)


def test_the_longest_rendering_counts_the_longest_names() -> None:
    assert Template.parse("Hi {full_name}").longest_units() == 3 + 128 + 1 + 128
    assert Template.parse("{username|a much longer fallback than any username}").longest_units() == 40
    assert Template.parse("plain").longest_units() == 5


_words = st.text(alphabet=st.sampled_from("abcXYZ😀山é"), min_size=1, max_size=6)
_names = st.one_of(st.none(), st.text(max_size=64))


@given(
    tokens=st.lists(st.one_of(_words, st.sampled_from([f"{{{p}}}" for p in PLACEHOLDERS])), max_size=8),
    first=_names,
    last=_names,
    username=_names,
)
def test_every_word_keeps_its_entity_whatever_the_names(
    tokens: list[str], first: str | None, last: str | None, username: str | None
) -> None:
    source = ""
    entities: list[dict[str, Any]] = []
    words: list[str] = []
    for token in tokens:
        if source:
            source += " "
        if not token.startswith("{"):
            entities.append({"type": "italic", "offset": utf16_length(source), "length": utf16_length(token)})
            words.append(token)
        source += token
    text, moved = Template.parse(source, entities).render(values_of(first, last, username))
    assert [_slice(text, entity) for entity in moved] == words
    assert utf16_length(text) <= Template.parse(source).longest_units() or any(
        utf16_length(name or "") > 64 for name in (first, last, username)
    )


def test_personalise_marks_only_a_text_with_placeholders() -> None:
    plain = MessageContent("Sale {{today}}", ({"type": "bold", "offset": 5, "length": 9},)).to_json()
    unmarked = personalise(plain)
    assert PERSONALISED_KEY not in unmarked
    assert unmarked["text"] == "Sale {today}" and unmarked["entities"] == [
        {"type": "bold", "offset": 5, "length": 7}
    ]
    marked = personalise(MessageContent("Hi {first_name|friend}").to_json())
    assert marked[PERSONALISED_KEY] is True and marked["text"] == "Hi {first_name|friend}"


def test_personalise_refuses_a_text_the_longest_names_take_past_the_limit() -> None:
    fits = "x" * (4096 - 257) + "{full_name}"
    assert personalise(MessageContent(fits).to_json())[PERSONALISED_KEY]
    with pytest.raises(GreetingError, match="4,097 characters long; the limit is 4,096: shorten it by 1"):
        personalise(MessageContent("x" + fits).to_json())
    caption = MessageContent("{first_name} " + "c" * 900, media=Media("photo", "AgAC")).to_json()
    with pytest.raises(GreetingError, match="the limit is 1,024"):
        personalise(caption)


def test_personalise_refuses_a_text_empty_for_someone_with_no_name() -> None:
    with pytest.raises(GreetingError, match="give the placeholder a fallback"):
        personalise(MessageContent("{first_name} {last_name}").to_json())
    assert personalise(MessageContent("{first_name|friend}").to_json())[PERSONALISED_KEY]
    # A caption may be empty: the media still goes.
    photo = MessageContent("{first_name}", media=Media("photo", "AgAC")).to_json()
    assert personalise(photo)[PERSONALISED_KEY]
