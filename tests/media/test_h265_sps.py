"""H.265 SPS reader and hvcC builder: on libx265 output (checked against what FFmpeg reads and
writes) and on SPS bit strings written here from H.265 §7.3.2.2 and §7.3.3."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.media.errors import RtpError
from argus.media.h265 import H265SpsInfo, build_hvcc, nal_type, read_sps
from argus.media.nal import split_annexb

# --- encoding with libx265 (also used by test_fmp4) -------------------------------------------

EncodedPacket = tuple[bytes, int, int, bool]
"""Annex-B access unit, pts, dts (in frames) and keyframe flag."""


@cache
def encode_hevc(
    width: int,
    height: int,
    pix_fmt: str = "yuv420p",
    frames: int = 4,
    params: str = "keyint=6:min-keyint=6:scenecut=0:bframes=0",
) -> tuple[EncodedPacket, ...]:
    """A few frames of a moving gradient through libx265, one Annex-B access unit per packet."""
    ctx = av.CodecContext.create("libx265", "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, pix_fmt
    ctx.time_base = Fraction(1, 15)
    ctx.framerate = Fraction(15)
    ctx.options = {"preset": "ultrafast", "x265-params": f"log-level=error:{params}"}
    ramp = np.add.outer(np.arange(height), np.arange(width))
    out: list[EncodedPacket] = []
    for i in range(frames):
        luma = ((ramp + 5 * i) % 256).astype(np.uint8)
        rgb = np.ascontiguousarray(np.stack([luma, luma[::-1], luma[:, ::-1]], axis=-1))
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=pix_fmt)
        frame.pts = i
        out += map(_packet, ctx.encode(frame))
    out += map(_packet, ctx.encode(None))
    return tuple(out)


def _packet(packet: av.Packet[Any]) -> EncodedPacket:
    assert packet.pts is not None and packet.dts is not None
    return bytes(packet), packet.pts, packet.dts, packet.is_keyframe


def parameter_sets(packets: tuple[EncodedPacket, ...]) -> tuple[bytes, bytes, bytes]:
    """VPS, SPS and PPS of the first access unit."""
    units = {nal_type(n): n for n in split_annexb(packets[0][0])}
    return units[32], units[33], units[34]


# width, height, pix_fmt, general_profile_idc, FFmpeg's profile name, chroma_format_idc, depth
CASES = [
    (320, 240, "yuv420p", 1, "Main", 1, 8),
    (642, 362, "yuv420p", 1, "Main", 1, 8),  # coded as 648x368 with a conformance window
    (642, 362, "yuv420p10le", 2, "Main 10", 1, 10),
    (322, 242, "yuv422p10le", 4, "Rext", 2, 10),
    (322, 242, "yuv444p", 4, "Rext", 3, 8),
]


@pytest.mark.parametrize(("width", "height", "pix_fmt", "idc", "profile", "chroma", "depth"), CASES)
def test_sps_of_libx265_streams(
    width: int, height: int, pix_fmt: str, idc: int, profile: str, chroma: int, depth: int
) -> None:
    packets = encode_hevc(width, height, pix_fmt)
    _, sps, _ = parameter_sets(packets)
    info = read_sps(sps)
    with av.open(io.BytesIO(b"".join(p[0] for p in packets)), "r", format="hevc") as container:
        ctx = container.streams.video[0].codec_context
        decoded = [f for f in container.decode(video=0)]
        assert (ctx.width, ctx.height) == (width, height)
        assert ctx.profile == profile
        assert info.general_level_idc == ctx.level
    assert {(f.width, f.height) for f in decoded} == {(width, height)}
    assert (info.width, info.height) == (width, height)
    assert info.general_profile_idc == idc
    assert (info.general_profile_space, info.general_tier_flag) == (0, 0)
    assert info.chroma_format_idc == chroma
    assert (info.bit_depth_luma, info.bit_depth_chroma) == (depth, depth)
    # profile_compatibility_flag[idc] is set; its bit counts from the most significant
    assert info.general_profile_compatibility_flags >> (31 - idc) & 1 == 1
    assert info.general_constraint_indicator_flags >> 47 == 1  # progressive_source_flag
    assert info.codec_string.startswith(f"hvc1.{idc}.")
    assert f".L{ctx.level}." in info.codec_string + "."


def test_codec_strings_of_main_and_main10() -> None:
    main = read_sps(parameter_sets(encode_hevc(320, 240))[1])
    main10 = read_sps(parameter_sets(encode_hevc(642, 362, "yuv420p10le"))[1])
    # x265 marks Main as compatible with Main and Main 10 (flags 1, 2), Main 10 with itself;
    # progressive and frame-only constraint flags: 0x90
    assert main.codec_string == f"hvc1.1.6.L{main.general_level_idc}.90"
    assert main10.codec_string == f"hvc1.2.4.L{main10.general_level_idc}.90"


def _info(**changes: int) -> H265SpsInfo:
    fields: dict[str, int] = {
        "general_profile_space": 0,
        "general_tier_flag": 0,
        "general_profile_idc": 1,
        "general_profile_compatibility_flags": 0x60000000,
        "general_constraint_indicator_flags": 0xB0 << 40,
        "general_level_idc": 93,
        "chroma_format_idc": 1,
        "width": 1280,
        "height": 720,
        "bit_depth_luma": 8,
        "bit_depth_chroma": 8,
    }
    fields.update(changes)
    return H265SpsInfo(**fields)  # type: ignore[arg-type]


def test_codec_string_forms() -> None:
    """ISO/IEC 14496-15 Annex E: space letter, reversed compatibility hex, tier, constraints."""
    assert _info().codec_string == "hvc1.1.6.L93.B0"
    assert _info(general_constraint_indicator_flags=0).codec_string == "hvc1.1.6.L93"
    assert (
        _info(
            general_profile_space=1,
            general_tier_flag=1,
            general_profile_idc=2,
            general_profile_compatibility_flags=0x20000000,
            general_level_idc=120,
        ).codec_string
        == "hvc1.A2.4.H120.B0"
    )
    assert (
        _info(
            general_profile_idc=4,
            general_profile_compatibility_flags=0x08000001,
            general_constraint_indicator_flags=0x900001000000,
            general_level_idc=153,
        ).codec_string
        == "hvc1.4.80000010.L153.90.00.01"
    )


# --- hvcC against FFmpeg's -----------------------------------------------------------------------


def _find_box(data: bytes, path: list[bytes], start: int = 0, end: int | None = None) -> bytes:
    """The payload of the box at `path` (sample entries need their fixed fields skipped)."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from("!I4s", data, pos)
        assert size >= 8
        if kind == path[0]:
            body = pos + 8
            if len(path) == 1:
                return data[body : pos + size]
            if kind == b"stsd":
                body += 8
            elif kind in (b"hvc1", b"hev1"):
                body += 78
            return _find_box(data, path[1:], body, pos + size)
        pos += size
    raise AssertionError(f"no {path[0]!r} box")


