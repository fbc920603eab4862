"""Telegram's HTML subset turned into plain text and entities, as Telegram itself reads it.

`parse_html` gives the text and the entities (offsets and lengths in UTF-16 code units) that
Telegram would make of the markup under `parse_mode=HTML`, shaped like the entities the chat
stores (`MessageContent.entities`). Markup Telegram refuses raises `MarkupError` with the
description Telegram answers with, byte offsets into the UTF-8 source included.

A small scanner rather than `html.parser`: the standard parser forgives what Telegram refuses
(unknown or unclosed tags, mismatched end tags), decodes every HTML5 named entity where Telegram
knows four, and counts positions in characters, not in bytes.

Read as Telegram reads it: tag names are case-insensitive, attribute names are not; an unknown
named entity such as `&nbsp;` stays as written; a link Telegram would not accept is dropped and
its text kept; empty elements make no entity. `<tg-time>` is not supported.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

from panel.content import ContentError

_PREFIX = "Bad Request: can't parse entities: "
_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE = {
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
    "span": "spoiler",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = frozenset(" \t\r\n\v\0")
"""Telegram's spaces; the end of the text counts as one (it reads a NUL there)."""
_ASCII_ALNUM = frozenset(string.ascii_letters + string.digits)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
"""Which of two entities over the same span comes first, as Telegram orders them."""
_KEYS = ("type", "offset", "length", "url", "language", "custom_emoji_id")
_INT64 = re.compile(r"-?[0-9]{1,19}")
_TG_LINK = re.compile(r"(?:tg|ton|tonsite):(?://)?[A-Za-z0-9_.-]+(?:[/?][^\s]*)?", re.IGNORECASE)
_HTTP_LINK = re.compile(r"(?:https?://)?(?:[^\s/?#@]+@)?[^\s/?#@:]*\.[^\s/?#@:]+(?::[0-9]+)?(?:[/?#]\S*)?")


class MarkupError(ContentError):
    """HTML that Telegram would refuse; the message is Telegram's own description of why."""

    def __init__(self, reason: str) -> None:
        super().__init__(_PREFIX + reason)
        self.reason = reason


@dataclass(slots=True)
class _Open:
    """A start tag waiting for its end tag."""

    tag: str
    argument: str
    offset: int
    """UTF-16 units of text before it."""
    text_index: int
    """How many output pieces came before it (the text of an `<a>` without href is its link)."""


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """The plain text and the entities Telegram makes of `source` (HTML parse mode).

    Raises MarkupError with Telegram's description for markup Telegram refuses.
    """
    return _Scanner(source).run()


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


