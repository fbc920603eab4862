"""What admins type as a send time, read in their own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.schedule_parse import ParseFailure, Rollover, ScheduleParseError, parse_send_time

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# Saturday 28 November 2026, 15:00 in Berlin (14:00 UTC).
NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


def local(text: str, *, now: datetime = NOW, tz: ZoneInfo = BERLIN) -> datetime:
    return parse_send_time(text, now=now, tz=tz).local.replace(tzinfo=None)


def failure(text: str, *, now: datetime = NOW, tz: ZoneInfo = BERLIN) -> ParseFailure:
    with pytest.raises(ScheduleParseError) as caught:
        parse_send_time(text, now=now, tz=tz)
    return caught.value.failure


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01 18:30", datetime(2026, 12, 1, 18, 30)),
        ("2026-12-01T18:30", datetime(2026, 12, 1, 18, 30)),
        ("  2026-12-01   at 6:30pm ", datetime(2026, 12, 1, 18, 30)),
        ("01.12.2026 18:30", datetime(2026, 12, 1, 18, 30)),
        ("tomorrow 9:00", datetime(2026, 11, 29, 9, 0)),
        ("Tomorrow at 9am", datetime(2026, 11, 29, 9, 0)),
        ("tomorrow 9", datetime(2026, 11, 29, 9, 0)),
        ("today 21:15", datetime(2026, 11, 28, 21, 15)),
        ("tonight 9pm", datetime(2026, 11, 28, 21, 0)),
        ("mon 10am", datetime(2026, 11, 30, 10, 0)),
        ("monday 10:00", datetime(2026, 11, 30, 10, 0)),
        ("next monday 10:00", datetime(2026, 11, 30, 10, 0)),
        ("SAT 18:00", datetime(2026, 11, 28, 18, 0)),  # later today
        ("sat 9:00", datetime(2026, 12, 5, 9, 0)),  # already passed today: next week
        ("tomorrow 12am", datetime(2026, 11, 29, 0, 0)),
        ("tomorrow 12pm", datetime(2026, 11, 29, 12, 0)),
    ],
)
def test_wall_clock_forms_are_read_in_the_admins_zone(text: str, expected: datetime) -> None:
    assert local(text) == expected


def test_result_is_utc_and_local_agree() -> None:
    parsed = parse_send_time("2026-12-01 18:30", now=NOW, tz=BERLIN)
    assert parsed.when == datetime(2026, 12, 1, 17, 30, tzinfo=UTC)
    assert parsed.when.tzinfo is UTC
    assert parsed.local.tzinfo == BERLIN
    assert parsed.rollover is Rollover.NONE


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("in 2 hours", timedelta(hours=2)),
        ("in 30 min", timedelta(minutes=30)),
        ("in 30 mins", timedelta(minutes=30)),
        ("in 1h 30m", timedelta(hours=1, minutes=30)),
        ("in 1 hour and 15 minutes", timedelta(hours=1, minutes=15)),
        ("in an hour", timedelta(hours=1)),
        ("in 1.5 hours", timedelta(minutes=90)),
        ("in 3 days", timedelta(days=3)),
        ("in 45s", timedelta(seconds=45)),
    ],
)
def test_relative_forms_are_an_exact_span_from_now(text: str, span: timedelta) -> None:
    parsed = parse_send_time(text, now=NOW, tz=BERLIN)
    assert parsed.when == NOW + span
    assert parsed.rollover is Rollover.NONE


def test_clock_time_still_ahead_is_today() -> None:
    parsed = parse_send_time("18:30", now=NOW, tz=BERLIN)
    assert parsed.local.replace(tzinfo=None) == datetime(2026, 11, 28, 18, 30)
    assert parsed.rollover is Rollover.TODAY


def test_clock_time_already_passed_is_tomorrow() -> None:
    parsed = parse_send_time("9:00", now=NOW, tz=BERLIN)
    assert parsed.local.replace(tzinfo=None) == datetime(2026, 11, 29, 9, 0)
    assert parsed.rollover is Rollover.TOMORROW


def test_clock_time_equal_to_now_is_tomorrow() -> None:
    assert parse_send_time("15:00", now=NOW, tz=BERLIN).rollover is Rollover.TOMORROW


def test_same_text_differs_by_zone() -> None:
    berlin = parse_send_time("2026-12-01 18:30", now=NOW, tz=BERLIN).when
    new_york = parse_send_time("2026-12-01 18:30", now=NOW, tz=NEW_YORK).when
    assert new_york - berlin == timedelta(hours=6)


def test_today_is_the_admins_local_date_not_utcs() -> None:
    # 23:30 UTC on 28 Nov is already 29 Nov 00:30 in Berlin.
    late = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
    assert local("tomorrow 9:00", now=late) == datetime(2026, 11, 30, 9, 0)
    assert local("today 10:00", now=late) == datetime(2026, 11, 29, 10, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01 10:00", ParseFailure.IN_PAST),
        ("today 9:00", ParseFailure.IN_PAST),
        ("2026-11-28 15:00", ParseFailure.IN_PAST),
        ("in 0 min", ParseFailure.IN_PAST),
        ("whenever", ParseFailure.UNREADABLE),
        ("", ParseFailure.UNREADABLE),
        ("in 2 fortnights", ParseFailure.UNREADABLE),
        ("in lots of time", ParseFailure.UNREADABLE),
        ("tomorrow", ParseFailure.NO_TIME),
        ("2026-12-01", ParseFailure.NO_TIME),
        ("monday", ParseFailure.NO_TIME),
        ("2026-02-30 10:00", ParseFailure.BAD_DATE),
        ("25:00", ParseFailure.BAD_CLOCK),
        ("tomorrow 24:00", ParseFailure.BAD_CLOCK),
        ("tomorrow 13pm", ParseFailure.BAD_CLOCK),
        ("tomorrow 10:75", ParseFailure.BAD_CLOCK),
        ("in 400 days", ParseFailure.TOO_FAR),
    ],
)
def test_unusable_text_says_why(text: str, expected: ParseFailure) -> None:
    assert failure(text) is expected


def test_past_error_carries_the_time_it_read() -> None:
    with pytest.raises(ScheduleParseError) as caught:
        parse_send_time("2025-01-01 10:00", now=NOW, tz=BERLIN)
    assert caught.value.local is not None
    assert caught.value.local.replace(tzinfo=None) == datetime(2025, 1, 1, 10, 0)


def test_time_skipped_by_spring_forward_is_refused() -> None:
    # Clocks in Berlin jump from 02:00 to 03:00 on 28 March 2027.
    assert failure("2027-03-28 02:30") is ParseFailure.NONEXISTENT


def test_time_repeated_by_fall_back_takes_the_first() -> None:
    # Clocks in Berlin go back from 03:00 to 02:00 on 25 October 2026; 02:30 happens twice.
    before = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    parsed = parse_send_time("2026-10-25 02:30", now=before, tz=BERLIN)
    assert parsed.when == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_tomorrow_across_dst_keeps_the_wall_clock() -> None:
    # Saturday 24 Oct 2026, 10:00 Berlin (summer time); Sunday is winter time.
    before = datetime(2026, 10, 24, 8, 0, tzinfo=UTC)
    parsed = parse_send_time("tomorrow 10:00", now=before, tz=BERLIN)
    assert parsed.local.replace(tzinfo=None) == datetime(2026, 10, 25, 10, 0)
    assert parsed.when == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)


def test_relative_span_across_dst_is_exact() -> None:
    before = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    parsed = parse_send_time("in 4 hours", now=before, tz=BERLIN)
    assert parsed.when - before == timedelta(hours=4)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_send_time("18:30", now=datetime(2026, 1, 1), tz=BERLIN)


@given(
    now=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]),
)
def test_clock_time_is_always_within_a_day_ahead(now: datetime, hour: int, minute: int, zone: str) -> None:
    tz = ZoneInfo(zone)
    try:
        parsed = parse_send_time(f"{hour}:{minute:02d}", now=now, tz=tz)
    except ScheduleParseError as error:
        assert error.failure is ParseFailure.NONEXISTENT
        return
    assert now < parsed.when <= now + timedelta(hours=25)
    assert (parsed.local.hour, parsed.local.minute) == (hour, minute)
