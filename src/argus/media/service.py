"""The media plane of one process: camera pulls, their hubs, and the live views over them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from argus.config import Settings
from argus.errors import NotFoundError
from argus.events import EventBus
from argus.media.hls import HlsConfig, HlsService
from argus.media.live_ws import LiveServer, LiveViews
from argus.media.status import StatusWriter
from argus.media.streams import PullerFactory, StreamManager, StreamName, StreamSource
from argus.recording.service import RecordingService
from argus.registry.service import Registry
from argus.sharing.access import AccessService


class MediaService:
    """Owns the stream manager and the live server; started and stopped with the API."""

    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        access: AccessService,
        bus: EventBus,
        puller_factory: PullerFactory,
        *,
        serves: Callable[[int], bool] = lambda camera_id: True,
    ) -> None:
        self.serves = serves
        self.settings = settings
        self.registry = registry
        self.status = StatusWriter(registry.sessions)
        self.streams = StreamManager(
            self._lookup,
            puller_factory,
            linger=settings.media_linger,
            always_on=[(c, "main") for c in settings.media_always_on if serves(c)],
            on_state=self._on_state,
        )
        self.views = LiveViews(bus)
        self.live = LiveServer(access, self.streams, self.views)
        self.hls = HlsService(access, self.streams, bus, HlsConfig())
        self.recording = RecordingService(settings, registry.sessions, self.streams, serves)

    async def start(self) -> None:
        self.views.attach(asyncio.get_running_loop())
        self.hls.attach(asyncio.get_running_loop())
        self.status.start()
        await self.streams.start_always_on()
        await self.recording.start()

    async def stop(self) -> None:
        self.views.close()
        await self.recording.stop()
        await self.hls.close()
        await self.streams.close()
        await self.status.stop()

    def _on_state(self, key: tuple[int, StreamName], state: str, error: str | None) -> None:
        # the registry shows the main stream's health as last seen: a pull that stops because
        # nobody watches says nothing about the camera, so it does not overwrite it
        if key[1] == "main" and state not in ("idle", "stopped"):
            self.status.changed(key[0], state, error)

    def snapshot(self) -> list[dict[str, Any]]:
        return self.streams.snapshot()

    async def _lookup(self, camera_id: int, stream: StreamName) -> StreamSource:
        return await asyncio.to_thread(self._lookup_sync, camera_id, stream)

    def _lookup_sync(self, camera_id: int, stream: StreamName) -> StreamSource:
        camera = self.registry.get_camera(camera_id)  # NotFoundError when there is none
        if not camera.enabled:
            raise NotFoundError(f"camera {camera_id} is disabled")
        url = camera.main_stream_url if stream == "main" else camera.sub_stream_url
        if not url:
            raise NotFoundError(f"camera {camera_id} has no {stream} stream URL")
        credentials = self.registry.camera_credentials(camera_id) or {}
        return StreamSource(
            camera_id,
            stream,
            url,
            username=credentials.get("username"),
            password=credentials.get("password"),
            transport=self.settings.media_transport,
            owner_id=camera.owner_id,
        )
