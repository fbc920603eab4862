"""Editing the control bot's own messages, where an edit to what is already shown is no error.

A double tap, two admins on the same card or a Refresh of an unchanged card all ask Telegram
to edit a message into what it already is, and Telegram answers
`Bad Request: message is not modified`. The message already shows what the edit wanted, so
every handler edits through these functions and carries on.
"""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, Message

NOT_MODIFIED = "message is not modified"


def is_not_modified(error: TelegramBadRequest) -> bool:
    """Whether Telegram refused an edit only because nothing would change."""
    return NOT_MODIFIED in error.message.lower()


async def edit_text(message: Message, text: str, *, reply_markup: InlineKeyboardMarkup | None = None) -> None:
    """Show `text` (and `reply_markup`; none removes the buttons) in place of `message`'s text."""
    try:
        await message.edit_text(text, reply_markup=reply_markup)
    except TelegramBadRequest as error:
        if not is_not_modified(error):
            raise


async def edit_buttons(message: Message, reply_markup: InlineKeyboardMarkup | None) -> None:
    """Replace `message`'s buttons (None removes them), leaving its text as it is."""
    try:
        await message.edit_reply_markup(reply_markup=reply_markup)
    except TelegramBadRequest as error:
        if not is_not_modified(error):
            raise
