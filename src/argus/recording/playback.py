"""Playback of recorded footage: a camera's time range, turned into fMP4 to play at a speed.

The output has its own timeline (90 kHz, from 0 at the start of a session, never going back):
every GOP read from the recordings becomes one fragment, its samples' durations divided by the
speed, so that a player plays it at its normal rate and sees the footage ×1, ×2, ×4 or ×8.
From ×4 only keyframes are sent, each lasting until the next one (at a fraction of the bytes).
A seek continues the same timeline from where the last fragment ended, so a Media Source
Extensions buffer never sees time run backwards. Each fragment comes with the wall-clock time
of its first sample; a stretch without recordings is a `Gap` event, never hidden: the output
timeline jumps over it and says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from argus.audit.query import as_utc
from argus.errors import FieldError, NotFoundError
from argus.media.fmp4 import Sample, VideoFormat, media_segment
from argus.recording.footage import Piece, format_of_init, pieces
from argus.recording.index import (
    GAP_TOLERANCE,
    SegmentInfo,
    Span,
    gaps_in,
    recorded_spans,
    segments_between,
)
from argus.recording.models import LegalHold
from argus.recording.volumes import Volume
from argus.registry.models import Camera

CLOCK = 90_000
SPEEDS = (1, 2, 4, 8)
KEYFRAMES_ONLY_FROM = 4
"""From this speed on only keyframes are sent."""
MAX_RANGE = timedelta(days=1)
FUTURE_SLACK = timedelta(seconds=2)


def parse_time(value: str | None, name: str) -> datetime:
    """An ISO 8601 time with its offset (…Z or …+09:00), or FieldError naming the parameter."""
    if not value:
        raise FieldError(name, "is required (an ISO 8601 time with its offset)")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(name, f"{value[:40]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise FieldError(name, "give the time with its offset, e.g. 2026-12-03T09:00:00+09:00")
    return as_utc(moment)


def parse_speed(value: str | int | None) -> int:
    try:
        speed = int(value if value is not None else 1)
    except (TypeError, ValueError):
        speed = 0
    if speed not in SPEEDS:
        raise FieldError("speed", f"must be one of {', '.join(map(str, SPEEDS))}")
    return speed


@dataclass(frozen=True, slots=True)
class Timeline:
    """What is recorded of a camera in a range, and what is not."""

    camera_id: int
    start: datetime
    end: datetime
    segments: list[SegmentInfo]
    recorded: list[Span]
    gaps: list[Span]

    def as_json(self) -> dict[str, object]:
        return {
            "camera_id": self.camera_id,
            "from": self.start.isoformat(),
            "until": self.end.isoformat(),
            "recorded": [span.as_json() for span in self.recorded],
            "gaps": [span.as_json() for span in self.gaps],
            "recorded_seconds": sum((s.end - s.start).total_seconds() for s in self.recorded),
        }


def check_range(
    session: Session,
    camera_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    limit: timedelta = MAX_RANGE,
) -> Camera:
    """The camera, if [start, end) is a range one may ask of its recordings; else a clear error.

    Refused: an unknown camera; an empty or reversed range, or one longer than `limit`; one
    that starts or ends in the future; one wholly before the camera's retention limit (that
    footage has been destroyed) unless a legal hold keeps some of it."""
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise NotFoundError(f"camera {camera_id} does not exist")
    if end <= start:
        raise FieldError("until", "must be after from")
    if end - start > limit:
        raise FieldError("until", f"a range may span at most {_duration(limit)}")
    if start > now:
        raise FieldError("from", f"{start.isoformat()} is in the future")
    if end > now + FUTURE_SLACK:
        raise FieldError("until", f"{end.isoformat()} is in the future (now: {now.isoformat()})")
    cutoff = now - timedelta(days=camera.retention_days)
    if end <= cutoff and not _held(session, camera_id, start, end):
        raise FieldError(
            "from",
            f"the range is older than camera {camera_id}'s retention of "
            f"{camera.retention_days} days: its footage was destroyed after "
            f"{cutoff.isoformat()}",
        )
    return camera


def _held(session: Session, camera_id: int, start: datetime, end: datetime) -> bool:
    hold = session.scalar(
        select(LegalHold.id).where(
            LegalHold.camera_id == camera_id,
            LegalHold.released_at.is_(None),
            LegalHold.start_time < end,
            LegalHold.end_time > start,
        )
    )
    return hold is not None


def _duration(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} hours"


def timeline(
    session: Session, camera_id: int, start: datetime, end: datetime, stream: str = "main"
) -> Timeline:
    segments = segments_between(session, camera_id, start, end, stream)
    spans = recorded_spans(segments, start, end)
    return Timeline(camera_id, start, end, segments, spans, gaps_in(spans, start, end))


# --- the output stream ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Init:
    format: VideoFormat


@dataclass(frozen=True, slots=True)
class Chunk:
    """One fragment (a GOP, or one keyframe at high speed)."""

    wall: datetime
    """Wall-clock time of its first sample."""
    media_time: int
    """Where it starts on the output timeline (90 kHz)."""
    duration: int
    data: bytes
    frames: int


@dataclass(frozen=True, slots=True)
class Gap:
    span: Span
    media_time: int


@dataclass(frozen=True, slots=True)
class End:
    media_time: int


Event = Init | Chunk | Gap | End


class PlaybackStream:
    """The events of a playback from `at` to the end of its range, at `speed`.

    `media_time` is where the next fragment starts on the output timeline; a new stream made
    for a seek is given the previous one's, so the timeline never goes back."""

    def __init__(
        self,
        volumes: dict[str, Volume],
        line: Timeline,
        at: datetime,
        speed: int,
        media_time: int = 0,
        sequence: int = 1,
    ) -> None:
        self.volumes = volumes
        self.line = line
        self.at = at
        self.speed = speed
        self.media_time = media_time
        self.sequence = sequence
        self.format: VideoFormat | None = None

    def target_time(self, chunk: Chunk) -> int:
        """Where `at` falls on the output timeline, given the first chunk after a seek."""
        ahead = max(0.0, (self.at - chunk.wall).total_seconds())
        return chunk.media_time + min(chunk.duration, round(ahead * CLOCK / self.speed))

    def events(self) -> Iterator[Event]:
        last_wall = self.at
        for piece in pieces(self.volumes, self.line.segments, self.at, self.line.end):
            first = piece.wall(piece.samples[0])
            if first - last_wall > GAP_TOLERANCE:
                yield Gap(Span(last_wall, first), self.media_time)
            fmt = format_of_init(piece.init)
            if fmt != self.format:
                self.format = fmt
                yield Init(fmt)
            yield from self._chunks(piece)
            tail = piece.samples[-1]
            last_wall = max(
                last_wall,
                piece.wall(tail) + timedelta(seconds=tail.duration / piece.init.timescale),
            )
        if self.line.end - last_wall > GAP_TOLERANCE:
            yield Gap(Span(last_wall, self.line.end), self.media_time)
        yield End(self.media_time)

    def _chunks(self, piece: Piece) -> Iterator[Chunk]:
        scale = CLOCK / piece.init.timescale / self.speed
        keyframes_only = self.speed >= KEYFRAMES_ONLY_FROM
        gop: list[Sample] = []
        gop_wall = piece.wall(piece.samples[0])
        pending_key: tuple[int, Sample] | None = None  # keyframe-only: its decode time
        samples = piece.samples
        for sample in samples:
            if keyframes_only:
                if not sample.is_sync:
                    continue
                if pending_key is not None:
                    yield self._keyframe(piece, pending_key, sample.decode_time, scale)
                pending_key = (sample.decode_time, Sample(piece.bytes_of(sample), 1, True))
                continue
            if sample.is_sync and gop:
                yield self._fragment(gop_wall, gop)
                gop = []
                gop_wall = piece.wall(sample)
            duration = max(1, round(sample.duration * scale))
            offset = round(sample.composition_offset * scale)
            gop.append(Sample(piece.bytes_of(sample), duration, sample.is_sync, offset))
        if gop:
            yield self._fragment(gop_wall, gop)
        if pending_key is not None:
            tail = samples[-1]
            yield self._keyframe(piece, pending_key, tail.decode_time + tail.duration, scale)

    def _keyframe(
        self, piece: Piece, key: tuple[int, Sample], next_decode: int, scale: float
    ) -> Chunk:
        decode_time, sample = key
        duration = max(1, round((next_decode - decode_time) * scale))
        wall = piece.segment.start + timedelta(seconds=decode_time / piece.init.timescale)
        return self._fragment(wall, [Sample(sample.data, duration, True)])

    def _fragment(self, wall: datetime, samples: list[Sample]) -> Chunk:
        data = media_segment(self.sequence, self.media_time, samples)
        duration = sum(s.duration for s in samples)
        chunk = Chunk(wall, self.media_time, duration, data, len(samples))
        self.sequence += 1
        self.media_time += duration
        return chunk
