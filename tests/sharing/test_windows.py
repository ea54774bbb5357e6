"""Time windows: parsing, midnight crossing at every minute, weekdays, overlap and narrowing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from argus.errors import FieldError
from argus.sharing.windows import (
    DAY_MINUTES,
    WEEK_MASK,
    TimeWindow,
    check_no_overlap,
    parse_window,
    parse_zone,
    union_mask,
)

MONDAY = datetime(2026, 3, 2)  # a Monday


def at_minute(minute_of_week: int) -> datetime:
    return MONDAY + timedelta(minutes=minute_of_week)


def test_night_window_crosses_midnight() -> None:
    night = parse_window("22:00", "07:00", None)
    assert night.crosses_midnight
    assert night.contains(MONDAY.replace(hour=22))
    assert night.contains(MONDAY.replace(hour=3))
    assert night.contains(MONDAY.replace(hour=6, minute=59, second=59))
    assert not night.contains(MONDAY.replace(hour=7))
    assert not night.contains(MONDAY.replace(hour=21, minute=59, second=59))
    assert not night.contains(MONDAY.replace(hour=12))
    assert night.text() == "22:00–07:00"


def test_window_may_end_at_24_00() -> None:
    evening = parse_window("18:00", "24:00", None)
    assert evening.contains(MONDAY.replace(hour=23, minute=59, second=59))
    assert not evening.contains(MONDAY.replace(hour=0))
    assert evening.ends_after(MONDAY.replace(hour=19)) == MONDAY + timedelta(days=1)


def test_weekdays_name_the_day_the_window_starts() -> None:
    friday_night = parse_window("22:00", "07:00", ["fri"])
    friday = MONDAY + timedelta(days=4)
    assert friday_night.contains(friday.replace(hour=23))
    assert friday_night.contains(friday + timedelta(days=1, hours=6))  # Saturday 06:00
    assert not friday_night.contains(friday.replace(hour=3))  # Thursday's night
    assert not friday_night.contains(friday + timedelta(days=1, hours=23))  # Saturday night
    assert friday_night.text() == "22:00–07:00 fri"


def test_korean_and_full_day_names() -> None:
    window = parse_window("09:00", "18:00", ["월", "tuesday", "수요일"])
    assert window.days == frozenset({0, 1, 2})


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("22:00", "22:00", "windows"),
        ("00:00", "24:00", None),  # the whole day is allowed: not "start == end"
        ("25:00", "07:00", "windows.start"),
        ("7am", "09:00", "windows.start"),
        ("22:00", "07:60", "windows.end"),
        ("24:00", "07:00", "windows.start"),
        ("", "07:00", "windows.start"),
    ],
)
def test_malformed_or_empty_windows_are_refused(start: str, end: str, field: str | None) -> None:
    if field is None:
        parse_window(start, end, None)
        return
    with pytest.raises(FieldError) as caught:
        parse_window(start, end, None)
    assert caught.value.field == field


def test_unknown_weekday_is_refused() -> None:
    with pytest.raises(FieldError, match="weekday") as caught:
        parse_window("09:00", "18:00", ["funday"])
    assert caught.value.field == "windows.days"
    with pytest.raises(FieldError):
        parse_window("09:00", "18:00", [])


def test_overlapping_windows_are_refused_adjacent_ones_are_not() -> None:
    night = parse_window("22:00", "07:00", None)
    with pytest.raises(FieldError, match="overlap"):
        check_no_overlap([night, parse_window("06:00", "08:00", None)])
    with pytest.raises(FieldError, match="overlap"):
        check_no_overlap(
            [parse_window("23:00", "02:00", ["sun"]), parse_window("01:00", "03:00", ["mon"])]
        )
    check_no_overlap([night, parse_window("07:00", "09:00", None)])
    check_no_overlap(
        [parse_window("23:00", "02:00", ["sun"]), parse_window("02:00", "03:00", ["mon"])]
    )


def test_unknown_time_zone_is_refused() -> None:
    assert parse_zone("Asia/Seoul") == "Asia/Seoul"
    with pytest.raises(FieldError) as caught:
        parse_zone("Asia/Gwangju")
    assert caught.value.field == "timezone"


def test_no_windows_means_every_minute() -> None:
    assert union_mask([]) == WEEK_MASK


windows = st.builds(
    TimeWindow,
    start=st.integers(0, DAY_MINUTES - 1),
    end=st.integers(1, DAY_MINUTES),
    days=st.none() | st.frozensets(st.integers(0, 6), min_size=1),
).filter(lambda w: w.start != w.end % DAY_MINUTES)


@given(
    start=st.integers(0, DAY_MINUTES - 1),
    end=st.integers(0, DAY_MINUTES - 1),
)
def test_midnight_crossing_windows_at_every_minute(start: int, end: int) -> None:
    if start == end:
        return
    window = TimeWindow(start, end, None)
    for minute in range(DAY_MINUTES):
        expected = (start <= minute < end) if start < end else (minute >= start or minute < end)
        moment = MONDAY + timedelta(minutes=minute)
        assert window.contains(moment) is expected, (window.text(), minute)
        assert window.contains(moment + timedelta(seconds=59)) is expected


@given(windows)
def test_contains_agrees_with_the_week_mask_at_every_minute(window: TimeWindow) -> None:
    mask = window.week_mask()
    for minute in range(0, 7 * DAY_MINUTES):
        assert window.contains(at_minute(minute)) is bool(mask >> minute & 1), (window, minute)


@given(windows)
def test_an_occurrence_ends_where_the_window_stops(window: TimeWindow) -> None:
    whole_day = window.start == 0 and window.end == DAY_MINUTES
    for minute in range(0, 7 * DAY_MINUTES, 37):
        moment = at_minute(minute)
        if not window.contains(moment):
            continue
        end = window.ends_after(moment)
        assert moment < end <= moment + timedelta(days=1)
        assert window.contains(end - timedelta(seconds=1))
        assert whole_day or not window.contains(end)
