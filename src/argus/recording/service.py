"""Recording in a media process: the plans of the cameras it serves, one recorder each.

Every `plan_seconds` the service reads the plans of its cameras and the active triggers
(recording on incident) and starts or stops recorders to match (a scheduled plan starts at its
window and stops after it; a trigger records the main stream until it ends). A recorder holds
a lease on its camera stream, so a recorded camera stays pulled and its viewers share the same
pull.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from argus.config import Settings
from argus.db import utcnow
from argus.errors import ArgusError
from argus.media.streams import StreamLease, StreamManager, StreamName
from argus.recording.disk import DiskWriter
from argus.recording.lock import RecordingLock
from argus.recording.plans import Plan, load_plans
from argus.recording.recorder import CameraRecorder
from argus.recording.triggers import active_cameras
from argus.recording.volumes import volumes_of

log = logging.getLogger(__name__)


class _Running:
    __slots__ = ("lease", "recorder", "task")

    def __init__(self, lease: StreamLease, recorder: CameraRecorder, task: asyncio.Task[None]):
        self.lease = lease
        self.recorder = recorder
        self.task = task


class RecordingService:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        streams: StreamManager,
        serves: Callable[[int], bool],
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.streams = streams
        self.serves = serves
        self.volumes = volumes_of(settings)
        self.disk = DiskWriter(sessions, sync_interval=settings.recording_sync_seconds)
        self._running: dict[int, _Running] = {}
        self._errors: dict[int, str] = {}
        self._task: asyncio.Task[None] | None = None
        self.lock = RecordingLock(settings.data_dir)

    async def start(self) -> None:
        for volume in self.volumes:
            volume.root.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(self.lock.acquire_shared)
        self.disk.start()
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="recording plans")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await asyncio.gather(*(self._stop_one(c) for c in list(self._running)))
        if await asyncio.to_thread(self.disk.stop):
            self.lock.release()

    async def refresh(self) -> None:
        """Read the plans now and start or stop recorders to match."""
        plans = await asyncio.to_thread(self._plans)
        wanted = {p.camera_id: p for p in plans if self.serves(p.camera_id)}
        for camera_id in list(self._running):
            running = self._running[camera_id]
            if camera_id not in wanted or running.task.done():
                await self._stop_one(camera_id)
        for camera_id, plan in wanted.items():
            if camera_id not in self._running:
                await self._start_one(plan)

    def _plans(self) -> list[Plan]:
        """The plans active now, and a continuous main-stream plan for each camera that only
        a trigger (an incident) wants recorded."""
        now = utcnow()
        with self.sessions() as session:
            plans = [p for p in load_plans(session) if p.active(now)]
            triggered = active_cameras(session, now)
        planned = {p.camera_id for p in plans}
        plans.extend(Plan(c, "continuous", "main", (), "UTC") for c in sorted(triggered - planned))
        return plans

    async def _loop(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:
                log.exception("reading the recording plans failed; trying again")
            await asyncio.sleep(self.settings.recording_plan_seconds)

    async def _start_one(self, plan: Plan) -> None:
        stream: StreamName = "sub" if plan.stream == "sub" else "main"
        try:
            lease = await self.streams.acquire(plan.camera_id, stream)
        except ArgusError as exc:
            self._errors[plan.camera_id] = str(exc)
            return
        self._errors.pop(plan.camera_id, None)
        recorder = CameraRecorder(
            plan.camera_id,
            stream,
            lease.hub,
            self.disk,
            self.volumes,
            segment_seconds=self.settings.recording_segment_seconds,
            part_seconds=self.settings.recording_part_seconds,
        )
        task = asyncio.get_running_loop().create_task(
            recorder.run(), name=f"recorder {plan.camera_id}"
        )
        self._running[plan.camera_id] = _Running(lease, recorder, task)

    async def _stop_one(self, camera_id: int) -> None:
        running = self._running.pop(camera_id, None)
        if running is None:
            return
        running.task.cancel()
        await asyncio.gather(running.task, return_exceptions=True)
        running.lease.release()
