"""Reading recorded footage back: the samples of a camera between two wall-clock times.

Playback (WebSocket and HLS) and evidence export read the same way: the index names the
segments that overlap the range; each segment file is read only up to the bytes the index says
are durable (an open segment keeps growing behind the reader); reading starts at the fragment
of the last keyframe at or before the range's start, so that what comes out can be decoded
from its first sample. A sample's wall-clock time is its segment's start plus its decode time
(the recorder starts every segment's timeline at 0).
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from argus.errors import ArgusError
from argus.media.fmp4 import VideoFormat, video_format
from argus.media.nal import ParameterSets
from argus.recording.fmp4_read import Fragment, InitInfo, SampleRef, parse_init, scan_fragments
from argus.recording.index import SegmentInfo
from argus.recording.volumes import Volume

_U16 = struct.Struct("!H")


class FootageError(ArgusError):
    """A segment the index lists cannot be read back (missing or damaged: run argus check)."""

    status_code = 500
    code = "footage_unreadable"


@dataclass(frozen=True, slots=True)
class Piece:
    """The samples of one segment that fall in the range, from a keyframe on."""

    segment: SegmentInfo
    init: InitInfo
    data: bytes
    samples: tuple[SampleRef, ...]
    """In decode order; the first is a sync sample."""

    def wall(self, sample: SampleRef) -> datetime:
        """The sample's wall-clock time (of its decode)."""
        return self.segment.start + timedelta(seconds=sample.decode_time / self.init.timescale)

    def bytes_of(self, sample: SampleRef) -> memoryview:
        return memoryview(self.data)[sample.offset : sample.offset + sample.size]


def _config_record(stsd: bytes, kind: bytes) -> bytes | None:
    at = stsd.find(kind)
    if at < 4:
        return None
    (size,) = struct.unpack_from("!I", stsd, at - 4)
    return stsd[at + 4 : at - 4 + size]


def _avcc_sets(record: bytes) -> ParameterSets:
    pos = 5
    sps: list[bytes] = []
    pps: list[bytes] = []
    for target, mask in ((sps, 0x1F), (pps, 0xFF)):
        count = record[pos] & mask
        pos += 1
        for _ in range(count):
            (length,) = _U16.unpack_from(record, pos)
            target.append(record[pos + 2 : pos + 2 + length])
            pos += 2 + length
    return ParameterSets(None, sps[0] if sps else None, pps[0] if pps else None)


def _hvcc_sets(record: bytes) -> ParameterSets:
    pos = 22
    arrays = record[pos]
    pos += 1
    found: dict[int, bytes] = {}
    for _ in range(arrays):
        nal_type = record[pos] & 0x3F
        (count,) = _U16.unpack_from(record, pos + 1)
        pos += 3
        for _ in range(count):
            (length,) = _U16.unpack_from(record, pos)
            found.setdefault(nal_type, record[pos + 2 : pos + 2 + length])
            pos += 2 + length
    return ParameterSets(found.get(32), found.get(33), found.get(34))


@lru_cache(maxsize=1024)
def format_of_stsd(codec: str, stsd: bytes, timescale: int) -> VideoFormat:
    """The video format (codec string, MIME type) a recorded init segment describes."""
    try:
        if codec == "h264":
            record = _config_record(stsd, b"avcC")
            sets = _avcc_sets(record) if record else ParameterSets()
        else:
            record = _config_record(stsd, b"hvcC")
            sets = _hvcc_sets(record) if record else ParameterSets()
    except (IndexError, struct.error):
        sets = ParameterSets()
    return video_format("h264" if codec == "h264" else "h265", sets, timescale)


def format_of_init(init: InitInfo) -> VideoFormat:
    return format_of_stsd(init.codec, init.stsd, init.timescale)


def _read(volumes: dict[str, Volume], segment: SegmentInfo) -> bytes:
    volume = volumes.get(segment.volume)
    if volume is None:
        raise FootageError(
            f"segment {segment.id} is on volume {segment.volume}, which is not configured"
        )
    path = Path(volume.root) / segment.path
    try:
        with path.open("rb") as handle:
            data = handle.read(segment.bytes)
    except OSError as exc:
        raise FootageError(f"segment {segment.id} ({segment.path}) cannot be read: {exc}") from exc
    if len(data) < segment.bytes:
        raise FootageError(
            f"segment {segment.id} ({segment.path}) is shorter than the index says "
            f"({len(data)} of {segment.bytes} bytes): run argus check"
        )
    return data


def keyframe_offset(segment: SegmentInfo, at: datetime) -> int | None:
    """Byte offset of the fragment of the last keyframe at or before `at` (or the first one)."""
    if not segment.keyframes:
        return None
    ms = (at - segment.start) / timedelta(milliseconds=1)
    times = [k[0] for k in segment.keyframes]
    index = max(0, bisect.bisect_right(times, ms) - 1)
    return segment.keyframes[index][1]


def read_piece(
    volumes: dict[str, Volume], segment: SegmentInfo, start: datetime, end: datetime
) -> Piece | None:
    """The segment's samples from the keyframe at or before `start` up to `end` (exclusive)."""
    data = _read(volumes, segment)
    try:
        init = parse_init(data)
    except ArgusError as exc:
        raise FootageError(f"segment {segment.id} ({segment.path}): {exc}") from exc
    offset = keyframe_offset(segment, start)
    if offset is None or not init.size <= offset <= len(data):
        offset = init.size
    scan = scan_fragments(data, offset, len(data), init.track_id)
    samples = _samples_in(scan.fragments, segment, init, end)
    if not samples:
        return None
    return Piece(segment, init, data, tuple(samples))


def _samples_in(
    fragments: list[Fragment], segment: SegmentInfo, init: InitInfo, end: datetime
) -> list[SampleRef]:
    limit = (end - segment.start) / timedelta(seconds=1) * init.timescale
    out: list[SampleRef] = []
    for fragment in fragments:
        for sample in fragment.samples:
            if not out and not sample.is_sync:
                continue  # decoding starts at a keyframe
            if sample.decode_time >= limit:
                return out
            out.append(sample)
    return out


def pieces(
    volumes: dict[str, Volume], segments: list[SegmentInfo], start: datetime, end: datetime
) -> Iterator[Piece]:
    """The footage of [start, end), segment by segment (the index's segments, oldest first)."""
    for segment in segments:
        if segment.end <= start or segment.start >= end:
            continue
        piece = read_piece(volumes, segment, start, end)
        if piece is not None:
            yield piece
