"""Ordinary (progressive) MP4 files for evidence export, written without re-encoding.

`write_mp4` puts ftyp, then moov, then one mdat ("faststart": a player can start before the
file is complete). The moov is computed from the samples' sizes and timing alone, so the sample
bytes are streamed into the mdat afterwards and never held in memory together.

Layout choices: the movie timescale (mvhd, tkhd) is the media timescale, so every duration is
exact; there is no edit list; a chunk begins at every sync sample (one chunk per GOP), so stsc
usually has one or two entries and a player seeks to a chunk start; 32-bit stco becomes co64
only when a chunk offset reaches 2^32.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from argus.media.fmp4 import IDENTITY_MATRIX, MAX_PICTURE_SIDE, box, full_box

_U32_MAX = 0xFFFFFFFF
_EPOCH_1904 = datetime(1904, 1, 1, tzinfo=UTC)
_LANGUAGE_UND = 0x55C4  # ISO 639-2 'und', packed as three 5-bit letters


@dataclass(frozen=True, slots=True)
class TrackSource:
    """The video track to write: its sample description and picture size."""

    stsd: bytes
    """A complete stsd box, header included (as `InitInfo.stsd`)."""
    timescale: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class OutSample:
    """One sample to write: its size in the data stream and its timing."""

    size: int
    duration: int
    """In timescale units; positive."""
    is_sync: bool
    composition_offset: int = 0
    """Presentation minus decode time, in timescale units."""


@dataclass(frozen=True, slots=True)
class Mp4Summary:
    """What `write_mp4` wrote."""

    bytes: int
    """The file's size."""
    frames: int
    duration: float
    """In seconds."""
    sha256: str
    """Hex digest of the whole file as written."""


def _table(kind: bytes, version: int, fmt: str, rows: Sequence[tuple[int, ...]]) -> bytes:
    """A full box holding an entry count and `rows`, each packed with `fmt` (no '!')."""
    flat = [value for row in rows for value in row]
    return full_box(kind, version, 0, struct.pack(f"!I{fmt * len(rows)}", len(rows), *flat))


def _runs(values: Iterable[int]) -> list[tuple[int, int]]:
    """Run-length encoding: (count, value) for each run of equal values."""
    runs: list[list[int]] = []
    for value in values:
        if runs and runs[-1][1] == value:
            runs[-1][0] += 1
        else:
            runs.append([1, value])
    return [(count, value) for count, value in runs]


def chunk_sizes(samples: Sequence[OutSample]) -> list[int]:
    """How many samples each chunk holds: a chunk begins at every sync sample."""
    counts: list[int] = []
    for i, sample in enumerate(samples):
        if i == 0 or sample.is_sync:
            counts.append(0)
        counts[-1] += 1
    return counts


def sample_table(
    stsd: bytes,
    samples: Sequence[OutSample],
    chunk_counts: Sequence[int],
    chunk_offsets: Sequence[int],
) -> bytes:
    """The stbl box: stsd, stts, ctts (when any composition offset is non-zero), stss (unless
    every sample is sync), stsz, stsc and stco, or co64 when any chunk offset is 2^32 or more.

    `chunk_counts` gives the samples of each chunk (summing to len(samples)), `chunk_offsets`
    their absolute file offsets. ValueError for values MP4 cannot hold.
    """
    if len(chunk_counts) != len(chunk_offsets) or sum(chunk_counts) != len(samples):
        raise ValueError("the chunks do not hold exactly the samples given")
    parts = [stsd, _table(b"stts", 0, "II", _runs(s.duration for s in samples))]
    offsets = [s.composition_offset for s in samples]
    if any(offsets):
        negative = min(offsets) < 0
        parts.append(
            _table(b"ctts", 1 if negative else 0, "Ii" if negative else "II", _runs(offsets))
        )
    sync = [i + 1 for i, s in enumerate(samples) if s.is_sync]
    if len(sync) < len(samples):
        parts.append(_table(b"stss", 0, "I", [(n,) for n in sync]))
    sizes = [s.size for s in samples]
    parts.append(full_box(b"stsz", 0, 0, struct.pack(f"!II{len(sizes)}I", 0, len(sizes), *sizes)))
    stsc: list[tuple[int, int, int]] = []
    for index, count in enumerate(chunk_counts):
        if not stsc or stsc[-1][1] != count:
            stsc.append((index + 1, count, 1))  # first chunk, samples per chunk, description 1
    parts.append(_table(b"stsc", 0, "III", stsc))
    if chunk_offsets and max(chunk_offsets) > _U32_MAX:
        parts.append(_table(b"co64", 0, "Q", [(o,) for o in chunk_offsets]))
    else:
        parts.append(_table(b"stco", 0, "I", [(o,) for o in chunk_offsets]))
    return box(b"stbl", *parts)


