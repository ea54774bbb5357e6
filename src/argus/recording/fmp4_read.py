"""Reading fragmented MP4 (ISO/IEC 14496-12) recordings: the init segment and the fragments.

`parse_init` reads ftyp + moov of a single-video-track file (as `argus.media.fmp4.init_segment`
writes it); `scan_fragments` walks the moof + mdat pairs after it and says where every sample's
bytes are. Scanning never raises for any byte content: a box cut short by the end of the data
is a torn tail (what a crash leaves), anything else that cannot be read stops the scan with a
reason, so that a crash check can keep the complete fragments and drop the rest.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from argus.errors import ArgusError

Codec = Literal["h264", "h265"]
Data = bytes | memoryview


class Mp4ReadError(ArgusError):
    """An MP4 recording whose init segment cannot be read."""

    code = "bad_recording"


@dataclass(frozen=True, slots=True)
class InitInfo:
    """What the init segment (ftyp + moov) says about the video track."""

    size: int
    """Bytes of ftyp + moov: the offset of the first fragment."""
    timescale: int
    track_id: int
    codec: Codec
    width: int
    height: int
    stsd: bytes
    """The complete stsd box, header included, for re-use in another MP4."""
    data: bytes
    """The init segment's bytes."""


@dataclass(frozen=True, slots=True)
class SampleRef:
    """Where one sample's bytes are in the file, and its timing."""

    offset: int
    """Absolute offset of the sample's bytes in the data."""
    size: int
    duration: int
    is_sync: bool
    composition_offset: int
    decode_time: int
    """In timescale units."""


@dataclass(frozen=True, slots=True)
class Fragment:
    """One moof and the mdat after it."""

    offset: int
    """Of the moof."""
    size: int
    """Of moof + mdat."""
    sequence: int
    base_decode_time: int
    samples: tuple[SampleRef, ...]

    @property
    def end(self) -> int:
        """The offset just after the mdat."""
        return self.offset + self.size

    @property
    def duration(self) -> int:
        """The sum of the samples' durations, in timescale units."""
        return sum(sample.duration for sample in self.samples)

    @property
    def starts_with_sync(self) -> bool:
        """Whether the first sample is a sync sample (a fragment to start playback at)."""
        return bool(self.samples) and self.samples[0].is_sync


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The complete fragments found, and what follows the last of them."""

    fragments: list[Fragment]
    complete_end: int
    """The offset just after the last complete fragment, or the start offset when none."""
    trailing: int
    """Bytes at the end of the scanned range that form no complete box: a torn tail, or the
    malformed box onward. complete_end + (complete non-fragment boxes after the last fragment,
    e.g. an mfra) + trailing is the end of the range; 0 when the range ends on a box boundary."""
    error: str | None
    """Why scanning stopped early when the data was malformed rather than cut short."""


class _Malformed(Exception):
    """Internal: a box that cannot be read; its message is the scan's error."""


_HEADER = struct.Struct("!I4s")
_U32 = struct.Struct("!I")
_U64 = struct.Struct("!Q")
_TWO_U32 = struct.Struct("!II")

_TFHD_BASE_DATA_OFFSET = 0x000001
_TFHD_SAMPLE_DESCRIPTION_INDEX = 0x000002
_TFHD_DEFAULT_DURATION = 0x000008
_TFHD_DEFAULT_SIZE = 0x000010
_TFHD_DEFAULT_FLAGS = 0x000020
_TFHD_DEFAULT_BASE_IS_MOOF = 0x020000

_TRUN_DATA_OFFSET = 0x000001
_TRUN_FIRST_SAMPLE_FLAGS = 0x000004
_TRUN_DURATION = 0x000100
_TRUN_SIZE = 0x000200
_TRUN_FLAGS = 0x000400
_TRUN_COMPOSITION = 0x000800

_QUICK = struct.Struct("!I4sI4sIII4sI4sIII4sIQI4sIIi")
"""moof, mfhd, traf, tfhd without optional fields, tfdt version 1 and the trun up to its data
offset: the layout `argus.media.fmp4.media_segment` writes, read at once by `_quick_fragment`."""
_OUR_TRUN = _TRUN_DATA_OFFSET | _TRUN_DURATION | _TRUN_SIZE | _TRUN_FLAGS
_sample_structs: dict[tuple[int, str], struct.Struct] = {}

