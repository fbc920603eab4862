"""Show Telegram messages in a terminal: formatting from entities, inline keyboards, edits."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

STYLES = {
    "bold": ("\033[1m", "\033[22m"),
    "italic": ("\033[3m", "\033[23m"),
    "underline": ("\033[4m", "\033[24m"),
    "strikethrough": ("\033[9m", "\033[29m"),
    "spoiler": ("\033[7m", "\033[27m"),
    "code": ("\033[36m", "\033[39m"),
    "pre": ("\033[36m", "\033[39m"),
    "text_link": ("\033[4;34m", "\033[24;39m"),
    "url": ("\033[4;34m", "\033[24;39m"),
    "mention": ("\033[34m", "\033[39m"),
    "bot_command": ("\033[34m", "\033[39m"),
}


def use_colour(stream: Any = None) -> bool:
    """Whether to colour output: a terminal, and NO_COLOR unset."""
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ


def _utf16_to_index(text: str) -> list[int]:
    """Map each UTF-16 offset (0..len) to a Python string index."""
    mapping: list[int] = []
    for index, char in enumerate(text):
        mapping.extend([index] * (2 if ord(char) > 0xFFFF else 1))
    mapping.append(len(text))
    return mapping


def render_text(text: str, entities: Sequence[dict[str, Any]], *, colour: bool) -> str:
    """`text` with its entities shown as terminal styles (or plainly, with link targets)."""
    mapping = _utf16_to_index(text)
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    for entity in entities:
        start_u16, length = int(entity.get("offset", 0)), int(entity.get("length", 0))
        if start_u16 + length >= len(mapping) or start_u16 < 0:
            continue
        start, end = mapping[start_u16], mapping[start_u16 + length]
        kind = str(entity.get("type"))
        on, off = STYLES.get(kind, ("", ""))
        suffix = f" ({entity['url']})" if kind == "text_link" and entity.get("url") else ""
        if colour:
            opens.setdefault(start, []).append(on)
            closes.setdefault(end, []).insert(0, off + suffix)
        elif suffix:
            closes.setdefault(end, []).insert(0, suffix)
    pieces: list[str] = []
    for index in range(len(text) + 1):
        pieces.extend(closes.get(index, []))
        pieces.extend(opens.get(index, []))
        if index < len(text):
            pieces.append(text[index])
    return "".join(pieces)


def render_buttons(reply_markup: dict[str, Any] | None, *, numbered_from: int = 1) -> list[str]:
    """Inline keyboard rows as `[1 Send now] [2 Schedule]` lines."""
    rows = (reply_markup or {}).get("inline_keyboard") or []
    lines: list[str] = []
    number = numbered_from
    for row in rows:
        cells = []
        for button in row:
            cells.append(f"[{number} {button.get('text', '')}]")
            number += 1
        lines.append(" ".join(cells))
    return lines


def boxed(title: str, body: str, buttons: list[str], *, colour: bool) -> str:
    """A chat bubble: a title line, the indented body and the buttons."""
    head = f"\033[2m{title}\033[22m" if colour else title
    lines = [head]
    lines += [f"  │ {line}" for line in (body.splitlines() or [""])]
    lines += [f"  └ {line}" for line in buttons]
    return "\n".join(lines)


def progress_bar(done: int, total: int, *, width: int = 30) -> str:
    """`[██████······] 52%`."""
    share = 1.0 if total <= 0 else min(max(done / total, 0.0), 1.0)
    filled = round(share * width)
    return f"[{'█' * filled}{'·' * (width - filled)}] {share:6.1%}"
