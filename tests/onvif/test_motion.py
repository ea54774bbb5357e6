"""The simulated PTZ unit on a fake clock: moves take time and end where they should, MoveStatus
follows, continuous moves end at their timeout or the end stop, presets and home, refusals that
change nothing; and a property test: whatever the commands, positions stay inside the spaces."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.onvif.durations import DurationError, format_duration, parse_duration
from argus.onvif.motion import MotionSettings, PtzSpeed
from argus.onvif.ptz_state import PtzCommandError, PtzRegistry
from argus.ptz.driver import PtzPosition


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def registry(clock: Clock, **options: object) -> PtzRegistry:
    motion = MotionSettings(pan_tilt_seconds=2.0, zoom_seconds=1.0, default_timeout_s=5.0)
    return PtzRegistry(motion=motion, clock=clock, **options)  # type: ignore[arg-type]


def test_absolute_move_takes_time_and_arrives() -> None:
    clock = Clock()
    ptz = registry(clock)
    assert ptz.position(7) == PtzPosition(0.0, 0.0, 0.0) and len(ptz) == 0  # no state yet
    ptz.absolute_move(7, 1.0, -1.0, 0.5)
    assert ptz.status(7).moving
    clock.now += 0.25  # full range (2 units) in 2 s: 0.25 units of pan and tilt, 0.25 of zoom
    here = ptz.position(7)
    assert here.pan == pytest.approx(0.25) and here.tilt == pytest.approx(-0.25)
    assert here.zoom == pytest.approx(0.25)
    clock.now += 0.35  # zoom (range 1 in 1 s) is there, pan/tilt still on the way
    status = ptz.status(7)
    assert status.pan_tilt_moving and not status.zoom_moving
    assert status.position.zoom == 0.5 and status.position.pan == pytest.approx(0.6)
    clock.now += 0.3
    assert ptz.status(7).moving
    clock.now += 0.2
    status = ptz.status(7)
    assert status.position == PtzPosition(1.0, -1.0, 0.5) and not status.moving


def test_speed_slows_a_move() -> None:
    clock = Clock()
    ptz = registry(clock)
    ptz.absolute_move(1, 1.0, None, None, PtzSpeed(pan=0.25))
    clock.now += 1.0
    assert ptz.position(1).pan == pytest.approx(0.25)  # a quarter of 1 unit/s
    clock.now += 3.0
    assert ptz.position(1).pan == 1.0 and not ptz.status(1).moving


def test_continuous_move_integrates_until_stop_timeout_or_end_stop() -> None:
    clock = Clock()
    ptz = registry(clock)
    ptz.continuous_move(3, 0.5, 0.0, None)  # 0.5 of full speed: 0.5 units/s
    clock.now += 1.0
    assert ptz.position(3).pan == pytest.approx(0.5) and ptz.status(3).moving
    ptz.stop(3)
    clock.now += 1.0
    assert ptz.position(3).pan == pytest.approx(0.5) and not ptz.status(3).moving
    # a timeout ends the move
    ptz.continuous_move(3, -1.0, 0.0, 0.0, timeout_s=0.2)
    clock.now += 5.0
    assert ptz.position(3).pan == pytest.approx(0.3) and not ptz.status(3).moving
    # the default timeout (5 s) and the end stop: pinned at -1 and no longer moving
    ptz.continuous_move(3, -1.0, None, None)
    clock.now += 1.0
    assert ptz.status(3).moving
    clock.now += 1.0
    assert ptz.position(3).pan == -1.0 and not ptz.status(3).moving
    # stopping zoom alone leaves pan/tilt moving
    ptz.continuous_move(3, 0.1, 0.0, 0.5, timeout_s=10)
    ptz.stop(3, pan_tilt=False, zoom=True)
    clock.now += 1.0
    status = ptz.status(3)
    assert status.pan_tilt_moving and not status.zoom_moving and status.position.zoom == 0.0


def test_relative_moves_clamp_at_the_end_stop() -> None:
    clock = Clock()
    ptz = registry(clock)
    ptz.relative_move(2, 0.75, 0.0, 0.0)
    ptz.relative_move(2, 0.75, 0.0, 0.0)  # from where it is now (0): to 0.75 again
    clock.now += 5
    assert ptz.position(2).pan == pytest.approx(0.75)
    ptz.relative_move(2, 1.5, 0.0, 0.75)
    clock.now += 5
    ptz.relative_move(2, 0.0, -0.5, 0.75)  # zoom past its end: stops at 1
    clock.now += 5
    assert ptz.position(2) == PtzPosition(1.0, -0.5, 1.0)  # and pan stopped at 1


def test_presets_and_home() -> None:
    clock = Clock()
    ptz = registry(clock)
    ptz.absolute_move(5, 0.2, 0.1, 0.3)
    with pytest.raises(PtzCommandError) as moving:
        ptz.set_preset(5, "gate")
    assert moving.value.fault == "MovingPTZ"
    clock.now += 5
    gate = ptz.set_preset(5, "gate")
    assert gate == "1"
    with pytest.raises(PtzCommandError) as taken:
        ptz.set_preset(5, "gate")
    assert taken.value.fault == "PresetExist"
    ptz.absolute_move(5, -0.6, 0.0, 0.0)
    clock.now += 5
    ptz.set_home(5)
    assert ptz.set_preset(5, None) == "2"
    ptz.goto_preset(5, gate)
    clock.now += 5
    assert ptz.position(5) == PtzPosition(0.2, 0.1, 0.3)
    ptz.goto_home(5)
    clock.now += 5
    assert ptz.position(5) == PtzPosition(-0.6, 0.0, 0.0)
    assert ptz.set_preset(5, "gate moved", gate) == gate  # overwrite keeps the token
    assert [(p.token, p.name) for p in ptz.presets(5)] == [("1", "gate moved"), ("2", "Preset 2")]
    ptz.remove_preset(5, gate)
    with pytest.raises(PtzCommandError) as missing:
        ptz.goto_preset(5, gate)
    assert missing.value.fault == "NoToken"
    with pytest.raises(PtzCommandError) as missing:
        ptz.remove_preset(5, gate)
    assert missing.value.fault == "NoToken"
    full = registry(clock, max_presets=1)
    full.set_preset(9, "one")
    with pytest.raises(PtzCommandError) as too_many:
        full.set_preset(9, "two")
    assert too_many.value.fault == "TooManyPresets"


@pytest.mark.parametrize(
    ("command", "fault"),
    [
        (lambda p: p.absolute_move(4, 1.5, 0.0, 0.0), "InvalidPosition"),
        (lambda p: p.absolute_move(4, 0.0, 0.0, -0.1), "InvalidPosition"),
        (lambda p: p.absolute_move(4, float("nan"), 0.0, 0.0), "InvalidArgVal"),
        (lambda p: p.relative_move(4, 2.5, 0.0, 0.0), "InvalidTranslation"),
        (lambda p: p.continuous_move(4, 1.01, 0.0, 0.0), "InvalidVelocity"),
        (lambda p: p.continuous_move(4, 0.5, 0.0, 0.0, timeout_s=0), "InvalidArgVal"),
        (lambda p: p.absolute_move(4, 0.0, 0.0, 0.0, PtzSpeed(pan=2.0)), "InvalidSpeed"),
    ],
)
def test_refused_commands_change_nothing(command, fault) -> None:
    clock = Clock()
    ptz = registry(clock)
    ptz.continuous_move(4, 0.2, 0.0, 0.0, timeout_s=1)
    before = ptz.status(4)
    with pytest.raises(PtzCommandError) as refused:
        command(ptz)
    assert refused.value.fault == fault
    assert ptz.status(4) == before
    clock.now += 0.5
    assert ptz.position(4).pan == pytest.approx(0.1)  # the earlier move goes on undisturbed


def test_durations() -> None:
    assert parse_duration("PT5S") == 5 and parse_duration("PT1.5S") == 1.5
    assert parse_duration("PT1M30S") == 90 and parse_duration("P1DT2H") == 93600
    assert parse_duration(format_duration(0.25)) == 0.25 and format_duration(10) == "PT10S"
    for bad in ("", "P", "PT", "5S", "-PT5S", "P1Y", "PT5", "P1DT"):
        with pytest.raises(DurationError):
            parse_duration(bad)


# --- property: positions stay inside the spaces, refusals change nothing ----------------------

coordinate = st.floats(-3, 3, allow_nan=False) | st.sampled_from([float("nan"), float("inf")])
maybe = st.none() | coordinate
speed = st.none() | st.floats(-0.5, 1.5, allow_nan=False)
commands = st.one_of(
    st.tuples(st.just("continuous"), maybe, maybe, maybe, st.none() | st.floats(-1, 5)),
    st.tuples(st.just("absolute"), maybe, maybe, maybe, speed),
    st.tuples(st.just("relative"), maybe, maybe, maybe, speed),
    st.tuples(st.just("stop"), st.booleans(), st.booleans()),
    st.tuples(
        st.just("set_preset"),
        st.none() | st.sampled_from(["a", "b", " "]),
        st.none() | st.sampled_from(["1", "2", "9"]),
    ),
    st.tuples(st.just("goto_preset"), st.sampled_from(["1", "2", "9"])),
    st.tuples(st.just("remove_preset"), st.sampled_from(["1", "2", "9"])),
    st.tuples(st.just("home"), st.booleans()),
    st.tuples(st.just("wait"), st.floats(0, 4)),
)


def run(ptz: PtzRegistry, clock: Clock, command: tuple[object, ...]) -> None:
    kind, *args = command
    camera = 11
    if kind == "continuous":
        pan, tilt, zoom, timeout = args
        ptz.continuous_move(camera, pan, tilt, zoom, timeout)  # type: ignore[arg-type]
    elif kind in ("absolute", "relative"):
        pan, tilt, zoom, fraction = args
        move = ptz.absolute_move if kind == "absolute" else ptz.relative_move
        move(camera, pan, tilt, zoom, PtzSpeed(fraction, fraction, fraction))  # type: ignore[arg-type]
    elif kind == "stop":
        ptz.stop(camera, *args)  # type: ignore[arg-type]
    elif kind == "set_preset":
        ptz.set_preset(camera, *args)  # type: ignore[arg-type]
    elif kind == "goto_preset":
        ptz.goto_preset(camera, *args)  # type: ignore[arg-type]
    elif kind == "remove_preset":
        ptz.remove_preset(camera, *args)  # type: ignore[arg-type]
    elif kind == "home":
        ptz.set_home(camera) if args[0] else ptz.goto_home(camera)
    else:
        clock.now += args[0]  # type: ignore[operator]


@given(st.lists(commands, max_size=40))
@settings(max_examples=300, deadline=None)
def test_positions_stay_inside_the_spaces_whatever_the_commands(sequence) -> None:
    clock = Clock()
    ptz = registry(clock)
    for command in sequence:
        before = (ptz.status(11), ptz.presets(11), ptz.home(11))
        try:
            run(ptz, clock, command)
        except PtzCommandError:
            assert (ptz.status(11), ptz.presets(11), ptz.home(11)) == before
        for probe in (0.0, 0.01, 0.5, 3.0):
            clock.now += probe
            assert ptz.position(11) in ptz.spaces
            assert all(p.position in ptz.spaces for p in ptz.presets(11))
    clock.now += 1000  # longer than any move (at 1 % of full speed) or timeout: the unit is still
    assert not ptz.status(11).moving
