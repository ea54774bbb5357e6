"""The stamp SEI: round trips, emulation prevention, both packet forms, and decoders accept it."""

from __future__ import annotations

import re
from fractions import Fraction

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.media.nal import add_emulation_prevention, remove_emulation_prevention, split_annexb
from argus.media.sei import (
    STAMP_UUID,
    Codec,
    Stamp,
    build_stamp_nal,
    read_stamp,
    read_stamp_annexb,
    split_length_prefixed,
)

CODECS = ["h264", "h265"]
START_CODE_LIKE = re.compile(rb"\x00\x00[\x00-\x02]")  # never inside a NAL unit

ids = st.integers(0, 2**32 - 1)
times = st.one_of(st.just(0), st.integers(0, 2**64 - 1), st.integers(10**18, 2 * 10**18))
frames = st.integers(0, 2**32 - 1)


@pytest.mark.parametrize("codec", CODECS)
@given(camera_id=ids, send_time_ns=times, frame_no=frames)
@settings(max_examples=150, deadline=None)
def test_round_trip(codec, camera_id: int, send_time_ns: int, frame_no: int) -> None:
    nal = build_stamp_nal(codec, camera_id, send_time_ns, frame_no)
    payload = nal[1:] if codec == "h264" else nal[2:]
    assert not START_CODE_LIKE.search(payload), "emulation prevention was not applied"
    assert read_stamp(codec, [nal]) == Stamp(camera_id, send_time_ns, frame_no)


def test_nal_headers_and_layout() -> None:
    h264 = build_stamp_nal("h264", 1, 2, 3)
    assert h264[0] == 0x06  # forbidden 0, nal_ref_idc 0, type 6 (SEI)
    h265 = build_stamp_nal("h265", 1, 2, 3)
    assert (h265[0] >> 1) & 0x3F == 39 and h265[0] & 0x81 == 0  # prefix SEI, layer 0
    assert h265[1] == 0x01  # nuh_layer_id 0, nuh_temporal_id_plus1 1
    rbsp = remove_emulation_prevention(h264[1:])
    assert rbsp[0] == 5 and rbsp[1] == 16 + 17  # user_data_unregistered, its size
    assert rbsp[2:18] == STAMP_UUID
    assert rbsp[-1] == 0x80  # rbsp_trailing_bits
    assert b"\x00" not in STAMP_UUID


@pytest.mark.parametrize("codec", CODECS)
def test_found_among_other_nal_units_and_not_invented(codec) -> None:
    other_sei = bytes([6, 5, 20]) + bytes(range(1, 21)) + b"\x80"  # a foreign user-data SEI
    if codec == "h265":
        other_sei = bytes([39 << 1, 1]) + other_sei[1:]
    slice_nal = b"\x65\x88\x84" if codec == "h264" else b"\x26\x01\xaf"
    stamp = build_stamp_nal(codec, 42, 1_700_000_000_123_456_789, 9)
    assert read_stamp(codec, [other_sei, stamp, slice_nal]) == Stamp(
        42, 1_700_000_000_123_456_789, 9
    )
    assert read_stamp(codec, [other_sei, slice_nal]) is None
    assert read_stamp(codec, []) is None
    # the UUID inside a NAL unit that is not an SEI does not count
    assert read_stamp(codec, [slice_nal + stamp]) is None


@pytest.mark.parametrize("codec", CODECS)
@given(camera_id=ids, send_time_ns=times, frame_no=frames, start4=st.booleans())
@settings(max_examples=60, deadline=None)
def test_annexb_and_length_prefixed_packets(codec, camera_id, send_time_ns, frame_no, start4):
    stamp = build_stamp_nal(codec, camera_id, send_time_ns, frame_no)
    slice_nal = (b"\x65" if codec == "h264" else b"\x26\x01") + bytes(range(1, 250)) * 2
    expected = Stamp(camera_id, send_time_ns, frame_no)
    start = b"\x00\x00\x00\x01" if start4 else b"\x00\x00\x01"
    assert read_stamp_annexb(codec, start + stamp + start + slice_nal) == expected
    prefixed = b"".join(len(n).to_bytes(4, "big") + n for n in (stamp, slice_nal))
    assert split_length_prefixed(prefixed) == [stamp, slice_nal]
    assert read_stamp_annexb(codec, prefixed) == expected
    assert read_stamp_annexb(codec, memoryview(prefixed)) == expected
    assert read_stamp_annexb(codec, start + slice_nal) is None


