"""Recording plans: which cameras are recorded, and when (continuously or in local windows)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record
from argus.errors import FieldError, NotFoundError
from argus.recording.models import PLAN_MODES, RecordingPlan
from argus.registry.models import Camera
from argus.sharing.windows import TimeWindow, check_no_overlap, parse_window, parse_zone, zone_info


@dataclass(frozen=True, slots=True)
class Plan:
    camera_id: int
    mode: str
    stream: str
    windows: tuple[TimeWindow, ...]
    timezone: str

    def active(self, moment: datetime) -> bool:
        """Whether the camera should be recording at ``moment`` (an aware time)."""
        if self.mode == "continuous":
            return True
        if self.mode != "scheduled":
            return False
        local = moment.astimezone(zone_info(self.timezone))
        return any(window.contains(local) for window in self.windows)

    def as_json(self) -> dict[str, Any]:
        return {
            "camera_id": self.camera_id,
            "mode": self.mode,
            "stream": self.stream,
            "windows": [w.as_json() for w in self.windows],
            "timezone": self.timezone,
        }


def parse_windows(values: Sequence[dict[str, Any]], field: str = "windows") -> list[TimeWindow]:
    windows = []
    for index, value in enumerate(values):
        if not isinstance(value, dict) or "start" not in value or "end" not in value:
            raise FieldError(f"{field}[{index}]", "a window is {start: HH:MM, end: HH:MM}", "body")
        windows.append(
            parse_window(str(value["start"]), str(value["end"]), value.get("days"), field)
        )
    check_no_overlap(windows, field)
    return windows


def validate(mode: str, stream: str, windows: list[TimeWindow], timezone: str) -> None:
    if mode not in PLAN_MODES:
        raise FieldError("mode", f"{mode!r} is not one of {', '.join(PLAN_MODES)}", "body")
    if stream not in ("main", "sub"):
        raise FieldError("stream", f"{stream!r} is not main or sub", "body")
    if mode == "scheduled" and not windows:
        raise FieldError("windows", "a scheduled plan needs at least one window", "body")
    if mode != "scheduled" and windows:
        raise FieldError("windows", "windows belong to scheduled plans only", "body")
    parse_zone(timezone)


def plan_of(row: RecordingPlan) -> Plan:
    windows = tuple(parse_windows(row.windows or []))
    return Plan(row.camera_id, row.mode, row.stream, windows, row.timezone)


def load_plans(session: Session, cameras: Iterable[int] | None = None) -> list[Plan]:
    stmt = select(RecordingPlan).where(RecordingPlan.mode != "off")
    if cameras is not None:
        stmt = stmt.where(RecordingPlan.camera_id.in_(list(cameras)))
    return [plan_of(row) for row in session.scalars(stmt)]


def set_plans(
    session: Session,
    cameras: Sequence[int],
    mode: str,
    stream: str,
    windows: list[TimeWindow],
    timezone: str,
    *,
    user_id: int | None = None,
    agency_id: int | None = None,
) -> None:
    """Set the plan of every camera (all or none: NotFoundError names unknown cameras), and
    audit the change (`recording.plan`, one entry per camera)."""
    validate(mode, stream, windows, timezone)
    known = set(session.scalars(select(Camera.id).where(Camera.id.in_(list(cameras)))))
    missing = sorted(set(cameras) - known)
    if missing:
        raise NotFoundError(f"no such cameras: {missing[:10]}")
    for camera_id in cameras:
        row = session.get(RecordingPlan, camera_id) or RecordingPlan(camera_id=camera_id)
        row.mode, row.stream, row.timezone = mode, stream, timezone
        row.windows = [w.as_json() for w in windows]
        row.updated_by = user_id
        session.add(row)
        record(
            session,
            AuditEvent(
                action="recording.plan",
                outcome=Outcome.OK,
                actor_user_id=user_id,
                actor_agency_id=agency_id,
                target=f"camera:{camera_id}",
                details={"mode": mode, "stream": stream, "windows": row.windows},
            ),
        )
