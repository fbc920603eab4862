"""Inline-button payloads that both the workers (progress message) and the control bot use."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class ProgressAction(enum.StrEnum):
    """Buttons under a campaign's live progress message."""

    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    CANCEL_CONFIRM = "cancel_yes"
    CANCEL_ABORT = "cancel_no"


class ProgressCallback(CallbackData, prefix="pg"):
    """A tap on a progress message button."""

    action: ProgressAction
    campaign_id: int