def mdat_header(payload_size: int) -> bytes:
    """The mdat header: 8 bytes, or 16 (size 1 and a 64-bit largesize) when the box would not
    fit a 32-bit size."""
    if payload_size + 8 > _U32_MAX:
        return struct.pack("!I4sQ", 1, b"mdat", payload_size + 16)
    return struct.pack("!I4s", payload_size + 8, b"mdat")


def _timestamp(creation_time: datetime | None) -> int:
    """Seconds since 1904-01-01 UTC, or 0 without a time."""
    if creation_time is None:
        return 0
    if creation_time.tzinfo is None:
        raise ValueError("creation_time must carry a time zone")
    seconds = int((creation_time - _EPOCH_1904).total_seconds())
    if seconds < 0:
        raise ValueError(f"creation_time {creation_time.isoformat()} is before 1904")
    return seconds


def _times(version: int, created: int, duration: int, *middle: int) -> bytes:
    """creation and modification time, the `middle` 32-bit fields, duration: v0 or v1 sizes."""
    wide = "Q" if version == 1 else "I"
    return struct.pack(
        f"!{wide}{wide}{'I' * len(middle)}{wide}", created, created, *middle, duration
    )


def _moov(
    track: TrackSource,
    samples: Sequence[OutSample],
    created: int,
    chunk_counts: Sequence[int],
    chunk_offsets: Sequence[int],
) -> bytes:
    duration = sum(s.duration for s in samples)
    version = 1 if max(duration, created) > _U32_MAX else 0
    track_id = 1
    mvhd = full_box(
        b"mvhd",
        version,
        0,
        _times(version, created, duration, track.timescale),
        struct.pack("!IH", 0x00010000, 0x0100),  # rate 1.0, volume 1.0
        bytes(10),  # reserved
        IDENTITY_MATRIX,
        bytes(24),  # pre_defined
        struct.pack("!I", track_id + 1),  # next_track_ID
    )
    tkhd = full_box(
        b"tkhd",
        version,
        7,  # track_enabled | track_in_movie | track_in_preview
        _times(version, created, duration, track_id, 0),  # track_ID, reserved
        bytes(8),  # reserved
        struct.pack("!hhhH", 0, 0, 0, 0),  # layer, alternate_group, volume, reserved
        IDENTITY_MATRIX,
        struct.pack("!II", track.width << 16, track.height << 16),
    )
    mdhd = full_box(
        b"mdhd",
        version,
        0,
        _times(version, created, duration, track.timescale),
        struct.pack("!HH", _LANGUAGE_UND, 0),
    )
    hdlr = full_box(b"hdlr", 0, 0, struct.pack("!I4s12x", 0, b"vide"), b"VideoHandler\x00")
    vmhd = full_box(b"vmhd", 0, 1, bytes(8))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack("!I", 1), full_box(b"url ", 0, 1)))
    stbl = sample_table(track.stsd, samples, chunk_counts, chunk_offsets)
    mdia = box(b"mdia", mdhd, hdlr, box(b"minf", vmhd, dinf, stbl))
    return box(b"moov", mvhd, box(b"trak", tkhd, mdia))


