"""Reading and writing camera mode schedules (audited as ``mode.schedule``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record
from argus.modes.models import CameraModeSchedule
from argus.modes.schedule import ModeSchedule, build_schedule
from argus.ptz.store import camera_owner


def schedule_of(row: CameraModeSchedule) -> ModeSchedule:
    return build_schedule(row.windows or [], row.otherwise, row.timezone)


def get_schedule(session: Session, camera_id: int) -> ModeSchedule | None:
    """The camera's schedule, None if it has none (NotFoundError for an unknown camera)."""
    camera_owner(session, camera_id)
    row = session.get(CameraModeSchedule, camera_id)
    return None if row is None else schedule_of(row)


def load_schedules(session: Session) -> dict[int, ModeSchedule]:
    rows = session.scalars(select(CameraModeSchedule))
    return {row.camera_id: schedule_of(row) for row in rows}


def set_schedule(
    session: Session,
    camera_id: int,
    schedule: ModeSchedule,
    *,
    user_id: int | None = None,
    agency_id: int | None = None,
    client: str | None = None,
) -> None:
    """Store ``schedule`` (checked by ``build_schedule``) for the camera, audited in the same
    transaction. Who may do so is the caller's business (``ModeService.put_schedule``)."""
    camera_owner(session, camera_id)
    row = session.get(CameraModeSchedule, camera_id) or CameraModeSchedule(camera_id=camera_id)
    row.windows = [w.as_json() for w in schedule.windows]
    row.otherwise = schedule.otherwise.value
    row.timezone = schedule.timezone
    row.updated_by = user_id
    session.add(row)
    record(
        session,
        AuditEvent(
            action="mode.schedule",
            outcome=Outcome.OK,
            actor_user_id=user_id,
            actor_agency_id=agency_id,
            target=f"camera:{camera_id}",
            client=client,
            details=schedule.as_json(),
        ),
    )
