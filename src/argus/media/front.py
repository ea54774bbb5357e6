"""What the API process needs of the media plane, wherever it runs.

In-process (tests, small sites): the API process pulls the cameras itself. With workers
(`argus serve`, default): worker processes pull them and serve the viewers, and the API process
tells each player where its camera's worker is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel


class Endpoint(BaseModel):
    camera_id: int
    worker: int | None  # None: the API process itself
    live_ws: str  # append ?token=… (see argus.media.live_ws)
    hls: str  # LL-HLS media playlist of the main stream; append ?token=…
    rtsp: str | None  # RTSP re-serving of the main stream; append ?token=… (None: turned off)


class MediaFront(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def streams(self) -> list[dict[str, Any]]: ...

    def endpoint(self, camera_id: int, host: str, port: int, secure: bool) -> Endpoint: ...


def endpoint_at(
    camera_id: int,
    worker: int | None,
    host: str,
    port: int,
    secure: bool,
    rtsp_port: int | None,
) -> Endpoint:
    ws = "wss" if secure else "ws"
    http = "https" if secure else "http"
    return Endpoint(
        camera_id=camera_id,
        worker=worker,
        live_ws=f"{ws}://{host}:{port}/api/live/{camera_id}",
        hls=f"{http}://{host}:{port}/api/hls/{camera_id}/main/index.m3u8",
        rtsp=None if rtsp_port is None else f"rtsp://{host}:{rtsp_port}/cameras/{camera_id}/main",
    )


class InProcessFront:
    """The media plane inside the API process."""

    def __init__(self, media: Any, rtsp_port: Callable[[], int | None]) -> None:
        self.media = media
        self._rtsp_port = rtsp_port

    async def start(self) -> None:
        await self.media.start()

    async def stop(self) -> None:
        await self.media.stop()

    async def streams(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.media.snapshot()
        return rows

    def endpoint(self, camera_id: int, host: str, port: int, secure: bool) -> Endpoint:
        return endpoint_at(camera_id, None, host, port, secure, self._rtsp_port())
