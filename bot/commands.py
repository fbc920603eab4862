"""The control bot's command menu (setMyCommands), in the current language."""

from __future__ import annotations

from aiogram.types import BotCommand

from panel import texts

COMMAND_ORDER = (
    "new",
    "campaigns",
    "segments",
    "topics",
    "sendnow",
    "schedule",
    "report",
    "export",
    "audit",
    "admins",
    "language",
    "cancel",
    "help",
    "start",
)


def command_menu() -> list[BotCommand]:
    """The menu's commands, described in the current language (`panel.i18n.speaking`)."""
    descriptions = texts.COMMAND_DESCRIPTIONS
    return [BotCommand(command=name, description=descriptions[name]) for name in COMMAND_ORDER]
