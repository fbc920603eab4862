"""Read the send time an admin types (`18:30`, `tomorrow 9:00`, `in 2 hours`, `mon 10am`...).

Pure functions: the current time and the admin's time zone are passed in. Wall-clock forms
(`18:30`, `tomorrow 9:00`, dates, weekdays) are read in the admin's zone, with DST respected;
relative forms (`in 2 hours`) are an exact span from now.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip

_UNIT_SECONDS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip

_TIME = r"(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)?"
_TIME_RE = re.compile(rf"^(?:at\s+)?{_TIME}$")
_ISO_DATE_RE = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?:[ t]+(?:at\s+)?(?P<rest>.+))?$"
)
_DOTTED_DATE_RE = re.compile(
    r"^(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})(?:\s+(?:at\s+)?(?P<rest>.+))?$"
)
_DAY_WORD_RE = re.compile(r"^(?P<word>today|tonight|tomorrow|tmrw|tmr|[a-z]+)\s*(?:at\s+)?(?P<rest>.*)$")
_RELATIVE_RE = re.compile(r"^in\s+(?P<body>.+)$")
_SPAN_PART_RE = re.compile(r"(?P<amount>\d+(?:\.\d+)?|an|a|one|half an|half a)\s*(?P<unit>[a-z]+)")

MAX_RELATIVE = timedelta(days=366)


class Rollover(enum.StrEnum):
    """How a time typed without a date was placed."""

    NONE = "none"
    TODAY = "today"
    TOMORROW = "tomorrow"


class ParseFailure(enum.StrEnum):
    """Why a typed time was not accepted."""

    UNREADABLE = "unreadable"
    NO_TIME = "no_time"
    BAD_DATE = "bad_date"
    BAD_CLOCK = "bad_clock"
    IN_PAST = "in_past"
    NONEXISTENT = "nonexistent"
    TOO_FAR = "too_far"


class ScheduleParseError(ValueError):
    """The text is not a usable future time; `failure` says why, `local` the time if one was read."""

    def __init__(self, failure: ParseFailure, *, local: datetime | None = None) -> None:
        super().__init__(failure.value)
        self.failure = failure
        self.local = local


@dataclass(frozen=True, slots=True)
class ParsedTime:
    """A send time read from text: exact UTC instant, the same in the admin's zone, and how it was placed."""

    when: datetime
    local: datetime
    rollover: Rollover = Rollover.NONE


