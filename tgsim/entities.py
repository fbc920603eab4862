"""Message formatting like Telegram's: HTML, MarkdownV2 and Markdown parsing into entities.

Offsets and lengths are in UTF-16 code units. Errors carry Telegram's texts (the part after
`Bad Request: can't parse entities: `). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Entity = dict[str, Any]


class EntityParseError(ValueError):
    """Markup that Telegram would refuse; `str(error)` is Telegram's explanation."""


def utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units, the unit of entity offsets."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class _Output:
    """Plain text being built, with its UTF-16 length kept up to date."""

    __slots__ = ("chunks", "u16")

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.u16 = 0

    def add(self, chunk: str) -> None:
        self.chunks.append(chunk)
        self.u16 += utf16_len(chunk)

    def text(self) -> str:
        return "".join(self.chunks)


def sort_entities(entities: list[Entity]) -> list[Entity]:
    """Telegram's order: by offset, outer (longer) entities first."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


# ---------------------------------------------------------------- HTML

_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_CHAR_REF = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ATTR = re.compile(r"""\s*([A-Za-z-]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_HTML_PLAIN = re.compile(r"[^<&]+")


@dataclass(slots=True)
class _OpenTag:
    tag: str
    entity: Entity
    offset: int
    drop: bool = False


def _unescape_html(value: str) -> str:
    def one(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref in _HTML_NAMED:
            return _HTML_NAMED[ref]
        code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
        try:
            return chr(code)
        except (ValueError, OverflowError):
            return match.group(0)

    return _HTML_CHAR_REF.sub(one, value)


def _parse_attrs(raw: str, byte_offset: int) -> dict[str, str]:
    attrs: dict[str, str] = {}
    pos = 0
    raw = raw.rstrip().rstrip("/")
    while pos < len(raw):
        match = _HTML_ATTR.match(raw, pos)
        if match is None or match.end() == pos:
            raise EntityParseError(
                f"Expected equal sign in declaration of an attribute of the tag at byte offset {byte_offset}"
            )
        value = match.group(2) or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        attrs[match.group(1).lower()] = _unescape_html(value)
        pos = match.end()
    return attrs


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Parse Telegram-flavoured HTML into plain text and entities."""
    out = _Output()
    stack: list[_OpenTag] = []
    entities: list[Entity] = []
    index = 0
    length = len(source)
    while index < length:
        char = source[index]
        if char == "&":
            match = _HTML_CHAR_REF.match(source, index)
            if match is None:
                out.add("&")
                index += 1
            else:
                out.add(_unescape_html(match.group(0)))
                index = match.end()
            continue
        if char != "<":
            plain = _HTML_PLAIN.match(source, index)
            assert plain is not None
            out.add(plain.group(0))
            index = plain.end()
            continue
        byte_offset = _byte_offset(source, index)
        end = source.find(">", index)
        if end == -1:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset}")
        inner = source[index + 1 : end]
        index = end + 1
        if inner.startswith("/"):
            name = inner[1:].strip().lower()
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset}")
            top = stack.pop()
            if top.tag != name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {byte_offset}, "
                    f'expected "</{top.tag}>", found "</{name}>"'
                )
            if not top.drop and out.u16 > top.offset:
                top.entity["offset"] = top.offset
                top.entity["length"] = out.u16 - top.offset
                entities.append(top.entity)
            continue
        name_match = re.match(r"[A-Za-z][A-Za-z0-9-]*", inner)
        name = name_match.group(0).lower() if name_match else ""
        if name not in _HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset}')
        attrs = _parse_attrs(inner[len(name) :], byte_offset)
        entity: Entity = {"type": _HTML_TAGS[name]}
        drop = False
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset}')
        if name == "a":
            href = attrs.get("href", "")
            drop = not href
            entity["url"] = href
        elif name == "blockquote" and "expandable" in attrs:
            entity["type"] = "expandable_blockquote"
        elif name == "tg-emoji":
            entity["custom_emoji_id"] = attrs.get("emoji-id", "")
        elif name == "code" and stack and stack[-1].tag == "pre":
            language = attrs.get("class", "")
            if language.startswith("language-"):
                stack[-1].entity["language"] = language[len("language-") :]
                drop = True
        stack.append(_OpenTag(tag=name, entity=entity, offset=out.u16, drop=drop))
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return out.text(), sort_entities(entities)


# ---------------------------------------------------------------- MarkdownV2

_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


@dataclass(slots=True)
class _OpenMark:
    type: str
    offset: int
    byte_offset: int
    extra: dict[str, str] = field(default_factory=dict)


def _md2_close(stack: list[_OpenMark], out: _Output, entities: list[Entity]) -> None:
    mark = stack.pop()
    if out.u16 > mark.offset:
        entities.append(
            {"type": mark.type, "offset": mark.offset, "length": out.u16 - mark.offset, **mark.extra}
        )


def _md2_url(source: str, start: int) -> tuple[str, int]:
    """Read `(url)` starting at `start` (the '('); returns the url and the index after ')'."""
    chunks: list[str] = []
    index = start + 1
    while index < len(source) and source[index] != ")":
        if source[index] == "\\" and index + 1 < len(source):
            index += 1
        chunks.append(source[index])
        index += 1
    if index >= len(source):
        raise EntityParseError(f"Can't find end of a URL at byte offset {_byte_offset(source, start + 1)}")
    return "".join(chunks), index + 1


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2 into plain text and entities."""
    out = _Output()
    stack: list[_OpenMark] = []
    entities: list[Entity] = []
    quote_start: int | None = None
    index = 0
    length = len(source)
    while index < length:
        char = source[index]
        at_line_start = index == 0 or source[index - 1] == "\n"
        in_code = bool(stack) and stack[-1].type in ("code", "pre")
        if at_line_start and not in_code:
            if char == ">":
                if quote_start is None:
                    quote_start = out.u16
                index += 1
                continue
            if quote_start is not None:
                end = out.u16 - 1 if out.chunks and out.chunks[-1].endswith("\n") else out.u16
                if end > quote_start:
                    entities.append(
                        {"type": "blockquote", "offset": quote_start, "length": end - quote_start}
                    )
                quote_start = None
        if char == "\\" and index + 1 < length and 0 < ord(source[index + 1]) < 127:
            out.add(source[index + 1])
            index += 2
            continue
        if in_code:
            top = stack[-1]
            if top.type == "pre" and source.startswith("```", index):
                _md2_close(stack, out, entities)
                index += 3
            elif top.type == "code" and char == "`":
                _md2_close(stack, out, entities)
                index += 1
            else:
                out.add(char)
                index += 1
            continue
        if char not in _MD2_RESERVED:
            out.add(char)
            index += 1
            continue
        top_type = stack[-1].type if stack else ""
        if char == "_" and source.startswith("__", index) and top_type == "underline":
            _md2_close(stack, out, entities)
            index += 2
        elif (
            (char == "_" and top_type == "italic")
            or (char == "*" and top_type == "bold")
            or (char == "~" and top_type == "strikethrough")
        ):
            _md2_close(stack, out, entities)
            index += 1
        elif char == "|" and source.startswith("||", index) and top_type == "spoiler":
            _md2_close(stack, out, entities)
            index += 2
        elif char == "]" and top_type == "text_link":
            mark = stack[-1]
            if index + 1 < length and source[index + 1] == "(":
                url, index = _md2_url(source, index + 1)
                mark.extra["url"] = url
                _md2_close(stack, out, entities)
            else:
                stack.pop()
                index += 1
        else:
            byte_offset = _byte_offset(source, index)
            if char == "_" and source.startswith("__", index):
                stack.append(_OpenMark("underline", out.u16, byte_offset))
                index += 2
            elif char in "_*~":
                kind = {"_": "italic", "*": "bold", "~": "strikethrough"}[char]
                stack.append(_OpenMark(kind, out.u16, byte_offset))
                index += 1
            elif char == "|" and source.startswith("||", index):
                stack.append(_OpenMark("spoiler", out.u16, byte_offset))
                index += 2
            elif char == "[":
                stack.append(_OpenMark("text_link", out.u16, byte_offset))
                index += 1
            elif char == "`" and source.startswith("```", index):
                index += 3
                mark = _OpenMark("pre", out.u16, byte_offset)
                newline = source.find("\n", index)
                closing = source.find("```", index)
                if newline != -1 and (closing == -1 or newline < closing):
                    language = source[index:newline]
                    if language and not any(c.isspace() for c in language):
                        mark.extra["language"] = language
                    index = newline + 1
                stack.append(mark)
            elif char == "`":
                stack.append(_OpenMark("code", out.u16, byte_offset))
                index += 1
            else:
                raise EntityParseError(
                    f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
                )
    if stack:
        mark = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MD2_NAMES[mark.type]} entity at byte offset {mark.byte_offset}"
        )
    if quote_start is not None and out.u16 > quote_start:
        entities.append({"type": "blockquote", "offset": quote_start, "length": out.u16 - quote_start})
    return out.text(), sort_entities(entities)


