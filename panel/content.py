"""The message a campaign sends: text plus Telegram entities, kept exactly as composed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_TEXT_UTF16 = 4096
MAX_CAPTION_UTF16 = 1024


class ContentError(ValueError):
    """The message cannot be sent as it is; the text says why, for the admin."""


def utf16_length(text: str) -> int:
    """Length of `text` in UTF-16 code units, the unit Telegram counts in."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class MessageContent:
    """Text and its entities (offsets in UTF-16 code units), as Telegram reports them."""

    text: str
    entities: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.text or not self.text.strip():
            raise ContentError("The message is empty.")
        length = utf16_length(self.text)
        if length > MAX_TEXT_UTF16:
            raise ContentError(
                f"The message is {length:,} characters long; Telegram allows {MAX_TEXT_UTF16:,}."
            )
        for entity in self.entities:
            offset, size = entity.get("offset"), entity.get("length")
            if not isinstance(offset, int) or not isinstance(size, int) or offset < 0 or size <= 0:
                raise ContentError("The message has a malformed formatting entity.")
            if offset + size > length:
                raise ContentError("A formatting entity reaches past the end of the text.")
            if not isinstance(entity.get("type"), str):
                raise ContentError("A formatting entity has no type.")

    def to_json(self) -> dict[str, Any]:
        """The form stored in `campaigns.content`."""
        return {"kind": "text", "text": self.text, "entities": [dict(e) for e in self.entities]}

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> MessageContent:
        """Read what `to_json` stored."""
        return cls(text=str(payload.get("text", "")), entities=tuple(payload.get("entities") or ()))

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for Bot API `sendMessage` that reproduce the message exactly.

        Entities go as they are, with no parse mode, so nothing needs escaping.
        """
        kwargs: dict[str, Any] = {"text": self.text}
        if self.entities:
            kwargs["entities"] = [dict(e) for e in self.entities]
        return kwargs
