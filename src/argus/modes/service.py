"""Camera modes over the database: schedules, the mode of a camera at a moment, and the tours
the modes run (a ``TourSource`` for ``argus.ptz.service.PtzService``).

**Intended rule for ``authorize``** (``CameraFacts.mode``, from ``camera_mode``): a camera with
no schedule has no mode and nothing changes. Otherwise, for an allow that rests on an agreement
or an incident (not ownership: the owner keeps control of its own cameras), a declared purpose
the mode does not admit is refused with ``CameraMode.refusal(purpose)``; an allow lasts at most
until ``CameraMode.until`` (when the schedule changes mode), so that a crime-prevention token
issued at 06:55 ends at 07:00 when enforcement begins. Incident mode ends when the incident
closes, which the incident's own grant already ends on.

Which tour runs (``tours_at``): the enabled tour of the kind the mode names (enforcement mode:
the enforcement tour; crime prevention: the idle patrol; incident: none). A camera with tours
but no schedule runs its enforcement tour (else its patrol) unless an open incident lists it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from argus.db import transaction, utcnow
from argus.identity.principal import Principal
from argus.modes.schedule import (
    Mode,
    ModeSchedule,
    admits,
    mode_at,
    mode_until,
    refusal_text,
    scheduled_mode,
    tour_kind,
)
from argus.modes.store import get_schedule, load_schedules, set_schedule
from argus.ptz.store import camera_owner, load_tours
from argus.ptz.tours import Tour, TourKind
from argus.registry.access import ensure_owner_admin
from argus.sharing.policy import CameraFacts
from argus.sharing.vocab import AccessPurpose

IncidentCameras = Callable[[datetime], Collection[int]]
"""The cameras that open incidents list at a moment."""


def _no_incidents(_at: datetime) -> Collection[int]:
    return ()


@dataclass(frozen=True)
class CameraMode:
    camera_id: int
    mode: Mode
    scheduled: Mode  # what the schedule says (differs from mode during an incident)
    incident: bool
    until: datetime | None  # when the scheduled mode changes; None: it never does
    schedule: ModeSchedule

    def admits(self, purpose: AccessPurpose) -> bool:
        return admits(self.mode, purpose)

    def refusal(self, purpose: AccessPurpose) -> str | None:
        """Why ``purpose`` is refused in this mode, or None if it is admitted."""
        if self.admits(purpose):
            return None
        return f"{refusal_text(self.camera_id, self.mode, purpose)} ({self.schedule.text()})"

    def as_json(self) -> dict[str, Any]:
        return {
            "camera_id": self.camera_id,
            "mode": self.mode.value,
            "scheduled": self.scheduled.value,
            "incident": self.incident,
            "until": None if self.until is None else self.until.isoformat(),
            "admits": sorted(p.value for p in AccessPurpose if admits(self.mode, p)),
            "tour": None if tour_kind(self.mode) is None else str(tour_kind(self.mode)),
        }


def camera_mode_of(
    camera_id: int, schedule: ModeSchedule, at: datetime, incident_open: bool
) -> CameraMode:
    """The mode of a camera with ``schedule`` at ``at`` (pure)."""
    return CameraMode(
        camera_id,
        mode_at(schedule, at, incident_open),
        scheduled_mode(schedule, at),
        incident_open,
        mode_until(schedule, at),
        schedule,
    )


class ModeService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        incident_cameras: IncidentCameras | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.incident_cameras = incident_cameras or _no_incidents
        self.clock = clock

    def schedule(self, camera_id: int) -> ModeSchedule | None:
        """The camera's schedule (NotFoundError for an unknown camera)."""
        with self.sessions() as session:
            return get_schedule(session, camera_id)

    def camera_mode(self, camera_id: int, at: datetime | None = None) -> CameraMode | None:
        """The camera's mode at ``at`` (now by default); None if it has no schedule."""
        moment = at or self.clock()
        schedule = self.schedule(camera_id)
        if schedule is None:
            return None
        listed = camera_id in set(self.incident_cameras(moment))
        return camera_mode_of(camera_id, schedule, moment, listed)

    def put_schedule(
        self, principal: Principal, camera_id: int, schedule: ModeSchedule
    ) -> ModeSchedule:
        """Set the camera's schedule (its owner's agency admins, or a system admin); audited
        as ``mode.schedule`` in the same transaction."""
        with transaction(self.sessions) as session:
            owner = camera_owner(session, camera_id)
            ensure_owner_admin(principal, owner, "set this camera's mode schedule")
            set_schedule(
                session,
                camera_id,
                schedule,
                user_id=principal.user_id,
                agency_id=principal.agency_id,
                client=principal.client,
            )
        return schedule

    def with_mode(self, camera: CameraFacts, at: datetime) -> CameraFacts:
        """``camera`` with its mode at ``at`` (for ``authorize``: what others may use it for
        now, and until when); unchanged for a camera without a schedule."""
        mode = self.camera_mode(camera.id, at)
        if mode is None:
            return camera
        return replace(
            camera,
            mode=mode.mode.value,
            mode_purposes=frozenset(p for p in AccessPurpose if mode.admits(p)),
            mode_until=mode.until,
        )

    def tours_at(self, at: datetime) -> dict[int, Tour]:
        """camera id → the tour its mode runs at ``at`` (see the module's rule)."""
        with self.sessions() as session:
            tours = load_tours(session)
            schedules = load_schedules(session)
        listed = set(self.incident_cameras(at))
        by_camera: dict[int, dict[TourKind, Tour]] = {}
        for each in tours:
            by_camera.setdefault(each.camera_id, {})[each.kind] = each
        chosen: dict[int, Tour] = {}
        for camera_id, kinds in by_camera.items():
            schedule = schedules.get(camera_id)
            tour: Tour | None
            if schedule is None:
                if camera_id in listed:
                    continue
                tour = kinds.get(TourKind.ENFORCEMENT) or kinds.get(TourKind.PATROL)
            else:
                kind = tour_kind(mode_at(schedule, at, camera_id in listed))
                tour = None if kind is None else kinds.get(kind)
            if tour is not None:
                chosen[camera_id] = tour
        return chosen
