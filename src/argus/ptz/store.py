"""Reading and writing tours, and the registry facts PTZ needs (owners and their names)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record
from argus.errors import NotFoundError
from argus.ptz.models import PtzTour
from argus.ptz.tours import Tour, TourKind, TourStop
from argus.registry.models import Agency, Camera


def tour_of(row: PtzTour) -> Tour:
    stops = tuple(TourStop(str(s["preset"]), int(s["dwell_s"])) for s in row.stops or [])
    return Tour(row.camera_id, TourKind(row.kind), stops, row.revisit_delay_s, row.enabled)


def get_tour(session: Session, camera_id: int, kind: TourKind) -> Tour | None:
    row = session.get(PtzTour, (camera_id, kind.value))
    return None if row is None else tour_of(row)


def load_tours(session: Session, *, enabled_only: bool = True) -> list[Tour]:
    stmt = select(PtzTour).order_by(PtzTour.camera_id, PtzTour.kind)
    if enabled_only:
        stmt = stmt.where(PtzTour.enabled.is_(True))
    return [tour_of(row) for row in session.scalars(stmt)]


def put_tour(
    session: Session, tour: Tour, *, user_id: int | None = None, agency_id: int | None = None
) -> Tour:
    """Store ``tour`` (already checked by ``build_tour``) in place of the camera's tour of its
    kind, and audit the change (``ptz.tour``) in the same transaction."""
    camera_owner(session, tour.camera_id)
    row = session.get(PtzTour, (tour.camera_id, tour.kind.value)) or PtzTour(
        camera_id=tour.camera_id, kind=tour.kind.value
    )
    row.stops = [s.as_json() for s in tour.stops]
    row.revisit_delay_s = tour.revisit_delay_s
    row.enabled = tour.enabled
    row.updated_by = user_id
    session.add(row)
    record(
        session,
        AuditEvent(
            action="ptz.tour",
            outcome=Outcome.OK,
            actor_user_id=user_id,
            actor_agency_id=agency_id,
            target=f"camera:{tour.camera_id}",
            details=tour.as_json(),
        ),
    )
    return tour


def camera_owner(session: Session, camera_id: int) -> int:
    owner = session.scalar(select(Camera.owner_id).where(Camera.id == camera_id))
    if owner is None:
        raise NotFoundError(f"camera {camera_id} does not exist")
    return int(owner)


def owners_of(session: Session, camera_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """Each known camera's owner agency: (id, name)."""
    wanted = sorted(set(camera_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Camera.id, Agency.id, Agency.name)
        .join(Agency, Agency.id == Camera.owner_id)
        .where(Camera.id.in_(wanted))
    )
    return {camera: (agency, name) for camera, agency, name in rows}


def agency_name(session: Session, agency_id: int) -> str:
    name = session.scalar(select(Agency.name).where(Agency.id == agency_id))
    return name if name is not None else f"agency {agency_id}"