# ---------------------------------------------------------------- legacy Markdown

_MD_LEGACY = re.compile(
    r"\*([^*]*)\*|_([^_]*)_|```(?:([^\s`]*)\n)?([^`]*)```|`([^`]*)`|\[([^\]]*)\]\(([^)]*)\)"
)


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    """Parse legacy Markdown (bold, italic, code, pre, links; no nesting)."""
    out = _Output()
    entities: list[Entity] = []
    index = 0
    for match in _MD_LEGACY.finditer(source):
        out.add(source[index : match.start()])
        index = match.end()
        bold, italic, language, pre, code, label, url = match.groups()
        offset = out.u16
        entity: Entity
        if bold is not None:
            out.add(bold)
            entity = {"type": "bold"}
        elif italic is not None:
            out.add(italic)
            entity = {"type": "italic"}
        elif pre is not None:
            out.add(pre)
            entity = {"type": "pre", **({"language": language} if language else {})}
        elif code is not None:
            out.add(code)
            entity = {"type": "code"}
        else:
            out.add(label)
            entity = {"type": "text_link", "url": url}
        if out.u16 > offset:
            entities.append({**entity, "offset": offset, "length": out.u16 - offset})
    rest = source[index:]
    for marker in ("*", "_", "`", "["):
        position = rest.find(marker)
        if position != -1:
            byte_offset = _byte_offset(source, index + position)
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {byte_offset}")
    out.add(rest)
    return out.text(), sort_entities(entities)