def parse_send_time(text: str, *, now: datetime, tz: ZoneInfo) -> ParsedTime:
    """Read `text` as a future send time in zone `tz`, relative to `now` (timezone-aware).

    Raises `ScheduleParseError` for text it cannot read, a clock time that does not exist
    (a DST gap), or a time not after `now`.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cleaned = " ".join(text.strip().lower().replace(",", " ").split())
    if not cleaned:
        raise ScheduleParseError(ParseFailure.UNREADABLE)
    now_local = now.astimezone(tz)

    relative = _RELATIVE_RE.match(cleaned)
    if relative:
        span = _parse_span(relative.group("body"))
        if span <= timedelta(0):
            raise ScheduleParseError(ParseFailure.IN_PAST)
        if span > MAX_RELATIVE:
            raise ScheduleParseError(ParseFailure.TOO_FAR)
        when = (now.astimezone(UTC) + span).replace(microsecond=0)
        return ParsedTime(when=when, local=when.astimezone(tz))

    for pattern in (_ISO_DATE_RE, _DOTTED_DATE_RE):
        match = pattern.match(cleaned)
        if match:
            try:
                day = date(int(match.group("year")), int(match.group("month")), int(match.group("day")))
            except ValueError:
                raise ScheduleParseError(ParseFailure.BAD_DATE) from None
            rest = match.group("rest")
            if not rest:
                raise ScheduleParseError(ParseFailure.NO_TIME)
            return _future(_at(day, _parse_clock(rest), tz), now)

    clock_only = _TIME_RE.match(cleaned)
    if clock_only:
        clock = _parse_clock(cleaned)
        today = _at(now_local.date(), clock, tz, check_gap=False)
        if today.when > now:
            return ParsedTime(when=_checked(today).when, local=today.local, rollover=Rollover.TODAY)
        tomorrow = _at(now_local.date() + timedelta(days=1), clock, tz)
        return ParsedTime(when=tomorrow.when, local=tomorrow.local, rollover=Rollover.TOMORROW)

    day_word = _DAY_WORD_RE.match(cleaned)
    if day_word:
        word, rest = day_word.group("word"), day_word.group("rest").strip()
        if word in ("today", "tonight"):
            day = now_local.date()
        elif word in ("tomorrow", "tmrw", "tmr"):
            day = now_local.date() + timedelta(days=1)
        elif word in WEEKDAYS or (word == "next" and rest.split(" ", 1)[0] in WEEKDAYS):
            if word == "next":
                word, _, rest = rest.partition(" ")
            if not rest:
                raise ScheduleParseError(ParseFailure.NO_TIME)
            clock = _parse_clock(rest)
            ahead = (WEEKDAYS[word] - now_local.weekday()) % 7
            candidate = _at(now_local.date() + timedelta(days=ahead), clock, tz, check_gap=False)
            if candidate.when <= now:
                candidate = _at(now_local.date() + timedelta(days=ahead + 7), clock, tz, check_gap=False)
            return _checked(candidate)
        else:
            raise ScheduleParseError(ParseFailure.UNREADABLE)
        if not rest:
            raise ScheduleParseError(ParseFailure.NO_TIME)
        return _future(_at(day, _parse_clock(rest), tz), now)

    raise ScheduleParseError(ParseFailure.UNREADABLE)


def _parse_span(body: str) -> timedelta:
    """`2 hours`, `30 min`, `1h 30m`, `an hour`, `1.5 hours` → a timedelta."""
    compact = body.replace(" and ", " ")
    total = 0.0
    position = 0
    for match in _SPAN_PART_RE.finditer(compact):
        if compact[position : match.start()].strip():
            raise ScheduleParseError(ParseFailure.UNREADABLE)
        amount_text, unit = match.group("amount"), match.group("unit")
        if unit not in _UNIT_SECONDS:
            raise ScheduleParseError(ParseFailure.UNREADABLE)
        if amount_text in ("a", "an", "one"):
            amount = 1.0
        elif amount_text.startswith("half"):
            amount = 0.5
        else:
            amount = float(amount_text)
        total += amount * _UNIT_SECONDS[unit]
        position = match.end()
    if position == 0 or compact[position:].strip():
        raise ScheduleParseError(ParseFailure.UNREADABLE)
    if total > MAX_RELATIVE.total_seconds():
        raise ScheduleParseError(ParseFailure.TOO_FAR)
    return timedelta(seconds=round(total))


def _parse_clock(text: str) -> time:
    """`18:30`, `9`, `9am`, `10.15pm`, `at 7` → a wall-clock time."""
    match = _TIME_RE.match(text.strip())
    if not match:
        raise ScheduleParseError(ParseFailure.UNREADABLE)
    hour = int(match.group("hour"))
    minute = int(match.group("minute") or 0)
    ampm = (match.group("ampm") or "").replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            raise ScheduleParseError(ParseFailure.BAD_CLOCK)
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ScheduleParseError(ParseFailure.BAD_CLOCK)
    return time(hour, minute)


def _at(day: date, clock: time, tz: ZoneInfo, *, check_gap: bool = True) -> ParsedTime:
    """The instant of wall-clock `clock` on `day` in `tz` (the earlier one when clocks fall back)."""
    local = datetime.combine(day, clock, tzinfo=tz).replace(fold=0)
    parsed = ParsedTime(when=local.astimezone(UTC), local=local)
    return _checked(parsed) if check_gap else parsed


def _checked(parsed: ParsedTime) -> ParsedTime:
    """`parsed` unless its wall-clock time falls in a DST gap (skipped when clocks go forward)."""
    round_trip = parsed.when.astimezone(parsed.local.tzinfo)
    if round_trip.replace(tzinfo=None) != parsed.local.replace(tzinfo=None):
        raise ScheduleParseError(ParseFailure.NONEXISTENT, local=parsed.local)
    return ParsedTime(when=parsed.when, local=round_trip, rollover=parsed.rollover)


def _future(parsed: ParsedTime, now: datetime) -> ParsedTime:
    """`parsed` if it is after `now`."""
    if parsed.when <= now:
        raise ScheduleParseError(ParseFailure.IN_PAST, local=parsed.local)
    return parsed