class _Scanner:
    def __init__(self, source: str) -> None:
        self.source = source
        self.i = 0
        self.pieces: list[str] = []
        self.units = 0
        self.stack: list[_Open] = []
        self.entities: list[dict[str, Any]] = []
        self.surrogates = False

    def at(self, index: int) -> str:
        return self.source[index] if index < len(self.source) else "\0"

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8", "surrogatepass"))

    def skip_spaces(self) -> None:
        while self.at(self.i) != "\0" and self.at(self.i) in _SPACE:
            self.i += 1

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        while self.i < len(self.source):
            char = self.source[self.i]
            if char == "&":
                decoded = self.entity()
                if decoded is not None:
                    self.pieces.append(decoded)
                    self.units += _units(decoded)
                    self.surrogates |= 0xD800 <= ord(decoded) <= 0xDFFF
                    continue
            if char != "<":
                self.pieces.append(char)
                self.units += _units(char)
                self.i += 1
                continue
            begin = self.i
            self.i += 1
            if self.at(self.i) == "/":
                self.end_tag(begin)
            else:
                self.start_tag(begin)
            self.i += 1  # past the '>'
        if self.stack:
            raise MarkupError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"')
        if self.surrogates:
            raise MarkupError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        return "".join(self.pieces), self.finished_entities()

    def entity(self) -> str | None:
        """The character of the HTML entity at `i` (then `i` moves past it), or None: kept as is."""
        text, start = self.source, self.i
        end = start + 1
        if self.at(end) == "#":
            end += 1
            hexadecimal = self.at(end) == "x"  # Telegram reads &#X as decimal
            digits = string.hexdigits if hexadecimal else string.digits
            end += hexadecimal
            first = end
            while self.at(end) != "\0" and self.at(end) in digits:
                end += 1
            code = int(text[first:end], 16 if hexadecimal else 10) if end > first else 0
            if code == 0 or code >= 0x10FFFF or end - start >= 10:
                return None
            decoded = chr(code)
        else:
            while self.at(end) in string.ascii_letters and self.at(end) != "\0":
                end += 1
            named = _NAMED.get(text[start + 1 : end])
            if named is None:
                return None
            decoded = named
        self.i = end + 1 if self.at(end) == ";" else end
        return decoded

    def start_tag(self, begin: int) -> None:
        while self.at(self.i) not in _SPACE and self.at(self.i) != ">":
            self.i += 1
        if self.at(self.i) == "\0":
            raise MarkupError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        tag = self.source[begin + 1 : self.i].translate(_ASCII_LOWER)
        if tag not in _TAGS:
            raise MarkupError(f'Unsupported start tag "{tag}" at byte offset {self.byte_offset(begin)}')
        argument = ""
        while self.at(self.i) != ">":
            self.skip_spaces()
            if self.at(self.i) == ">":
                break
            name_begin = self.i
            while self.at(self.i) not in _SPACE and self.at(self.i) not in "=>/\"'":
                self.i += 1
            name = self.source[name_begin : self.i]
            if not name:
                raise MarkupError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {self.byte_offset(begin)}'
                )
            self.skip_spaces()
            if self.at(self.i) != "=":
                if self.at(self.i) == "\0":
                    raise MarkupError(f'Unclosed start tag "{tag}" at byte offset {self.byte_offset(begin)}')
                if tag == "blockquote" and name == "expandable":
                    argument = "1"
                continue
            self.i += 1
            self.skip_spaces()
            if self.at(self.i) == "\0":
                raise MarkupError(f'Unclosed start tag "{tag}" at byte offset {self.byte_offset(begin)}')
            value = self.attribute_value()
            if self.at(self.i) == "\0":
                raise MarkupError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            argument = _argument(tag, name, value, argument)
        if tag == "span" and argument != "spoiler":
            raise MarkupError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}'
            )
        self.stack.append(_Open(tag, argument, self.units, len(self.pieces)))

    def attribute_value(self) -> str:
        quote = self.at(self.i)
        if quote not in "'\"":
            # A name token: letters, digits, periods and hyphens, case-insensitive.
            token_begin = self.i
            while self.at(self.i) in _ASCII_ALNUM or self.at(self.i) in ".-":
                self.i += 1
            if self.at(self.i) not in _SPACE and self.at(self.i) != ">":
                offset = self.byte_offset(token_begin)
                raise MarkupError(f"Unexpected end of name token at byte offset {offset}")
            return self.source[token_begin : self.i].translate(_ASCII_LOWER)
        self.i += 1
        value: list[str] = []
        while self.i < len(self.source) and self.source[self.i] != quote:
            if self.source[self.i] == "&":
                decoded = self.entity()
                if decoded is not None:
                    value.append(decoded)
                    continue
            value.append(self.source[self.i])
            self.i += 1
        if self.at(self.i) == quote:
            self.i += 1
        return "".join(value)

    def end_tag(self, begin: int) -> None:
        if not self.stack:
            raise MarkupError(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        while self.at(self.i) not in _SPACE and self.at(self.i) != ">":
            self.i += 1
        name = self.source[begin + 2 : self.i].translate(_ASCII_LOWER)
        self.skip_spaces()
        if self.at(self.i) != ">":
            raise MarkupError(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        opened = self.stack.pop()
        if name and name != opened.tag:
            raise MarkupError(
                f'Unmatched end tag at byte offset {self.byte_offset(begin)}, expected "</{opened.tag}>", '
                f'found "</{name}>"'
            )
        if self.units > opened.offset:
            self.close(opened)

    def close(self, opened: _Open) -> None:
        """Add the entity of an element that holds some text."""
        span = {"offset": opened.offset, "length": self.units - opened.offset}
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last["offset"], last["length"]) == (span["offset"], span["length"])
        if opened.tag in _SIMPLE:
            self.entities.append({"type": _SIMPLE[opened.tag], **span})
        elif opened.tag == "tg-emoji":
            if not _INT64.fullmatch(opened.argument) or not 0 < abs(int(opened.argument)) < 2**63:
                raise MarkupError("Invalid custom emoji identifier specified")
            emoji_id = str(int(opened.argument))
            self.entities.append({"type": "custom_emoji", **span, "custom_emoji_id": emoji_id})
        elif opened.tag == "a":
            url = _checked_link(opened.argument or "".join(self.pieces[opened.text_index :]))
            if url is not None:
                self.entities.append({"type": "text_link", **span, "url": url})
        elif opened.tag == "pre":
            if last is not None and same_span and last["type"] == "code" and last.get("language"):
                last["type"] = "pre"
            else:
                self.entities.append({"type": "pre", **span})
        elif opened.tag == "code":
            if last is not None and same_span and last["type"] == "pre" and opened.argument:
                last["language"] = opened.argument
            else:
                self.entities.append({"type": "code", **span, "language": opened.argument or None})
        else:
            kind = "expandable_blockquote" if opened.argument else "blockquote"
            self.entities.append({"type": kind, **span})

    def finished_entities(self) -> list[dict[str, Any]]:
        """The entities in Telegram's order, code without a language, keys as the chat stores them."""
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"], _PRIORITY[e["type"]]))
        return [{key: entity[key] for key in _KEYS if entity.get(key) is not None} for entity in ordered]


def _argument(tag: str, name: str, value: str, argument: str) -> str:
    """The argument a tag keeps from one of its attributes (a link, a language, ...)."""
    if tag == "a" and name == "href":
        return value
    if tag == "code" and name == "class" and value.startswith("language-"):
        return value.removeprefix("language-")
    if tag == "span" and name == "class" and value.startswith("tg-"):
        return value.removeprefix("tg-")
    if tag == "tg-emoji" and name == "emoji-id":
        return value
    if tag == "blockquote" and name == "expandable":
        return "1"
    return argument


def _checked_link(url: str) -> str | None:
    """The link of a text_link, or None for one Telegram would not accept (it drops the entity)."""
    if _TG_LINK.fullmatch(url):
        return url
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", url) and not re.match(r"https?://", url, re.IGNORECASE):
        return None
    return url if _HTTP_LINK.fullmatch(url) else None