# ---------------------------------------------------------------- shared helpers


def parse(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Parse `text` with a Bot API `parse_mode` (HTML, MarkdownV2, Markdown; none = plain)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    if mode:
        raise EntityParseError(f"Unsupported parse_mode {parse_mode!r}")
    return text, []


def normalize_entities(text: str, raw: Any) -> list[Entity]:
    """Clean entities sent by a bot: drop malformed or empty ones, clip to the text, sort."""
    if not isinstance(raw, list):
        return []
    total = utf16_len(text)
    cleaned: list[Entity] = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        kind, offset, length = item.get("type"), item.get("offset"), item.get("length")
        if not isinstance(kind, str) or not isinstance(offset, int) or not isinstance(length, int):
            continue
        offset = max(0, offset)
        length = min(length, total - offset)
        if length <= 0:
            continue
        entity = {key: value for key, value in item.items() if value is not None}
        entity["offset"], entity["length"] = offset, length
        cleaned.append(entity)
    return sort_entities(cleaned)


def strip_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Trim surrounding whitespace as Telegram does, moving and clipping entities to match."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    if not stripped:
        return "", []
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    moved: list[Entity] = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(total, entity["offset"] + entity["length"] - lead)
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})
    return stripped, moved


_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?")


def command_entities(text: str) -> list[Entity]:
    """The `bot_command` entity Telegram adds for a message starting with /command."""
    match = _COMMAND.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]
