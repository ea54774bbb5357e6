"""fMP4 writer: real H.264 streams and libx265 output written as init + fragments, then read
back by ffprobe, by PyAV's decoders and by a minimal box parser written here."""

from __future__ import annotations

import json
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import av.logging
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.errors import ArgusError
from argus.media import h264, h265
from argus.media.fmp4 import (
    Codec,
    Fmp4Error,
    Sample,
    VideoFormat,
    init_segment,
    media_segment,
    media_segment_header,
    sample_data,
    video_format,
)
from argus.media.nal import ParameterSets, split_annexb
from tests.media.rtp_packetize import split_h264_access_units
from tests.media.test_h265_sps import encode_hevc, parameter_sets
from tests.shared import SHARED_DATA

FRAME = 6000  # 15 fps at 90 kHz
H264_SAMPLES = SHARED_DATA / "h264-samples"

# --- a minimal box reader, written from ISO/IEC 14496-12 ---------------------------------------

Box = tuple[bytes, int, int]
"""Type, start of the payload, end of the box."""


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[Box]:
    """The boxes that exactly tile data[start:end]."""
    end = len(data) if end is None else end
    out: list[Box] = []
    pos = start
    while pos < end:
        assert pos + 8 <= end, f"box header cut at {pos}"
        size, kind = struct.unpack_from("!I4s", data, pos)
        assert 8 <= size <= end - pos, f"{kind!r} at {pos} has size {size}"
        out.append((kind, pos + 8, pos + size))
        pos += size
    assert pos == end
    return out


def children(data: bytes, box: Box, skip: int = 0) -> dict[bytes, Box]:
    """The child boxes of `box` (after `skip` bytes of its own fields), by type; no repeats."""
    found = boxes(data, box[1] + skip, box[2])
    kinds = [b[0] for b in found]
    assert len(set(kinds)) == len(kinds), kinds
    return {b[0]: b for b in found}


@dataclass
class Fragment:
    sequence: int
    base_decode_time: int
    samples: list[tuple[int, int, int, int]]
    """Duration, size, flags and composition offset of each sample."""
    data: bytes
    """The mdat payload."""


def read_fragment(data: bytes, moof: Box, mdat: Box, track_id: int = 1) -> Fragment:
    """Check one moof + mdat pair and give back what it says."""
    assert moof[0] == b"moof" and mdat[0] == b"mdat"
    parts = children(data, moof)
    assert list(parts) == [b"mfhd", b"traf"]
    version_flags, sequence = struct.unpack_from("!II", data, parts[b"mfhd"][1])
    assert version_flags == 0
    traf = children(data, parts[b"traf"])
    assert list(traf) == [b"tfhd", b"tfdt", b"trun"]
    flags, track = struct.unpack_from("!II", data, traf[b"tfhd"][1])
    assert (flags, track) == (0x020000, track_id)  # default-base-is-moof, nothing else
    version_flags, base_time = struct.unpack_from("!IQ", data, traf[b"tfdt"][1])
    assert version_flags == 0x01000000
    pos = traf[b"trun"][1]
    version_flags, count, data_offset = struct.unpack_from("!IIi", data, pos)
    version, flags = version_flags >> 24, version_flags & 0xFFFFFF
    assert flags & ~0x800 == 0x000701  # data offset, duration, size, flags (+ composition)
    assert data_offset == moof[2] - (moof[1] - 8) + 8  # first byte of the mdat payload
    pos += 12
    samples = []
    for _ in range(count):
        if flags & 0x800:
            sample = struct.unpack_from("!IIIi" if version else "!IIII", data, pos)
            pos += 16
        else:
            sample = (*struct.unpack_from("!III", data, pos), 0)
            pos += 12
        samples.append(sample)
    assert pos == traf[b"trun"][2]
    assert sum(s[1] for s in samples) == mdat[2] - mdat[1]
    return Fragment(sequence, base_time, samples, data[mdat[1] : mdat[2]])


