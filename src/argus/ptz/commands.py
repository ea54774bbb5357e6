"""The PTZ commands a person may send, and the checks of their arguments.

Values are in ONVIF's generic spaces (see ``argus.ptz.driver``): an absolute position has pan
and tilt in [-1, 1] and zoom in [0, 1]; a velocity (continuous move) and a displacement
(relative move) have all three in [-1, 1]. A bad value is a ``FieldError`` naming the field;
nothing is sent to the camera.
"""

from __future__ import annotations

import math
from enum import StrEnum

from argus.errors import FieldError

MAX_CONTINUOUS_TIMEOUT_S = 60.0


class Command(StrEnum):
    ACQUIRE = "acquire"
    CONTINUOUS_MOVE = "continuous_move"
    RELATIVE_MOVE = "relative_move"
    ABSOLUTE_MOVE = "absolute_move"
    STOP = "stop"
    GOTO_PRESET = "goto_preset"
    HOME = "home"
    RELEASE = "release"


class MoveMode(StrEnum):
    CONTINUOUS = "continuous"
    RELATIVE = "relative"
    ABSOLUTE = "absolute"


MOVE_COMMANDS = {
    MoveMode.CONTINUOUS: Command.CONTINUOUS_MOVE,
    MoveMode.RELATIVE: Command.RELATIVE_MOVE,
    MoveMode.ABSOLUTE: Command.ABSOLUTE_MOVE,
}


def _check(field: str, value: float, low: float, high: float, meaning: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FieldError(field, "a number", "body")
    if not low <= value <= high:
        raise FieldError(field, f"{value} is outside [{low:g}, {high:g}] ({meaning})", "body")


def check_move(mode: MoveMode, pan: float, tilt: float, zoom: float) -> None:
    if mode is MoveMode.ABSOLUTE:
        _check("pan", pan, -1.0, 1.0, "a position")
        _check("tilt", tilt, -1.0, 1.0, "a position")
        _check("zoom", zoom, 0.0, 1.0, "a position: 0 widest, 1 closest")
        return
    meaning = "a velocity" if mode is MoveMode.CONTINUOUS else "a displacement"
    for field, value in (("pan", pan), ("tilt", tilt), ("zoom", zoom)):
        _check(field, value, -1.0, 1.0, meaning)


def check_timeout(timeout_s: float | None) -> None:
    if timeout_s is None:
        return
    _check("timeout_s", timeout_s, 0.0, MAX_CONTINUOUS_TIMEOUT_S, "seconds")
    if timeout_s <= 0:
        raise FieldError("timeout_s", "must be more than 0 seconds", "body")


def check_preset(token: str) -> str:
    cleaned = token.strip() if isinstance(token, str) else ""
    if not cleaned or len(cleaned) > 64:
        raise FieldError("preset", "a preset token of 1 to 64 characters", "body")
    return cleaned


def parse_mode(text: str) -> MoveMode:
    try:
        return MoveMode(text.strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in MoveMode)
        raise FieldError("mode", f"{text!r} is not a move mode: use {allowed}", "body") from None
