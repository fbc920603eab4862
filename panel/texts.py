"""Every string that reaches an admin, in one module so it can be translated later.

Sections are owned by feature: the control bot's conversation and the engine's progress
messages. Numbers use thousands separators; dates are shown in the admin's time zone.
"""

from __future__ import annotations

from datetime import timedelta


def number(value: int) -> str:
    """`12345` → `12,345`."""
    return f"{value:,}"


def duration(span: timedelta) -> str:
    """A short human duration: `45 s`, `3 min 20 s`, `2 h 5 min`."""
    seconds = max(int(span.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


# --- Progress and summary (engine) ---------------------------------------------------------


# --- Conversation (control bot) ------------------------------------------------------------