def read_init(data: bytes, fmt: VideoFormat, track_id: int = 1) -> int:
    """Check the ftyp + moov of an init segment; its length."""
    top = boxes(data)
    assert [b[0] for b in top[:2]] == [b"ftyp", b"moov"]
    moov = children(data, top[1])
    assert list(moov) == [b"mvhd", b"trak", b"mvex"]
    trak = children(data, moov[b"trak"])
    assert list(trak) == [b"tkhd", b"mdia"]
    tkhd = trak[b"tkhd"]
    assert struct.unpack_from("!I", data, tkhd[1] + 12)[0] == track_id
    assert struct.unpack_from("!II", data, tkhd[2] - 8) == (fmt.width << 16, fmt.height << 16)
    mdia = children(data, trak[b"mdia"])
    assert list(mdia) == [b"mdhd", b"hdlr", b"minf"]
    assert struct.unpack_from("!I", data, mdia[b"mdhd"][1] + 12)[0] == fmt.timescale
    assert data[mdia[b"hdlr"][1] + 8 : mdia[b"hdlr"][1] + 12] == b"vide"
    minf = children(data, mdia[b"minf"])
    assert list(minf) == [b"vmhd", b"dinf", b"stbl"]
    stbl = children(data, minf[b"stbl"])
    assert list(stbl) == [b"stsd", b"stts", b"stsc", b"stsz", b"stco"]
    entry_kind = b"avc1" if fmt.codec == "h264" else b"hvc1"
    entry = children(data, stbl[b"stsd"], skip=8)[entry_kind]
    assert struct.unpack_from("!HH", data, entry[1] + 24) == (fmt.width, fmt.height)
    config = children(data, entry, skip=78)[b"avcC" if fmt.codec == "h264" else b"hvcC"]
    assert data[config[1] : config[2]] == fmt.decoder_config
    (trex,) = children(data, moov[b"mvex"]).values()
    assert struct.unpack_from("!II", data, trex[1] + 4) == (track_id, 1)
    return top[1][2]


# --- streams -------------------------------------------------------------------------------------


@dataclass
class Frame:
    sample: Sample
    decode_time: int


@dataclass
class Stream:
    fmt: VideoFormat
    frames: list[Frame]


def h264_stream(name: str) -> Stream:
    aus = split_h264_access_units((H264_SAMPLES / name).read_bytes())
    units = [n for au in aus for n in au]
    sps = next(n for n in units if h264.nal_type(n) == h264.NAL_SPS)
    pps = next(n for n in units if h264.nal_type(n) == h264.NAL_PPS)
    fmt = video_format("h264", ParameterSets(sps=sps, pps=pps))
    frames = [
        Frame(
            Sample(
                sample_data(au, "h264"),
                FRAME,
                any(h264.nal_type(n) == h264.NAL_IDR for n in au),
            ),
            i * FRAME,
        )
        for i, au in enumerate(aus)
    ]
    return Stream(fmt, frames)


def h265_stream(
    width: int, height: int, pix_fmt: str, bframes: int, *, negative_offsets: bool = False
) -> Stream:
    """libx265 output; with B-frames, composition offsets from the encoder's pts and dts:
    decode times start at 0, or (negative_offsets) each frame's offset is pts - decode index."""
    params = f"keyint=6:min-keyint=6:scenecut=0:bframes={bframes}"
    packets = encode_hevc(width, height, pix_fmt, 14, params)
    vps, sps, pps = parameter_sets(packets)
    fmt = video_format("h265", ParameterSets(vps, sps, pps))
    first_dts = packets[0][2]
    frames = []
    for i, (au, pts, dts, key) in enumerate(packets):
        if negative_offsets:
            decode, offset = i, pts - i
        else:
            decode, offset = dts - first_dts, pts - dts
        sample = Sample(sample_data(split_annexb(au), "h265"), FRAME, key, offset * FRAME)
        frames.append(Frame(sample, decode * FRAME))
    return Stream(fmt, frames)


