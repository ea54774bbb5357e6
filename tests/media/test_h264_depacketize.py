"""H.264 depacketizer against real Annex-B streams packetized by an independent test packetizer."""

from __future__ import annotations

import base64
import contextlib
import itertools
import random
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.media.errors import RtpError
from argus.media.h264 import H264Depacketizer, H264SpsInfo, build_avcc, read_sps
from argus.media.nal import AccessUnit, BitReader, decode_sprop, split_annexb
from argus.media.rtp import parse_rtp
from tests.media.rtp_packetize import packetize, rtp_header, split_h264_access_units
from tests.shared import SHARED_DATA

SAMPLES = SHARED_DATA / "h264-samples"

# size and profile from SOURCE.md (ffprobe); picture counts as the slice headers give them
EXPECTED = {
    "BA_MW_D.264": (176, 144, 66),
    "BA_MW_D_IDR_LOST.264": (176, 144, 66),
    "BA_MW_D_P_LOST.264": (176, 144, 66),
    "Cisco_Men_whisper_640x320_CABAC_Bframe_9.264": (640, 320, 77),
    "SarVui.264": (176, 144, 66),
    "Static.264": (152, 100, 66),
    "Zhling_1280x720.264": (1280, 720, 66),
    "jm_1080p_allslice.264": (1920, 1080, 66),
}

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared H.264 samples not present")


@cache
def access_units(name: str) -> list[list[bytes]]:
    return split_h264_access_units((SAMPLES / name).read_bytes())


def is_idr(au: list[bytes] | tuple[bytes, ...]) -> bool:
    return any(n[0] & 0x1F == 5 for n in au)


def run(
    packets: list[bytes], dep: H264Depacketizer | None = None
) -> tuple[list[AccessUnit], H264Depacketizer]:
    dep = dep or H264Depacketizer()
    out: list[AccessUnit] = []
    for raw in packets:
        out += dep.push(parse_rtp(raw))
    out += dep.flush()
    return out, dep


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("mtu", [1400, 300])
def test_round_trip_of_every_sample(name: str, mtu: int) -> None:
    aus = access_units(name)
    packets, _ = packetize(aus, mtu=mtu, first_seq=65500)
    out, dep = run(packets)
    first_idr = next(i for i, au in enumerate(aus) if is_idr(au))
    expected = aus[first_idr:]
    assert [list(au.nal_units) for au in out] == expected
    assert [au.is_keyframe for au in out] == [is_idr(au) for au in expected]
    assert [au.timestamp for au in out] == [1000 + i * 3600 for i in range(first_idr, len(aus))]
    # every NAL unit of the Annex-B stream, in order
    assert [n for au in out for n in au.nal_units] == split_annexb((SAMPLES / name).read_bytes())[
        sum(len(au) for au in aus[:first_idr]) :
    ]
    assert dep.stats.lost_packets == 0
    assert dep.stats.malformed_packets == 0
    assert dep.stats.dropped_access_units == first_idr
    sps = out[0].parameter_sets.sps
    assert sps is not None and out[0].parameter_sets.pps is not None
    assert out[0].parameter_sets_changed
    assert not any(au.parameter_sets_changed for au in out[1:])
    info = read_sps(sps)
    assert (info.width, info.height, info.profile_idc) == EXPECTED[name]


def test_mtu_forces_fu_a_and_stap_a() -> None:
    aus = access_units("Zhling_1280x720.264")
    packets, _ = packetize(aus, mtu=1400)
    kinds = {p[12] & 0x1F for p in packets}
    assert {24, 28} <= kinds  # STAP-A (SPS+PPS+...) and FU-A (big slices) both exercised
    aus = access_units("jm_1080p_allslice.264")
    packets, _ = packetize(aus, mtu=1400)
    assert all(p[12] & 0x1F == 24 for p in packets)  # 8,160 one-macroblock slices aggregated


def test_without_marker_bits_a_timestamp_change_ends_the_access_unit() -> None:
    aus = access_units("BA_MW_D.264")
    packets, _ = packetize(aus, mtu=500, marker=False)
    dep = H264Depacketizer()
    out: list[AccessUnit] = []
    for raw in packets:
        out += dep.push(parse_rtp(raw))
    assert [list(au.nal_units) for au in out] == aus[:-1]  # last one waits for flush
    out += dep.flush()
    assert [list(au.nal_units) for au in out] == aus


