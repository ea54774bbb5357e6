"""Modes of a camera and its schedule: ``mode_at(schedule, at, incident_open)``, pure.

A camera installed for parking enforcement serves its original purpose by day and crime
prevention otherwise (DESIGN.md §1: "Day / normal time: the original purpose; night or
incident: crime prevention"). A schedule is a list of local time windows
(``argus.sharing.windows``: half-open, may cross midnight, optional weekdays), each with a mode,
a mode for the rest of the week (``otherwise``), and an IANA time zone (Asia/Seoul by default,
which has kept no daylight saving time since 1988). While an open incident lists the camera its
mode is ``incident``, whatever the schedule says.

What each mode means:

| mode | access purposes it admits | PTZ tour that runs |
|---|---|---|
| enforcement | traffic | the owner's enforcement tour |
| crime_prevention | crime_prevention, investigation, missing_person, disaster, accident | the idle patrol, if there is one |
| incident | the same emergency purposes | none: responders steer the camera |
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from argus.errors import FieldError
from argus.ptz.tours import TourKind
from argus.sharing.vocab import DEFAULT_TIMEZONE, AccessPurpose, purpose_label
from argus.sharing.windows import (
    TimeWindow,
    check_no_overlap,
    parse_window,
    parse_zone,
    zone_info,
)

LOOKAHEAD_DAYS = 8  # a schedule repeats every week: a change, if any, comes within this


class Mode(StrEnum):
    ENFORCEMENT = "enforcement"
    CRIME_PREVENTION = "crime_prevention"
    INCIDENT = "incident"


SCHEDULED_MODES = (Mode.ENFORCEMENT, Mode.CRIME_PREVENTION)
"""The modes a schedule may name; incident comes only from an open incident."""

EMERGENCY_PURPOSES = frozenset(
    {
        AccessPurpose.CRIME_PREVENTION,
        AccessPurpose.INVESTIGATION,
        AccessPurpose.MISSING_PERSON,
        AccessPurpose.DISASTER,
        AccessPurpose.ACCIDENT,
    }
)
MODE_PURPOSES: Mapping[Mode, frozenset[AccessPurpose]] = {
    Mode.ENFORCEMENT: frozenset({AccessPurpose.TRAFFIC}),
    Mode.CRIME_PREVENTION: EMERGENCY_PURPOSES,
    Mode.INCIDENT: EMERGENCY_PURPOSES,
}
MODE_TOURS: Mapping[Mode, TourKind | None] = {
    Mode.ENFORCEMENT: TourKind.ENFORCEMENT,
    Mode.CRIME_PREVENTION: TourKind.PATROL,
    Mode.INCIDENT: None,
}


@dataclass(frozen=True)
class ModeWindow:
    window: TimeWindow
    mode: Mode

    def as_json(self) -> dict[str, Any]:
        return {**self.window.as_json(), "mode": self.mode.value}


@dataclass(frozen=True)
class ModeSchedule:
    windows: tuple[ModeWindow, ...]
    otherwise: Mode = Mode.CRIME_PREVENTION
    timezone: str = DEFAULT_TIMEZONE

    def as_json(self) -> dict[str, Any]:
        return {
            "windows": [w.as_json() for w in self.windows],
            "otherwise": self.otherwise.value,
            "timezone": self.timezone,
        }

    def text(self) -> str:
        """ "enforcement 07:00–22:00, otherwise crime_prevention (Asia/Seoul)"."""
        parts = [f"{w.mode.value} {w.window.text()}" for w in self.windows]
        parts.append(f"otherwise {self.otherwise.value}")
        return f"{', '.join(parts)} ({self.timezone})"


def scheduled_mode(schedule: ModeSchedule, at: datetime) -> Mode:
    """The mode the schedule gives at ``at`` (an aware time), incidents aside."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be timezone-aware")
    local = at.astimezone(zone_info(schedule.timezone))
    for entry in schedule.windows:
        if entry.window.contains(local):
            return entry.mode
    return schedule.otherwise