_NON_SYNC = 0x00010000
_MAX_EMPTY_SAMPLES = 1 << 16
"""Most samples one trun may declare when neither it nor tfhd gives them any bytes."""

_SAMPLE_ENTRIES: dict[bytes, Codec] = {
    b"avc1": "h264",
    b"avc3": "h264",
    b"hvc1": "h265",
    b"hev1": "h265",
}

_PRINTABLE = bytes(range(0x20, 0x7F))


def _is_four_cc(kind: bytes) -> bool:
    """Whether a box type is four printable ASCII characters (as every registered type is)."""
    return not kind.translate(None, _PRINTABLE)


def _of(moof_start: int) -> str:
    return f"of the moof at offset {moof_start}"


def _box(data: Data, pos: int, end: int) -> tuple[bytes, int, int]:
    """The type, payload start and end of the child box at `pos`; _Malformed if it does not fit
    within `end`."""
    if pos + 8 > end:
        raise _Malformed(f"a box header at offset {pos} runs past its parent box")
    size, kind = _HEADER.unpack_from(data, pos)
    header = 8
    if size == 1:
        if pos + 16 > end:
            raise _Malformed(f"a box header at offset {pos} runs past its parent box")
        (size,) = _U64.unpack_from(data, pos + 8)
        header = 16
    elif size == 0:
        size = end - pos
    if size < header or pos + size > end:
        raise _Malformed(f"the {_name(kind)} box at offset {pos} has a bad size ({size})")
    return kind, pos + header, pos + size


