"""Destroying footage: mark, remove the file, then drop the row and write the PIPA ledger.

The order keeps invariant 4 through a crash: a row is first marked ``destroying`` (never played
again), then its file is removed, then the row is deleted in the same transaction as the audit
entry `recording.destroy` that the PIPA ledger shows as 파기. A crash in between leaves a
``destroying`` row whose file may be gone, which `argus check --repair` finishes.
One ledger row is written per camera and occasion, naming every file and the period covered.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record_many
from argus.db import transaction, utcnow
from argus.recording.index import SegmentInfo
from argus.recording.models import Segment
from argus.recording.volumes import Volume

RETENTION_BY = "자동 파기 (보존기간 경과)"
FLOOR_BY = "자동 파기 (저장공간 부족)"


def destroy_segments(
    sessions: sessionmaker[Session],
    volumes: dict[str, Volume],
    segments: Sequence[SegmentInfo],
    *,
    cause: str,
    destroyed_by: str,
    reason: str,
    actor_user_id: int | None = None,
    actor_agency_id: int | None = None,
) -> int:
    """Destroy these segments; returns the bytes freed. ``cause``: retention, storage, check."""
    if not segments:
        return 0
    ids = [s.id for s in segments]
    with transaction(sessions) as session:
        session.execute(update(Segment).where(Segment.id.in_(ids)).values(state="destroying"))
    freed = 0
    for seg in segments:
        freed += _unlink(volumes, seg)
    now = utcnow()
    by_camera: dict[int, list[SegmentInfo]] = defaultdict(list)
    for seg in segments:
        by_camera[seg.camera_id].append(seg)
    events = [
        destruction_event(
            camera_id,
            segs,
            cause=cause,
            destroyed_by=destroyed_by,
            reason=reason,
            at=now,
            actor_user_id=actor_user_id,
            actor_agency_id=actor_agency_id,
        )
        for camera_id, segs in sorted(by_camera.items())
    ]
    with transaction(sessions) as session:
        session.execute(delete(Segment).where(Segment.id.in_(ids)))
        record_many(session, events)
    return freed


def destruction_event(
    camera_id: int,
    segments: Sequence[SegmentInfo],
    *,
    cause: str,
    destroyed_by: str,
    reason: str,
    at: datetime,
    actor_user_id: int | None = None,
    actor_agency_id: int | None = None,
) -> AuditEvent:
    start = min(s.start for s in segments)
    end = max(s.end for s in segments)
    return AuditEvent(
        action="recording.destroy",
        outcome=Outcome.OK,
        actor_user_id=actor_user_id,
        actor_agency_id=actor_agency_id,
        target=f"camera:{camera_id}",
        reason=reason,
        details={
            "cause": cause,
            "file": [Path(s.path).name for s in segments],
            "form": "녹화 영상 (MP4)",
            "segments": len(segments),
            "bytes": sum(s.bytes for s in segments),
            "footage_from": start.isoformat(),
            "footage_until": end.isoformat(),
            "destroyed_at": at.isoformat(),
            "destroyed_by": destroyed_by,
        },
    )


def _unlink(volumes: dict[str, Volume], seg: SegmentInfo) -> int:
    volume = volumes.get(seg.volume)
    if volume is None:
        return 0
    path = volume.root / seg.path
    try:
        size = path.stat().st_size
        os.unlink(path)
    except FileNotFoundError:
        return 0
    for parent in (path.parent, path.parent.parent):  # empty date and camera folders go too
        try:
            parent.rmdir()
        except OSError:
            break
    return size
