"""Cutting evidence from the recordings: one progressive MP4 per camera and range, no re-encoding.

The cut starts at the keyframe at or before the range's start (a clip must decode from its first
picture) and ends before the range's end; the samples' bytes are copied as recorded. Where the
picture format changes inside the range (new parameter sets), a new file starts ("…_part2").

A progressive MP4 has its sample table before the data, so the footage is read twice: once for
the samples' sizes and times (keeping no video in memory), then segment by segment while the
file is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argus.evidence.mp4file import OutSample, TrackSource, write_mp4
from argus.recording.footage import Piece, pieces, read_piece
from argus.recording.index import SegmentInfo
from argus.recording.volumes import Volume


@dataclass(frozen=True, slots=True)
class _Part:
    """What the first pass keeps of a piece: no video bytes."""

    segment: SegmentInfo
    stsd: bytes
    timescale: int
    width: int
    height: int
    samples: tuple[OutSample, ...]
    begin: datetime
    finish: datetime

    @classmethod
    def of(cls, piece: Piece) -> _Part:
        tail = piece.samples[-1]
        init = piece.init
        return cls(
            piece.segment,
            init.stsd,
            init.timescale,
            init.width,
            init.height,
            tuple(
                OutSample(s.size, max(1, s.duration), s.is_sync, s.composition_offset)
                for s in piece.samples
            ),
            piece.wall(piece.samples[0]),
            piece.wall(tail) + timedelta(seconds=tail.duration / init.timescale),
        )


@dataclass(frozen=True, slots=True)
class CutFile:
    name: str
    camera_id: int
    start: datetime
    """Wall-clock time of its first picture (the keyframe at or before the asked start)."""
    end: datetime
    frames: int
    bytes: int
    sha256: str


def _stamp(moment: datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%S}Z"


def _runs(parts: list[_Part]) -> list[list[_Part]]:
    """The parts grouped into runs that share one sample description (one file each)."""
    runs: list[list[_Part]] = []
    for part in parts:
        if runs and runs[-1][-1].stsd == part.stsd:
            runs[-1].append(part)
        else:
            runs.append([part])
    return runs


def cut(
    volumes: dict[str, Volume],
    segments: list[SegmentInfo],
    camera_id: int,
    start: datetime,
    end: datetime,
    directory: Path,
) -> list[CutFile]:
    """Write the footage of [start, end) into `directory`; the files written, in order."""
    out: list[CutFile] = []
    runs = _runs([_Part.of(piece) for piece in pieces(volumes, segments, start, end)])
    for number, run in enumerate(runs, start=1):
        first, last = run[0], run[-1]
        suffix = f"_part{number}" if len(runs) > 1 else ""
        name = f"camera-{camera_id}_{_stamp(first.begin)}_{_stamp(last.finish)}{suffix}.mp4"
        track = TrackSource(first.stsd, first.timescale, first.width, first.height)
        samples = [s for part in run for s in part.samples]
        path = directory / name
        with path.open("wb") as handle:
            summary = write_mp4(
                handle, track, samples, _chunks(volumes, run, start, end), creation_time=first.begin
            )
        out.append(
            CutFile(
                name,
                camera_id,
                first.begin,
                last.finish,
                summary.frames,
                summary.bytes,
                summary.sha256,
            )
        )
    return out


def _chunks(
    volumes: dict[str, Volume], run: list[_Part], start: datetime, end: datetime
) -> Iterator[memoryview]:
    for part in run:
        piece = read_piece(volumes, part.segment, start, end)
        if piece is None or len(piece.samples) != len(part.samples):
            raise ValueError(f"segment {part.segment.id} changed while it was being exported")
        for sample in piece.samples:
            yield piece.bytes_of(sample)
