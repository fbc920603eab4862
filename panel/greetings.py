"""Personal greetings: `{first_name}`-style placeholders filled per recipient, formatting kept.

A text with placeholders is parsed once into a `Template`; `render` fills it for one user and
moves every entity so it still covers the same words: offsets and lengths are Telegram's UTF-16
code units, so a name with emoji or CJK characters never shifts the bold on the next word.
Names are data, not markup: they are inserted as plain characters and never parsed.

Syntax: `{first_name}`, `{last_name}`, `{full_name}`, `{username}`, each with an optional
fallback after a bar (`{first_name|friend}`); `{{` and `}}` write literal braces. A placeholder
with no value and no fallback becomes an empty string, and the space before it goes with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from panel import texts
from panel.content import MAX_CAPTION_UTF16, MAX_TEXT_UTF16, utf16_length

PLACEHOLDERS = ("first_name", "last_name", "full_name", "username")
MAX_NAME_CHARS = 64
"""Telegram's longest first or last name; a username is at most 32 characters."""
_WIDEST = {"first_name": 2 * MAX_NAME_CHARS, "last_name": 2 * MAX_NAME_CHARS, "username": 32}
_WIDEST["full_name"] = _WIDEST["first_name"] + 1 + _WIDEST["last_name"]
"""The most UTF-16 units a value can take (a name of 64 characters outside the BMP)."""


class GreetingError(ValueError):
    """A text whose placeholders cannot be filled; the message is for the admin."""


@dataclass(frozen=True, slots=True)
class _Literal:
    text: str
    source_units: int


@dataclass(frozen=True, slots=True)
class _Slot:
    name: str
    fallback: str | None
    source_units: int


@dataclass(frozen=True, slots=True)
class Template:
    """A text split into literal runs and placeholders, with the entities of the source text."""

    parts: tuple[_Literal | _Slot, ...]
    entities: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def parse(cls, text: str, entities: Sequence[Mapping[str, Any]] = ()) -> Template:
        """Parse `text`; raises GreetingError naming the first unknown or broken placeholder."""
        parts: list[_Literal | _Slot] = []
        run: list[str] = []
        run_units = 0
        i = 0

        def flush() -> None:
            nonlocal run_units
            if run:
                parts.append(_Literal("".join(run), run_units))
                run.clear()
                run_units = 0

        while i < len(text):
            pair = text[i : i + 2]
            if pair in ("{{", "}}"):
                flush()
                parts.append(_Literal(pair[0], 2))
                i += 2
                continue
            char = text[i]
            if char == "}":
                raise GreetingError(texts.GREETING_LONE_CLOSE.format(position=i + 1))
            if char == "{":
                close = text.find("}", i + 1)
                inner = text[i + 1 : close] if close != -1 else ""
                if close == -1 or "{" in inner:
                    raise GreetingError(texts.GREETING_LONE_OPEN.format(position=i + 1))
                name, bar, fallback = inner.partition("|")
                if name not in PLACEHOLDERS:
                    known = ", ".join(f"{{{known}}}" for known in PLACEHOLDERS)
                    raise GreetingError(
                        texts.GREETING_UNKNOWN.format(placeholder=f"{{{inner}}}", known=known)
                    )
                flush()
                parts.append(_Slot(name, fallback if bar else None, utf16_length(text[i : close + 1])))
                i = close + 1
                continue
            run.append(char)
            run_units += utf16_length(char)
            i += 1
        flush()
        return cls(tuple(parts), tuple(entities))

    @property
    def has_placeholders(self) -> bool:
        """Whether any recipient sees something of their own."""
        return any(isinstance(part, _Slot) for part in self.parts)

    def render(self, values: Mapping[str, str | None]) -> tuple[str, list[dict[str, Any]]]:
        """The text and entities one recipient gets, from their `values` (see `values_of`)."""
        pieces: list[tuple[_Literal | _Slot, str]] = []
        for part in self.parts:
            if isinstance(part, _Literal):
                pieces.append((part, part.text))
                continue
            value = values.get(part.name) or part.fallback or ""
            if not value and pieces and pieces[-1][1].endswith(" "):
                before, run = pieces[-1]
                pieces[-1] = (before, run[:-1])  # the space before an empty name goes with it
            pieces.append((part, value))
        spans: list[_Span] = []
        source = out = 0
        for part, piece in pieces:
            width = utf16_length(piece)
            spans.append(_Span(source, source + part.source_units, out, out + width, isinstance(part, _Slot)))
            source, out = source + part.source_units, out + width
        entities: list[dict[str, Any]] = []
        for entity in self.entities:
            start = _moved(spans, int(entity["offset"]), end=False)
            stop = _moved(spans, int(entity["offset"]) + int(entity["length"]), end=True)
            if stop > start:
                entities.append({**entity, "offset": start, "length": stop - start})
        return "".join(piece for _, piece in pieces), entities

    def longest_units(self) -> int:
        """UTF-16 units of the longest rendering any recipient can get."""
        return sum(
            utf16_length(part.text)
            if isinstance(part, _Literal)
            else max(_WIDEST[part.name], utf16_length(part.fallback or ""))
            for part in self.parts
        )


@dataclass(frozen=True, slots=True)
class _Span:
    """Where one part lies in the source text and in a rendering, in UTF-16 units."""

    source_start: int
    source_end: int
    out_start: int
    out_end: int
    placeholder: bool


