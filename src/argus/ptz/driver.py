"""What PTZ control needs of a camera: the driver protocol, in ONVIF's generic spaces.

Positions are in ONVIF's generic spaces: pan and tilt in [-1, 1] (pan -1 … 1 spans the unit's
whole pan range, so on a 360° unit 0 is its home heading and ±1 is the opposite), zoom in [0, 1]
(0 the widest). Velocities are in [-1, 1] for pan, tilt and zoom. A relative move is a
displacement in the same units as an absolute position.

The ONVIF driver (``argus.onvif.client``) implements this over SOAP; tests may use any object
with the same methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PtzPosition:
    pan: float
    tilt: float
    zoom: float


@dataclass(frozen=True)
class PtzStatus:
    position: PtzPosition
    moving: bool  # ONVIF MoveStatus of pan/tilt or zoom is MOVING


@dataclass(frozen=True)
class Preset:
    token: str
    name: str
    position: PtzPosition | None


class PtzDriver(Protocol):
    async def continuous_move(
        self, pan: float, tilt: float, zoom: float, timeout_s: float | None = None
    ) -> None: ...

    async def relative_move(self, pan: float, tilt: float, zoom: float) -> None: ...

    async def absolute_move(self, pan: float, tilt: float, zoom: float) -> None: ...

    async def stop(self) -> None: ...

    async def goto_preset(self, token: str) -> None: ...

    async def set_preset(self, name: str, token: str | None = None) -> str: ...

    async def goto_home(self) -> None: ...

    async def presets(self) -> list[Preset]: ...

    async def status(self) -> PtzStatus: ...

    async def close(self) -> None: ...


class PtzDriverError(Exception):
    """The camera refused or failed a PTZ command; the message says what and why."""
