"""RTP packetizers against our depacketizers: real H.264 streams, PyAV-encoded H.265, any MTU."""

from __future__ import annotations

import struct
from fractions import Fraction
from functools import cache

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.media.h264 import H264Depacketizer
from argus.media.h265 import H265Depacketizer
from argus.media.nal import AccessUnit, NalDepacketizer, split_annexb
from argus.media.packetize import (
    H264Packetizer,
    H265Packetizer,
    Packetizer,
    packetizer_for,
    rtp_header,
)
from argus.media.rtp import parse_rtp
from tests.media.rtp_packetize import split_h264_access_units
from tests.shared import SHARED_DATA

SAMPLES = SHARED_DATA / "h264-samples"
NAMES = sorted(p.name for p in SAMPLES.glob("*.264")) if SAMPLES.is_dir() else []

needs_samples = pytest.mark.skipif(not NAMES, reason="shared H.264 samples not present")


@cache
def h264_aus(name: str) -> list[list[bytes]]:
    return split_h264_access_units((SAMPLES / name).read_bytes())


@cache
def h265_aus() -> list[list[bytes]]:
    """A small real H.265 stream: 320x240, 24 frames, keyframe every 8, 4 slices per picture."""
    codec = av.CodecContext.create("libx265", "w")
    codec.width, codec.height, codec.pix_fmt = 320, 240, "yuv420p"
    codec.time_base = Fraction(1, 15)
    codec.framerate = Fraction(15)
    codec.bit_rate = 400_000
    codec.options = {
        "preset": "ultrafast",
        "x265-params": "keyint=8:min-keyint=8:bframes=0:slices=4:repeat-headers=1:log-level=error",
    }
    rng = np.random.default_rng(3)
    texture = rng.integers(0, 255, (480, 640), dtype=np.uint8)
    aus: list[list[bytes]] = []
    for i in range(24):
        picture = np.full((360, 320), 128, dtype=np.uint8)
        picture[:240] = texture[i * 3 : i * 3 + 240, i * 5 : i * 5 + 320]
        frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
        frame.pts = i
        aus += [split_annexb(bytes(p)) for p in codec.encode(frame)]
    aus += [split_annexb(bytes(p)) for p in codec.encode(None)]
    return aus


def is_h264_idr(au: list[bytes]) -> bool:
    return any(n[0] & 0x1F == 5 for n in au)


def send(
    packetizer: Packetizer, aus: list[list[bytes]], step: int = 3000
) -> tuple[list[bytes], list[int]]:
    packets: list[bytes] = []
    owners: list[int] = []
    for index, au in enumerate(aus):
        out = packetizer.packetize(au, 90000 + index * step)
        packets += out
        owners += [index] * len(out)
    return packets, owners


def receive(packets: list[bytes], depacketizer: NalDepacketizer) -> list[AccessUnit]:
    out: list[AccessUnit] = []
    for raw in packets:
        out += depacketizer.push(parse_rtp(raw))
    return out + depacketizer.flush()


def check_packets(packets: list[bytes], owners: list[int], mtu: int, first_seq: int) -> None:
    for i, raw in enumerate(packets):
        assert len(raw) <= mtu
        packet = parse_rtp(raw)
        assert packet.sequence == (first_seq + i) & 0xFFFF
        assert packet.ssrc == 0xCAFEBABE and packet.payload_type == 96
        last_of_au = i == len(packets) - 1 or owners[i + 1] != owners[i]
        assert packet.marker == last_of_au


@needs_samples
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mtu", [1400, 300])
def test_h264_samples_round_trip(name: str, mtu: int) -> None:
    aus = h264_aus(name)
    packetizer = H264Packetizer(ssrc=0xCAFEBABE, mtu=mtu, sequence=65000)
    packets, owners = send(packetizer, aus)
    check_packets(packets, owners, mtu, 65000)
    out = receive(packets, H264Depacketizer())
    first_idr = next(i for i, au in enumerate(aus) if is_h264_idr(au))
    assert [list(au.nal_units) for au in out] == aus[first_idr:]
    assert [au.timestamp for au in out] == [90000 + i * 3000 for i in range(first_idr, len(aus))]
    assert packetizer.sequence == (65000 + len(packets)) & 0xFFFF


@needs_samples
@given(mtu=st.integers(40, 4000), aggregate=st.booleans(), first_seq=st.integers(0, 65535))
@settings(max_examples=40, deadline=None)
def test_h264_any_mtu(mtu: int, aggregate: bool, first_seq: int) -> None:
    aus = h264_aus("BA_MW_D.264")[:40]
    packetizer = H264Packetizer(ssrc=0xCAFEBABE, mtu=mtu, sequence=first_seq, aggregate=aggregate)
    packets, owners = send(packetizer, aus)
    check_packets(packets, owners, mtu, first_seq)
    depacketizer = H264Depacketizer()
    assert [list(au.nal_units) for au in receive(packets, depacketizer)] == aus
    assert depacketizer.stats.malformed_packets == 0


