"""The ONVIF simulator: device, media and PTZ services of many simulated cameras, by path.

`OnvifSimulator` serves `http://127.0.0.1:PORT/onvif/{id}/device_service` (and `/media`,
`/ptz`) from the real captured responses (../shared/data/onvif-soap-captures) filled with each
camera's state; its PTZ state is a `PtzRegistry` that the RTSP simulator can share, so a move
shows in the stamps and pictures of that camera's streams. `argus.onvif.discovery` answers
WS-Discovery probes for the same cameras.
"""

from argus.onvif.simulator.camera import FixedMedia, MediaSource, SimulatedDevice, default_device
from argus.onvif.simulator.server import DEFAULT_PORT, OnvifSimulator, OnvifStats

__all__ = [
    "DEFAULT_PORT",
    "FixedMedia",
    "MediaSource",
    "OnvifSimulator",
    "OnvifStats",
    "SimulatedDevice",
    "default_device",
]