def _moved(spans: Sequence[_Span], offset: int, *, end: bool) -> int:
    """Where a source entity boundary lands in the rendering.

    An entity that starts or ends inside a placeholder covers the whole value; inside a run that
    changed width (an escaped brace, a space dropped before an empty name) it is clamped to it.
    """
    for span in spans:
        inside = (
            span.source_start < offset <= span.source_end
            if end
            else (span.source_start <= offset < span.source_end)
        )
        if not inside:
            continue
        if span.placeholder:
            return span.out_end if end else span.out_start
        return min(span.out_start + offset - span.source_start, span.out_end)
    return spans[-1].out_end if spans and offset > 0 else 0


def values_of(first_name: str | None, last_name: str | None, username: str | None) -> dict[str, str | None]:
    """A user's placeholder values from the users table."""
    full = " ".join(name for name in (first_name, last_name) if name) or None
    return {"first_name": first_name, "last_name": last_name, "full_name": full, "username": username}


PERSONALISED_KEY = "personalised"
"""Set in a stored content's JSON when its text has placeholders to fill per recipient."""


def personal_template(content: Mapping[str, Any]) -> Template | None:
    """The template of a stored personalised message, or None when everyone gets the same text."""
    if not content.get(PERSONALISED_KEY):
        return None
    return Template.parse(str(content.get("text", "")), list(content.get("entities") or ()))


def personal_fields(method: str) -> tuple[str, str]:
    """The text and entities parameters a Bot API send method takes (a caption for media)."""
    return ("text", "entities") if method == "sendMessage" else ("caption", "caption_entities")


def personalise(content: Mapping[str, Any]) -> dict[str, Any]:
    """A stored message (`MessageContent.to_json()`) marked personalised if its text (or an
    album item's caption) has placeholders.

    Raises GreetingError for an unknown placeholder or a lone brace, and when the longest name
    any recipient can have would take a text past Telegram's limit (names are data: at most
    64 + 64 characters). Text without placeholders comes back unmarked, braces unescaped.
    """
    marked = {key: value for key, value in content.items() if key != PERSONALISED_KEY}
    personal = False
    album = content.get("album")
    if isinstance(album, list) and album:
        marked["album"] = []
        for number, item in enumerate(album, start=1):
            own, item_personal = _personal_caption(item, number)
            marked["album"].append(own)
            personal = personal or item_personal
    template = Template.parse(str(content.get("text", "")), list(content.get("entities") or ()))
    if not template.has_placeholders:
        marked["text"], marked["entities"] = template.render({})
    else:
        if not content.get("media") and not template.render({})[0].strip():
            raise GreetingError(texts.GREETING_EMPTY_WITHOUT_NAME)
        limit = MAX_TEXT_UTF16 if not content.get("media") else MAX_CAPTION_UTF16
        _check_longest(template, limit, texts.GREETING_WHAT_TEXT)
        personal = True
    if personal:
        marked[PERSONALISED_KEY] = True
    return marked


def _personal_caption(item: Mapping[str, Any], number: int) -> tuple[dict[str, Any], bool]:
    """An album item with its caption checked as a template, and whether it greets by name."""
    template = Template.parse(str(item.get("caption") or ""), list(item.get("caption_entities") or ()))
    own = dict(item)
    if not template.has_placeholders:
        own["caption"], own["caption_entities"] = template.render({})
        return own, False
    _check_longest(template, MAX_CAPTION_UTF16, texts.GREETING_WHAT_ITEM_CAPTION.format(number=number))
    return own, True


def _check_longest(template: Template, limit: int, what: str) -> None:
    longest = template.longest_units()
    if longest > limit:
        raise GreetingError(
            texts.GREETING_TOO_LONG.format(
                what=what,
                longest=texts.number(longest),
                limit=texts.number(limit),
                over=texts.number(longest - limit),
            )
        )


def album_templates(content: Mapping[str, Any]) -> list[Template | None] | None:
    """The caption template of each item of a personalised album (None: the same for everyone),
    or None when the content is no album or no caption greets by name."""
    album = content.get("album")
    if not content.get(PERSONALISED_KEY) or not isinstance(album, list):
        return None
    templates = [
        Template.parse(str(item.get("caption") or ""), list(item.get("caption_entities") or ()))
        for item in album
    ]
    found = [template if template.has_placeholders else None for template in templates]
    return found if any(found) else None


def rendered(content: Mapping[str, Any], values: Mapping[str, str | None]) -> dict[str, Any]:
    """A stored message as one recipient gets it (unchanged when it is not personalised)."""
    template = personal_template(content)
    if template is None:
        return dict(content)
    text, entities = template.render(values)
    copy = {key: value for key, value in content.items() if key != PERSONALISED_KEY}
    copy["text"], copy["entities"] = text, entities
    captions = album_templates(content)
    if captions is not None:
        copy["album"] = [
            item if caption is None else _captioned(item, caption, values)
            for item, caption in zip(content["album"], captions, strict=True)
        ]
    return copy


def _captioned(
    item: Mapping[str, Any], caption: Template, values: Mapping[str, str | None]
) -> dict[str, Any]:
    text, entities = caption.render(values)
    return {**item, "caption": text, "caption_entities": entities}
