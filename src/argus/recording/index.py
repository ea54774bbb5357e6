"""Reading the segment index: segments of a camera in a time range, and its recorded timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from argus.audit.query import as_utc
from argus.recording.models import Segment

PLAYABLE = ("open", "closed", "recovered")
GAP_TOLERANCE = timedelta(milliseconds=500)
"""A break between recorded stretches longer than this is a gap (it is reported, not hidden)."""


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    id: int
    camera_id: int
    stream: str
    volume: str
    path: str
    codec: str
    start: datetime
    end: datetime
    bytes: int
    frames: int
    keyframes: tuple[tuple[int, int], ...]
    sha256: str | None
    state: str

    @classmethod
    def of(cls, row: Segment) -> SegmentInfo:
        return cls(
            row.id,
            row.camera_id,
            row.stream,
            row.volume,
            row.path,
            row.codec,
            as_utc(row.start_time),
            as_utc(row.end_time),
            row.bytes,
            row.frames,
            tuple((int(k[0]), int(k[1])) for k in row.keyframes or ()),
            row.sha256,
            row.state,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "camera_id": self.camera_id,
            "stream": self.stream,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "bytes": self.bytes,
            "frames": self.frames,
            "codec": self.codec,
            "state": self.state,
            "sha256": self.sha256,
        }


@dataclass(frozen=True, slots=True)
class Span:
    start: datetime
    end: datetime

    def as_json(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "until": self.end.isoformat()}


def segments_between(
    session: Session, camera_id: int, start: datetime, end: datetime, stream: str = "main"
) -> list[SegmentInfo]:
    """Playable segments of the camera that overlap [start, end), oldest first."""
    rows = session.scalars(
        select(Segment)
        .where(
            Segment.camera_id == camera_id,
            Segment.stream == stream,
            Segment.state.in_(PLAYABLE),
            Segment.start_time < end,
            Segment.end_time > start,
            Segment.frames > 0,
        )
        .order_by(Segment.start_time, Segment.id)
    )
    return [SegmentInfo.of(row) for row in rows]


def recorded_spans(segments: list[SegmentInfo], start: datetime, end: datetime) -> list[Span]:
    """The recorded stretches within [start, end): segments closer than GAP_TOLERANCE merged."""
    spans: list[Span] = []
    for seg in segments:
        s, e = max(seg.start, start), min(seg.end, end)
        if e <= s:
            continue
        if spans and s - spans[-1].end <= GAP_TOLERANCE:
            if e > spans[-1].end:
                spans[-1] = Span(spans[-1].start, e)
            continue
        spans.append(Span(s, e))
    return spans


def gaps_in(spans: list[Span], start: datetime, end: datetime) -> list[Span]:
    """What [start, end) holds that no span covers (longer than GAP_TOLERANCE)."""
    gaps: list[Span] = []
    cursor = start
    for span in spans:
        if span.start - cursor > GAP_TOLERANCE:
            gaps.append(Span(cursor, span.start))
        cursor = max(cursor, span.end)
    if end - cursor > GAP_TOLERANCE:
        gaps.append(Span(cursor, end))
    return gaps
