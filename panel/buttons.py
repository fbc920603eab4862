"""URL buttons under a campaign's message: the grid an admin types, checked and kept as rows.

The text form is the channel-post bots' convention: one row per line, buttons in a row separated
by `|`, each `Label - https://link`. The label is split off at the last ` - `, so a label may
itself hold a dash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from panel import texts

MAX_ROW_BUTTONS = 8
MAX_BUTTONS = 100
MAX_LABEL_CHARS = 64
MAX_QUOTED_CHARS = 80
_SEPARATOR = " - "
# Telegram takes http(s) links with a host, and tg:// links (t.me links are https links).
_LINK = re.compile(r"(?:https?://[^\s/?#|]+[^\s|]*|tg://[^\s|]+)", re.IGNORECASE)


class ButtonsError(ValueError):
    """The grid cannot be used as it is; the text names the line and the button, for the admin."""


@dataclass(frozen=True, slots=True)
class UrlButton:
    """One button: the label the recipient reads and the link their app opens."""

    label: str
    url: str

    def to_text(self) -> str:
        return f"{self.label}{_SEPARATOR}{self.url}"


@dataclass(frozen=True, slots=True)
class Buttons:
    """Rows of URL buttons, top to bottom, each left to right. Empty: no keyboard."""

    rows: tuple[tuple[UrlButton, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rows)

    @property
    def count(self) -> int:
        """How many buttons in all."""
        return sum(len(row) for row in self.rows)

    def to_text(self) -> str:
        """The grid as an admin types it; `parse_buttons` reads it back to the same rows."""
        return "\n".join(" | ".join(button.to_text() for button in row) for row in self.rows)

    def to_json(self) -> list[list[list[str]]]:
        """The stored form: rows of `[label, url]` pairs."""
        return [[[button.label, button.url] for button in row] for row in self.rows]

    @classmethod
    def from_json(cls, payload: Any) -> Buttons:
        """Read what `to_json` stored; anything else (older content without buttons) is no buttons."""
        if not isinstance(payload, list):
            return cls()
        rows: list[tuple[UrlButton, ...]] = []
        for row in payload:
            if not isinstance(row, list):
                continue
            found = tuple(
                UrlButton(str(pair[0]), str(pair[1]))
                for pair in row
                if isinstance(pair, (list, tuple)) and len(pair) == 2
            )
            if found:
                rows.append(found)
        return cls(tuple(rows))

    def inline_keyboard(self) -> list[list[dict[str, str]]]:
        """The Bot API's `inline_keyboard` of these buttons."""
        return [[{"text": button.label, "url": button.url} for button in row] for row in self.rows]


def is_link(url: str) -> bool:
    """An http(s):// (t.me included) or tg:// link, as Telegram accepts on a URL button."""
    return _LINK.fullmatch(url) is not None


def _quoted(typed: str) -> str:
    """What an error quotes of the admin's text: short enough for any reply (a row may be huge)."""
    return typed if len(typed) <= MAX_QUOTED_CHARS else typed[: MAX_QUOTED_CHARS - 1] + "…"


def _parse_button(line_number: int, raw: str) -> UrlButton:
    typed = raw.strip()
    shown = _quoted(typed)
    label, separator, url = typed.rpartition(_SEPARATOR)
    if not separator:
        if typed.startswith(_SEPARATOR.lstrip()):
            raise ButtonsError(texts.BUTTONS_NO_LABEL.format(line=line_number, button=shown))
        if typed.endswith(_SEPARATOR.rstrip()):
            raise ButtonsError(texts.BUTTONS_NO_LINK.format(line=line_number, button=shown))
        raise ButtonsError(texts.BUTTONS_NO_SEPARATOR.format(line=line_number, button=shown))
    label, url = label.strip(), url.strip()
    if not url:
        raise ButtonsError(texts.BUTTONS_NO_LINK.format(line=line_number, button=shown))
    if not label:
        raise ButtonsError(texts.BUTTONS_NO_LABEL.format(line=line_number, button=shown))
    if len(label) > MAX_LABEL_CHARS:
        raise ButtonsError(
            texts.BUTTONS_LABEL_TOO_LONG.format(
                line=line_number, button=shown, length=len(label), limit=MAX_LABEL_CHARS
            )
        )
    if not is_link(url):
        raise ButtonsError(texts.BUTTONS_BAD_LINK.format(line=line_number, link=_quoted(url)))
    return UrlButton(label, url)


def parse_buttons(grid: str) -> Buttons:
    """The buttons of a grid typed as text; blank lines are skipped. Raises `ButtonsError`."""
    rows: list[tuple[UrlButton, ...]] = []
    for line_number, line in enumerate(grid.splitlines(), start=1):
        if not line.strip():
            continue
        row = tuple(_parse_button(line_number, raw) for raw in line.split("|"))
        if len(row) > MAX_ROW_BUTTONS:
            raise ButtonsError(
                texts.BUTTONS_ROW_TOO_WIDE.format(line=line_number, count=len(row), limit=MAX_ROW_BUTTONS)
            )
        rows.append(row)
    buttons = Buttons(tuple(rows))
    if not buttons:
        raise ButtonsError(texts.BUTTONS_EMPTY)
    if buttons.count > MAX_BUTTONS:
        raise ButtonsError(texts.BUTTONS_TOO_MANY.format(count=buttons.count, limit=MAX_BUTTONS))
    return buttons


def parse_button_rows(lines: Iterable[str]) -> Buttons:
    """One grid from several lines given apart (the CLI's repeated `--button`), one row each."""
    return parse_buttons("\n".join(lines))


def rows_of(pairs: Sequence[Sequence[tuple[str, str]]]) -> Buttons:
    """Buttons from rows of (label, url) pairs, unchecked (tests and stored content)."""
    return Buttons(tuple(tuple(UrlButton(label, url) for label, url in row) for row in pairs))