def write(path: Path, stream: Stream, per_gop: bool) -> list[list[Frame]]:
    """Init segment and fragments (one per frame, or one per GOP) to `path`; the fragments."""
    groups: list[list[Frame]] = []
    for frame in stream.frames:
        if not groups or not per_gop or frame.sample.is_sync:
            groups.append([])
        groups[-1].append(frame)
    with path.open("wb") as out:
        out.write(init_segment(stream.fmt))
        for i, group in enumerate(groups):
            segment = media_segment(i + 1, group[0].decode_time, [f.sample for f in group])
            out.write(segment)
    return groups


def ffprobe(path: Path) -> dict[str, list[dict[str, object]]]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_packets", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert result.stderr == ""
    probe: dict[str, list[dict[str, object]]] = json.loads(result.stdout)
    return probe


@contextmanager
def ffmpeg_errors() -> Iterator[list[tuple[int, str, str]]]:
    """Collects what FFmpeg logs at error level or worse while decoding."""
    previous = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture() as logs:
            yield logs
    finally:
        av.logging.set_level(previous)


def check(path: Path, stream: Stream, groups: list[list[Frame]]) -> None:
    """Box structure, ffprobe's reading and PyAV's decoding of a written file."""
    data = path.read_bytes()
    fmt, frames = stream.fmt, stream.frames
    init_end = read_init(data, fmt)
    top = boxes(data, init_end)
    assert len(top) == 2 * len(groups)
    for i, group in enumerate(groups):
        fragment = read_fragment(data, top[2 * i], top[2 * i + 1])
        assert fragment.sequence == i + 1
        assert fragment.base_decode_time == group[0].decode_time
        assert fragment.data == b"".join(bytes(f.sample.data) for f in group)
        for (duration, size, flags, offset), frame in zip(fragment.samples, group, strict=True):
            sample = frame.sample
            assert (duration, size, offset) == (FRAME, len(sample.data), sample.composition_offset)
            assert flags == (0x02000000 if sample.is_sync else 0x01010000)

    probe = ffprobe(path)
    (info,) = probe["streams"]
    assert info["codec_name"] == ("h264" if fmt.codec == "h264" else "hevc")
    assert info["codec_tag_string"] == fmt.codec_string[:4]
    assert (info["width"], info["height"]) == (fmt.width, fmt.height)
    assert info["time_base"] == "1/90000"
    packets = probe["packets"]
    assert len(packets) == len(frames)
    shifts = set()
    for packet, frame in zip(packets, frames, strict=True):
        assert int(str(packet["dts"])) == frame.decode_time
        # ffprobe 5.1 gives no durations for fragmented H.264 (its own muxer's too): see PyAV's
        assert int(str(packet.get("duration", FRAME))) == FRAME
        assert int(str(packet["size"])) == len(frame.sample.data)
        assert ("K" in str(packet["flags"])) == frame.sample.is_sync
        shifts.add(int(str(packet["pts"])) - frame.decode_time - frame.sample.composition_offset)
    # FFmpeg moves every pts later by the most negative offset, so that none precedes its dts
    assert shifts == {max(0, -min(f.sample.composition_offset for f in frames))}
    # the codec string says what the SPS says, as FFmpeg reads it
    level = int(str(info["level"]))
    if fmt.codec == "h264":
        profile_idc = {"Baseline": 66, "Constrained Baseline": 66, "Main": 77, "High": 100}
        assert fmt.codec_string[:7] == f"avc1.{profile_idc[str(info['profile'])]:02X}"
        assert int(fmt.codec_string[9:11], 16) == level
    else:
        profile_idc = {"Main": 1, "Main 10": 2}
        assert fmt.codec_string.startswith(f"hvc1.{profile_idc[str(info['profile'])]}.")
        assert f".L{level}." in fmt.codec_string + "."

    decoded: list[av.VideoFrame] = []
    with ffmpeg_errors() as errors, av.open(str(path)) as container:
        for demuxed in container.demux(video=0):
            if demuxed.size:
                assert demuxed.duration == FRAME
            decoded += demuxed.decode()
    assert errors == []
    assert len(decoded) == len(frames)
    assert {(f.width, f.height) for f in decoded} == {(fmt.width, fmt.height)}
    # every frame comes out with its presentation time (but for FFmpeg's shift, see above);
    # sorted, since Cisco_Men_whisper's decoder output order follows its odd POCs
    shift = shifts.pop()
    assert sorted(f.pts for f in decoded if f.pts is not None) == sorted(
        f.decode_time + f.sample.composition_offset + shift for f in frames
    )


