"""Camera modes: mode_at is total and deterministic, crosses midnight, keeps Seoul's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.errors import FieldError
from argus.modes.schedule import (
    SCHEDULED_MODES,
    Mode,
    ModeSchedule,
    ModeWindow,
    admits,
    build_schedule,
    enforcement_by_day,
    mode_at,
    mode_until,
    scheduled_mode,
    tour_kind,
)
from argus.ptz.tours import TourKind
from argus.sharing.vocab import AccessPurpose
from argus.sharing.windows import TimeWindow, check_no_overlap

SEOUL = ZoneInfo("Asia/Seoul")
KST = timezone(timedelta(hours=9))


def seoul(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=SEOUL)


def test_enforcement_by_day_and_crime_prevention_otherwise() -> None:
    schedule = enforcement_by_day()
    assert mode_at(schedule, seoul(4, 7), False) is Mode.ENFORCEMENT
    assert mode_at(schedule, seoul(4, 21, 59, 59), False) is Mode.ENFORCEMENT
    assert mode_at(schedule, seoul(4, 22), False) is Mode.CRIME_PREVENTION
    assert mode_at(schedule, seoul(4, 6, 59, 59), False) is Mode.CRIME_PREVENTION
    # an incident that lists the camera overrides, day or night
    assert mode_at(schedule, seoul(4, 12), True) is Mode.INCIDENT
    assert mode_at(schedule, seoul(4, 23), True) is Mode.INCIDENT
    # the same instant given in UTC: 07:00 in Seoul is 22:00 UTC the day before
    assert mode_at(schedule, datetime(2026, 3, 3, 22, 0, tzinfo=UTC), False) is Mode.ENFORCEMENT
    assert mode_at(schedule, datetime(2026, 3, 3, 21, 59, tzinfo=UTC), False) is (
        Mode.CRIME_PREVENTION
    )


def test_what_each_mode_admits_and_which_tour_it_runs() -> None:
    assert admits(Mode.ENFORCEMENT, AccessPurpose.TRAFFIC)
    assert not admits(Mode.ENFORCEMENT, AccessPurpose.CRIME_PREVENTION)
    for purpose in ("crime_prevention", "investigation", "missing_person", "disaster", "accident"):
        assert admits(Mode.CRIME_PREVENTION, AccessPurpose(purpose))
        assert admits(Mode.INCIDENT, AccessPurpose(purpose))
    assert not admits(Mode.CRIME_PREVENTION, AccessPurpose.TRAFFIC)
    assert not admits(Mode.INCIDENT, AccessPurpose.TRAFFIC)
    assert tour_kind(Mode.ENFORCEMENT) is TourKind.ENFORCEMENT
    assert tour_kind(Mode.CRIME_PREVENTION) is TourKind.PATROL
    assert tour_kind(Mode.INCIDENT) is None


def test_mode_until_is_the_next_change_of_the_schedule() -> None:
    schedule = enforcement_by_day()
    assert mode_until(schedule, seoul(4, 6, 55)) == seoul(4, 7).astimezone(UTC)
    assert mode_until(schedule, seoul(4, 12)) == seoul(4, 22).astimezone(UTC)
    assert mode_until(schedule, seoul(4, 23)) == seoul(5, 7).astimezone(UTC)
    assert mode_until(build_schedule([]), seoul(4, 12)) is None
    weekend = build_schedule(
        [{"start": "09:00", "end": "18:00", "days": ["sat"], "mode": "enforcement"}]
    )
    # Wednesday 4 March: the next change is Saturday 7 March 09:00
    assert mode_until(weekend, seoul(4, 12)) == seoul(7, 9).astimezone(UTC)


def test_build_schedule_names_the_wrong_field_and_refuses_incident_as_a_window() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"windows": [{"start": "7:00", "end": "25:00", "mode": "enforcement"}]}, "windows[0].end"),
        ({"windows": [{"start": "07:00", "end": "22:00", "mode": "incident"}]}, "windows[0].mode"),
        ({"windows": [{"start": "07:00", "end": "22:00"}]}, "windows[0].mode"),
        ({"windows": [{"start": "07:00", "end": "07:00", "mode": "enforcement"}]}, "windows[0]"),
        ({"windows": [{"start": "07:00", "end": "12:00", "days": ["funday"],
                       "mode": "enforcement"}]}, "windows[0].days"),
        ({"windows": [{"start": "07:00", "end": "12:00", "mode": "enforcement"},
                      {"start": "11:00", "end": "13:00", "mode": "crime_prevention"}]}, "windows"),
        ({"otherwise": "incident"}, "otherwise"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ]  # fmt: skip
    for change, field in cases:
        args: dict[str, Any] = {"windows": [], **change}
        with pytest.raises(FieldError) as caught:
            build_schedule(
                args["windows"],
                args.get("otherwise", "crime_prevention"),
                args.get("timezone", "Asia/Seoul"),
            )
        assert caught.value.field == field, change


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        mode_at(enforcement_by_day(), datetime(2026, 3, 4, 12), False)


# --- properties ---------------------------------------------------------------------------

minutes = st.integers(0, 1439)
windows = st.builds(
    lambda start, length, days: TimeWindow(start, (start + length) % 1440 or 1440, days),
    minutes,
    st.integers(1, 1439),
    st.none() | st.frozensets(st.integers(0, 6), min_size=1),
)
scheduled = st.sampled_from(SCHEDULED_MODES)


@st.composite
def schedules(draw: st.DrawFn, zone: str | None = None) -> ModeSchedule:
    chosen = draw(st.lists(windows, max_size=3))
    kept: list[TimeWindow] = []
    for window in chosen:
        try:
            check_no_overlap([*kept, window])
        except FieldError:
            continue
        kept.append(window)
    entries = tuple(ModeWindow(w, draw(scheduled)) for w in kept)
    name = zone or draw(st.sampled_from(["Asia/Seoul", "UTC", "Europe/Berlin"]))
    return ModeSchedule(entries, draw(scheduled), name)


offsets = st.integers(-12 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300)
@given(schedules(), instants, offsets, st.booleans())
def test_mode_at_is_total_deterministic_and_independent_of_the_callers_zone(
    schedule: ModeSchedule, at: datetime, caller_zone: timezone, incident: bool
) -> None:
    mode = mode_at(schedule, at, incident)
    assert isinstance(mode, Mode)
    assert mode_at(schedule, at, incident) is mode
    assert mode_at(schedule, at.astimezone(caller_zone), incident) is mode
    if incident:
        assert mode is Mode.INCIDENT
    else:
        assert mode in {w.mode for w in schedule.windows} | {schedule.otherwise}


crossing = st.integers(2, 1439).flatmap(
    lambda start: st.tuples(st.just(start), st.integers(1, start - 1))
)


@settings(max_examples=300)
@given(crossing, st.integers(0, 1439), st.sampled_from(SCHEDULED_MODES))
def test_a_window_crossing_midnight_covers_both_sides(
    start_end: tuple[int, int], minute: int, mode: Mode
) -> None:
    start, end = start_end  # end before start: the window crosses midnight
    other = Mode.CRIME_PREVENTION if mode is Mode.ENFORCEMENT else Mode.ENFORCEMENT
    schedule = ModeSchedule((ModeWindow(TimeWindow(start, end), mode),), other, "Asia/Seoul")
    local = datetime(2026, 3, 4, tzinfo=SEOUL) + timedelta(minutes=minute)
    inside = minute >= start or minute < end
    assert mode_at(schedule, local, False) is (mode if inside else other)


@settings(max_examples=300)
@given(schedules("Asia/Seoul"), instants)
def test_seoul_keeps_one_offset_all_year(schedule: ModeSchedule, at: datetime) -> None:
    """Asia/Seoul has no daylight saving time: the zone and a fixed +09:00 always agree."""
    fixed = at.astimezone(KST).replace(tzinfo=None)
    local_mode = schedule.otherwise
    for entry in schedule.windows:
        if entry.window.contains(fixed):
            local_mode = entry.mode
            break
    assert scheduled_mode(schedule, at) is local_mode


@settings(max_examples=300, deadline=None)
@given(schedules("Asia/Seoul"), instants, st.lists(st.floats(0, 1, exclude_max=True), max_size=20))
def test_mode_until_is_exactly_the_next_change(
    schedule: ModeSchedule, at: datetime, fractions: list[float]
) -> None:
    current = scheduled_mode(schedule, at)
    until = mode_until(schedule, at)
    span = (until - at) if until is not None else timedelta(days=8)
    for fraction in fractions:
        moment = min(at + span * fraction, at + span - timedelta(microseconds=1))
        assert scheduled_mode(schedule, max(at, moment)) is current
    if until is None:
        assert all(scheduled_mode(schedule, at + timedelta(hours=h)) is current for h in range(192))
        return
    assert until > at
    assert scheduled_mode(schedule, until) is not current
    assert scheduled_mode(schedule, max(at, until - timedelta(microseconds=1))) is current
