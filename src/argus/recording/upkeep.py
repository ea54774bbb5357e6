"""The upkeep of recordings inside `argus serve`: retention sweeps, the storage floor, exports.

Retention is swept every `recording_sweep_seconds` (default 5 minutes); the free space of every
volume is checked every `FLOOR_SECONDS`, because a full disk comes faster than a retention
limit. A volume stuck below its floor (everything left is open or held) raises its alarm in
the audit log at most every `ALARM_REPEAT_SECONDS`; in the log every time. With each sweep,
evidence exports past their expiry lose their files, and approved exports not built yet (the
server stopped while building) are built.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from argus.config import Settings
from argus.recording.retention import enforce_floor, sweep
from argus.recording.volumes import volumes_of

log = logging.getLogger(__name__)

FLOOR_SECONDS = 10.0


class Exports(Protocol):
    """What upkeep does with evidence exports: expire old ones, build approved ones."""

    def expire(self) -> int: ...

    def pending_builds(self) -> list[int]: ...

    def build(self, export_id: int) -> None: ...


ALARM_REPEAT_SECONDS = 600.0


class RecordingUpkeep:
    def __init__(
        self, settings: Settings, sessions: sessionmaker[Session], exports: Exports | None = None
    ) -> None:
        self.exports = exports
        self.sessions = sessions
        self.volumes = volumes_of(settings)
        self.sweep_seconds = settings.recording_sweep_seconds
        self.floor_seconds = min(FLOOR_SECONDS, self.sweep_seconds)
        self._task: asyncio.Task[None] | None = None
        self._alarmed: dict[str, float] = {}
        self.sweeps = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="recording-upkeep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        next_sweep = time.monotonic()
        while True:
            try:
                if time.monotonic() >= next_sweep:
                    report = await asyncio.to_thread(sweep, self.sessions, self.volumes)
                    self.sweeps += 1
                    next_sweep = time.monotonic() + self.sweep_seconds
                    if report.destroyed:
                        log.info("retention destroyed %d segments", report.destroyed)
                    if self.exports is not None:
                        await asyncio.to_thread(self._exports, self.exports)
                await asyncio.to_thread(self.floors)
            except Exception:  # the loop must outlive a database hiccup
                log.exception("recording upkeep failed; trying again")
            await asyncio.sleep(self.floor_seconds)

    @staticmethod
    def _exports(exports: Exports) -> None:
        exports.expire()
        for export_id in exports.pending_builds():  # approved, not built (e.g. a restart)
            exports.build(export_id)

    def floors(self) -> None:
        now = time.monotonic()
        for volume in self.volumes:
            if not volume.root.exists():
                continue
            last = self._alarmed.get(volume.name)
            audit = last is None or now - last >= ALARM_REPEAT_SECONDS
            report = enforce_floor(self.sessions, volume, audit_alarm=audit)
            if report.alarm and audit:
                self._alarmed[volume.name] = now
            elif not report.alarm:
                self._alarmed.pop(volume.name, None)
