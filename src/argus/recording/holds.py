"""Legal holds: footage of a camera in a time range that neither retention nor the storage
floor may destroy until the hold is released. Placing and releasing are audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record
from argus.audit.query import as_utc
from argus.db import transaction, utcnow
from argus.errors import ConflictError, FieldError, NotFoundError
from argus.recording.models import LegalHold
from argus.registry.models import Camera


def place_hold(
    sessions: sessionmaker[Session],
    camera_id: int,
    start: datetime,
    end: datetime,
    reason: str,
    *,
    case_number: str | None = None,
    incident_id: int | None = None,
    user_id: int | None = None,
    agency_id: int | None = None,
) -> int:
    """A new hold; FieldError for an empty range or no reason, NotFoundError for no camera."""
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        raise FieldError("until", "a hold must end after it starts", "body")
    if not reason.strip():
        raise FieldError("reason", "a legal hold needs its reason (a case, an incident)", "body")
    if not (case_number or incident_id):
        raise FieldError("case_number", "a legal hold names a case number or an incident", "body")
    with transaction(sessions) as session:
        if session.get(Camera, camera_id) is None:
            raise NotFoundError(f"camera {camera_id} does not exist")
        hold = LegalHold(
            camera_id=camera_id,
            start_time=start,
            end_time=end,
            reason=reason.strip(),
            case_number=case_number,
            incident_id=incident_id,
            created_by=user_id,
        )
        session.add(hold)
        session.flush()
        record(
            session,
            AuditEvent(
                action="recording.hold",
                outcome=Outcome.OK,
                actor_user_id=user_id,
                actor_agency_id=agency_id,
                target=f"camera:{camera_id}",
                reason=reason.strip(),
                details={
                    "hold": hold.id,
                    "footage_from": start.isoformat(),
                    "footage_until": end.isoformat(),
                    "case_number": case_number,
                    "incident": incident_id,
                },
            ),
        )
        return hold.id


def release_hold(
    sessions: sessionmaker[Session],
    hold_id: int,
    reason: str,
    *,
    user_id: int | None = None,
    agency_id: int | None = None,
) -> None:
    if not reason.strip():
        raise FieldError("reason", "say why the hold is released", "body")
    with transaction(sessions) as session:
        hold = session.get(LegalHold, hold_id)
        if hold is None:
            raise NotFoundError(f"legal hold {hold_id} does not exist")
        if hold.released_at is not None:
            raise ConflictError(f"legal hold {hold_id} was already released")
        hold.released_at = utcnow()
        hold.released_by = user_id
        hold.release_reason = reason.strip()
        record(
            session,
            AuditEvent(
                action="recording.release",
                outcome=Outcome.OK,
                actor_user_id=user_id,
                actor_agency_id=agency_id,
                target=f"camera:{hold.camera_id}",
                reason=reason.strip(),
                details={"hold": hold_id},
            ),
        )
