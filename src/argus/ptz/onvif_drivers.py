"""The PTZ driver of each registered camera: ONVIF at the camera's ``onvif_url``, with its
stored credentials (the same ones its RTSP stream uses).

A fixed camera, or one with no ONVIF address, has no driver: the command is refused with a
message that says so, and nothing is sent anywhere.
"""

from __future__ import annotations

from argus.errors import NotFoundError
from argus.onvif.client import OnvifPtzDriver
from argus.ptz.driver import PtzDriver, PtzDriverError
from argus.registry.service import Registry
from argus.registry.vocab import CameraType


class OnvifDrivers:
    """``PtzService``'s driver factory over the registry."""

    def __init__(self, registry: Registry, timeout_s: float = 5.0) -> None:
        self.registry = registry
        self.timeout_s = timeout_s

    def __call__(self, camera_id: int) -> PtzDriver:
        try:
            camera = self.registry.get_camera(camera_id)
        except NotFoundError as exc:
            raise PtzDriverError(str(exc)) from exc
        if camera.camera_type is not CameraType.PTZ:
            raise PtzDriverError(f"camera {camera_id} is a {camera.camera_type.value} camera")
        if not camera.onvif_url:
            raise PtzDriverError(f"camera {camera_id} has no ONVIF address in the registry")
        credentials = self.registry.camera_credentials(camera_id) or {}
        return OnvifPtzDriver(
            camera.onvif_url,
            credentials.get("username"),
            credentials.get("password"),
            timeout_s=self.timeout_s,
        )