def test_h265_round_trip() -> None:
    aus = h265_aus()
    assert len(aus) == 24 and max(len(au) for au in aus) >= 4
    for mtu in (1400, 200):
        packetizer = H265Packetizer(ssrc=0xCAFEBABE, mtu=mtu, sequence=65530)
        packets, owners = send(packetizer, aus)
        check_packets(packets, owners, mtu, 65530)
        out = receive(packets, H265Depacketizer())
        assert [list(au.nal_units) for au in out] == aus
        assert [au.is_keyframe for au in out] == [i % 8 == 0 for i in range(24)]


@given(mtu=st.integers(40, 3000), aggregate=st.booleans())
@settings(max_examples=30, deadline=None)
def test_h265_any_mtu(mtu: int, aggregate: bool) -> None:
    aus = h265_aus()[:10]
    packetizer = H265Packetizer(ssrc=0xCAFEBABE, mtu=mtu, aggregate=aggregate)
    packets, owners = send(packetizer, aus)
    check_packets(packets, owners, mtu, 0)
    depacketizer = H265Depacketizer()
    assert [list(au.nal_units) for au in receive(packets, depacketizer)] == aus
    assert depacketizer.stats.malformed_packets == 0


def test_h264_packet_types() -> None:
    sps, pps = b"\x67\x42\xc0\x1e\xda", b"\x68\xce\x3c\x80"
    idr = b"\x65" + bytes(range(1, 256)) * 20  # 5101 bytes
    packets = H264Packetizer(ssrc=1, mtu=1400).packetize([sps, pps, idr], 1234)
    stap = parse_rtp(packets[0]).payload.tobytes()
    assert stap[0] == 0x60 | 24  # STAP-A with the highest NRI (3) of its units
    assert stap[1:] == struct.pack("!H", len(sps)) + sps + struct.pack("!H", len(pps)) + pps
    fus = [parse_rtp(p).payload.tobytes() for p in packets[1:]]
    assert all(fu[0] == (0x60 | 28) for fu in fus)  # FU-A indicator keeps F and NRI of the IDR
    assert [fu[1] & 0xC0 for fu in fus] == [0x80] + [0] * (len(fus) - 2) + [0x40]
    assert all(fu[1] & 0x1F == 5 for fu in fus)
    assert b"".join(fu[2:] for fu in fus) == idr[1:]
    single = H264Packetizer(ssrc=1, aggregate=False).packetize([sps, pps], 0)
    assert [parse_rtp(p).payload.tobytes() for p in single] == [sps, pps]


def test_h265_packet_types() -> None:
    vps = bytes([32 << 1, 0x01]) + b"\x0c\x01"
    sps = bytes([33 << 1, 0x02]) + b"\x01\x60"  # temporal id 1
    pps = bytes([(34 << 1) | 1, 0x01]) + b"\xc1"  # nuh_layer_id 8 (its high bit is in byte 0)
    idr = bytes([19 << 1, 0x01]) + bytes(range(1, 256)) * 10
    packets = H265Packetizer(ssrc=1, mtu=1000).packetize([vps, sps, pps, idr], 0)
    ap = parse_rtp(packets[0]).payload.tobytes()
    assert (ap[0] >> 1) & 0x3F == 48
    assert ((ap[0] & 1) << 5 | ap[1] >> 3) == 0 and ap[1] & 7 == 1  # lowest layer id and TID
    fus = [parse_rtp(p).payload.tobytes() for p in packets[1:]]
    assert all((fu[0] >> 1) & 0x3F == 49 and fu[1] == 0x01 for fu in fus)
    assert [fu[2] & 0xC0 for fu in fus] == [0x80] + [0] * (len(fus) - 2) + [0x40]
    assert all(fu[2] & 0x3F == 19 for fu in fus)
    assert b"".join(fu[3:] for fu in fus) == idr[2:]


def test_options_and_helpers() -> None:
    assert isinstance(packetizer_for("h264", ssrc=1), H264Packetizer)
    assert isinstance(packetizer_for("h265", ssrc=1), H265Packetizer)
    with pytest.raises(ValueError):
        packetizer_for("vp8", ssrc=1)
    with pytest.raises(ValueError):
        H264Packetizer(ssrc=1, mtu=10)
    packets = H264Packetizer(ssrc=1).packetize([b"\x41\x9a"], 5, marker=False)
    assert not parse_rtp(packets[0]).marker
    header = parse_rtp(
        rtp_header(sequence=70000, timestamp=2**33 + 7, ssrc=9, payload_type=97, marker=True)
    )
    assert (header.sequence, header.timestamp, header.ssrc) == (70000 & 0xFFFF, 7, 9)
    assert header.marker and header.payload_type == 97