H264_FILES = [
    "Zhling_1280x720.264",
    "BA_MW_D.264",
    "Cisco_Men_whisper_640x320_CABAC_Bframe_9.264",
    "Static.264",  # 152x100: cropped
    "SarVui.264",
    "jm_1080p_allslice.264",  # one picture of 8160 slices
]


@pytest.mark.parametrize("per_gop", [False, True], ids=["per-frame", "per-gop"])
@pytest.mark.parametrize("name", H264_FILES)
def test_h264_files(name: str, per_gop: bool, tmp_path: Path) -> None:
    stream = h264_stream(name)
    (sps_length,) = struct.unpack_from("!H", stream.fmt.decoder_config, 6)  # avcC's first SPS
    sps = stream.fmt.decoder_config[8 : 8 + sps_length]
    assert stream.fmt.codec_string == f"avc1.{sps[1:4].hex().upper()}"  # profile, flags, level
    path = tmp_path / "out.mp4"
    check(path, stream, write(path, stream, per_gop))


H265_STREAMS = {
    "main-320x240": (320, 240, "yuv420p", 0, False),
    "main10-642x362": (642, 362, "yuv420p10le", 0, False),
    "main-bframes": (320, 240, "yuv420p", 3, False),
    "main-bframes-negative-offsets": (320, 240, "yuv420p", 3, True),
}


@pytest.mark.parametrize("per_gop", [False, True], ids=["per-frame", "per-gop"])
@pytest.mark.parametrize("case", list(H265_STREAMS))
def test_h265_streams(case: str, per_gop: bool, tmp_path: Path) -> None:
    width, height, pix_fmt, bframes, negative = H265_STREAMS[case]
    stream = h265_stream(width, height, pix_fmt, bframes, negative_offsets=negative)
    assert (stream.fmt.width, stream.fmt.height) == (width, height)
    offsets = [f.sample.composition_offset for f in stream.frames]
    assert any(offsets) == (bframes > 0)
    assert (min(offsets) < 0) == negative
    path = tmp_path / "out.mp4"
    check(path, stream, write(path, stream, per_gop))


# --- the pieces ----------------------------------------------------------------------------------


def test_video_format_of_h264() -> None:
    fmt = h264_stream("Zhling_1280x720.264").fmt
    assert (fmt.codec, fmt.width, fmt.height, fmt.timescale) == ("h264", 1280, 720, 90000)
    assert fmt.codec_string == "avc1.42C01F"
    assert fmt.mime_type == 'video/mp4; codecs="avc1.42C01F"'
    assert fmt.decoder_config[0] == 1


def test_video_format_of_h265() -> None:
    vps, sps, pps = parameter_sets(encode_hevc(642, 362))
    fmt = video_format("h265", ParameterSets(vps, sps, pps), timescale=1000)
    assert (fmt.codec, fmt.width, fmt.height, fmt.timescale) == ("h265", 642, 362, 1000)
    assert fmt.codec_string == h265.read_sps(sps).codec_string
    assert fmt.mime_type == f'video/mp4; codecs="{fmt.codec_string}"'
    assert fmt.decoder_config == h265.build_hvcc([vps], [sps], [pps])
    assert read_init(init_segment(fmt, track_id=7), fmt, track_id=7) > 0


