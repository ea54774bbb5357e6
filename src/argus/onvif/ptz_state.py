"""The PTZ state of every simulated camera, by camera id: motion, presets and home position.

One `PtzRegistry` is shared by the ONVIF simulator (which commands it) and the RTSP simulator
(which reads `position(camera_id)` for every frame it sends, see
`argus.media.simulator.ptz_view`). A camera gets state on its first command; until then it is
at its initial position and costs nothing. Commands are checked as an ONVIF PTZ service checks
them (positions inside the node's spaces, velocities and speeds in their generic ranges,
preset tokens that exist, names not taken twice); a refused command raises `PtzCommandError`
naming the ONVIF fault and changes nothing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from argus.onvif.motion import (
    FULL_SPEED,
    MotionSettings,
    PtzMotion,
    PtzSpaces,
    PtzSpeed,
    Range,
    both_ways,
)
from argus.ptz.driver import PtzPosition

HOME = PtzPosition(0.0, 0.0, 0.0)
VELOCITY = Range(-1.0, 1.0)
SPEED = Range(0.0, 1.0)
_AXES = ("pan", "tilt", "zoom")


class PtzCommandError(Exception):
    """A PTZ command the unit refuses; `fault` is the ONVIF subcode (ter:…) that says why."""

    def __init__(self, fault: str, message: str) -> None:
        super().__init__(message)
        self.fault = fault


@dataclass(frozen=True, slots=True)
class StoredPreset:
    token: str
    name: str
    position: PtzPosition


@dataclass(slots=True)
class CameraPtz:
    """One camera's PTZ unit."""

    motion: PtzMotion
    home: PtzPosition
    presets: dict[str, StoredPreset] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PtzStatusNow:
    position: PtzPosition
    pan_tilt_moving: bool
    zoom_moving: bool

    @property
    def moving(self) -> bool:
        return self.pan_tilt_moving or self.zoom_moving


def _finite(*values: float | None) -> None:
    for value in values:
        if value is not None and not math.isfinite(value):
            raise PtzCommandError("InvalidArgVal", f"{value} is not a number")


def _within(kind: str, what: str, value: float | None, allowed: Range) -> None:
    if value is not None and value not in allowed:
        raise PtzCommandError(
            kind, f"{what} {value:g} is outside [{allowed.low:g}, {allowed.high:g}]"
        )


def _within_axes(
    kind: str, what: str, values: Sequence[float | None], allowed: Sequence[Range]
) -> None:
    """`_within` for (pan, tilt, zoom) in turn, each named by its axis and then `what`."""
    for axis, value, axis_range in zip(_AXES, values, allowed, strict=True):
        _within(kind, f"{axis}{what}", value, axis_range)


def _check_move(
    kind: str,
    what: str,
    target: Sequence[float | None],
    allowed: Sequence[Range],
    speed: PtzSpeed,
) -> None:
    """A move to a target: finite numbers, the speeds in their range, then the target in
    `allowed` (a refusal names the first fault in that order)."""
    speeds = (speed.pan, speed.tilt, speed.zoom)
    _finite(*target, *speeds)
    _within_axes("InvalidSpeed", " speed", speeds, (SPEED,) * 3)
    _within_axes(kind, what, target, allowed)


