"""The JPEG behind a simulated camera's GetSnapshotUri: its picture as its streams show it.

The picture is the RTSP simulator's (`argus.media.simulator.picture`): the camera id and, on a
PTZ camera, the heading of its current pan sector, at the profile's stream size. It is encoded
with PyAV's MJPEG encoder in a worker thread and kept per (camera, size, heading), so a client
polling snapshots costs one encoding per view. Access is by HTTP Basic with the camera's
credentials (onvif-zeep-async's `get_snapshot(..., basic_auth=True)`); HTTP Digest, which
many real cameras use for snapshots, is not offered.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from collections import OrderedDict
from fractions import Fraction

from argus.media.simulator.clips import StreamSettings
from argus.media.simulator.picture import Pattern, label_box
from argus.onvif.simulator.camera import SimulatedDevice

_CACHE_LIMIT = 256


def encode_jpeg(settings: StreamSettings, camera_id: int, heading: int | None) -> bytes:
    import av  # PyAV, imported where it is needed

    width, height = settings.width, settings.height
    picture = Pattern(width, height).frame(
        0, label_box(camera_id, width, height)[2], heading=heading
    )
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width = width
    codec.height = height
    codec.pix_fmt = "yuvj420p"
    codec.time_base = Fraction(1, 1)
    frame = av.VideoFrame.from_ndarray(picture, format="yuv420p").reformat(format="yuvj420p")
    frame.pts = 0
    packets = [*codec.encode(frame), *codec.encode(None)]
    return b"".join(bytes(packet) for packet in packets)


def basic_credentials_match(header: str | None, device: SimulatedDevice) -> bool:
    """Whether an Authorization header carries the camera's user and password (Basic)."""
    if header is None or not header.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, sep, password = decoded.partition(":")
    expected = f"{device.username}:{device.password}"
    return bool(sep) and hmac.compare_digest(f"{user}:{password}".encode(), expected.encode())


class Snapshots:
    """JPEGs by (camera id, stream settings, heading), encoded once each."""

    def __init__(self) -> None:
        self._cache: OrderedDict[tuple[int, StreamSettings, int | None], bytes] = OrderedDict()

    async def jpeg(self, camera_id: int, settings: StreamSettings, heading: int | None) -> bytes:
        key = (camera_id, settings, heading)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        data = await asyncio.to_thread(encode_jpeg, settings, camera_id, heading)
        self._cache[key] = data
        while len(self._cache) > _CACHE_LIMIT:
            self._cache.popitem(last=False)
        return data