def test_missing_first_idr_waits_for_the_next_one() -> None:
    aus = access_units("BA_MW_D_IDR_LOST.264")
    out, dep = run(packetize(aus, mtu=1400)[0])
    assert out[0].is_keyframe and out[0].nal_units == tuple(aus[27])
    assert dep.stats.dropped_access_units == 27


def expected_after_loss(aus: list[list[bytes]], owners: list[int], dropped: set[int]) -> list[int]:
    """AUs that survive: whole (none of its packets lost, nor the packet just before it), and
    after any broken AU only from the next whole IDR on."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for i, owner in enumerate(owners):
        first.setdefault(owner, i)
        last[owner] = i
    keep: list[int] = []
    waiting = True
    for index in range(len(aus)):
        packets = range(first[index], last[index] + 1)
        broken = any(p in dropped for p in packets) or (first[index] - 1 in dropped)
        if broken:
            waiting = True
            continue
        if waiting and not is_idr(aus[index]):
            continue
        waiting = False
        keep.append(index)
    return keep


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("name", ["BA_MW_D.264", "Zhling_1280x720.264", "SarVui.264"])
def test_random_loss_resumes_exactly_at_the_next_idr(name: str, seed: int) -> None:
    rng = random.Random(seed)
    aus = access_units(name)
    packets, owners = packetize(
        aus, mtu=rng.choice([200, 600, 1400]), first_seq=rng.randrange(65536)
    )
    # never drop the first or last packet: a loss at either end of a stream cannot be seen
    dropped = set(rng.sample(range(1, len(packets) - 1), k=rng.randint(1, 4)))
    out, dep = run([p for i, p in enumerate(packets) if i not in dropped])
    keep = expected_after_loss(aus, owners, dropped)
    assert [list(au.nal_units) for au in out] == [aus[i] for i in keep]
    assert dep.stats.lost_packets == len(dropped)
    assert dep.stats.dropped_access_units == len(aus) - len(keep) - len(
        {
            i
            for i in range(len(aus))
            if all(owners[p] != i or p in dropped for p in range(len(packets)))
        }
    )
    # output resumes exactly at an IDR after each loss
    for au_before, au in itertools.pairwise(keep):
        if au != au_before + 1:
            assert is_idr(aus[au])


def test_sdp_parameter_sets_are_used_when_the_stream_has_none() -> None:
    aus = access_units("Static.264")
    sps, pps = aus[0][0], aus[0][1]
    assert sps[0] & 0x1F == 7 and pps[0] & 0x1F == 8
    stripped = [[n for n in au if n[0] & 0x1F not in (7, 8)] for au in aus]
    sprop = ",".join(base64.b64encode(n).decode().rstrip("=") for n in (sps, pps))
    dep = H264Depacketizer(decode_sprop(sprop))
    assert dep.parameter_sets.sps == sps
    out, _ = run(packetize(stripped, mtu=1400)[0], dep)
    assert out[0].parameter_sets.sps == sps and out[0].parameter_sets.pps == pps
    assert [list(au.nal_units) for au in out] == stripped


def test_bad_sprop_is_an_rtp_error() -> None:
    with pytest.raises(RtpError, match="base64"):
        decode_sprop("Z0IA!!,aM4")


def test_malformed_payloads_are_counted_and_break_only_their_access_unit() -> None:
    aus = access_units("Static.264")
    packets, _ = packetize(aus, mtu=1400)
    bad = [
        rtp_header(500, 1, True) + bytes([24, 0x00, 0x50, 0x65]),  # STAP-A overrun
        rtp_header(501, 2, True) + bytes([28, 0x05, 1, 2]),  # FU-A continuation, no start
        rtp_header(502, 3, True) + bytes([28, 0xC5, 1]),  # FU-A start and end
        rtp_header(503, 4, True) + bytes([0x80 | 5, 1]),  # forbidden bit
        rtp_header(504, 5, True) + bytes([26, 1, 2]),  # MTAP16: interleaved mode only
        rtp_header(505, 6, True),  # empty payload
    ]
    first, dep = run(bad)
    assert first == [] and dep.stats.malformed_packets == 6
    assert dep.stats.last_error is not None and "empty" in dep.stats.last_error
    renumbered = [
        rtp_header(506 + i, int.from_bytes(p[4:8], "big"), p[1] & 0x80 != 0) + p[12:]
        for i, p in enumerate(packets)
    ]
    out, _ = run(renumbered, dep)
    assert len(out) == len(aus)


def test_fu_a_interrupted_by_a_new_start_is_dropped() -> None:
    dep = H264Depacketizer()
    idr = bytes([0x65, 0x88]) + bytes(range(200))
    p = [
        rtp_header(1, 10, False) + bytes([0x7C, 0x85]) + idr[1:50],
        rtp_header(2, 10, False) + bytes([0x7C, 0x85]) + idr[1:50],  # a second start
        rtp_header(3, 10, True) + bytes([0x7C, 0x45]) + idr[50:],
    ]
    out, dep = run(p, dep)
    # the second start and the continuation after it are both malformed
    assert out == [] and dep.stats.malformed_packets == 2
    good = [
        rtp_header(4, 20, False) + bytes([0x7C, 0x85]) + idr[1:50],
        rtp_header(5, 20, False) + bytes([0x7C, 0x05]) + idr[50:100],
        rtp_header(6, 20, True) + bytes([0x7C, 0x45]) + idr[100:],
    ]
    out, _ = run(good, dep)
    assert [au.nal_units for au in out] == [(idr,)] and out[0].is_keyframe


def test_stream_joined_mid_picture_is_not_emitted_half() -> None:
    aus = access_units("jm_1080p_allslice.264")
    packets, _ = packetize(aus + aus, mtu=1400)
    half = len(packets) // 4  # inside the first picture's slices
    out, dep = run(packets[half:])
    assert [list(au.nal_units) for au in out] == [aus[0]]
    assert dep.stats.dropped_access_units == 1


def test_late_and_duplicate_packets() -> None:
    aus = access_units("BA_MW_D.264")
    packets, _ = packetize(aus[:30], mtu=400)
    swapped = [*packets[:10], packets[11], packets[10], *packets[12:], packets[-1]]
    out, dep = run(swapped)
    assert dep.stats.late_packets == 1 and dep.stats.duplicate_packets == 1
    assert dep.stats.lost_packets == 1
    assert all(list(au.nal_units) in aus for au in out)


# --- SPS reading and avcC -------------------------------------------------------------------


class BitWriter:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, n: int, v: int) -> None:
        self.bits += [(v >> (n - 1 - i)) & 1 for i in range(n)]

    def ue(self, v: int) -> None:
        code = v + 1
        self.u(2 * code.bit_length() - 1, code)

    def se(self, v: int) -> None:
        self.ue(2 * v - 1 if v > 0 else -2 * v)

    def nal(self, header: int) -> bytes:
        bits = [*self.bits, 1]
        bits += [0] * (-len(bits) % 8)
        raw = bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))
        out = bytearray()
        zeros = 0
        for b in raw:  # emulation prevention
            if zeros >= 2 and b <= 3:
                out.append(3)
                zeros = 0
            out.append(b)
            zeros = zeros + 1 if b == 0 else 0
        return bytes([header]) + bytes(out)


def make_sps(
    profile: int,
    width_mbs: int,
    height_units: int,
    *,
    chroma: int = 1,
    frame_mbs_only: bool = True,
    crop: tuple[int, int, int, int] | None = None,
    scaling: bool = False,
    poc_type: int = 0,
) -> bytes:
    w = BitWriter()
    w.u(8, profile)
    w.u(8, 0)
    w.u(8, 40)
    w.ue(0)
    if profile in (100, 110, 122, 244):
        w.ue(chroma)
        if chroma == 3:
            w.u(1, 0)
        w.ue(2 if profile == 110 else 0)
        w.ue(2 if profile == 110 else 0)
        w.u(1, 0)
        w.u(1, 1 if scaling else 0)
        if scaling:
            for i in range(8 if chroma != 3 else 12):
                w.u(1, 1 if i in (0, 6) else 0)
                if i in (0, 6):
                    for j in range(16 if i < 6 else 64):
                        w.se(3 if j < 5 else 0)
    w.ue(0)
    w.ue(poc_type)
    if poc_type == 0:
        w.ue(2)
    elif poc_type == 1:
        w.u(1, 0)
        w.se(-1)
        w.se(2)
        w.ue(2)
        w.se(1)
        w.se(-3)
    w.ue(4)
    w.u(1, 0)
    w.ue(width_mbs - 1)
    w.ue(height_units - 1)
    w.u(1, 1 if frame_mbs_only else 0)
    if not frame_mbs_only:
        w.u(1, 1)
    w.u(1, 1)
    w.u(1, 1 if crop else 0)
    for c in crop or ():
        w.ue(c)
    w.u(1, 0)  # no VUI
    return w.nal(0x67)


@pytest.mark.parametrize(
    ("sps", "size", "chroma"),
    [
        (make_sps(100, 120, 68, crop=(0, 0, 0, 4)), (1920, 1080), 1),
        (make_sps(100, 120, 68, crop=(0, 0, 0, 4), scaling=True), (1920, 1080), 1),
        (make_sps(100, 120, 34, frame_mbs_only=False, crop=(0, 0, 0, 2)), (1920, 1080), 1),
        (make_sps(244, 80, 45, chroma=3, crop=(1, 2, 3, 4)), (1277, 713), 3),
        (make_sps(122, 80, 45, chroma=2, crop=(1, 1, 1, 1)), (1276, 718), 2),
        (make_sps(110, 40, 30, poc_type=1), (640, 480), 1),
        (make_sps(77, 45, 36, poc_type=2), (720, 576), 1),
    ],
)
def test_read_sps_high_profiles_cropping_and_fields(
    sps: bytes, size: tuple[int, int], chroma: int
) -> None:
    info = read_sps(sps)
    assert (info.width, info.height) == size
    assert info.chroma_format_idc == chroma


def test_codec_string_and_bit_depth() -> None:
    info = read_sps(make_sps(110, 40, 30))
    assert info.bit_depth_luma == 10 and info.codec_string == "avc1.6E0028"
    assert isinstance(info, H264SpsInfo)


def test_build_avcc_layout() -> None:
    aus = access_units("Zhling_1280x720.264")
    sps, pps = aus[0][0], aus[0][1]
    avcc = build_avcc([sps], [pps])
    assert avcc[:4] == bytes([1, sps[1], sps[2], sps[3]])
    assert avcc[4] == 0xFF and avcc[5] == 0xE1
    assert int.from_bytes(avcc[6:8], "big") == len(sps) and avcc[8 : 8 + len(sps)] == sps
    rest = avcc[8 + len(sps) :]
    assert rest[0] == 1 and int.from_bytes(rest[1:3], "big") == len(pps) and rest[3:] == pps
    high = make_sps(110, 40, 30)
    ext = build_avcc([high], [pps])
    assert ext[-4:] == bytes([0xFD, 0xFA, 0xFA, 0])
    with pytest.raises(RtpError):
        build_avcc([], [pps])


@given(st.binary(max_size=64))
def test_read_sps_random_bytes_only_raise_rtp_error(data: bytes) -> None:
    with contextlib.suppress(RtpError):
        read_sps(b"\x67" + data)


def test_bit_reader_exp_golomb() -> None:
    r = BitReader(bytes([0b10100110, 0b01000000]))
    assert [r.ue(), r.ue(), r.ue(), r.se()] == [0, 1, 2, 2]


# --- robustness ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=12, max_size=80), max_size=40), st.integers(0, 65535))
def test_random_payloads_never_raise(payloads: list[bytes], seq: int) -> None:
    dep = H264Depacketizer()
    for i, data in enumerate(payloads):
        ts = int.from_bytes(data[4:8], "big") % 4
        packet = parse_rtp(rtp_header(seq + i, ts, data[0] & 1 == 1) + data[12:])
        for au in dep.push(packet):
            assert au.nal_units
    dep.flush()


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32),
    st.sampled_from(["BA_MW_D.264", "Cisco_Men_whisper_640x320_CABAC_Bframe_9.264"]),
)
def test_random_orders_and_drops_never_emit_a_wrong_access_unit(seed: int, name: str) -> None:
    rng = random.Random(seed)
    aus = access_units(name)
    packets, _ = packetize(aus, mtu=rng.choice([100, 300, 1400]), first_seq=rng.randrange(65536))
    mangled = [p for p in packets if rng.random() > 0.05] or packets[:1]
    for _ in range(rng.randint(0, 20)):
        i, j = rng.randrange(len(mangled)), rng.randrange(len(mangled))
        mangled[i], mangled[j] = mangled[j], mangled[i]
    if rng.random() < 0.3:
        mangled = mangled[rng.randrange(len(mangled)) :]
    out, _ = run(mangled)
    by_ts = {1000 + i * 3600: au for i, au in enumerate(aus)}
    for k, au in enumerate(out):
        original = by_ts[au.timestamp]
        if k == 0:  # loss before the first packet is invisible: leading SPS/PPS may be missing
            assert original[len(original) - len(au.nal_units) :] == list(au.nal_units)
            assert [n for n in original if n[0] & 0x1F < 6] == [
                n for n in au.nal_units if n[0] & 0x1F < 6
            ]
        else:
            assert list(au.nal_units) == original
