"""The registry's cameras as the incident selection sees them, kept in step with the registry.

The selector (``argus.incidents.selection.CameraSelector``) is built from every enabled camera
the first time an incident needs it and built again when the registry's revision has moved
(a camera added, moved, turned or disabled). Building it for the Gwangju deployment (8,484
cameras) takes milliseconds; one revision read per incident keeps it honest.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from argus.incidents.selection import CameraSelector, SelectedCamera
from argus.registry.models import Camera, RegistryRevision


class RegistryCameraPicker:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._lock = threading.Lock()
        self._selector: CameraSelector | None = None
        self._revision: int | None = None

    def selector(self) -> CameraSelector:
        with self.sessions() as session:
            revision = int(
                session.scalar(select(RegistryRevision.revision).where(RegistryRevision.id == 1))
                or 0
            )
            with self._lock:
                if self._selector is not None and self._revision == revision:
                    return self._selector
            rows = session.execute(
                select(
                    Camera.id, Camera.lat, Camera.lon, Camera.azimuth_deg, Camera.fov_deg,
                    Camera.camera_type,
                ).where(Camera.enabled.is_(True))
            ).all()  # fmt: skip
        built = CameraSelector.build(
            [r.id for r in rows],
            [r.lat for r in rows],
            [r.lon for r in rows],
            [r.azimuth_deg for r in rows],
            [r.fov_deg for r in rows],
            [r.camera_type == "ptz" for r in rows],
        )
        with self._lock:
            self._selector, self._revision = built, revision
        return built

    def pick(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        area: Sequence[tuple[float, float]] | None,
        limit: int,
    ) -> list[SelectedCamera]:
        return self.selector().pick(lat, lon, radius_m, area, limit)
