"""Time windows of an agreement, in the agreement's local time ("22:00–07:00", optional weekdays).

A window is half-open: 22:00–07:00 includes 22:00:00 and 06:59:59 and excludes 07:00:00. A window
whose end is earlier than its start crosses midnight. ``24:00`` may end a window (up to midnight);
start and end must differ (a window that covers the whole day is no window: leave windows out).

Weekdays name the day a window *starts*: 22:00–07:00 on Friday covers Friday 22:00 to Saturday
07:00, and not Friday 03:00 (that belongs to Thursday's night).

Every window is also a set of minutes of the week (a 10,080-bit integer), which makes overlap
("two windows of one agreement share a minute") and narrowing ("every minute of the new windows
was in the old") exact set operations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argus.errors import FieldError

DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES
WEEK_MASK = (1 << WEEK_MINUTES) - 1
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_KOREAN_DAYS = ("월", "화", "수", "목", "금", "토", "일")
_DAY_WORDS = {
    word: index
    for index in range(7)
    for word in (
        DAY_NAMES[index],
        _FULL_DAYS[index],
        _KOREAN_DAYS[index],
        f"{_KOREAN_DAYS[index]}요일",
    )
}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class TimeWindow:
    start: int  # minutes after local midnight, 0..1439
    end: int  # minutes after local midnight, 0..1440, != start
    days: frozenset[int] | None = None  # 0 = Monday … 6 = Sunday; None = every day

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start

    def contains(self, local: datetime) -> bool:
        """Whether the local time ``local`` (already in the agreement's zone) is inside."""
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        start, end = self.start * 60, self.end * 60
        weekday = local.weekday()
        days = self.days
        if start < end:
            return start <= seconds < end and (days is None or weekday in days)
        if seconds >= start:
            return days is None or weekday in days
        if seconds < end:
            return days is None or (weekday - 1) % 7 in days
        return False

    def ends_after(self, local: datetime) -> datetime:
        """The end of the occurrence of this window that contains ``local``."""
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        if self.crosses_midnight and seconds >= self.start * 60:
            midnight += timedelta(days=1)
        return midnight + timedelta(minutes=self.end)

    def week_mask(self) -> int:
        """The minutes of the week this window covers, as bits (bit 0 = Monday 00:00)."""
        length = (self.end - self.start) % DAY_MINUTES or DAY_MINUTES
        mask = 0
        for day in sorted(self.days) if self.days is not None else range(7):
            begin = day * DAY_MINUTES + self.start
            bits = ((1 << length) - 1) << begin
            mask |= (bits | (bits >> WEEK_MINUTES)) & WEEK_MASK
        return mask

    def text(self) -> str:
        body = f"{format_minutes(self.start)}–{format_minutes(self.end)}"
        if self.days is None:
            return body
        return f"{body} {','.join(DAY_NAMES[d] for d in sorted(self.days))}"

    def as_json(self) -> dict[str, object]:
        return {
            "start": format_minutes(self.start),
            "end": format_minutes(self.end),
            "days": None if self.days is None else [DAY_NAMES[d] for d in sorted(self.days)],
        }


def format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_clock(text: str, field: str, allow_24: bool = False) -> int:
    """Minutes after midnight of "HH:MM" (00:00–23:59; 24:00 too where a window may end)."""
    match = _TIME.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise FieldError(field, f"{text!r} is not a time of day: write HH:MM, e.g. 22:00", "body")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if allow_24 and hours == 24 and minutes == 0:
        return DAY_MINUTES
    if hours > 23 or minutes > 59:
        limit = "00:00–24:00" if allow_24 else "00:00–23:59"
        raise FieldError(field, f"{text!r} is not a time of day within {limit}", "body")
    return hours * 60 + minutes


def parse_days(values: Sequence[str] | None, field: str) -> frozenset[int] | None:
    if values is None:
        return None
    if not values:
        raise FieldError(field, "give at least one weekday (mon…sun), or leave days out", "body")
    days: set[int] = set()
    for value in values:
        day = _DAY_WORDS.get(str(value).strip().lower())
        if day is None:
            raise FieldError(field, f"{value!r} is not a weekday: use mon, tue, … sun", "body")
        days.add(day)
    return frozenset(days)


def parse_window(
    start: str, end: str, days: Sequence[str] | None, field: str = "windows"
) -> TimeWindow:
    first = parse_clock(start, f"{field}.start")
    last = parse_clock(end, f"{field}.end", allow_24=True)
    if first == last:
        raise FieldError(
            field,
            f"window {start}–{end} starts and ends at the same time; leave windows out for "
            "access at any hour",
            "body",
        )
    return TimeWindow(first, last, parse_days(days, f"{field}.days"))


def check_no_overlap(windows: Sequence[TimeWindow], field: str = "windows") -> None:
    for i, one in enumerate(windows):
        for other in windows[i + 1 :]:
            if one.week_mask() & other.week_mask():
                raise FieldError(
                    field, f"windows {one.text()} and {other.text()} overlap; merge them", "body"
                )


def union_mask(windows: Iterable[TimeWindow]) -> int:
    """The minutes of the week covered by any of ``windows``; every minute when there are none."""
    mask = 0
    found = False
    for window in windows:
        mask |= window.week_mask()
        found = True
    return mask if found else WEEK_MASK


def windows_text(windows: Sequence[TimeWindow], zone: str) -> str:
    noun = "window" if len(windows) == 1 else "windows"
    return f"{noun} {', '.join(w.text() for w in windows)} ({zone})"


@lru_cache(maxsize=256)
def zone_info(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_zone(name: str, field: str = "timezone") -> str:
    try:
        zone_info(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError(
            field, f"{name!r} is not an IANA time zone, e.g. Asia/Seoul", "body"
        ) from None
    return name
