"""Inline-button payloads that both the workers (progress message) and the control bot use."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from panel.campaigns import MAX_ROW_ID


class ProgressAction(enum.StrEnum):
    """Buttons under a campaign's live progress message."""

    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    CANCEL_CONFIRM = "cancel_yes"
    CANCEL_ABORT = "cancel_no"


class ProgressCallback(CallbackData, prefix="pg"):
    """A tap on a progress message button (data with an id no row can have does not unpack)."""

    action: ProgressAction
    campaign_id: int = Field(ge=0, le=MAX_ROW_ID)
