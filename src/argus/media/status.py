"""The camera's stream status in the registry, written when a main stream's pull changes state.

State changes arrive on the event loop; they are kept in memory (the latest per camera wins)
and written in one transaction per second from a worker thread, so a city's cameras all
connecting at once cost a few writes, not thousands, and the loop never waits on the database.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from argus.db import transaction, utcnow
from argus.registry.models import Camera

log = logging.getLogger(__name__)
MAX_ERROR = 300


class StatusWriter:
    """Collects (camera, state, error) changes and writes them to the cameras table."""

    def __init__(self, sessions: sessionmaker[Session], interval: float = 1.0) -> None:
        self._sessions = sessions
        self.interval = interval
        self._pending: dict[int, tuple[str, str | None, datetime]] = {}
        self._task: asyncio.Task[None] | None = None
        self.writes = 0

    def changed(self, camera_id: int, state: str, error: str | None) -> None:
        """Note a change (cheap; called on the event loop)."""
        self._pending[camera_id] = (state, None if error is None else error[:MAX_ERROR], utcnow())

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="status writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush()

    async def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        try:
            await asyncio.to_thread(self._write, pending)
        except Exception:  # the database is down: keep the newest news for the next try
            log.exception("writing camera stream status failed; retrying")
            for camera_id, change in pending.items():
                self._pending.setdefault(camera_id, change)

    def _write(self, pending: dict[int, tuple[str, str | None, datetime]]) -> None:
        with transaction(self._sessions) as session:
            for camera_id, (state, error, since) in pending.items():
                session.execute(
                    update(Camera)
                    .where(Camera.id == camera_id)
                    .values(
                        stream_status=state,
                        stream_status_since=since,
                        stream_error=error,
                        updated_at=Camera.updated_at,  # a status change is not an edit
                    )
                )
        self.writes += 1

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.flush()