def test_hvcc_matches_ffmpeg() -> None:
    """FFmpeg's mov muxer writes an hvcC from the encoder's parameter sets: ours must agree on
    every field that comes from the SPS and on the parameter-set arrays."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx265", rate=15)
        stream.width, stream.height, stream.pix_fmt = 642, 362, "yuv420p10le"
        stream.codec_tag = "hvc1"
        stream.codec_context.options = {
            "preset": "ultrafast",
            "x265-params": "log-level=error:bframes=0",
        }
        ramp = np.add.outer(np.arange(362), np.arange(642)).astype(np.uint8)
        frame = av.VideoFrame.from_ndarray(np.stack([ramp] * 3, axis=-1), format="rgb24")
        out.mux(stream.encode(frame.reformat(format="yuv420p10le")))
        out.mux(stream.encode(None))
        extradata = stream.codec_context.extradata
    assert extradata is not None
    units = {nal_type(n): n for n in split_annexb(bytes(extradata))}
    ours = build_hvcc([units[32]], [units[33]], [units[34]])
    theirs = _find_box(
        buf.getvalue(), [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd", b"hvc1", b"hvcC"]
    )
    # version, profile/tier/level, compatibility and constraint flags
    assert ours[:13] == theirs[:13]
    # chroma format and bit depths; then temporal layers, nesting and length size
    assert ours[16:19] == theirs[16:19]
    assert ours[21] & 0x3F == theirs[21] & 0x3F
    assert _arrays(ours) == {k: v for k, v in _arrays(theirs).items() if k in (32, 33, 34)}


def _arrays(record: bytes) -> dict[int, tuple[bool, list[bytes]]]:
    pos = 23
    out: dict[int, tuple[bool, list[bytes]]] = {}
    for _ in range(record[22]):
        head, count = struct.unpack_from("!BH", record, pos)
        pos += 3
        units = []
        for _ in range(count):
            (length,) = struct.unpack_from("!H", record, pos)
            units.append(record[pos + 2 : pos + 2 + length])
            pos += 2 + length
        out[head & 0x3F] = (bool(head & 0x80), units)
    assert pos == len(record)
    return out


def test_hvcc_layout() -> None:
    vps, sps, pps = parameter_sets(encode_hevc(320, 240))
    record = build_hvcc([vps], [sps], [pps])
    info = read_sps(sps)
    assert record[0] == 1
    assert record[1] == info.general_profile_idc
    assert struct.unpack_from("!I", record, 2)[0] == info.general_profile_compatibility_flags
    assert int.from_bytes(record[6:12], "big") == info.general_constraint_indicator_flags
    assert record[12] == info.general_level_idc
    assert record[16] == 0xFC | 1 and record[17] == 0xF8 and record[18] == 0xF8
    assert record[21] & 3 == 3  # lengthSizeMinusOne
    assert (record[21] >> 3) & 7 == info.max_sub_layers
    assert _arrays(record) == {32: (True, [vps]), 33: (True, [sps]), 34: (True, [pps])}


def test_hvcc_refuses_missing_or_misplaced_parameter_sets() -> None:
    vps, sps, pps = parameter_sets(encode_hevc(320, 240))
    with pytest.raises(RtpError, match="at least one VPS, one SPS and one PPS"):
        build_hvcc([], [sps], [pps])
    with pytest.raises(RtpError, match="NAL type 34"):
        build_hvcc([vps], [sps], [sps])


# --- SPS bit strings written here ----------------------------------------------------------------


class BitWriter:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, count: int, value: int | bool) -> None:
        self.bits += [(value >> (count - 1 - i)) & 1 for i in range(count)]

    def ue(self, value: int) -> None:
        code = value + 1
        self.u(2 * code.bit_length() - 1, code)

    def rbsp(self) -> bytes:
        bits = [*self.bits, 1]
        bits += [0] * (-len(bits) % 8)
        return bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))


def add_emulation_prevention(rbsp: bytes) -> bytes:
    out = bytearray()
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


@dataclass(frozen=True)
class SpsFields:
    """The SPS syntax elements up to the bit depths, as written."""

    vps_id: int = 0
    sub_layers_minus1: int = 0
    nesting: bool = True
    space: int = 0
    tier: int = 0
    idc: int = 1
    compat: int = 0x60000000
    constraints: int = 0
    level: int = 93
    sub_layers: tuple[tuple[bool, bool, int, int], ...] = ()
    """(profile present, level present, 88 profile bits, level) of each sub-layer."""
    sps_id: int = 0
    chroma: int = 1
    separate_planes: bool = False
    coded: tuple[int, int] = (64, 64)
    window: tuple[int, int, int, int] | None = None
    depths: tuple[int, int] = (0, 0)


@st.composite
def sps_fields(draw: st.DrawFn) -> SpsFields:
    sub_layers = draw(st.integers(0, 6))
    chroma = draw(st.integers(0, 3))
    return SpsFields(
        vps_id=draw(st.integers(0, 15)),
        sub_layers_minus1=sub_layers,
        nesting=draw(st.booleans()),
        space=draw(st.integers(0, 3)),
        tier=draw(st.integers(0, 1)),
        idc=draw(st.integers(0, 31)),
        compat=draw(st.integers(0, 2**32 - 1)),
        constraints=draw(
            st.sampled_from([0, 0xB0 << 40, 0x900000000000]) | st.integers(0, 2**48 - 1)
        ),
        level=draw(st.integers(0, 255)),
        sub_layers=tuple(
            (
                draw(st.booleans()),
                draw(st.booleans()),
                draw(st.integers(0, 2**88 - 1)),
                draw(st.integers(0, 255)),
            )
            for _ in range(sub_layers)
        ),
        sps_id=draw(st.integers(0, 15)),
        chroma=chroma,
        separate_planes=draw(st.booleans()) if chroma == 3 else False,
        coded=(draw(st.integers(2, 520)) * 8, draw(st.integers(2, 520)) * 8),  # > any window
        window=draw(st.none() | st.tuples(*[st.integers(0, 3)] * 4)),
        depths=(draw(st.integers(0, 8)), draw(st.integers(0, 8))),
    )


def write_sps(f: SpsFields) -> bytes:
    """An SPS NAL unit (header, emulation prevention) with these fields (H.265 §7.3.2.2)."""
    w = BitWriter()
    w.u(4, f.vps_id)
    w.u(3, f.sub_layers_minus1)
    w.u(1, f.nesting)
    w.u(2, f.space)
    w.u(1, f.tier)
    w.u(5, f.idc)
    w.u(32, f.compat)
    w.u(48, f.constraints)
    w.u(8, f.level)
    for profile_present, level_present, _, _ in f.sub_layers:
        w.u(1, profile_present)
        w.u(1, level_present)
    if f.sub_layers:
        for _ in range(len(f.sub_layers), 8):
            w.u(2, 0)  # reserved_zero_2bits
    for profile_present, level_present, profile, level in f.sub_layers:
        if profile_present:
            w.u(88, profile)
        if level_present:
            w.u(8, level)
    w.ue(f.sps_id)
    w.ue(f.chroma)
    if f.chroma == 3:
        w.u(1, f.separate_planes)
    w.ue(f.coded[0])
    w.ue(f.coded[1])
    w.u(1, f.window is not None)
    for offset in f.window or ():
        w.ue(offset)
    w.ue(f.depths[0])
    w.ue(f.depths[1])
    w.ue(4)  # log2_max_pic_order_cnt_lsb_minus4: the reader stops before it
    return bytes((0x42, 0x01)) + add_emulation_prevention(w.rbsp())


@settings(max_examples=150, deadline=None)
@given(sps_fields())
def test_written_sps_read_back(f: SpsFields) -> None:
    width, height = f.coded
    if f.window:
        # SubWidthC, SubHeightC of Table 6-1 (1, 1 for monochrome or separate planes)
        chroma = 0 if f.separate_planes else f.chroma
        sub_w, sub_h = {0: (1, 1), 1: (2, 2), 2: (2, 1), 3: (1, 1)}[chroma]
        width -= sub_w * (f.window[0] + f.window[1])
        height -= sub_h * (f.window[2] + f.window[3])
    assert read_sps(write_sps(f)) == H265SpsInfo(
        general_profile_space=f.space,
        general_tier_flag=f.tier,
        general_profile_idc=f.idc,
        general_profile_compatibility_flags=f.compat,
        general_constraint_indicator_flags=f.constraints,
        general_level_idc=f.level,
        chroma_format_idc=f.chroma,
        width=width,
        height=height,
        bit_depth_luma=f.depths[0] + 8,
        bit_depth_chroma=f.depths[1] + 8,
        max_sub_layers=f.sub_layers_minus1 + 1,
        temporal_id_nesting=f.nesting,
    )


def test_sps_with_sub_layers_and_emulation_prevention() -> None:
    """Sub-layer profile and level fields are skipped; 0x000003 in the SPS is undone."""
    f = SpsFields(
        sub_layers_minus1=2,
        sub_layers=((True, True, 0, 0), (False, True, 0, 30)),
        constraints=0,
        compat=0,
        coded=(1288, 728),
        window=(0, 4, 0, 4),
    )
    nal = write_sps(f)
    assert b"\x00\x00\x03" in nal
    info = read_sps(nal)
    assert (info.width, info.height, info.max_sub_layers) == (1280, 720, 3)


# --- bad input -----------------------------------------------------------------------------------


def test_truncated_sps_is_refused_clearly() -> None:
    _, sps, _ = parameter_sets(encode_hevc(642, 362))
    full = read_sps(sps)
    refused = 0
    for cut in range(len(sps)):
        try:
            info = read_sps(sps[:cut])
        except RtpError as exc:
            assert "H.265 SPS" in str(exc)
            refused += 1
        else:
            assert info == full  # only the fields past the bit depths were cut
    assert refused > 15
    with pytest.raises(RtpError, match=r"H\.265 SPS cannot be read: parameter set ends"):
        read_sps(sps[:12])


def test_other_nal_units_are_refused() -> None:
    _, sps, pps = parameter_sets(encode_hevc(320, 240))
    with pytest.raises(RtpError, match="type 34 is not an SPS"):
        read_sps(pps)
    with pytest.raises(RtpError, match="forbidden_zero_bit"):
        read_sps(bytes((sps[0] | 0x80,)) + sps[1:])
    with pytest.raises(RtpError, match="base layer"):
        read_sps(bytes((sps[0], sps[1] | 0x08)) + sps[2:])
    with pytest.raises(RtpError, match="too short"):
        read_sps(b"\x42")


def test_impossible_fields_are_refused() -> None:
    assert read_sps(write_sps(SpsFields())).width == 64
    for fields, message in [
        (SpsFields(chroma=4), "chroma_format_idc is 4"),
        (SpsFields(sps_id=16), "sps_seq_parameter_set_id is 16"),
        (SpsFields(coded=(0, 64)), "picture is 0x64"),
        (SpsFields(window=(16, 16, 0, 0)), "crops the picture to nothing"),
        (SpsFields(depths=(9, 0)), "bit depths 17/8"),
        (SpsFields(sub_layers_minus1=7, sub_layers=((False, False, 0, 0),) * 7), "is 7"),
    ]:
        with pytest.raises(RtpError, match=message):
            read_sps(write_sps(fields))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80), st.booleans())
def test_random_bytes_raise_only_rtp_error(body: bytes, sps_header: bool) -> None:
    data = b"\x42\x01" + body if sps_header else body
    try:
        info = read_sps(data)
    except RtpError:
        return
    assert info.width > 0 and info.height > 0
    assert 8 <= info.bit_depth_luma <= 16
    assert info.codec_string.startswith("hvc1.")
