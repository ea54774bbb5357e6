"""Tours: the owner's enforcement tour (first photo, revisit 5–10 min later) and idle patrols.

A tour is a list of stops (a preset and how long the camera dwells there). An idle patrol just
cycles through them. An enforcement tour must photograph every spot twice: parking
enforcement needs a second photo of the same spot 5–10 minutes after the first. The tour's
``revisit_delay_s`` (300–600 s) is the earliest revisit; the window of a revisit is
``[first + revisit_delay_s, first + 600 s]``.

**Schedule** (``TourEngine``, pure, times passed in). A visit counts when its dwell completes;
its photo time is the visit's start (a first visit and its revisit dwell equally long, so the
photos are as far apart as the starts). The engine works in batches:

1. *first photos*: visit the next stops in tour order while the visit would end before the
   revisit of the batch's first spot opens (``now + dwell <= first_of_batch + delay``) and the
   stop is not already waiting for its revisit;
2. *revisits*: then revisit the batch's spots in the same order, each not before its window
   opens (waiting at the last spot if needed).

Undisturbed, every spot is revisited exactly ``revisit_delay_s`` after its first photo (the
batch's visits are as far apart as their revisits). Because revisits go in the order of their
first photos and a first visit takes its stop's dwell, if the first pending revisit can start
inside its window so can every later one: ``start[k+1] <= close[k] + dwell[k] <= close[k+1]``.

**Interruptions.** When a higher-priority controller takes the camera, ``pause`` stops the tour
(a visit cut short does not count: a first visit is made again, a revisit stays pending);
``resume`` continues where it left off. Revisits whose window passed meanwhile are reported
missed (``MissedRevisit``, with the pause as cause) and dropped; revisits that fell due are done
first, before any new first photo (rule 1 admits no first visit once the batch's revisit is
open). ``abandon`` gives up every pending revisit (the tour stops for a mode change), reporting
each as missed. Missed revisits and completed visits collect in outboxes (``take_missed``,
``take_done``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from argus.errors import FieldError

REVISIT_MIN_S = 5 * 60
REVISIT_MAX_S = 10 * 60
DEFAULT_REVISIT_S = REVISIT_MIN_S
MIN_DWELL_S = 1
MAX_DWELL_S = REVISIT_MIN_S  # a first visit always ends before its own revisit opens
MAX_STOPS = 64
MAX_PRESET = 64


class TourKind(StrEnum):
    ENFORCEMENT = "enforcement"  # first photo and revisit of every spot
    PATROL = "patrol"  # an idle patrol: stops in turn, no revisits


@dataclass(frozen=True)
class TourStop:
    preset: str  # the camera's preset token
    dwell_s: int

    def as_json(self) -> dict[str, Any]:
        return {"preset": self.preset, "dwell_s": self.dwell_s}


@dataclass(frozen=True)
class Tour:
    camera_id: int
    kind: TourKind
    stops: tuple[TourStop, ...]
    revisit_delay_s: int | None = None  # enforcement tours only
    enabled: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "camera_id": self.camera_id,
            "kind": self.kind.value,
            "stops": [s.as_json() for s in self.stops],
            "revisit_delay_s": self.revisit_delay_s,
            "revisit_window_s": (
                None if self.revisit_delay_s is None else [self.revisit_delay_s, REVISIT_MAX_S]
            ),
            "enabled": self.enabled,
        }


def parse_kind(text: str, field: str = "kind", location: str = "body") -> TourKind:
    try:
        return TourKind(text.strip().lower())
    except ValueError:
        allowed = ", ".join(k.value for k in TourKind)
        raise FieldError(field, f"{text!r} is not a tour kind: use {allowed}", location) from None


def build_tour(
    camera_id: int,
    kind: TourKind | str,
    stops: Sequence[Mapping[str, Any]],
    revisit_delay_s: int | None = None,
    enabled: bool = True,
) -> Tour:
    """A checked tour; FieldError names the first wrong field (``stops[2].dwell_s``)."""
    tour_kind = kind if isinstance(kind, TourKind) else parse_kind(kind)
    if not 1 <= len(stops) <= MAX_STOPS:
        raise FieldError("stops", f"give 1 to {MAX_STOPS} stops", "body")
    parsed: list[TourStop] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(stops):
        where = f"stops[{index}]"
        preset = raw.get("preset")
        if not isinstance(preset, str) or not preset.strip() or len(preset) > MAX_PRESET:
            raise FieldError(
                f"{where}.preset", f"a preset token of 1 to {MAX_PRESET} characters", "body"
            )
        dwell = raw.get("dwell_s")
        if isinstance(dwell, bool) or not isinstance(dwell, int):
            raise FieldError(f"{where}.dwell_s", "a whole number of seconds", "body")
        if not MIN_DWELL_S <= dwell <= MAX_DWELL_S:
            raise FieldError(
                f"{where}.dwell_s", f"{dwell} is outside {MIN_DWELL_S}–{MAX_DWELL_S} s", "body"
            )
        token = preset.strip()
        if tour_kind is TourKind.ENFORCEMENT and token in seen:
            raise FieldError(
                f"{where}.preset",
                f"preset {token!r} is already stop {seen[token]}: an enforcement tour visits "
                "each spot once per round",
                "body",
            )
        seen.setdefault(token, index)
        parsed.append(TourStop(token, dwell))
    delay = _revisit_delay(tour_kind, revisit_delay_s)
    return Tour(camera_id, tour_kind, tuple(parsed), delay, enabled)


def _revisit_delay(kind: TourKind, value: int | None) -> int | None:
    if kind is TourKind.PATROL:
        if value is not None:
            raise FieldError("revisit_delay_s", "a patrol makes no revisits: leave it out", "body")
        return None
    if value is None:
        return DEFAULT_REVISIT_S
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError("revisit_delay_s", "a whole number of seconds", "body")
    if not REVISIT_MIN_S <= value <= REVISIT_MAX_S:
        raise FieldError(
            "revisit_delay_s",
            f"{value} s is outside {REVISIT_MIN_S}–{REVISIT_MAX_S} s: enforcement needs the "
            "second photo 5 to 10 minutes after the first",
            "body",
        )
    return value


# --- the engine ---------------------------------------------------------------------------


class VisitKind(StrEnum):
    FIRST = "first"  # the first photo of a spot
    REVISIT = "revisit"  # its second photo
    PATROL = "patrol"


@dataclass(frozen=True)
class Visit:
    stop_index: int
    preset: str
    kind: VisitKind
    started_at: datetime
    ends_at: datetime
    first_at: datetime | None = None  # a revisit: when the first photo was taken

    def as_json(self) -> dict[str, Any]:
        return {
            "step": "visit",
            "stop": self.stop_index,
            "preset": self.preset,
            "kind": self.kind.value,
            "started_at": self.started_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "first_at": None if self.first_at is None else self.first_at.isoformat(),
        }


@dataclass(frozen=True)
class Wait:
    """Stay where the camera is until a revisit window opens (the runner sends a camera that
    someone else turned meanwhile to ``preset``, the spot whose revisit it waits for)."""

    started_at: datetime
    ends_at: datetime
    reason: str
    preset: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "step": "wait",
            "started_at": self.started_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "reason": self.reason,
            "preset": self.preset,
        }


Step = Visit | Wait


@dataclass(frozen=True)
class PendingRevisit:
    stop_index: int
    preset: str
    first_at: datetime
    opens_at: datetime
    closes_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "stop": self.stop_index,
            "preset": self.preset,
            "first_at": self.first_at.isoformat(),
            "opens_at": self.opens_at.isoformat(),
            "closes_at": self.closes_at.isoformat(),
        }


@dataclass(frozen=True)
class MissedRevisit:
    camera_id: int
    stop_index: int
    preset: str
    first_at: datetime
    closes_at: datetime
    noticed_at: datetime
    cause: str  # "taken over by kim (…) 12:00:05–12:14:30"

    def as_json(self) -> dict[str, Any]:
        return {
            "camera_id": self.camera_id,
            "stop": self.stop_index,
            "preset": self.preset,
            "first_at": self.first_at.isoformat(),
            "closes_at": self.closes_at.isoformat(),
            "noticed_at": self.noticed_at.isoformat(),
            "cause": self.cause,
        }


@dataclass
class TourEngine:
    """Where one tour is, and what it does next; every method takes the current time."""

    tour: Tour
    cursor: int = 0  # the stop of the next first visit (or patrol visit)
    pending: list[PendingRevisit] = field(default_factory=list)
    revisiting: bool = False  # the batch is closed: its revisits come next
    current: Step | None = None
    paused_since: datetime | None = None
    pause_cause: str | None = None
    _done: list[Visit] = field(default_factory=list)
    _missed: list[MissedRevisit] = field(default_factory=list)

    @property
    def paused(self) -> bool:
        return self.paused_since is not None

    def advance(self, now: datetime) -> Step:
        """The step to be in at ``now``: the current one until it ends, then the next."""
        if self.paused_since is not None:
            raise RuntimeError("the tour is paused: resume it first")
        current = self.current
        if current is not None:
            if now < current.ends_at:
                return current
            self._finish(current)
        self._expire(now, "the tour ran late")
        step = self._choose(now)
        self.current = step
        return step

    def pause(self, now: datetime, cause: str) -> None:
        """Stop at ``now``: a visit that has not ended is cut short and does not count."""
        if self.paused_since is not None:
            return
        current = self.current
        if isinstance(current, Visit) and now >= current.ends_at:
            self._finish(current)
        self.current = None
        self.paused_since = now
        self.pause_cause = cause

    def resume(self, now: datetime) -> list[MissedRevisit]:
        """Go on where it stopped; returns the revisits whose window passed meanwhile."""
        since = self.paused_since
        if since is None:
            return []
        cause = f"{self.pause_cause} ({since.isoformat()} to {now.isoformat()})"
        self.paused_since = None
        self.pause_cause = None
        before = len(self._missed)
        self._expire(now, cause)
        return list(self._missed[before:])

    def skip_current(self, now: datetime, cause: str) -> None:
        """Give up the current visit (the camera failed it): a revisit is reported missed."""
        current = self.current
        self.current = None
        if not isinstance(current, Visit):
            return
        if current.kind is VisitKind.REVISIT:
            for revisit in list(self.pending):
                if revisit.stop_index == current.stop_index:
                    self.pending.remove(revisit)
                    self._missed.append(self._missed_of(revisit, now, cause))
        else:
            self.cursor = (current.stop_index + 1) % len(self.tour.stops)

    def abandon(self, now: datetime, cause: str) -> list[MissedRevisit]:
        """Give up every pending revisit (reported missed) and the current step."""
        if isinstance(self.current, Visit) and self.current.kind is VisitKind.REVISIT:
            self.current = None
        gone = [self._missed_of(r, now, cause) for r in self.pending]
        self._missed.extend(gone)
        self.pending.clear()
        self.revisiting = False
        return gone

    def take_missed(self) -> list[MissedRevisit]:
        missed, self._missed = self._missed, []
        return missed

    def take_done(self) -> list[Visit]:
        done, self._done = self._done, []
        return done

    # -- internals ----------------------------------------------------------------------

    def _finish(self, step: Step) -> None:
        self.current = None
        if not isinstance(step, Visit):
            return
        self._done.append(step)
        count = len(self.tour.stops)
        if step.kind is VisitKind.REVISIT:
            self.pending = [r for r in self.pending if r.stop_index != step.stop_index]
            return
        self.cursor = (step.stop_index + 1) % count
        delay = self.tour.revisit_delay_s
        if step.kind is VisitKind.FIRST and delay is not None:
            self.pending.append(
                PendingRevisit(
                    step.stop_index,
                    step.preset,
                    step.started_at,
                    step.started_at + timedelta(seconds=delay),
                    step.started_at + timedelta(seconds=REVISIT_MAX_S),
                )
            )

    def _expire(self, now: datetime, cause: str) -> None:
        kept = []
        for revisit in self.pending:
            if revisit.closes_at < now:
                self._missed.append(self._missed_of(revisit, now, cause))
            else:
                kept.append(revisit)
        self.pending = kept

    def _missed_of(self, revisit: PendingRevisit, now: datetime, cause: str) -> MissedRevisit:
        return MissedRevisit(
            self.tour.camera_id,
            revisit.stop_index,
            revisit.preset,
            revisit.first_at,
            revisit.closes_at,
            now,
            cause,
        )

    def _visit(
        self, now: datetime, index: int, kind: VisitKind, first_at: datetime | None = None
    ) -> Visit:
        stop = self.tour.stops[index]
        return Visit(index, stop.preset, kind, now, now + timedelta(seconds=stop.dwell_s), first_at)

    def _choose(self, now: datetime) -> Step:
        if self.tour.revisit_delay_s is None:
            return self._visit(now, self.cursor, VisitKind.PATROL)
        if not self.revisiting:
            if not self.pending:
                return self._visit(now, self.cursor, VisitKind.FIRST)
            stop = self.tour.stops[self.cursor]
            waiting = any(r.stop_index == self.cursor for r in self.pending)
            fits = now + timedelta(seconds=stop.dwell_s) <= self.pending[0].opens_at
            if fits and not waiting:
                return self._visit(now, self.cursor, VisitKind.FIRST)
            self.revisiting = True
        if not self.pending:
            self.revisiting = False
            return self._visit(now, self.cursor, VisitKind.FIRST)
        head = self.pending[0]
        if now < head.opens_at:
            return Wait(
                now, head.opens_at, f"the revisit of preset {head.preset!r} opens", head.preset
            )
        return self._visit(now, head.stop_index, VisitKind.REVISIT, head.first_at)
