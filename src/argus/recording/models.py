"""Tables of recording: the segment index, recording plans per camera, triggers (recording on
incident), legal holds.

A segment row is written only after the bytes it describes are on disk (data, fsync, then the
row), so `bytes` is never more than the file holds (invariant 4). `state` is ``open`` while the
recorder appends, ``closed`` once its SHA-256 is known, ``recovered`` when `argus check --repair`
closed it after a crash, and ``destroying`` between the decision to destroy it and the file's
removal (such a row is never played, and `check` finishes the destruction).

Segments carry no foreign key to cameras: footage outlives a camera's removal from the registry
until its retention ends (a removed camera keeps the default 30 days).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from argus.db import Base, utcnow

SEGMENT_STATES = ("open", "closed", "recovered", "destroying")
PLAN_MODES = ("continuous", "scheduled", "off")


class Segment(Base):
    __tablename__ = "recording_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(Integer)
    stream: Mapped[str] = mapped_column(String(8), default="main")
    volume: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(300))  # relative to the volume's root
    codec: Mapped[str] = mapped_column(String(8))
    start_time: Mapped[datetime] = mapped_column()
    end_time: Mapped[datetime] = mapped_column()  # end of the last sample on disk
    bytes: Mapped[int] = mapped_column(BigInteger)  # durable length of the file
    frames: Mapped[int] = mapped_column(Integer, default=0)
    # [milliseconds after start_time, byte offset of the fragment that starts with the keyframe]
    keyframes: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    sha256: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(
            "state in ('open','closed','recovered','destroying')", name="segment_state"
        ),
        CheckConstraint("bytes >= 0 and end_time >= start_time", name="segment_extent"),
        Index("ix_recording_segments_camera_time", "camera_id", "start_time"),
        Index("ix_recording_segments_end", "end_time"),
        Index("uq_recording_segments_file", "volume", "path", unique=True),
    )


class RecordingPlan(Base):
    """How one camera is recorded: continuously, on a schedule (local time windows), or not."""

    __tablename__ = "recording_plans"

    camera_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(12), default="continuous")
    stream: Mapped[str] = mapped_column(String(8), default="main")
    # [{"start": "22:00", "end": "07:00", "days": ["mon", …] or null}, …]
    windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Seoul")
    updated_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("mode in ('continuous','scheduled','off')", name="plan_mode"),
    )


class LegalHold(Base):
    """Footage of one camera in [start, end) that retention and the storage floor must keep."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(Integer, index=True)
    start_time: Mapped[datetime] = mapped_column()
    end_time: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    case_number: Mapped[str | None] = mapped_column(String(100))
    incident_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column()
    released_by: Mapped[int | None] = mapped_column(Integer)
    release_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint("end_time > start_time", name="hold_extent"),)


class RecordingTrigger(Base):
    """Record one camera in [start, end) whatever its plan: an incident, or an operator's call.

    While a trigger is active the media worker that serves the camera records its main stream
    (a camera already recording goes on as it was). Stopping a trigger early sets `end_time`
    to the moment it was stopped."""

    __tablename__ = "recording_triggers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(Integer, index=True)
    start_time: Mapped[datetime] = mapped_column()
    end_time: Mapped[datetime] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_by: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("end_time > start_time", name="trigger_extent"),)