def _check(track: TrackSource, samples: Sequence[OutSample]) -> None:
    if not samples:
        raise ValueError("an MP4 file needs at least one sample")
    if not samples[0].is_sync:
        raise ValueError("the first sample is not a sync sample, so nothing could be decoded")
    for number, sample in enumerate(samples, 1):
        if sample.duration <= 0 or sample.duration > _U32_MAX:
            raise ValueError(f"sample {number} has duration {sample.duration}, not 1 to 2^32 - 1")
        if not 0 <= sample.size <= _U32_MAX:
            raise ValueError(f"sample {number} has size {sample.size}, not 0 to 2^32 - 1")
        if not -(2**31) <= sample.composition_offset <= _U32_MAX:
            raise ValueError(f"sample {number}'s composition offset is out of range")
    offsets = [s.composition_offset for s in samples]
    if min(offsets) < 0 and max(offsets) >= 2**31:
        raise ValueError("composition offsets mixing negative values and 2^31 or more")
    if not 0 < track.timescale <= _U32_MAX:
        raise ValueError(f"timescale {track.timescale} is not a positive 32-bit number")
    if not (0 < track.width <= MAX_PICTURE_SIDE and 0 < track.height <= MAX_PICTURE_SIDE):
        raise ValueError(f"a {track.width}x{track.height} picture cannot be described in MP4")
    stsd = track.stsd
    if len(stsd) < 16 or stsd[4:8] != b"stsd" or struct.unpack_from("!I", stsd)[0] != len(stsd):
        raise ValueError("the track's stsd is not one complete stsd box")


def write_mp4(
    out: BinaryIO,
    track: TrackSource,
    samples: Sequence[OutSample],
    chunks: Iterable[bytes | memoryview],
    *,
    creation_time: datetime | None = None,
) -> Mp4Summary:
    """Writes ftyp, moov and one mdat to `out`; the mdat's payload is the bytes `chunks` yields,
    in order, which must add up to the samples' sizes.

    ValueError for no samples, a first sample that is not sync, a non-positive duration, or
    chunk bytes that do not match the sizes (found while streaming: `out` then holds a partial
    file, for the caller to discard). creation_time (aware) fills the creation and modification
    times, as seconds since 1904; without it they are 0.
    """
    _check(track, samples)
    created = _timestamp(creation_time)
    ftyp = box(b"ftyp", b"isom", struct.pack("!I", 512), b"isom", b"iso2", b"avc1", b"mp41")
    payload = sum(s.size for s in samples)
    header = mdat_header(payload)
    counts = chunk_sizes(samples)
    relative = [0]
    index = 0
    for count in counts[:-1]:
        relative.append(relative[-1] + sum(s.size for s in samples[index : index + count]))
        index += count
    # the moov's size depends on stco vs co64, which depends on the offsets after the moov
    data_start = len(ftyp) + len(header)
    for _ in range(3):
        moov = _moov(track, samples, created, counts, [data_start + r for r in relative])
        settled = len(ftyp) + len(moov) + len(header)
        if settled == data_start:
            break
        data_start = settled
    else:  # pragma: no cover - the size changes at most once (stco to co64)
        raise AssertionError("the moov's size did not settle")

    digest = hashlib.sha256()
    for part in (ftyp, moov, header):
        digest.update(part)
        out.write(part)
    written = 0
    for chunk in chunks:
        size = chunk.nbytes if isinstance(chunk, memoryview) else len(chunk)
        if written + size > payload:
            raise ValueError(
                f"the sample data runs past the {payload} bytes the samples' sizes add up to"
            )
        digest.update(chunk)
        out.write(chunk)
        written += size
    if written != payload:
        raise ValueError(
            f"the sample data is {written} bytes but the samples' sizes add up to {payload}"
        )
    duration = sum(s.duration for s in samples)
    return Mp4Summary(
        bytes=data_start + payload,
        frames=len(samples),
        duration=duration / track.timescale,
        sha256=digest.hexdigest(),
    )