@pytest.mark.parametrize(
    ("codec", "sets", "message"),
    [
        ("h264", ParameterSets(), "H.264 stream: its SPS and PPS are not known yet"),
        ("h264", ParameterSets(sps=b"\x67\x42\xc0\x1f"), "its PPS is not known yet"),
        ("h265", ParameterSets(sps=b"\x42\x01", pps=b"\x44\x01"), "its VPS is not known yet"),
        ("h265", ParameterSets(), "its VPS, SPS and PPS are not known yet"),
        ("h264", ParameterSets(sps=b"\x67\x42", pps=b"\x68"), "H.264 parameter sets cannot be"),
        ("h265", ParameterSets(b"\x40\x01", b"\x67\x42\xc0\x1f", b"\x44\x01"), "not an SPS"),
    ],
)
def test_video_format_refuses_missing_or_bad_parameter_sets(
    codec: Codec, sets: ParameterSets, message: str
) -> None:
    with pytest.raises(Fmp4Error, match=message) as caught:
        video_format(codec, sets)
    assert isinstance(caught.value, ArgusError)


def test_sample_data_length_prefixes_and_drops_delimiters() -> None:
    h264_aud, h264_sps, idr = b"\x09\xf0", b"\x47\x42\x00\x1f", b"\x65\x88\x84"
    assert sample_data([h264_aud, h264_sps, idr]) == b"".join(
        struct.pack("!I", len(n)) + n for n in (h264_sps, idr)
    )
    assert sample_data([h264_aud, idr], "h264") == b"\x00\x00\x00\x03" + idr
    h265_aud, h265_sps, cra = b"\x46\x01\x50", b"\x42\x01\x01", b"\x2a\x01\xaf"
    for codec in ("h265", None):
        assert sample_data([h265_aud, h265_sps, cra], codec) == (
            b"\x00\x00\x00\x03" + h265_sps + b"\x00\x00\x00\x03" + cra
        )
    assert sample_data([]) == b""


def test_header_and_data_make_the_segment() -> None:
    samples = [Sample(b"\x00\x00\x00\x01\x65", 3000, True), Sample(memoryview(b"abc"), 3000, False)]
    segment = media_segment(5, 2**40, samples, track_id=3)
    header = media_segment_header(5, 2**40, samples, track_id=3)
    assert segment == header + b"\x00\x00\x00\x01\x65abc"
    moof, mdat = boxes(segment)
    fragment = read_fragment(segment, moof, mdat, track_id=3)
    assert (fragment.sequence, fragment.base_decode_time) == (5, 2**40)


def test_bad_segments_are_refused() -> None:
    with pytest.raises(Fmp4Error, match="at least one sample"):
        media_segment(1, 0, [])
    with pytest.raises(Fmp4Error, match="out of range"):
        media_segment(1, -1, [Sample(b"x", 1, True)])
    with pytest.raises(Fmp4Error, match="out of range"):
        media_segment(1, 0, [Sample(b"x", -1, True)])


samples_strategy = st.lists(
    st.builds(
        Sample,
        data=st.binary(max_size=40),
        duration=st.integers(0, 2**32 - 1),
        is_sync=st.booleans(),
        composition_offset=st.sampled_from([0, 0, 0]) | st.integers(-(2**31), 2**31 - 1),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1), samples_strategy)
def test_segments_read_back(sequence: int, base_time: int, samples: list[Sample]) -> None:
    segment = media_segment(sequence, base_time, samples)
    moof, mdat = boxes(segment)
    fragment = read_fragment(segment, moof, mdat)
    assert (fragment.sequence, fragment.base_decode_time) == (sequence, base_time)
    assert fragment.samples == [
        (
            s.duration,
            len(s.data),
            0x02000000 if s.is_sync else 0x01010000,
            s.composition_offset,
        )
        for s in samples
    ]
    assert fragment.data == b"".join(bytes(s.data) for s in samples)
