"""ONVIF client: a camera's device information, profiles and stream URIs, and its PTZ driver.

Both go through onvif-zeep-async (`ONVIFCamera`, async, on aiohttp). A camera is named by its
device service URL (`http://host:port/onvif/device_service` on most cameras,
`OnvifSimulator.device_url(id)` for a simulated one), a user name and a password; requests carry
a WS-Security UsernameToken with a password digest, timed by the camera's clock
(`adjust_time`: the library asks the camera's time first, unauthenticated, as ONVIF allows).

Only the configured host is ever contacted: the WSDL files are the ones the library ships (its
loader refuses remote documents), and with `pin_host` (the default) every service address the
camera announces is rewritten to the host and port of the device URL, so a camera (or a
capture-based simulator) announcing another address cannot send the client elsewhere.

Every failure (a SOAP fault, a refused login, a timeout, no connection, an HTTP error without
SOAP, a malformed answer) becomes one exception with a message naming the operation, the
camera and the reason: `OnvifError` from `OnvifDevice`, `PtzDriverError` from
`OnvifPtzDriver`.

Importing onvif-zeep-async configures the root logger and starting a camera clears the
http(s)_proxy variables; both are undone here so the rest of Argus is not affected.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import zeep.exceptions

from argus.errors import ArgusError
from argus.ptz.driver import Preset, PtzDriverError, PtzPosition, PtzStatus

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
_PROXY_VARIABLES = ("http_proxy", "https_proxy")


class OnvifError(ArgusError):
    """An ONVIF camera refused or failed a request; the message says which and why."""


@cache
def _camera_class() -> Any:
    """ONVIFCamera with the device service at a given URL (the library fixes its path)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        from onvif import ONVIFCamera  # type: ignore[import-untyped, unused-ignore]
    finally:  # the library's import calls logging.basicConfig(level=INFO)
        root.handlers[:] = handlers
        root.setLevel(level)

    class _Camera(ONVIFCamera):  # type: ignore[misc]
        def __init__(self, device_url: str, user: str | None, password: str | None,
                     pin_host: bool, adjust_time: bool) -> None:  # fmt: skip
            parts = urlsplit(device_url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            saved = {name: os.environ.get(name) for name in _PROXY_VARIABLES}
            try:
                super().__init__(
                    parts.hostname or "",
                    port,
                    user,
                    password,
                    no_cache=True,
                    adjust_time=adjust_time,
                    nat_override=pin_host,
                )
            finally:  # ONVIFCamera.__init__ removes them from the process environment
                for name, value in saved.items():
                    if value is not None:
                        os.environ[name] = value
            self.device_url = device_url

        def get_definition(self, name: str, port_type: str | None = None) -> Any:
            xaddr, wsdl, binding = super().get_definition(name, port_type)
            if name == "devicemgmt":
                xaddr = self.device_url
            return xaddr, wsdl, binding

    return _Camera


def _redact(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


def explain(exc: BaseException, what: str, timeout_s: float) -> str:
    """One sentence saying why `what` failed."""
    cause = exc
    while type(cause).__name__ == "ONVIFError" and cause.__cause__ is not None:
        cause = cause.__cause__  # the library wraps what really went wrong
    if isinstance(cause, zeep.exceptions.Fault):
        subcodes = [getattr(code, "localname", str(code)) for code in cause.subcodes or []]
        if "NotAuthorized" in subcodes:
            return f"{what}: the camera refused the user name or password (ter:NotAuthorized)"
        named = f" ({', '.join(f'ter:{s}' for s in subcodes)})" if subcodes else ""
        return f"{what}: the camera refused it: {cause.message}{named}"
    if isinstance(cause, TimeoutError) or type(cause).__name__ == "ONVIFTimeoutError":
        return f"{what}: no answer within {timeout_s:g} s"
    if isinstance(cause, zeep.exceptions.TransportError):
        return f"{what}: the camera answered HTTP {cause.status_code} without a SOAP answer"
    if isinstance(cause, aiohttp.ClientConnectionError | ConnectionError):
        return f"{what}: cannot connect ({cause})"
    if isinstance(cause, aiohttp.ClientError | OSError):
        return f"{what}: the connection failed ({cause})"
    if isinstance(cause, zeep.exceptions.Error):
        return f"{what}: the camera's answer cannot be read ({cause})"
    return f"{what}: {type(cause).__name__}: {cause}"


@dataclass(frozen=True, slots=True)
class DeviceInformation:
    manufacturer: str
    model: str
    firmware: str
    serial: str
    hardware_id: str


@dataclass(frozen=True, slots=True)
class MediaProfile:
    token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None
    ptz_configuration: str | None
    """The token of the profile's PTZ configuration; None: this profile cannot steer."""


def _field(value: Any, name: str) -> Any:
    return getattr(value, name, None) if value is not None else None


class OnvifDevice:
    """One ONVIF camera; `async with OnvifDevice(url, user, password) as device: ...`."""

    def __init__(
        self,
        device_url: str,
        username: str | None,
        password: str | None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        pin_host: bool = True,
        adjust_time: bool = True,
    ) -> None:
        parts = urlsplit(device_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OnvifError(f"not an ONVIF device service URL: {_redact(device_url)}")
        self.device_url = device_url
        self.username = username
        self.password = password
        self.timeout_s = timeout_s
        self.pin_host = pin_host
        self.adjust_time = adjust_time
        self._camera: Any = None
        self._lock = asyncio.Lock()
        self._service_lock = asyncio.Lock()  # one client per service, even when calls race

    def __repr__(self) -> str:
        return f"OnvifDevice({_redact(self.device_url)})"

    async def __aenter__(self) -> OnvifDevice:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _guard(self, what: str, step: Callable[[], Any]) -> Any:
        """Run one awaitable step within the timeout; any failure becomes an OnvifError."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise OnvifError(explain(exc, what, self.timeout_s)) from exc

    async def connect(self) -> None:
        """Learn the camera's services (GetServices, else GetCapabilities); idempotent."""
        async with self._lock:
            if self._camera is not None:
                return
            what = f"connecting to the ONVIF camera at {_redact(self.device_url)}"
            camera = _camera_class()(
                self.device_url, self.username, self.password, self.pin_host, self.adjust_time
            )
            try:
                await self._guard(what, camera.update_xaddrs)
            except BaseException:
                await camera.close()
                raise
            self._camera = camera

    async def close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            try:
                await camera.close()
            except Exception:
                log.debug("closing %r failed", self, exc_info=True)

    def has_service(self, name: str) -> bool:
        """Whether the camera announced a service ("ptz", "media", …); after connect."""
        if self._camera is None:
            return False
        from onvif.definition import SERVICES  # type: ignore[import-untyped, unused-ignore]

        return name in SERVICES and SERVICES[name]["ns"] in self._camera.xaddrs

    async def call(self, service: str, operation: str, params: dict[str, Any] | None = None) -> Any:
        """One operation of one service ("devicemgmt", "media", "ptz"), its answer as zeep
        objects; an OnvifError says why it failed."""
        await self.connect()
        camera = self._camera
        what = f"{operation} on {_redact(self.device_url)}"
        if service != "devicemgmt" and not self.has_service(service):
            raise OnvifError(f"{what}: the camera offers no {service} service")

        async def step() -> Any:
            async with self._service_lock:
                proxy = await camera.create_onvif_service(service)
            return await getattr(proxy, operation)(params)

        return await self._guard(what, step)

    async def information(self) -> DeviceInformation:
        info = await self.call("devicemgmt", "GetDeviceInformation")
        return DeviceInformation(
            manufacturer=str(_field(info, "Manufacturer") or ""),
            model=str(_field(info, "Model") or ""),
            firmware=str(_field(info, "FirmwareVersion") or ""),
            serial=str(_field(info, "SerialNumber") or ""),
            hardware_id=str(_field(info, "HardwareId") or ""),
        )

    async def profiles(self) -> list[MediaProfile]:
        out = []
        for profile in await self.call("media", "GetProfiles") or []:
            encoder = _field(profile, "VideoEncoderConfiguration")
            resolution = _field(encoder, "Resolution")
            ptz = _field(profile, "PTZConfiguration")
            width, height = _field(resolution, "Width"), _field(resolution, "Height")
            out.append(
                MediaProfile(
                    token=str(_field(profile, "token")),
                    name=str(_field(profile, "Name") or ""),
                    encoding=_field(encoder, "Encoding"),
                    width=int(width) if width is not None else None,
                    height=int(height) if height is not None else None,
                    ptz_configuration=str(_field(ptz, "token")) if ptz is not None else None,
                )
            )
        return out

    async def stream_uri(self, profile_token: str) -> str:
        """The RTSP URL of a profile's stream (unicast, RTSP over TCP)."""
        answer = await self.call(
            "media",
            "GetStreamUri",
            {
                "ProfileToken": profile_token,
                "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
            },
        )
        uri = _field(answer, "Uri")
        if not uri:
            raise OnvifError(f"GetStreamUri on {_redact(self.device_url)}: no URI in the answer")
        return str(uri)


# --- PTZ -------------------------------------------------------------------------------------


def _number(value: Any, default: float = 0.0) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def _position(vector: Any) -> PtzPosition | None:
    if vector is None:
        return None
    pan_tilt, zoom = _field(vector, "PanTilt"), _field(vector, "Zoom")
    if pan_tilt is None and zoom is None:
        return None
    return PtzPosition(
        _number(_field(pan_tilt, "x")), _number(_field(pan_tilt, "y")), _number(_field(zoom, "x"))
    )


def _check(what: str, **values: float | None) -> None:
    for name, value in values.items():
        if value is not None and not math.isfinite(value):
            raise PtzDriverError(f"{what}: {name} must be a finite number, not {value}")


def _vector(pan: float, tilt: float, zoom: float) -> dict[str, Any]:
    return {"PanTilt": {"x": pan, "y": tilt}, "Zoom": {"x": zoom}}


class OnvifPtzDriver:
    """`PtzDriver` over ONVIF: `driver = OnvifPtzDriver(sim.device_url(42), "admin", "admin")`.

    It connects on the first command (or `await driver.connect()`), steering the first media
    profile that has a PTZ configuration unless `profile_token` names one. Moves use ONVIF's
    generic spaces, as the driver protocol does.
    """

    def __init__(
        self,
        device_url: str,
        username: str | None,
        password: str | None,
        *,
        profile_token: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        pin_host: bool = True,
        adjust_time: bool = True,
    ) -> None:
        try:
            self.device = OnvifDevice(
                device_url,
                username,
                password,
                timeout_s=timeout_s,
                pin_host=pin_host,
                adjust_time=adjust_time,
            )
        except OnvifError as exc:
            raise PtzDriverError(str(exc)) from exc
        self._wanted_profile = profile_token
        self._profile: str | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"OnvifPtzDriver({_redact(self.device.device_url)})"

    @property
    def profile_token(self) -> str | None:
        """The media profile steered (known once connected)."""
        return self._profile

    async def __aenter__(self) -> OnvifPtzDriver:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        async with self._lock:
            if self._profile is not None:
                return
            try:
                await self.device.connect()
                if not self.device.has_service("ptz"):
                    raise PtzDriverError(f"{self}: the camera offers no PTZ service")
                profiles = await self.device.profiles()
            except OnvifError as exc:
                raise PtzDriverError(str(exc)) from exc
            steerable = [p for p in profiles if p.ptz_configuration is not None]
            if self._wanted_profile is not None:
                steerable = [p for p in steerable if p.token == self._wanted_profile]
                if not steerable:
                    raise PtzDriverError(
                        f"{self}: no media profile {self._wanted_profile!r} with a PTZ "
                        "configuration"
                    )
            if not steerable:
                raise PtzDriverError(f"{self}: no media profile has a PTZ configuration")
            self._profile = steerable[0].token

    async def _ptz(self, operation: str, params: dict[str, Any] | None = None) -> Any:
        await self.connect()
        try:
            return await self.device.call(
                "ptz", operation, {"ProfileToken": self._profile, **(params or {})}
            )
        except OnvifError as exc:
            raise PtzDriverError(str(exc)) from exc

    async def continuous_move(
        self, pan: float, tilt: float, zoom: float, timeout_s: float | None = None
    ) -> None:
        _check("ContinuousMove", pan=pan, tilt=tilt, zoom=zoom, timeout_s=timeout_s)
        for name, value in (("pan", pan), ("tilt", tilt), ("zoom", zoom)):
            if not -1.0 <= value <= 1.0:
                raise PtzDriverError(f"ContinuousMove: {name} velocity {value:g} is not in [-1, 1]")
        params: dict[str, Any] = {"Velocity": _vector(pan, tilt, zoom)}
        if timeout_s is not None:
            if timeout_s <= 0:
                raise PtzDriverError(f"ContinuousMove: timeout {timeout_s:g} s is not positive")
            params["Timeout"] = dt.timedelta(seconds=timeout_s)
        await self._ptz("ContinuousMove", params)

    async def relative_move(self, pan: float, tilt: float, zoom: float) -> None:
        _check("RelativeMove", pan=pan, tilt=tilt, zoom=zoom)
        await self._ptz("RelativeMove", {"Translation": _vector(pan, tilt, zoom)})

    async def absolute_move(self, pan: float, tilt: float, zoom: float) -> None:
        _check("AbsoluteMove", pan=pan, tilt=tilt, zoom=zoom)
        await self._ptz("AbsoluteMove", {"Position": _vector(pan, tilt, zoom)})

    async def stop(self) -> None:
        await self._ptz("Stop", {"PanTilt": True, "Zoom": True})

    async def goto_preset(self, token: str) -> None:
        await self._ptz("GotoPreset", {"PresetToken": token})

    async def set_preset(self, name: str, token: str | None = None) -> str:
        params: dict[str, Any] = {"PresetName": name}
        if token is not None:
            params["PresetToken"] = token
        answer = await self._ptz("SetPreset", params)
        stored = answer if isinstance(answer, str) else _field(answer, "PresetToken")
        if not stored:
            raise PtzDriverError(f"SetPreset on {self}: the camera named no preset token")
        return str(stored)

    async def goto_home(self) -> None:
        await self._ptz("GotoHomePosition")

    async def presets(self) -> list[Preset]:
        answer = await self._ptz("GetPresets")
        return [
            Preset(
                token=str(_field(preset, "token")),
                name=str(_field(preset, "Name") or ""),
                position=_position(_field(preset, "PTZPosition")),
            )
            for preset in answer or []
        ]

    async def status(self) -> PtzStatus:
        answer = await self._ptz("GetStatus")
        position = _position(_field(answer, "Position"))
        if position is None:
            raise PtzDriverError(f"GetStatus on {self}: the camera reported no position")
        move = _field(answer, "MoveStatus")
        moving = any(
            str(_field(move, axis) or "").upper() == "MOVING" for axis in ("PanTilt", "Zoom")
        )
        return PtzStatus(position, moving)

    async def close(self) -> None:
        await self.device.close()
        self._profile = None
