"""Rendering of a campaign's live progress message and final summary. Pure: no I/O.

The workers render with these functions and send the result through the control bot; the
control bot may render the same text when an admin asks for a campaign's status. The workers
do not import aiogram: their buttons are plain Bot API JSON (`progress_markup`), with the same
callback data that `bot.callbacks.ProgressCallback(...).pack()` produces (a test proves it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from models import Campaign, CampaignStatus
from panel import texts
from panel.campaigns import Counters
from panel.send_options import SendOptions

BAR_WIDTH = 12


@dataclass(frozen=True, slots=True)
class ProgressView:
    """Everything the progress message shows about one campaign at one moment."""

    campaign_id: int
    name: str | None
    status: CampaignStatus
    counters: Counters
    rate_per_s: float | None = None
    """Recent sending rate (finished recipients per second), None when not yet measured."""
    reason: str | None = None
    unreachable_since: datetime | None = None
    """Telegram could not be reached from then (an outage of the route), while sending."""
    unreachable_until: datetime | None = None
    """...until then (None with a `unreachable_since`: it still can't be)."""
    group_lines: tuple[str, ...] = ()
    """For a campaign of a group: which bot it is, and each bot's share (`panel.groups`)."""


@dataclass(frozen=True, slots=True)
class SummaryView:
    """What the final summary reports."""

    campaign_id: int
    name: str | None
    status: CampaignStatus
    counters: Counters
    started_at: datetime | None
    completed_at: datetime | None
    errors: tuple[tuple[str, int], ...] = ()
    reason: str | None = None
    pinned: int | None = None
    """Messages pinned in their chats; None: the campaign does not pin (nothing is shown)."""
    group_lines: tuple[str, ...] = ()
    """For a campaign of a group: which bot it is, and each bot's share (`panel.groups`)."""

    @classmethod
    def of(
        cls, campaign: Campaign, errors: Iterable[tuple[str, int]], *, group_lines: tuple[str, ...] = ()
    ) -> SummaryView:
        """The summary of `campaign` as its row stands, with its error breakdown."""
        return cls(
            campaign_id=campaign.id,
            name=campaign.name,
            status=campaign.status,
            counters=Counters.of(campaign),
            started_at=campaign.started_at,
            completed_at=campaign.completed_at,
            errors=tuple(errors),
            reason=campaign.status_reason,
            pinned=campaign.pinned_count if SendOptions.from_json(campaign.send_options).pin else None,
            group_lines=group_lines,
        )


def _name(name: str | None) -> str:
    return f" “{name}”" if name else ""


def counter_numbers(counters: Counters) -> dict[str, str]:
    """Every counter (and the remaining) written as a number for a text's placeholders."""
    return {name: texts.number(value) for name, value in counters.as_dict().items()}


def progress_bar(done: int, total: int, *, width: int = BAR_WIDTH) -> str:
    """A bar of `width` cells, e.g. `▓▓▓░░░░░░░░░`; full when there is nothing to send."""
    share = 1.0 if total <= 0 else min(max(done / total, 0.0), 1.0)
    filled = math.floor(share * width)
    return "▓" * filled + "░" * (width - filled)


def percent(done: int, total: int) -> int:
    """Whole percent done; 100 only when everything is done."""
    if total <= 0:
        return 100
    value = math.floor(100 * done / total)
    return 99 if value == 100 and done < total else min(value, 100)


def eta(remaining: int, rate_per_s: float | None) -> timedelta | None:
    """Time left at `rate_per_s`, None when the rate is unknown or zero."""
    if not rate_per_s or rate_per_s <= 0:
        return None
    return timedelta(seconds=math.ceil(remaining / rate_per_s))


def render_progress(view: ProgressView) -> str:
    """The text of the live progress message."""
    counters = view.counters
    lines = [
        texts.PROGRESS_TITLE.format(campaign_id=view.campaign_id, name=_name(view.name)),
        *view.group_lines,
        texts.PROGRESS_STATUS.get(view.status.value, view.status.value),
    ]
    if view.reason and view.status is not CampaignStatus.SENDING:
        lines.append(texts.PROGRESS_REASON.format(reason=view.reason))
    lines.append(
        texts.PROGRESS_BAR.format(
            bar=progress_bar(counters.finished, counters.total),
            percent=percent(counters.finished, counters.total),
        )
    )
    lines.append(texts.PROGRESS_COUNTS.format(**counter_numbers(counters)))
    if view.status is CampaignStatus.SENDING and view.unreachable_since is not None:
        since = view.unreachable_since.strftime(texts.UNREACHABLE_TIME_FORMAT)
        if view.unreachable_until is None:
            lines.append(texts.PROGRESS_UNREACHABLE.format(since=since))
        else:
            until = view.unreachable_until.strftime(texts.UNREACHABLE_TIME_FORMAT)
            lines.append(texts.PROGRESS_UNREACHABLE_OVER.format(since=since, until=until))
    if view.status is CampaignStatus.SENDING:
        left = eta(counters.remaining, view.rate_per_s)
        if view.rate_per_s is None or left is None:
            lines.append(texts.PROGRESS_RATE_UNKNOWN)
        else:
            lines.append(
                texts.PROGRESS_RATE.format(rate=texts.decimal(view.rate_per_s), eta=texts.duration(left))
            )
    return "\n".join(lines)


PROGRESS_CALLBACK_PREFIX = "pg"
"""`ProgressCallback`'s prefix; its actions are `ProgressAction`'s values ("pause", ...)."""


def pack_progress_callback(action: str, campaign_id: int) -> str:
    """The callback data of a progress button, as `ProgressCallback(...).pack()` writes it."""
    return f"{PROGRESS_CALLBACK_PREFIX}:{action}:{campaign_id}"


def progress_buttons(campaign_id: int, status: CampaignStatus) -> list[tuple[str, str]]:
    """(text, callback data) of the progress message's buttons: Pause or Resume, and Cancel;
    none once the campaign has ended."""
    if status is CampaignStatus.SENDING:
        toggle = (texts.BUTTON_PAUSE, pack_progress_callback("pause", campaign_id))
    elif status is CampaignStatus.PAUSED:
        toggle = (texts.BUTTON_RESUME, pack_progress_callback("resume", campaign_id))
    else:
        return []
    return [toggle, (texts.BUTTON_CANCEL, pack_progress_callback("cancel", campaign_id))]


def progress_markup(campaign_id: int, status: CampaignStatus) -> dict[str, Any] | None:
    """The buttons as a Bot API `reply_markup` (an InlineKeyboardMarkup in JSON), None when ended."""
    buttons = progress_buttons(campaign_id, status)
    if not buttons:
        return None
    return {"inline_keyboard": [[{"text": text, "callback_data": data} for text, data in buttons]]}


def render_summary(view: SummaryView) -> str:
    """The final summary: status, every count, duration, average rate and errors by description."""
    counters = view.counters
    lines = [
        texts.SUMMARY_TITLE.format(
            campaign_id=view.campaign_id,
            name=_name(view.name),
            status=texts.PROGRESS_STATUS.get(view.status.value, view.status.value),
        ),
        *view.group_lines,
    ]
    if view.reason:
        lines.append(texts.PROGRESS_REASON.format(reason=view.reason))
    lines.append(texts.SUMMARY_COUNTS.format(**counter_numbers(counters)))
    if view.pinned is not None:
        lines.append(texts.SUMMARY_PINNED.format(pinned=texts.number(view.pinned)))
    if view.started_at is not None and view.completed_at is not None:
        span = max(view.completed_at - view.started_at, timedelta(0))
        seconds = span.total_seconds()
        attempted = counters.finished - counters.cancelled
        rate = attempted / seconds if seconds > 0 else float(attempted)
        lines.append(texts.SUMMARY_TIMING.format(duration=texts.duration(span), rate=texts.decimal(rate)))
    if view.errors:
        lines.append(texts.SUMMARY_ERRORS_HEADER)
        lines.extend(
            texts.SUMMARY_ERROR_LINE.format(description=description, count=texts.number(count))
            for description, count in view.errors
        )
    return "\n".join(lines)
