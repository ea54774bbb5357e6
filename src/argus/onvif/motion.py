"""How a simulated PTZ unit moves: each axis from where it was, to a target or at a velocity.

There are no timers: an axis remembers where and when its current movement began and works out
its position for any later moment, so a camera that nobody looks at costs nothing and a
continuous move that outlives its timeout simply ends there. Positions never leave the axis's
range (a continuous move stops at the end stop), targets are reached at a rate set by the
configured time for the whole range at full speed, scaled by the requested speed.

Units are ONVIF's generic spaces (see `argus.ptz.driver`): pan and tilt in [-1, 1], zoom in
[0, 1], velocities and speeds as fractions of the unit's full speed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from argus.ptz.driver import PtzPosition


@dataclass(frozen=True, slots=True)
class Range:
    """A closed interval of one axis."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"a range needs finite low < high, not {self.low}, {self.high}")

    @property
    def span(self) -> float:
        return self.high - self.low

    def clamp(self, value: float) -> float:
        return min(self.high, max(self.low, value))

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


def both_ways(axis: Range) -> Range:
    """The translations along an axis: up to its whole span either way."""
    return Range(-axis.span, axis.span)


@dataclass(frozen=True, slots=True)
class PtzSpaces:
    """The position ranges of a PTZ node; translations may span a whole range either way."""

    pan: Range = Range(-1.0, 1.0)
    tilt: Range = Range(-1.0, 1.0)
    zoom: Range = Range(0.0, 1.0)

    @property
    def axes(self) -> tuple[Range, Range, Range]:
        """(pan, tilt, zoom) ranges."""
        return self.pan, self.tilt, self.zoom

    def clamp(self, position: PtzPosition) -> PtzPosition:
        return PtzPosition(
            self.pan.clamp(position.pan),
            self.tilt.clamp(position.tilt),
            self.zoom.clamp(position.zoom),
        )

    def __contains__(self, position: PtzPosition) -> bool:
        return (
            position.pan in self.pan and position.tilt in self.tilt and position.zoom in self.zoom
        )


@dataclass(frozen=True, slots=True)
class MotionSettings:
    """How fast the unit moves: seconds for a whole range at full speed; the default timeout."""

    pan_tilt_seconds: float = 2.0
    zoom_seconds: float = 1.0
    default_timeout_s: float = 10.0
    """How long a continuous move without a Timeout lasts (the DefaultPTZTimeout)."""

    def __post_init__(self) -> None:
        for name in ("pan_tilt_seconds", "zoom_seconds", "default_timeout_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, not {value}")


@dataclass(frozen=True, slots=True)
class PtzSpeed:
    """Generic speeds in [0, 1] per axis for a move to a target; None or 0: full speed."""

    pan: float | None = None
    tilt: float | None = None
    zoom: float | None = None


FULL_SPEED = PtzSpeed()
MIN_SPEED = 0.01
"""The slowest a unit moves to a target, as a fraction of full speed (as motors have one)."""


class Axis:
    """One axis: holding still, moving to a target at a rate, or moving at a velocity."""

    __slots__ = ("_rate", "_start", "_t0", "_target", "_until", "_velocity", "range")

    def __init__(self, range_: Range, value: float, now: float) -> None:
        self.range = range_
        self._start = range_.clamp(value)
        self._t0 = now
        self._target: float | None = None
        self._rate = 0.0
        self._velocity = 0.0
        self._until = now

    def value(self, now: float) -> float:
        if self._velocity:
            elapsed = max(0.0, min(now, self._until) - self._t0)
            return self.range.clamp(self._start + self._velocity * elapsed)
        if self._target is not None:
            distance = self._target - self._start
            travelled = self._rate * max(0.0, now - self._t0)
            if travelled >= abs(distance):
                return self._target
            return self._start + math.copysign(travelled, distance)
        return self._start

    def moving(self, now: float) -> bool:
        if self._velocity:
            if now >= self._until:
                return False
            value = self.value(now)
            pinned = value >= self.range.high if self._velocity > 0 else value <= self.range.low
            return not pinned
        if self._target is not None:
            return self._rate * (now - self._t0) < abs(self._target - self._start)
        return False

    def _rebase(self, now: float) -> None:
        self._start = self.value(now)
        self._t0 = now
        self._target = None
        self._rate = 0.0
        self._velocity = 0.0
        self._until = now

    def hold(self, now: float) -> None:
        """Stop where the axis is now."""
        self._rebase(now)

    def go_to(self, target: float, rate: float, now: float) -> None:
        """Move to `target` (clamped to the range) at `rate` units per second."""
        self._rebase(now)
        self._target = self.range.clamp(target)
        self._rate = rate

    def drift(self, velocity: float, until: float, now: float) -> None:
        """Move at `velocity` units per second until `until` (or the end stop)."""
        self._rebase(now)
        if velocity:
            self._velocity = velocity
            self._until = until


class PtzMotion:
    """The three axes of one unit, commanded in generic units."""

    def __init__(
        self, spaces: PtzSpaces, settings: MotionSettings, position: PtzPosition, now: float
    ) -> None:
        self.spaces = spaces
        self.settings = settings
        self.pan = Axis(spaces.pan, position.pan, now)
        self.tilt = Axis(spaces.tilt, position.tilt, now)
        self.zoom = Axis(spaces.zoom, position.zoom, now)

    def position(self, now: float) -> PtzPosition:
        return PtzPosition(self.pan.value(now), self.tilt.value(now), self.zoom.value(now))

    def moving(self, now: float) -> tuple[bool, bool]:
        """(pan/tilt moving, zoom moving), as ONVIF's MoveStatus reports them."""
        return self.pan.moving(now) or self.tilt.moving(now), self.zoom.moving(now)

    @staticmethod
    def _rate(speed: float | None, axis: Axis, seconds: float) -> float:
        """Units per second at a generic speed (None or 0: full speed; at least MIN_SPEED)."""
        fraction = max(MIN_SPEED, speed) if speed else 1.0
        return fraction * axis.range.span / seconds

    def continuous(
        self,
        pan: float | None,
        tilt: float | None,
        zoom: float | None,
        timeout_s: float | None,
        now: float,
    ) -> None:
        """Generic velocities in [-1, 1]; an axis given None keeps what it was doing."""
        until = now + (timeout_s if timeout_s is not None else self.settings.default_timeout_s)
        for axis, velocity, seconds in (
            (self.pan, pan, self.settings.pan_tilt_seconds),
            (self.tilt, tilt, self.settings.pan_tilt_seconds),
            (self.zoom, zoom, self.settings.zoom_seconds),
        ):
            if velocity is not None:
                axis.drift(velocity * axis.range.span / seconds, until, now)

    def move_to(
        self,
        pan: float | None,
        tilt: float | None,
        zoom: float | None,
        now: float,
        speed: PtzSpeed = FULL_SPEED,
    ) -> None:
        """Go to a position; an axis given None keeps what it was doing."""
        for axis, target, fraction, seconds in (
            (self.pan, pan, speed.pan, self.settings.pan_tilt_seconds),
            (self.tilt, tilt, speed.tilt, self.settings.pan_tilt_seconds),
            (self.zoom, zoom, speed.zoom, self.settings.zoom_seconds),
        ):
            if target is not None:
                axis.go_to(target, self._rate(fraction, axis, seconds), now)

    def stop(self, pan_tilt: bool, zoom: bool, now: float) -> None:
        if pan_tilt:
            self.pan.hold(now)
            self.tilt.hold(now)
        if zoom:
            self.zoom.hold(now)