def test_length_prefix_that_looks_like_a_start_code() -> None:
    """A first NAL unit of 256-511 bytes has a 4-byte length 00 00 01 xx: still read right."""
    filler = b"\x06\x05\x10" + bytes(range(1, 17)) + b"\x01" * 280 + b"\x80"
    stamp = build_stamp_nal("h264", 5, 6, 7)
    prefixed = b"".join(len(n).to_bytes(4, "big") + n for n in (filler, stamp))
    assert prefixed[:3] == b"\x00\x00\x01"
    assert read_stamp_annexb("h264", prefixed) == Stamp(5, 6, 7)


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_emulation_prevention_round_trip(rbsp: bytes) -> None:
    escaped = add_emulation_prevention(rbsp)
    assert not START_CODE_LIKE.search(escaped)
    assert remove_emulation_prevention(escaped) == rbsp


def test_out_of_range_values_are_refused() -> None:
    with pytest.raises(ValueError):
        build_stamp_nal("h264", 2**32, 0, 0)
    with pytest.raises(ValueError):
        build_stamp_nal("h264", 1, -1, 0)
    assert read_stamp("h264", [build_stamp_nal("h264", 1, 2, 2**32 + 5)]) == Stamp(1, 2, 5)


def _encode(codec_name: str, count: int) -> list[bytes]:
    codec = av.CodecContext.create(codec_name, "w")
    assert isinstance(codec, av.VideoCodecContext)
    codec.width, codec.height, codec.pix_fmt = 64, 64, "yuv420p"
    codec.time_base = Fraction(1, 15)
    codec.framerate = Fraction(15)
    codec.max_b_frames = 0
    if codec_name == "libx265":
        codec.options = {"x265-params": "bframes=0:log-level=error", "preset": "ultrafast"}
    else:
        codec.options = {"preset": "ultrafast", "bf": "0"}
    units: list[bytes] = []
    for i in range(count):
        picture = np.full((96, 64), 128, dtype=np.uint8)
        picture[:64] = ((np.arange(64)[None, :] * 3 + i * 5) % 256).astype(np.uint8)
        frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
        frame.pts = i
        units += [bytes(p) for p in codec.encode(frame)]
    units += [bytes(p) for p in codec.encode(None)]
    return units


def _is_vcl(codec: Codec, nal: bytes) -> bool:
    return 1 <= nal[0] & 0x1F <= 5 if codec == "h264" else nal[0] >> 1 < 32


def _with_stamp(codec: Codec, unit: bytes, number: int) -> bytes:
    nals = split_annexb(unit)
    first = next(i for i, n in enumerate(nals) if _is_vcl(codec, n))
    nals.insert(first, build_stamp_nal(codec, 7, 1_700_000_000_000_000_000 + number, number))
    return b"".join(b"\x00\x00\x00\x01" + n for n in nals)


@pytest.mark.parametrize(
    ("codec", "encoder", "decoder"), [("h264", "libx264", "h264"), ("h265", "libx265", "hevc")]
)
def test_decoders_accept_streams_with_stamps(codec, encoder, decoder) -> None:
    units = _encode(encoder, 12)
    stamped = [_with_stamp(codec, unit, i) for i, unit in enumerate(units)]
    context = av.CodecContext.create(decoder, "r")
    context.options = {"err_detect": "explode"}  # any error in the bitstream raises
    decoded = []
    for data in stamped:
        for packet in context.parse(data):
            decoded += context.decode(packet)
    for packet in context.parse(b""):
        decoded += context.decode(packet)
    decoded += context.decode(None)
    assert len(decoded) == len(units)
    assert [read_stamp_annexb(codec, data).frame_no for data in stamped] == list(range(12))  # type: ignore[union-attr]
