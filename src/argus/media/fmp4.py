"""Fragmented MP4 (ISO/IEC 14496-12) for H.264 and H.265: the init segment and media segments.

`video_format` reads a stream's parameter sets once; `init_segment` writes ftyp + moov for it
(one video track, an avc1/hvc1 sample entry carrying the avcC/hvcC, mvex for fragments);
`media_segment` writes one moof + mdat per call from samples whose NAL units are length-prefixed
by `sample_data`. Media segments are built on the hot path (once per frame per camera), so they
are packed with one cached `struct.Struct` per shape and one bytes join; `media_segment_header`
gives the moof and mdat header alone, for callers that send the sample bytes without copying.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from argus.errors import ArgusError
from argus.media import h264, h265
from argus.media.errors import RtpError
from argus.media.nal import ParameterSets

Codec = Literal["h264", "h265"]

SYNC_SAMPLE_FLAGS = 0x02000000
"""sample_depends_on 2 (depends on no other sample)."""
NON_SYNC_SAMPLE_FLAGS = 0x01010000
"""sample_depends_on 1 and sample_is_non_sync_sample."""

MAX_PICTURE_SIDE = 0xFFFF  # tkhd and the visual sample entry hold 16-bit sizes
_MAX_MDAT_PAYLOAD = 0xFFFFFFFF - 8


class Fmp4Error(ArgusError):
    """A stream that cannot be written as fMP4 (parameter sets missing or unreadable, bad sizes)."""

    code = "bad_video_format"


@dataclass(frozen=True, slots=True)
class VideoFormat:
    """What an init segment and a browser need to know about one video stream."""

    codec: Codec
    width: int
    height: int
    codec_string: str
    """RFC 6381 value, e.g. avc1.64001F or hvc1.1.6.L93.B0 (for MSE's addSourceBuffer)."""
    decoder_config: bytes
    """The avcC or hvcC record."""
    timescale: int = 90000

    @property
    def mime_type(self) -> str:
        """For example video/mp4; codecs="avc1.64001F"."""
        return f'video/mp4; codecs="{self.codec_string}"'


@dataclass(frozen=True, slots=True)
class Sample:
    """One access unit of a media segment."""

    data: bytes | bytearray | memoryview
    """NAL units each prefixed by a 4-byte big-endian length (see `sample_data`)."""
    duration: int
    """In timescale units."""
    is_sync: bool
    composition_offset: int = 0
    """Presentation minus decode time, in timescale units; non-zero only with B-frames."""


def video_format(
    codec: Codec, parameter_sets: ParameterSets, timescale: int = 90000
) -> VideoFormat:
    """The format of a stream from its parameter sets; Fmp4Error if they are missing or bad."""
    if timescale <= 0 or timescale > 0xFFFFFFFF:
        raise Fmp4Error(f"timescale {timescale} is not a positive 32-bit number")
    name = {"h264": "H.264", "h265": "H.265"}.get(codec)
    if name is None:
        raise Fmp4Error(f"codec {codec!r} is not h264 or h265")
    vps, sps, pps = parameter_sets.vps, parameter_sets.sps, parameter_sets.pps
    missing = [
        kind
        for kind, unit in (("VPS", vps if codec == "h265" else b"-"), ("SPS", sps), ("PPS", pps))
        if not unit
    ]
    if missing or not sps or not pps:
        names = " and ".join([", ".join(missing[:-1]), missing[-1]] if missing[:-1] else missing)
        verb = "is" if len(missing) == 1 else "are"
        raise Fmp4Error(f"cannot describe the {name} stream: its {names} {verb} not known yet")
    try:
        if codec == "h264":
            info264 = h264.read_sps(sps)
            width, height = info264.width, info264.height
            codec_string = info264.codec_string
            config = h264.build_avcc([sps], [pps])
        else:
            info265 = h265.read_sps(sps)
            width, height = info265.width, info265.height
            codec_string = info265.codec_string
            config = h265.build_hvcc([vps or b""], [sps], [pps])
    except RtpError as exc:
        raise Fmp4Error(f"the {name} parameter sets cannot be used: {exc}") from exc
    if width > MAX_PICTURE_SIDE or height > MAX_PICTURE_SIDE:
        raise Fmp4Error(f"a {width}x{height} picture is too large for MP4")
    return VideoFormat(codec, width, height, codec_string, config, timescale)


# --- init segment ------------------------------------------------------------------------------

IDENTITY_MATRIX = struct.pack("!9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)


def box(kind: bytes, *payload: bytes) -> bytes:
    """An ISO BMFF box: 32-bit size, type, payload."""
    body = b"".join(payload)
    return struct.pack("!I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    """A full box: a box whose payload starts with version (8 bits) and flags (24 bits)."""
    return box(kind, struct.pack("!I", (version << 24) | flags), *payload)


def _sample_entry(fmt: VideoFormat) -> bytes:
    """The avc1/hvc1 VisualSampleEntry (ISO/IEC 14496-12 §12.1.3, 14496-15 §5.4.2 and §8.4.1)."""
    kind, config = (b"avc1", b"avcC") if fmt.codec == "h264" else (b"hvc1", b"hvcC")
    name = b"Argus"
    return box(
        kind,
        bytes(6),  # reserved
        struct.pack("!H", 1),  # data_reference_index
        bytes(16),  # pre_defined, reserved, pre_defined[3]
        struct.pack("!HHIIIH", fmt.width, fmt.height, 0x00480000, 0x00480000, 0, 1),
        bytes((len(name),)) + name + bytes(31 - len(name)),  # compressorname
        struct.pack("!Hh", 0x0018, -1),  # depth, pre_defined
        box(config, fmt.decoder_config),
    )


def init_segment(fmt: VideoFormat, track_id: int = 1) -> bytes:
    """ftyp + moov for one video track whose samples all come in movie fragments."""
    if not 1 <= track_id <= 0xFFFFFFFE:
        raise Fmp4Error(f"track_id {track_id} is not between 1 and 2^32 - 2")
    ftyp = box(b"ftyp", b"iso5", struct.pack("!I", 512), b"iso5", b"iso6", b"mp41")
    mvhd = full_box(
        b"mvhd",
        0,
        0,
        struct.pack("!IIIIIH", 0, 0, fmt.timescale, 0, 0x00010000, 0x0100),
        bytes(10),  # reserved
        IDENTITY_MATRIX,
        bytes(24),  # pre_defined
        struct.pack("!I", track_id + 1),  # next_track_ID
    )
    tkhd = full_box(
        b"tkhd",
        0,
        3,  # track_enabled | track_in_movie
        struct.pack("!IIIII", 0, 0, track_id, 0, 0),
        bytes(8),  # reserved
        struct.pack("!hhhH", 0, 0, 0, 0),  # layer, alternate_group, volume, reserved
        IDENTITY_MATRIX,
        struct.pack("!II", fmt.width << 16, fmt.height << 16),
    )
    mdhd = full_box(b"mdhd", 0, 0, struct.pack("!IIIIHH", 0, 0, fmt.timescale, 0, 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, struct.pack("!I4s12x", 0, b"vide"), b"VideoHandler\x00")
    vmhd = full_box(b"vmhd", 0, 1, bytes(8))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack("!I", 1), full_box(b"url ", 0, 1)))
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack("!I", 1), _sample_entry(fmt)),
        full_box(b"stts", 0, 0, bytes(4)),
        full_box(b"stsc", 0, 0, bytes(4)),
        full_box(b"stsz", 0, 0, bytes(8)),
        full_box(b"stco", 0, 0, bytes(4)),
    )
    mdia = box(b"mdia", mdhd, hdlr, box(b"minf", vmhd, dinf, stbl))
    trex = full_box(b"trex", 0, 0, struct.pack("!IIIII", track_id, 1, 0, 0, 0))
    moov = box(b"moov", mvhd, box(b"trak", tkhd, mdia), box(b"mvex", trex))
    return ftyp + moov


# --- media segments (hot path) -------------------------------------------------------------------

_TFHD_DEFAULT_BASE_IS_MOOF = 0x020000
_TRUN_DATA_OFFSET = 0x000001
_TRUN_DURATION_SIZE_FLAGS = 0x000100 | 0x000200 | 0x000400
_TRUN_COMPOSITION_OFFSET = 0x000800
_FIXED_MOOF = 8 + 16 + 8 + 16 + 20 + 20
"""moof, mfhd, traf, tfhd, tfdt and trun (up to its data_offset) headers, in bytes."""

_layouts: dict[tuple[int, bool], tuple[struct.Struct, int]] = {}


def _layout(count: int, composition: bool) -> tuple[struct.Struct, int]:
    """The Struct packing moof + mdat header for `count` samples, and the moof's size."""
    key = (count, composition)
    found = _layouts.get(key)
    if found is None:
        per_sample = "IIIi" if composition else "III"
        packer = struct.Struct("!I4sI4sIII4sI4sIII4sIQI4sIIi" + per_sample * count + "I4s")
        found = (packer, _FIXED_MOOF + 4 * len(per_sample) * count)
        if len(_layouts) < 4096:
            _layouts[key] = found
    return found


_ONE_SAMPLE = struct.Struct("!I4sI4sIII4sI4sIII4sIQI4sIIiIIII4s")
_ONE_SAMPLE_MOOF = _FIXED_MOOF + 12


def _one_sample_header(
    sequence: int, base_decode_time: int, sample: Sample, track_id: int
) -> bytes:
    """`media_segment_header` for the usual live case, one sample without composition offset."""
    data = sample.data
    size = data.nbytes if isinstance(data, memoryview) else len(data)
    if size > _MAX_MDAT_PAYLOAD:
        raise Fmp4Error(f"a media segment of {size} bytes is too large for one mdat")
    try:
        return _ONE_SAMPLE.pack(
            _ONE_SAMPLE_MOOF,
            b"moof",
            16,
            b"mfhd",
            0,
            sequence,
            _ONE_SAMPLE_MOOF - 24,
            b"traf",
            16,
            b"tfhd",
            _TFHD_DEFAULT_BASE_IS_MOOF,
            track_id,
            20,
            b"tfdt",
            0x01000000,
            base_decode_time,
            _ONE_SAMPLE_MOOF - 68,
            b"trun",
            _TRUN_DATA_OFFSET | _TRUN_DURATION_SIZE_FLAGS,
            1,
            _ONE_SAMPLE_MOOF + 8,
            sample.duration,
            size,
            SYNC_SAMPLE_FLAGS if sample.is_sync else NON_SYNC_SAMPLE_FLAGS,
            size + 8,
            b"mdat",
        )
    except struct.error as exc:
        raise Fmp4Error(f"a media segment field is out of range: {exc}") from None


def media_segment_header(
    sequence: int, base_decode_time: int, samples: Sequence[Sample], track_id: int = 1
) -> bytes:
    """The moof and the mdat header of a media segment; the samples' data follow it in order."""
    count = len(samples)
    if count == 1 and not samples[0].composition_offset:
        return _one_sample_header(sequence, base_decode_time, samples[0], track_id)
    if count == 0:
        raise Fmp4Error("a media segment needs at least one sample")
    composition = False
    negative = False
    for sample in samples:
        offset = sample.composition_offset
        if offset:
            composition = True
            if offset < 0:
                negative = True
    packer, moof_size = _layout(count, composition)
    fields: list[int] = []
    payload = 0
    if composition:
        for sample in samples:
            data = sample.data
            size = data.nbytes if isinstance(data, memoryview) else len(data)
            payload += size
            flags = SYNC_SAMPLE_FLAGS if sample.is_sync else NON_SYNC_SAMPLE_FLAGS
            fields += (sample.duration, size, flags, sample.composition_offset)
        # version 1 (signed offsets) only when needed: version 0 is the more widely read
        trun_flags = _TRUN_COMPOSITION_OFFSET | (0x01000000 if negative else 0)
    else:
        for sample in samples:
            data = sample.data
            size = data.nbytes if isinstance(data, memoryview) else len(data)
            payload += size
            flags = SYNC_SAMPLE_FLAGS if sample.is_sync else NON_SYNC_SAMPLE_FLAGS
            fields += (sample.duration, size, flags)
        trun_flags = 0
    if payload > _MAX_MDAT_PAYLOAD:
        raise Fmp4Error(f"a media segment of {payload} bytes is too large for one mdat")
    try:
        return packer.pack(
            moof_size,
            b"moof",
            16,
            b"mfhd",
            0,
            sequence,
            moof_size - 24,
            b"traf",
            16,
            b"tfhd",
            _TFHD_DEFAULT_BASE_IS_MOOF,
            track_id,
            20,
            b"tfdt",
            0x01000000,  # version 1: 64-bit baseMediaDecodeTime
            base_decode_time,
            moof_size - 68,
            b"trun",
            trun_flags | _TRUN_DATA_OFFSET | _TRUN_DURATION_SIZE_FLAGS,
            count,
            moof_size + 8,  # data_offset: the first sample follows the mdat header
            *fields,
            payload + 8,
            b"mdat",
        )
    except struct.error as exc:
        raise Fmp4Error(f"a media segment field is out of range: {exc}") from None


def media_segment(
    sequence: int, base_decode_time: int, samples: Sequence[Sample], track_id: int = 1
) -> bytes:
    """moof + mdat for these samples (one track; trun with duration, size and flags of each).

    `sequence` is the mfhd sequence number (counting from 1), `base_decode_time` the decode time
    of the first sample in timescale units. Sync samples are marked as depending on no other
    sample; others as depending on one and non-sync. Offsets are relative to the moof.
    """
    header = media_segment_header(sequence, base_decode_time, samples, track_id)
    if len(samples) == 1:
        return b"".join((header, samples[0].data))
    return b"".join([header, *(sample.data for sample in samples)])


_H264_AUD = 9
_H265_AUD_HEADER_BYTE = h265.NAL_AUD << 1  # nuh_layer_id 0


def sample_data(nal_units: Sequence[bytes], codec: Codec | None = None) -> bytes:
    """The NAL units of one access unit, each behind a 4-byte length, access unit delimiters
    dropped; parameter sets and SEI stay in band.

    Without `codec`, both an H.264 AUD (type 9) and an H.265 AUD (type 35, nuh_layer_id 0) are
    dropped: neither first byte can begin a valid H.264 NAL unit or H.265 base-layer NAL unit
    of another type.
    """
    parts: list[bytes] = []
    pack = struct.Struct("!I").pack
    for nal in nal_units:
        if not nal:
            continue
        first = nal[0]
        if codec == "h264":
            if first & 0x1F == _H264_AUD:
                continue
        elif codec == "h265":
            if (first >> 1) & 0x3F == h265.NAL_AUD:
                continue
        elif first & 0x1F == _H264_AUD or first == _H265_AUD_HEADER_BYTE:
            continue
        parts.append(pack(len(nal)))
        parts.append(nal)
    return b"".join(parts)
