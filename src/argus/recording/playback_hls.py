"""Playback as HLS VOD: a playlist of byte ranges of the recorded segment files themselves.

Every recorded segment is an fMP4 file whose fragments start at keyframes, and the index holds
each keyframe fragment's time and byte offset. So a VOD playlist needs no file to be read: each
HLS segment is one GOP of a file (`EXT-X-BYTERANGE`), each file's init segment its first bytes
(`EXT-X-MAP` with `BYTERANGE`).

A file's own timeline starts at 0. Players do not all take a reset for granted (ffmpeg loses
the frames around it, even after `EXT-X-DISCONTINUITY`), so the playlist asks for every file
with `shift=`: the ticks from the range's first file to this one, which the file route adds to
each fragment's decode time (tfdt) as it serves it. Back-to-back files then form one timeline;
a gap in the recordings is a jump in it, marked `EXT-X-DISCONTINUITY`, and every file carries
`EXT-X-PROGRAM-DATE-TIME`, so the wall-clock time is there for the player to show.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from argus.errors import ArgusError
from argus.recording.index import GAP_TOLERANCE, SegmentInfo
from argus.recording.playback import CLOCK, Timeline

_HEADER = struct.Struct("!I4s")


class RangeNotSatisfiable(ArgusError):
    status_code = 416
    code = "range_not_satisfiable"


@dataclass(frozen=True, slots=True)
class Gop:
    segment: SegmentInfo
    offset: int
    size: int
    seconds: float


def _gops(segment: SegmentInfo, line: Timeline) -> list[Gop]:
    keys = segment.keyframes
    length_ms = (segment.end - segment.start) / timedelta(milliseconds=1)
    out: list[Gop] = []
    for index, (ms, offset) in enumerate(keys):
        end_ms = keys[index + 1][0] if index + 1 < len(keys) else length_ms
        end_offset = keys[index + 1][1] if index + 1 < len(keys) else segment.bytes
        start = segment.start + timedelta(milliseconds=ms)
        end = segment.start + timedelta(milliseconds=end_ms)
        if end <= line.start or start >= line.end or end_offset <= offset:
            continue
        out.append(Gop(segment, offset, end_offset - offset, max(0.001, (end_ms - ms) / 1000)))
    return out


def vod_playlist(line: Timeline, camera_id: int, token: str) -> str:
    """The VOD playlist of the range; file URIs are relative to …/{camera_id}/ and carry the
    token. An empty range (nothing recorded) is a playlist with no segments."""
    query = "?token=" + quote(token, safe="")
    per_file = [(seg, _gops(seg, line)) for seg in line.segments]
    per_file = [(seg, gops) for seg, gops in per_file if gops and seg.keyframes]
    longest = max((g.seconds for _, gops in per_file for g in gops), default=1.0)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        f"#EXT-X-TARGETDURATION:{max(1, math.ceil(longest))}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    anchor = per_file[0][0].start if per_file else line.start
    previous: SegmentInfo | None = None
    for seg, gops in per_file:
        shift = round((seg.start - anchor).total_seconds() * CLOCK)
        uri = f"rec/{seg.id}.mp4{query}&shift={shift}"
        if previous is not None and seg.start - previous.end > GAP_TOLERANCE:
            lines.append("#EXT-X-DISCONTINUITY")
        previous = seg
        first_ms = next(ms for ms, offset in seg.keyframes if offset == gops[0].offset)
        wall = seg.start + timedelta(milliseconds=first_ms)
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{wall.isoformat(timespec='milliseconds')}")
        lines.append(f'#EXT-X-MAP:URI="{uri}",BYTERANGE="{seg.keyframes[0][1]}@0"')
        for gop in gops:
            lines.append(f"#EXTINF:{gop.seconds:.3f},")
            lines.append(f"#EXT-X-BYTERANGE:{gop.size}@{gop.offset}")
            lines.append(uri)
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def byte_range(header: str | None, length: int) -> tuple[int, int] | None:
    """(first, last) of a single `Range: bytes=…` header over `length` bytes; None for the
    whole file. RangeNotSatisfiable for a range outside the file or one not understood."""
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        raise RangeNotSatisfiable("only one range of bytes is served (Range: bytes=first-last)")
    first_text, dash, last_text = spec.strip().partition("-")
    try:
        if not dash:
            raise ValueError
        if first_text == "":
            suffix = int(last_text)
            if suffix <= 0:
                raise ValueError
            first, last = max(0, length - suffix), length - 1
        else:
            first = int(first_text)
            last = int(last_text) if last_text else length - 1
    except ValueError:
        raise RangeNotSatisfiable(f"the range {header[:40]!r} cannot be read") from None
    last = min(last, length - 1)
    if first < 0 or first > last:
        raise RangeNotSatisfiable(f"the range {header[:40]!r} is outside the {length} bytes")
    return first, last


def shift_decode_times(data: bytearray, shift: int) -> None:
    """Add `shift` to the decode time (tfdt) of every fragment in `data`, in place.

    `data` must begin at a box boundary (the byte ranges of a playlist do); bytes after the last
    whole box, and every box but moof, are left as they are."""
    if not shift:
        return
    pos = 0
    while pos + 8 <= len(data):
        size, kind = _HEADER.unpack_from(data, pos)
        if size < 8 or pos + size > len(data):
            return
        if kind == b"moof":
            _shift_moof(data, pos + 8, pos + size, shift)
        pos += size


def _children(data: bytearray, start: int, end: int) -> list[tuple[bytes, int, int]]:
    out = []
    pos = start
    while pos + 8 <= end:
        size, kind = _HEADER.unpack_from(data, pos)
        if size < 8 or pos + size > end:
            break
        out.append((kind, pos, pos + size))
        pos += size
    return out


def _shift_moof(data: bytearray, start: int, end: int, shift: int) -> None:
    for kind, traf_start, traf_end in _children(data, start, end):
        if kind != b"traf":
            continue
        for child, box_start, box_end in _children(data, traf_start + 8, traf_end):
            if child != b"tfdt":
                continue
            version = data[box_start + 8]
            if version == 1 and box_end - box_start >= 20:
                (value,) = struct.unpack_from("!Q", data, box_start + 12)
                struct.pack_into("!Q", data, box_start + 12, value + shift)
            elif box_end - box_start >= 16:
                (value,) = struct.unpack_from("!I", data, box_start + 12)
                if value + shift > 0xFFFFFFFF:
                    raise RangeNotSatisfiable("the shifted decode time does not fit this file")
                struct.pack_into("!I", data, box_start + 12, value + shift)
