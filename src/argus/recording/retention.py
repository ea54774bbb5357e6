"""Retention and the storage floor: what is destroyed, when, and what a legal hold keeps.

`sweep` destroys every segment that ended more than its camera's retention days ago (보관일수,
30 for a camera no longer in the registry), unless a legal hold that is not released overlaps
it. `enforce_floor` destroys the oldest unheld closed segments of a volume until its free
space is back above the floor plus a margin, and says so (an alarm) when it cannot. Every
destruction is written to the PIPA ledger (`destroy.py`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record
from argus.audit.query import as_utc
from argus.db import transaction, utcnow
from argus.recording.destroy import FLOOR_BY, RETENTION_BY, destroy_segments
from argus.recording.index import SegmentInfo
from argus.recording.models import LegalHold, Segment
from argus.recording.volumes import Volume, by_name
from argus.registry.models import Camera

log = logging.getLogger(__name__)
DEFAULT_RETENTION_DAYS = 30
BATCH = 500
FLOOR_MARGIN = 1.10  # free this much above the floor, so that the sweep does not flap


def _unheld() -> Any:
    return ~exists().where(
        and_(
            LegalHold.camera_id == Segment.camera_id,
            LegalHold.released_at.is_(None),
            LegalHold.start_time < Segment.end_time,
            LegalHold.end_time > Segment.start_time,
        )
    )


@dataclass
class SweepReport:
    destroyed: int = 0
    bytes: int = 0
    cameras: set[int] = field(default_factory=set)
    held: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "destroyed": self.destroyed,
            "bytes": self.bytes,
            "cameras": len(self.cameras),
            "kept_by_holds": self.held,
        }


def expired(session: Session, now: datetime, limit: int = BATCH) -> list[SegmentInfo]:
    """Closed segments past their camera's retention and not under a hold, oldest first.

    Retention is at least one day, so the database narrows to segments older than a day and
    each row's own retention is compared here (portable across SQLite and PostgreSQL)."""
    rows = session.execute(
        select(Segment, Camera.retention_days)
        .join(Camera, Camera.id == Segment.camera_id, isouter=True)
        .where(Segment.state.in_(("closed", "recovered")), _unheld())
        .where(Segment.end_time < now - timedelta(days=1))
        .order_by(Segment.end_time)
    )
    out: list[SegmentInfo] = []
    for segment, camera_days in rows:
        info = SegmentInfo.of(segment)
        if info.end < now - timedelta(days=camera_days or DEFAULT_RETENTION_DAYS):
            out.append(info)
            if len(out) >= limit:
                break
    return out


def held_count(session: Session, now: datetime) -> int:
    """Segments past their retention that a legal hold keeps."""
    rows = session.execute(
        select(Segment.end_time, Camera.retention_days)
        .join(Camera, Camera.id == Segment.camera_id, isouter=True)
        .where(~_unheld())
    )
    count = 0
    for end, days in rows:
        if as_utc(end) < now - timedelta(days=days or DEFAULT_RETENTION_DAYS):
            count += 1
    return count


def sweep(
    sessions: sessionmaker[Session], volumes: list[Volume], now: datetime | None = None
) -> SweepReport:
    """Destroy everything past retention (in batches), writing each camera's 파기 to the ledger."""
    moment = now or utcnow()
    report = SweepReport()
    named = by_name(volumes)
    while True:
        with sessions() as session:
            batch = expired(session, moment)
        if not batch:
            break
        report.bytes += destroy_segments(
            sessions,
            named,
            batch,
            cause="retention",
            destroyed_by=RETENTION_BY,
            reason="the camera's retention period (보관일수) has passed",
        )
        report.destroyed += len(batch)
        report.cameras.update(s.camera_id for s in batch)
        if len(batch) < BATCH:
            break
    with sessions() as session:
        report.held = held_count(session, moment)
    return report


@dataclass
class FloorReport:
    volume: str
    free: int
    floor: int
    destroyed: int = 0
    bytes: int = 0
    alarm: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "volume": self.volume,
            "free_bytes": self.free,
            "floor_bytes": self.floor,
            "destroyed": self.destroyed,
            "bytes": self.bytes,
            "alarm": self.alarm,
        }


def enforce_floor(
    sessions: sessionmaker[Session], volume: Volume, *, audit_alarm: bool = True
) -> FloorReport:
    """Free space on ``volume`` down to its floor from the oldest unheld footage.

    An alarm (destroyed to make room, or below the floor with nothing left to destroy) is
    logged and, with ``audit_alarm``, written to the audit log as recording.storage_alarm."""
    report = FloorReport(volume.name, volume.free(), volume.min_free)
    if report.free >= volume.min_free:
        return report
    target = int(volume.min_free * FLOOR_MARGIN)
    named = {volume.name: volume}
    while volume.free() < target:
        with sessions() as session:
            rows = session.scalars(
                select(Segment)
                .where(
                    Segment.volume == volume.name,
                    Segment.state.in_(("closed", "recovered")),
                    _unheld(),
                )
                .order_by(Segment.start_time)
                .limit(20)
            ).all()
            batch = [SegmentInfo.of(row) for row in rows]
        if not batch:
            break
        report.bytes += destroy_segments(
            sessions,
            named,
            batch,
            cause="storage",
            destroyed_by=FLOOR_BY,
            reason=f"volume {volume.name} fell below its free-space floor",
        )
        report.destroyed += len(batch)
    report.free = volume.free()
    if report.free < volume.min_free:
        report.alarm = (
            f"volume {volume.name} ({volume.root}) has {report.free // 2**20} MiB free, below "
            f"its floor of {volume.min_free // 2**20} MiB, and nothing more may be destroyed "
            "(the rest is open or under a legal hold)"
        )
    elif report.destroyed:
        report.alarm = (
            f"volume {volume.name} fell below its floor of {volume.min_free // 2**20} MiB: "
            f"the oldest {report.destroyed} segments were destroyed to make room"
        )
    if report.alarm:
        log.warning("%s", report.alarm)
    if report.alarm and (audit_alarm or report.destroyed):
        with transaction(sessions) as session:
            record(
                session,
                AuditEvent(
                    action="recording.storage_alarm",
                    outcome=Outcome.ERROR if report.free < volume.min_free else Outcome.OK,
                    target=f"volume:{volume.name}",
                    reason=report.alarm,
                    details=report.as_json(),
                ),
            )
    return report