def _children(data: Data, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    """The first child box of each type within data[start:end]: payload start and box end."""
    found: dict[bytes, tuple[int, int]] = {}
    pos = start
    while pos < end:
        kind, payload, pos = _box(data, pos, end)
        found.setdefault(kind, (payload, pos))
    return found


def _all_children(data: Data, start: int, end: int, wanted: bytes) -> list[tuple[int, int]]:
    """Every child box of type `wanted` within data[start:end], in order."""
    found: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        kind, payload, pos = _box(data, pos, end)
        if kind == wanted:
            found.append((payload, pos))
    return found


def _name(kind: bytes) -> str:
    return kind.decode("ascii") if _is_four_cc(kind) else kind.hex()


# --- the init segment ----------------------------------------------------------------------------


def parse_init(data: Data) -> InitInfo:
    """The init segment at the start of `data`: ftyp (optional) and moov, with one video track.

    Mp4ReadError when the moov is missing, cut short or has no readable avc1/avc3/hvc1/hev1
    video track.
    """
    total = len(data)
    pos = 0
    moov: tuple[int, int] | None = None
    while moov is None:
        if pos + 8 > total:
            if pos == 0:
                raise Mp4ReadError(f"{total} bytes are too few to be an MP4 recording")
            raise Mp4ReadError("the recording ends before its moov box")
        size, kind = _HEADER.unpack_from(data, pos)
        header = 8
        if size == 1 and pos + 16 <= total:
            (size,) = _U64.unpack_from(data, pos + 8)
            header = 16
        if not _is_four_cc(kind) or size < header:
            raise Mp4ReadError(f"the recording has no valid MP4 box at offset {pos}")
        if kind in (b"moof", b"mdat"):
            raise Mp4ReadError(f"the recording has no moov box before its {_name(kind)} box")
        if pos + size > total:
            raise Mp4ReadError(
                f"the recording's {_name(kind)} box at offset {pos} is cut short "
                f"({size} bytes declared, {total - pos} present)"
            )
        if kind == b"moov":
            moov = (pos + header, pos + size)
        pos += size
    try:
        return _read_moov(data, moov[0], moov[1])
    except (_Malformed, struct.error) as exc:
        raise Mp4ReadError(f"the recording's moov box cannot be read: {exc}") from None


def _read_moov(data: Data, start: int, end: int) -> InitInfo:
    for trak_start, trak_end in _all_children(data, start, end, b"trak"):
        trak = _children(data, trak_start, trak_end)
        if b"mdia" not in trak or b"tkhd" not in trak:
            continue
        mdia = _children(data, *trak[b"mdia"])
        hdlr = mdia.get(b"hdlr")  # version and flags, pre_defined, then handler_type
        if hdlr is None or bytes(data[hdlr[0] + 8 : min(hdlr[0] + 12, hdlr[1])]) != b"vide":
            continue
        return _read_video_trak(data, trak, mdia, end)
    raise Mp4ReadError("the recording's moov box has no video track")


def _read_video_trak(
    data: Data,
    trak: dict[bytes, tuple[int, int]],
    mdia: dict[bytes, tuple[int, int]],
    moov_end: int,
) -> InitInfo:
    tkhd_start, tkhd_end = trak[b"tkhd"]
    field = tkhd_start + (20 if tkhd_start < tkhd_end and data[tkhd_start] == 1 else 12)
    if field + 4 > tkhd_end:
        raise Mp4ReadError("the video track's tkhd box is too short")
    (track_id,) = _U32.unpack_from(data, field)

    if b"mdhd" not in mdia or b"minf" not in mdia:
        raise Mp4ReadError("the video track has no mdhd or minf box")
    mdhd_start, mdhd_end = mdia[b"mdhd"]
    field = mdhd_start + (20 if mdhd_start < mdhd_end and data[mdhd_start] == 1 else 12)
    if field + 4 > mdhd_end:
        raise Mp4ReadError("the video track's mdhd box is too short")
    (timescale,) = _U32.unpack_from(data, field)
    if timescale == 0:
        raise Mp4ReadError("the video track's timescale is 0")

    stbl = _children(data, *mdia[b"minf"]).get(b"stbl")
    stsd: tuple[int, int, int] | None = None
    pos, stbl_end = stbl if stbl is not None else (0, 0)
    while stsd is None and pos < stbl_end:
        box_start = pos
        kind, payload, pos = _box(data, pos, stbl_end)
        if kind == b"stsd":
            stsd = (box_start, payload, pos)
    if stsd is None:
        raise Mp4ReadError("the video track has no stsd box")
    box_start, stsd_start, stsd_end = stsd
    if stsd_start + 8 > stsd_end:
        raise Mp4ReadError("the video track's stsd box is too short")
    kind, entry_start, entry_end = _box(data, stsd_start + 8, stsd_end)
    codec = _SAMPLE_ENTRIES.get(kind)
    if codec is None:
        raise Mp4ReadError(
            f"the video track's sample entry {_name(kind)!r} is not H.264 or H.265 "
            "(avc1, avc3, hvc1 or hev1)"
        )
    if entry_start + 28 > entry_end:
        raise Mp4ReadError(f"the video track's {_name(kind)} sample entry is too short")
    width, height = struct.unpack_from("!HH", data, entry_start + 24)
    return InitInfo(
        size=moov_end,
        timescale=timescale,
        track_id=track_id,
        codec=codec,
        width=width,
        height=height,
        stsd=bytes(data[box_start:stsd_end]),
        data=bytes(data[:moov_end]),
    )


# --- fragments -----------------------------------------------------------------------------------


def scan_fragments(
    data: Data,
    start: int,
    end: int | None = None,
    track_id: int | None = None,
    default_duration: int = 0,
) -> ScanResult:
    """The complete moof + mdat fragments in data[start:end], in order.

    Other top-level boxes (styp, sidx, prft, free, skip, emsg, mfra, ...) are skipped. A box cut
    short by `end` ends the scan as a torn tail; a malformed one ends it with `error` set. With
    `track_id`, each moof must have a traf for it; without, the first traf is read.
    `default_duration` applies to samples for which neither trun nor tfhd gives a duration.
    ValueError only for a bad `start` or `end`, never for the bytes themselves.
    """
    limit = len(data) if end is None else min(end, len(data))
    if not 0 <= start <= limit:
        raise ValueError(f"start {start} is not within the {limit} bytes to scan")
    fragments: list[Fragment] = []
    complete_end = start
    pos = start
    error: str | None = None
    moof: tuple[int, int, int] | None = None  # start, payload start, end of a moof before mdat
    try:
        while pos < limit:
            if pos + 8 > limit:
                break  # torn: a box header cut short
            size, kind = _HEADER.unpack_from(data, pos)
            header = 8
            if size == 1:
                if pos + 16 > limit:
                    break
                (size,) = _U64.unpack_from(data, pos + 8)
                header = 16
            elif size == 0 and kind == b"mdat":
                size = limit - pos
            if kind.translate(None, _PRINTABLE):  # not four printable characters
                error = f"there is no valid box at offset {pos}"
                break
            if size < header:
                error = f"the {_name(kind)} box at offset {pos} has a bad size ({size})"
                break
            box_end = pos + size
            if box_end > limit:
                break  # torn: the box runs past the data
            if moof is not None:
                if kind != b"mdat":
                    error = f"the moof at offset {moof[0]} is not followed by an mdat"
                    break
                fragments.append(
                    _fragment(data, moof, pos + header, box_end, track_id, default_duration)
                )
                complete_end = pos = box_end
                moof = None
                continue
            if kind == b"moof":
                quick = (
                    None if header != 8 else _quick_fragment(data, pos, box_end, limit, track_id)
                )
                if quick is not None:
                    fragments.append(quick)
                    complete_end = pos = quick.offset + quick.size
                    continue
                moof = (pos, pos + header, box_end)
            pos = box_end
    except (_Malformed, struct.error) as exc:
        error = str(exc)
    stop = moof[0] if moof is not None else pos
    return ScanResult(fragments, complete_end, limit - stop, error)


def _quick_fragment(
    data: Data, pos: int, moof_end: int, limit: int, track_id: int | None
) -> Fragment | None:
    """The fragment at `pos` when it has exactly the layout of `media_segment` and its mdat is
    complete; None otherwise (for the general reader to decide)."""
    moof_size = moof_end - pos
    if moof_size < _QUICK.size or moof_end + 8 > limit:
        return None
    (
        _,
        _,
        mfhd_size,
        mfhd,
        _,
        sequence,
        traf_size,
        traf,
        tfhd_size,
        tfhd,
        tfhd_flags,
        track,
        tfdt_size,
        tfdt,
        tfdt_version_flags,
        base_time,
        trun_size,
        trun,
        trun_version_flags,
        count,
        offset,
    ) = _QUICK.unpack_from(data, pos)
    flags = trun_version_flags & 0xFFFFFF
    width = 3 if flags == _OUR_TRUN else 4 if flags == _OUR_TRUN | _TRUN_COMPOSITION else 0
    if not (
        width
        and moof_size == _QUICK.size + 4 * width * count
        and mfhd_size == 16
        and mfhd == b"mfhd"
        and traf_size == moof_size - 24
        and traf == b"traf"
        and tfhd_size == 16
        and tfhd == b"tfhd"
        and tfhd_flags & 0xFFFFFF in (0, _TFHD_DEFAULT_BASE_IS_MOOF)
        and (track_id is None or track == track_id)
        and tfdt_size == 20
        and tfdt == b"tfdt"
        and tfdt_version_flags >> 24 == 1
        and trun_size == moof_size - 68
        and trun == b"trun"
    ):
        return None
    mdat_size, mdat = _HEADER.unpack_from(data, moof_end)
    mdat_end = moof_end + mdat_size
    if mdat != b"mdat" or mdat_size < 8 or mdat_end > limit:
        return None
    kinds = "III" if width == 3 else "IIIi" if trun_version_flags >> 24 == 1 else "IIII"
    packer = _sample_structs.get((count, kinds))
    if packer is None:
        packer = struct.Struct("!" + kinds * count)
        if len(_sample_structs) < 1024:
            _sample_structs[count, kinds] = packer
    values = packer.unpack_from(data, pos + _QUICK.size)
    sample_pos = pos + offset
    if sample_pos < moof_end + 8 or sample_pos + sum(values[1::width]) > mdat_end:
        return None
    samples: list[SampleRef] = []
    append = samples.append
    decode_time = base_time
    for i in range(0, len(values), width):
        duration, size, sample_flags = values[i : i + 3]
        composition = values[i + 3] if width == 4 else 0
        append(
            SampleRef(
                sample_pos, size, duration, not sample_flags & _NON_SYNC, composition, decode_time
            )
        )
        sample_pos += size
        decode_time += duration
    return Fragment(pos, mdat_end - pos, sequence, base_time, tuple(samples))


def _fragment(
    data: Data,
    moof: tuple[int, int, int],
    mdat_start: int,
    mdat_end: int,
    track_id: int | None,
    default_duration: int,
) -> Fragment:
    """The fragment of a moof (start, payload start and end) and the mdat after it."""
    moof_start, moof_payload, moof_end = moof
    sequence = 0
    traf: tuple[int, int] | None = None
    pos = moof_payload
    while pos < moof_end:
        kind, payload, pos = _box(data, pos, moof_end)
        if kind == b"mfhd":
            if payload + 8 > pos:
                raise _Malformed(f"the mfhd box of the moof at offset {moof_start} is too short")
            (sequence,) = _U32.unpack_from(data, payload + 4)
        elif kind == b"traf" and traf is None:
            if track_id is None:
                traf = (payload, pos)
            else:
                tfhd = _children(data, payload, pos).get(b"tfhd")
                if (
                    tfhd is not None
                    and tfhd[0] + 8 <= tfhd[1]
                    and _U32.unpack_from(data, tfhd[0] + 4)[0] == track_id
                ):
                    traf = (payload, pos)
    if traf is None:
        which = "a traf" if track_id is None else f"a traf for track {track_id}"
        raise _Malformed(f"the moof at offset {moof_start} has no {which}")
    base_time, samples = _traf(data, traf, moof_start, mdat_start, mdat_end, default_duration)
    return Fragment(moof_start, mdat_end - moof_start, sequence, base_time, samples)


def _traf(
    data: Data,
    traf: tuple[int, int],
    moof_start: int,
    mdat_start: int,
    mdat_end: int,
    default_duration: int,
) -> tuple[int, tuple[SampleRef, ...]]:
    """The base decode time and samples of a traf."""
    tfhd: tuple[int, int] | None = None
    tfdt: tuple[int, int] | None = None
    truns: list[tuple[int, int]] = []
    pos, traf_end = traf
    while pos < traf_end:
        kind, payload, pos = _box(data, pos, traf_end)
        if kind == b"trun":
            truns.append((payload, pos))
        elif kind == b"tfhd" and tfhd is None:
            tfhd = (payload, pos)
        elif kind == b"tfdt" and tfdt is None:
            tfdt = (payload, pos)
    where = f"of the moof at offset {moof_start}"
    if tfhd is None:
        raise _Malformed(f"the traf {where} has no tfhd")
    if tfdt is None:
        raise _Malformed(f"the traf {where} has no tfdt")

    # tfhd: defaults
    field, tfhd_end = tfhd
    if field + 8 > tfhd_end:
        raise _Malformed(f"the tfhd {where} is too short")
    flags = _U32.unpack_from(data, field)[0] & 0xFFFFFF
    field += 8  # version/flags, track_ID
    need = (
        (8 if flags & _TFHD_BASE_DATA_OFFSET else 0)
        + 4 * bool(flags & _TFHD_SAMPLE_DESCRIPTION_INDEX)
        + 4 * bool(flags & _TFHD_DEFAULT_DURATION)
        + 4 * bool(flags & _TFHD_DEFAULT_SIZE)
        + 4 * bool(flags & _TFHD_DEFAULT_FLAGS)
    )
    if field + need > tfhd_end:
        raise _Malformed(f"the tfhd {where} is shorter than its flags say")
    base_offset = moof_start
    if flags & _TFHD_BASE_DATA_OFFSET:
        (base_offset,) = _U64.unpack_from(data, field)
        field += 8
    if flags & _TFHD_SAMPLE_DESCRIPTION_INDEX:
        field += 4
    duration_default = default_duration
    size_default: int | None = None
    flags_default = 0
    if flags & _TFHD_DEFAULT_DURATION:
        (duration_default,) = _U32.unpack_from(data, field)
        field += 4
    if flags & _TFHD_DEFAULT_SIZE:
        (size_default,) = _U32.unpack_from(data, field)
        field += 4
    if flags & _TFHD_DEFAULT_FLAGS:
        (flags_default,) = _U32.unpack_from(data, field)

    # tfdt: the first sample's decode time
    field, tfdt_end = tfdt
    version = data[field] if field < tfdt_end else 0
    if field + (12 if version == 1 else 8) > tfdt_end:
        raise _Malformed(f"the tfdt {where} is too short")
    base_time: int = (_U64 if version == 1 else _U32).unpack_from(data, field + 4)[0]

    samples: list[SampleRef] = []
    decode_time = base_time
    data_pos = base_offset
    for trun_start, trun_end in truns:
        data_pos, decode_time = _trun(
            data,
            trun_start,
            trun_end,
            data_pos,
            base_offset,
            decode_time,
            duration_default,
            size_default,
            flags_default,
            (mdat_start, mdat_end, moof_start),
            samples,
        )
    return base_time, tuple(samples)


def _trun(
    data: Data,
    field: int,
    trun_end: int,
    data_pos: int,
    base_offset: int,
    decode_time: int,
    duration_default: int,
    size_default: int | None,
    flags_default: int,
    mdat: tuple[int, int, int],
    samples: list[SampleRef],
) -> tuple[int, int]:
    """Appends one trun's samples; the data position and decode time after them."""
    mdat_start, mdat_end, moof_start = mdat
    if field + 8 > trun_end:
        raise _Malformed(f"a trun {_of(moof_start)} is too short")
    version_flags, count = _TWO_U32.unpack_from(data, field)
    version, flags = version_flags >> 24, version_flags & 0xFFFFFF
    field += 8
    if flags & _TRUN_DATA_OFFSET:
        if field + 4 > trun_end:
            raise _Malformed(f"a trun {_of(moof_start)} is shorter than its flags say")
        data_pos = base_offset + struct.unpack_from("!i", data, field)[0]
        field += 4
    first_flags: int | None = None
    if flags & _TRUN_FIRST_SAMPLE_FLAGS:
        if field + 4 > trun_end:
            raise _Malformed(f"a trun {_of(moof_start)} is shorter than its flags say")
        (first_flags,) = _U32.unpack_from(data, field)
        field += 4
    has_duration = bool(flags & _TRUN_DURATION)
    has_size = bool(flags & _TRUN_SIZE)
    has_flags = bool(flags & _TRUN_FLAGS)
    has_composition = bool(flags & _TRUN_COMPOSITION)
    per_sample = has_duration + has_size + has_flags + has_composition
    if field + 4 * per_sample * count > trun_end:
        raise _Malformed(f"a trun {_of(moof_start)} has no room for its {count} samples")
    if not has_size and size_default is None:
        raise _Malformed(f"a trun {_of(moof_start)} gives no sample sizes, nor does its tfhd")
    if per_sample == 0 and count > _MAX_EMPTY_SAMPLES and not size_default:
        raise _Malformed(f"a trun {_of(moof_start)} declares {count} samples without any bytes")
    if count == 0:
        return data_pos, decode_time

    if per_sample:
        kinds = ("I" if has_duration else "") + ("I" if has_size else "")
        kinds += ("I" if has_flags else "") + (
            ("i" if version == 1 else "I") if has_composition else ""
        )
        values = struct.unpack_from("!" + kinds * count, data, field)
        column = 0
        durations = values[column::per_sample] if has_duration else None
        column += has_duration
        sizes = values[column::per_sample] if has_size else None
        column += has_size
        all_flags = values[column::per_sample] if has_flags else None
        column += has_flags
        offsets = values[column::per_sample] if has_composition else None
    else:
        durations = sizes = all_flags = offsets = None

    total_size = sum(sizes) if sizes is not None else count * (size_default or 0)
    if data_pos < mdat_start or data_pos + total_size > mdat_end:
        raise _Malformed(f"a trun {_of(moof_start)} places samples outside the mdat after it")

    append = samples.append
    duration = duration_default
    size = size_default or 0
    for i in range(count):
        if durations is not None:
            duration = durations[i]
        if sizes is not None:
            size = sizes[i]
        if i == 0 and first_flags is not None:
            sample_flags = first_flags
        elif all_flags is not None:
            sample_flags = all_flags[i]
        else:
            sample_flags = flags_default
        composition = offsets[i] if offsets is not None else 0
        append(
            SampleRef(
                data_pos, size, duration, not sample_flags & _NON_SYNC, composition, decode_time
            )
        )
        data_pos += size
        decode_time += duration
    return data_pos, decode_time


def read_file(path: Path) -> tuple[InitInfo, ScanResult]:
    """The init segment and fragments of a whole fMP4 file (read into memory at once)."""
    data = path.read_bytes()
    init = parse_init(data)
    return init, scan_fragments(data, init.size, track_id=init.track_id)