def mode_at(schedule: ModeSchedule, at: datetime, incident_open: bool) -> Mode:
    """The camera's mode at ``at``: incident while an open incident lists the camera, else
    the mode of the schedule's window that contains the local time, else ``otherwise``."""
    mode = scheduled_mode(schedule, at)
    return Mode.INCIDENT if incident_open else mode


def mode_until(schedule: ModeSchedule, at: datetime) -> datetime | None:
    """When the scheduled mode next changes after ``at`` (UTC), or None if it never does.

    Changes happen where a window starts or ends in local time. In a zone with daylight saving
    time a window edge inside a skipped hour is found at the local time's fold-0 meaning, up to
    an hour off; Asia/Seoul has no such hours."""
    current = scheduled_mode(schedule, at)
    if not schedule.windows:
        return None
    zone = zone_info(schedule.timezone)
    start_day = at.astimezone(zone).replace(tzinfo=None).date()
    candidates: set[datetime] = set()
    for offset in range(-1, LOOKAHEAD_DAYS + 1):
        midnight = datetime.combine(start_day + timedelta(days=offset), datetime.min.time())
        for entry in schedule.windows:
            for minute in (entry.window.start, entry.window.end):
                wall = midnight + timedelta(minutes=minute)
                for fold in (0, 1):
                    moment = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
                    if moment > at:
                        candidates.add(moment)
    for moment in sorted(candidates):
        if scheduled_mode(schedule, moment) is not current:
            return moment
    return None


def admits(mode: Mode, purpose: AccessPurpose) -> bool:
    return purpose in MODE_PURPOSES[mode]


def tour_kind(mode: Mode) -> TourKind | None:
    """The kind of tour the mode runs (the camera runs it if it has one, enabled)."""
    return MODE_TOURS[mode]


def refusal_text(camera_id: int, mode: Mode, purpose: AccessPurpose) -> str:
    allowed = ", ".join(sorted(p.value for p in MODE_PURPOSES[mode]))
    return (
        f"camera {camera_id} is in {mode.value} mode, which admits {allowed}, "
        f"not {purpose_label(purpose)}"
    )


def parse_mode(text: object, field: str) -> Mode:
    allowed = ", ".join(m.value for m in SCHEDULED_MODES)
    if isinstance(text, str):
        try:
            mode = Mode(text.strip().lower())
        except ValueError:
            mode = None
        if mode in SCHEDULED_MODES:
            assert mode is not None
            return mode
    raise FieldError(
        field,
        f"{text!r} is not a mode a schedule may set: use {allowed} (incident mode comes from "
        "an open incident)",
        "body",
    )


def build_schedule(
    windows: Sequence[Mapping[str, Any]],
    otherwise: str = Mode.CRIME_PREVENTION.value,
    timezone: str = DEFAULT_TIMEZONE,
) -> ModeSchedule:
    """A checked schedule; FieldError names the first wrong field (``windows[1].mode``)."""
    zone = parse_zone(timezone)
    entries: list[ModeWindow] = []
    for index, raw in enumerate(windows):
        where = f"windows[{index}]"
        if not isinstance(raw, Mapping) or "start" not in raw or "end" not in raw:
            raise FieldError(where, "a window is {start: HH:MM, end: HH:MM, mode}", "body")
        window = parse_window(str(raw["start"]), str(raw["end"]), raw.get("days"), where)
        entries.append(ModeWindow(window, parse_mode(raw.get("mode"), f"{where}.mode")))
    check_no_overlap([e.window for e in entries], "windows")
    return ModeSchedule(tuple(entries), parse_mode(otherwise, "otherwise"), zone)


def enforcement_by_day(start: str = "07:00", end: str = "22:00") -> ModeSchedule:
    """The typical schedule of a parking-enforcement camera: enforcement 07:00–22:00 in
    Asia/Seoul, crime prevention otherwise."""
    return build_schedule([{"start": start, "end": end, "mode": Mode.ENFORCEMENT.value}])