class PtzRegistry:
    """PTZ units by camera id; `clock` is monotonic seconds (a test may drive its own)."""

    def __init__(
        self,
        *,
        spaces: PtzSpaces | None = None,
        motion: MotionSettings | None = None,
        max_presets: int = 300,
        initial: Callable[[int], PtzPosition] | None = None,
        preset_seed: Callable[[int], Sequence[StoredPreset]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``preset_seed``: the presets a camera has when it first answers (an installer's
        enforcement spots), e.g. ``spread_presets``."""
        self.spaces = spaces or PtzSpaces()
        self.motion = motion or MotionSettings()
        self.max_presets = max_presets
        self.initial = initial
        self.preset_seed = preset_seed
        self.clock = clock
        self._cameras: dict[int, CameraPtz] = {}

    def __len__(self) -> int:
        """Cameras that have PTZ state (were commanded at least once)."""
        return len(self._cameras)

    def initial_position(self, camera_id: int) -> PtzPosition:
        if self.initial is None:
            return self.spaces.clamp(HOME)
        return self.spaces.clamp(self.initial(camera_id))

    def camera(self, camera_id: int) -> CameraPtz:
        unit = self._cameras.get(camera_id)
        if unit is None:
            start = self.initial_position(camera_id)
            motion = PtzMotion(self.spaces, self.motion, start, self.clock())
            unit = self._cameras[camera_id] = CameraPtz(motion, home=self.spaces.clamp(HOME))
            if self.preset_seed is not None:
                for preset in self.preset_seed(camera_id)[: self.max_presets]:
                    unit.presets[preset.token] = preset
        return unit

    def _unit(self, camera_id: int) -> CameraPtz | None:
        """The camera's unit if it exists, or made now when cameras come with presets."""
        unit = self._cameras.get(camera_id)
        if unit is None and self.preset_seed is not None:
            return self.camera(camera_id)
        return unit

    # reading ---------------------------------------------------------------------------------

    def position(self, camera_id: int) -> PtzPosition:
        """Where the camera points now (what the RTSP side stamps into every frame)."""
        unit = self._cameras.get(camera_id)
        if unit is None:
            return self.initial_position(camera_id)
        return unit.motion.position(self.clock())

    def status(self, camera_id: int) -> PtzStatusNow:
        unit = self._cameras.get(camera_id)
        if unit is None:
            return PtzStatusNow(self.initial_position(camera_id), False, False)
        now = self.clock()
        pan_tilt, zoom = unit.motion.moving(now)
        return PtzStatusNow(unit.motion.position(now), pan_tilt, zoom)

    def presets(self, camera_id: int) -> list[StoredPreset]:
        unit = self._unit(camera_id)
        return [] if unit is None else list(unit.presets.values())

    def home(self, camera_id: int) -> PtzPosition:
        unit = self._cameras.get(camera_id)
        return self.spaces.clamp(HOME) if unit is None else unit.home

    # moving ----------------------------------------------------------------------------------

    def continuous_move(
        self,
        camera_id: int,
        pan: float | None,
        tilt: float | None,
        zoom: float | None,
        timeout_s: float | None = None,
    ) -> None:
        _finite(pan, tilt, zoom, timeout_s)
        _within_axes("InvalidVelocity", " velocity", (pan, tilt, zoom), (VELOCITY,) * 3)
        if timeout_s is not None and timeout_s <= 0:
            raise PtzCommandError("InvalidArgVal", f"timeout {timeout_s:g} s is not positive")
        self.camera(camera_id).motion.continuous(pan, tilt, zoom, timeout_s, self.clock())

    def absolute_move(
        self,
        camera_id: int,
        pan: float | None,
        tilt: float | None,
        zoom: float | None,
        speed: PtzSpeed = FULL_SPEED,
    ) -> None:
        _check_move("InvalidPosition", "", (pan, tilt, zoom), self.spaces.axes, speed)
        self.camera(camera_id).motion.move_to(pan, tilt, zoom, self.clock(), speed)

    def relative_move(
        self,
        camera_id: int,
        pan: float | None,
        tilt: float | None,
        zoom: float | None,
        speed: PtzSpeed = FULL_SPEED,
    ) -> None:
        """Move by a displacement; the target is clamped to the spaces (an end stop)."""
        translations = [both_ways(axis) for axis in self.spaces.axes]
        _check_move("InvalidTranslation", " translation", (pan, tilt, zoom), translations, speed)
        now = self.clock()
        motion = self.camera(camera_id).motion
        here = motion.position(now)
        motion.move_to(
            None if pan is None else here.pan + pan,
            None if tilt is None else here.tilt + tilt,
            None if zoom is None else here.zoom + zoom,
            now,
            speed,
        )

    def stop(self, camera_id: int, pan_tilt: bool = True, zoom: bool = True) -> None:
        if camera_id in self._cameras:
            self._cameras[camera_id].motion.stop(pan_tilt, zoom, self.clock())

    # presets and home ------------------------------------------------------------------------

    def goto_preset(
        self,
        camera_id: int,
        token: str,
        speed: PtzSpeed = FULL_SPEED,
    ) -> None:
        unit = self._unit(camera_id)
        preset = unit.presets.get(token) if unit is not None else None
        if preset is None:
            raise PtzCommandError("NoToken", f"no preset {token[:40]!r}")
        self.absolute_move(camera_id, *_xyz(preset.position), speed)

    def set_preset(self, camera_id: int, name: str | None, token: str | None = None) -> str:
        """Store the current position; a new preset unless `token` names an existing one."""
        unit = self._cameras.get(camera_id)
        existing = unit.presets if unit is not None else {}
        if token is not None and token not in existing:
            raise PtzCommandError("NoToken", f"no preset {token[:40]!r} to overwrite")
        if name is not None and not name.strip():
            raise PtzCommandError("InvalidPresetName", "a preset name must not be blank")
        if name is not None and any(p.name == name and p.token != token for p in existing.values()):
            raise PtzCommandError("PresetExist", f"a preset is already named {name[:40]!r}")
        if token is None and len(existing) >= self.max_presets:
            raise PtzCommandError("TooManyPresets", f"the unit holds {self.max_presets} presets")
        status = self.status(camera_id)
        if status.moving:
            raise PtzCommandError("MovingPTZ", "a preset cannot be set while the unit moves")
        unit = self.camera(camera_id)
        if token is None:
            token = next(
                str(n) for n in range(1, len(unit.presets) + 2) if str(n) not in unit.presets
            )
        if name is None:
            name = unit.presets[token].name if token in unit.presets else f"Preset {token}"
        unit.presets[token] = StoredPreset(token, name, status.position)
        return token

    def remove_preset(self, camera_id: int, token: str) -> None:
        unit = self._cameras.get(camera_id)
        if unit is None or unit.presets.pop(token, None) is None:
            raise PtzCommandError("NoToken", f"no preset {token[:40]!r}")

    def goto_home(
        self,
        camera_id: int,
        speed: PtzSpeed = FULL_SPEED,
    ) -> None:
        home = self.home(camera_id)
        self.absolute_move(camera_id, *_xyz(home), speed)

    def set_home(self, camera_id: int) -> None:
        status = self.status(camera_id)
        if status.moving:
            raise PtzCommandError("MovingPTZ", "the home position cannot be set while moving")
        self.camera(camera_id).home = status.position


def _xyz(position: PtzPosition) -> tuple[float, float, float]:
    return position.pan, position.tilt, position.zoom


def spread_presets(count: int = 4) -> Callable[[int], Sequence[StoredPreset]]:
    """``count`` presets "1" … "count" spread evenly over the pan range, level, wide: the
    spots a parking-enforcement unit's installer would have stored."""

    def seed(_camera_id: int) -> Sequence[StoredPreset]:
        return [
            StoredPreset(str(n), f"spot {n}", PtzPosition(-1.0 + (2 * n - 1) / count, 0.0, 0.0))
            for n in range(1, count + 1)
        ]

    return seed
