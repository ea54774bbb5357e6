"""What one simulated ONVIF camera is: its identity and login, its streams, and one call to it.

`SimulatedDevice` is what a camera says about itself (GetDeviceInformation, GetHostname,
scopes) and whom it lets in; `default_device(camera_id)` makes one per id, and a test or
`argus simulate` may pass its own function to vary any of it per camera (other credentials,
no PTZ, a 401 instead of a 400 for a refused login, as Hikvision firmwares answer).

`MediaSource` is what the ONVIF side needs of the RTSP side: stream URLs and how each stream is
encoded. The RTSP `Simulator` is one; `FixedMedia` stands in when ONVIF runs on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from argus.media.simulator.clips import MAIN_STREAM, SUB_STREAM, Codec, StreamSettings
from argus.onvif.captures import Templates
from argus.onvif.ptz_state import PtzRegistry
from argus.onvif.soap import Element

StreamKind = Literal["main", "sub"]
PROFILE_KINDS: dict[str, StreamKind] = {"main": "main", "sub": "sub"}
"""Media profile token → the RTSP stream it streams (the tokens of the profile capture)."""


@dataclass(frozen=True, slots=True)
class SimulatedDevice:
    """What one simulated ONVIF camera says about itself, and whom it lets in."""

    camera_id: int
    manufacturer: str = "Argus"
    model: str = "Simulated PTZ camera"
    firmware: str = "1.0.0"
    serial: str = ""
    hardware_id: str = "ARGUS-SIM"
    hostname: str = ""
    name: str = ""
    location: str = ""
    username: str = "admin"
    password: str = "admin"
    ptz: bool = True
    auth_fault_status: int = 400
    """HTTP status of the NotAuthorized fault: 400 (ONVIF's rule for Sender faults) or 401."""


def default_device(camera_id: int) -> SimulatedDevice:
    return SimulatedDevice(
        camera_id=camera_id,
        serial=f"ARGUS{camera_id:010d}",
        hostname=f"argus-sim-{camera_id}",
        name=f"argus-sim-{camera_id}",
    )


class MediaSource(Protocol):
    """The RTSP side as ONVIF's media service describes it."""

    @property
    def settings(self) -> Mapping[StreamKind, StreamSettings]: ...

    def url(self, camera_id: int, kind: StreamKind = "main") -> str: ...

    def codec_of(self, camera_id: int) -> Codec: ...


class FixedMedia:
    """Stream URLs of a simulator running elsewhere (default: `argus simulate`'s port)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8554,
        main: StreamSettings = MAIN_STREAM,
        sub: StreamSettings = SUB_STREAM,
    ) -> None:
        self.host = host
        self.port = port
        self._settings: dict[StreamKind, StreamSettings] = {"main": main, "sub": sub}

    @property
    def settings(self) -> Mapping[StreamKind, StreamSettings]:
        return self._settings

    def url(self, camera_id: int, kind: StreamKind = "main") -> str:
        return f"rtsp://{self.host}:{self.port}/cameras/{camera_id}/{kind}"

    def codec_of(self, camera_id: int) -> Codec:
        return "h264"


@dataclass(frozen=True, slots=True)
class ServiceUrls:
    """The XAddrs of one camera's services."""

    device: str
    media: str
    ptz: str
    snapshot: str


@dataclass(frozen=True, slots=True)
class CameraCall:
    """Everything a handler needs to answer one request to one camera."""

    device: SimulatedDevice
    templates: Templates
    urls: ServiceUrls
    media: MediaSource
    ptz: PtzRegistry
    now: datetime

    @property
    def camera_id(self) -> int:
        return self.device.camera_id


Handler = Callable[[CameraCall, Element], Element]
"""One operation: the call and the request's operation element → the response envelope."""
