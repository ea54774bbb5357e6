"""The camera simulator (`argus simulate`): every camera id over RTSP on 127.0.0.1.

`/cameras/{id}/main` and `/cameras/{id}/sub` serve looped H.264 or H.265 clips showing the id,
with a stamp SEI (camera id, send time, frame number) before every picture and fault modes for
tests (see `faults`). Start it with `run_simulator(settings)` or `async with Simulator(...)`.

Given a PTZ state (`Simulator(ptz=PtzRegistry())`, or `run_simulator(..., onvif_port=…)`, which
also serves the cameras' ONVIF services on that state), every stamp carries the camera's pan,
tilt and zoom and the picture shows its heading (see `ptz_view`).
"""

from argus.media.simulator.clips import MAIN_STREAM, SUB_STREAM, StreamSettings
from argus.media.simulator.faults import Fault, FaultSyntaxError
from argus.media.simulator.ptz_view import PtzPositions
from argus.media.simulator.service import (
    H265Rule,
    LabelRule,
    Simulator,
    SimulatorStats,
    StreamKind,
    run_simulator,
)

__all__ = [
    "MAIN_STREAM",
    "SUB_STREAM",
    "Fault",
    "FaultSyntaxError",
    "H265Rule",
    "LabelRule",
    "PtzPositions",
    "Simulator",
    "SimulatorStats",
    "StreamKind",
    "StreamSettings",
    "run_simulator",
]
