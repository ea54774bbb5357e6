"""Recording on incident: a trigger makes a camera record for a while, whatever its plan.

An incident (issue #7 will raise them from 112, 119 and the disaster room) or an operator
starts a trigger for cameras and a number of minutes; the media workers serving those cameras
record their main stream while it is active (read with the plans, every few seconds), starting
from the latest keyframe they hold. A camera that records anyway goes on as it was. Starting
and stopping are audited (`recording.trigger`, `recording.trigger_stop`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record_many
from argus.audit.query import as_utc
from argus.db import transaction, utcnow
from argus.errors import ConflictError, FieldError, NotFoundError
from argus.recording.models import RecordingTrigger
from argus.registry.models import Camera

MAX_MINUTES = 24 * 60
MAX_CAMERAS = 100


def active_cameras(session: Session, now: datetime) -> set[int]:
    """The cameras that an active trigger wants recorded at `now`."""
    rows = session.scalars(
        select(RecordingTrigger.camera_id).where(
            RecordingTrigger.start_time <= now, RecordingTrigger.end_time > now
        )
    )
    return set(rows)


def start_triggers(
    sessions: sessionmaker[Session],
    cameras: Sequence[int],
    minutes: float,
    reason: str,
    *,
    incident_id: int | None = None,
    user_id: int | None = None,
    agency_id: int | None = None,
    now: datetime | None = None,
) -> list[int]:
    """One trigger per camera from now for `minutes`; all or none (NotFoundError names unknown
    cameras, FieldError a bad duration, reason or camera list)."""
    if not reason.strip():
        raise FieldError(
            "reason", "say why the cameras are recorded (an incident, a report)", "body"
        )
    if not 0 < minutes <= MAX_MINUTES:
        raise FieldError("minutes", f"must be more than 0 and at most {MAX_MINUTES}", "body")
    wanted = list(dict.fromkeys(cameras))
    if not 1 <= len(wanted) <= MAX_CAMERAS:
        raise FieldError("camera_ids", f"give 1 to {MAX_CAMERAS} cameras", "body")
    start = now or utcnow()
    end = start + timedelta(minutes=minutes)
    with transaction(sessions) as session:
        known = set(session.scalars(select(Camera.id).where(Camera.id.in_(wanted))))
        missing = sorted(set(wanted) - known)
        if missing:
            raise NotFoundError(f"no such cameras: {missing[:10]}")
        rows = [
            RecordingTrigger(
                camera_id=camera_id,
                start_time=start,
                end_time=end,
                reason=reason.strip(),
                incident_id=incident_id,
                created_by=user_id,
            )
            for camera_id in wanted
        ]
        session.add_all(rows)
        session.flush()
        record_many(
            session,
            [
                AuditEvent(
                    action="recording.trigger",
                    outcome=Outcome.OK,
                    actor_user_id=user_id,
                    actor_agency_id=agency_id,
                    target=f"camera:{row.camera_id}",
                    reason=row.reason,
                    details={
                        "trigger": row.id,
                        "until": end.isoformat(),
                        "minutes": minutes,
                        "incident": incident_id,
                    },
                )
                for row in rows
            ],
        )
        return [row.id for row in rows]


def stop_trigger(
    sessions: sessionmaker[Session],
    trigger_id: int,
    *,
    user_id: int | None = None,
    agency_id: int | None = None,
    now: datetime | None = None,
) -> RecordingTrigger:
    """End a trigger now (ConflictError if it has already ended)."""
    moment = now or utcnow()
    with transaction(sessions) as session:
        row = session.get(RecordingTrigger, trigger_id)
        if row is None:
            raise NotFoundError(f"recording trigger {trigger_id} does not exist")
        if as_utc(row.end_time) <= moment:
            raise ConflictError(f"recording trigger {trigger_id} has already ended")
        row.end_time = max(moment, as_utc(row.start_time) + timedelta(microseconds=1))
        row.stopped_by = user_id
        record_many(
            session,
            [
                AuditEvent(
                    action="recording.trigger_stop",
                    outcome=Outcome.OK,
                    actor_user_id=user_id,
                    actor_agency_id=agency_id,
                    target=f"camera:{row.camera_id}",
                    details={"trigger": trigger_id},
                )
            ],
        )
        session.flush()
        session.expunge(row)
        return row
