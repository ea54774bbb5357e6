"""H.265 depacketizer (RFC 7798) on synthetic NAL units: single, AP and FU packets, loss rules."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.media.h265 import H265Depacketizer
from argus.media.nal import AccessUnit
from argus.media.rtp import parse_rtp
from tests.media.rtp_packetize import packetize, rtp_header


def nal(
    kind: int, size: int, rng: random.Random, *, first_slice: bool = True, tid: int = 1
) -> bytes:
    header = bytes([kind << 1, tid])
    body = bytearray(rng.randbytes(size))
    if kind < 32:
        body[0] = (body[0] & 0x7F) | (0x80 if first_slice else 0)
    for i in range(2, len(body)):  # keep it free of start-code-like runs, as a real NAL is
        if body[i - 2] == 0 and body[i - 1] == 0 and body[i] <= 3:
            body[i] = 0x55
    return header + bytes(body)


def gop_stream(rng: random.Random, gops: int = 4, length: int = 8) -> list[list[bytes]]:
    """VPS/SPS/PPS + IDR (type 19, or CRA 21), then trailing pictures (type 1) of 1-3 slices."""
    aus: list[list[bytes]] = []
    for g in range(gops):
        vps, sps, pps = nal(32, 20, rng), nal(33, 40 + g, rng), nal(34, 8, rng)
        key = 19 if g % 2 == 0 else 21
        aus.append([vps, sps, pps, nal(key, rng.randint(3000, 9000), rng)])
        for _ in range(length - 1):
            slices = rng.randint(1, 3)
            aus.append(
                [
                    nal(1, rng.choice([30, 300, 2500]), rng, first_slice=i == 0)
                    for i in range(slices)
                ]
            )
    return aus


def run(
    packets: list[bytes], dep: H265Depacketizer | None = None
) -> tuple[list[AccessUnit], H265Depacketizer]:
    dep = dep or H265Depacketizer()
    out: list[AccessUnit] = []
    for raw in packets:
        out += dep.push(parse_rtp(raw))
    out += dep.flush()
    return out, dep


@pytest.mark.parametrize("mtu", [1200, 400])
def test_round_trip_with_aggregation_and_fragmentation(mtu: int) -> None:
    rng = random.Random(mtu)
    aus = gop_stream(rng)
    packets, _ = packetize(aus, mtu=mtu, h265=True, first_seq=65530)
    kinds = {(p[12] >> 1) & 0x3F for p in packets}
    assert {48, 49} <= kinds
    out, dep = run(packets)
    assert [list(au.nal_units) for au in out] == aus
    assert [au.is_keyframe for au in out] == [i % 8 == 0 for i in range(len(aus))]
    assert dep.stats.dropped_access_units == 0 and dep.stats.malformed_packets == 0
    ps = out[0].parameter_sets
    assert (ps.vps, ps.sps, ps.pps) == tuple(aus[0][:3])
    # each GOP brings a new SPS: the change is flagged on its keyframe only
    assert [au.parameter_sets_changed for au in out] == [i % 8 == 0 for i in range(len(aus))]


def test_fu_rebuilds_the_nal_header_with_layer_and_tid() -> None:
    rng = random.Random(1)
    big = (
        bytes([(19 << 1) | 1, 0x2B]) + bytes([0x80]) + rng.randbytes(3000).replace(b"\x00", b"\x01")
    )
    packets, _ = packetize([[big]], mtu=1000, h265=True)
    assert all((p[12] >> 1) & 0x3F == 49 for p in packets)
    out, _ = run(packets)
    assert out[0].nal_units == (big,) and out[0].is_keyframe


def test_parameter_sets_from_sdp() -> None:
    rng = random.Random(2)
    aus = gop_stream(rng, gops=1)
    vps, sps, pps = aus[0][:3]
    stripped = [[n for n in au if (n[0] >> 1) & 0x3F < 32] for au in aus]
    dep = H265Depacketizer([vps, sps, pps])
    out, _ = run(packetize(stripped, mtu=1200, h265=True)[0], dep)
    assert out[0].parameter_sets.vps == vps and out[0].parameter_sets.complete
    assert [list(au.nal_units) for au in out] == stripped


def test_donl_fields_are_skipped_when_declared() -> None:
    rng = random.Random(3)
    a, b = nal(32, 10, rng), nal(33, 12, rng)
    ap = bytes([48 << 1, 1]) + b"\x00\x07" + len(a).to_bytes(2, "big") + a + b"\x01"
    ap += len(b).to_bytes(2, "big") + b
    idr = nal(19, 50, rng)
    fu1 = bytes([49 << 1, 1, 0x80 | 19]) + b"\x00\x08" + idr[2:20]
    fu2 = bytes([49 << 1, 1, 0x40 | 19]) + idr[20:]
    packets = [
        rtp_header(1, 9, False) + ap,
        rtp_header(2, 9, False) + fu1,
        rtp_header(3, 9, True) + fu2,
    ]
    out, dep = run(packets, H265Depacketizer(donl=True))
    assert out and out[0].nal_units == (a, b, idr), dep.stats


@pytest.mark.parametrize("seed", range(10))
def test_loss_resumes_at_the_next_irap(seed: int) -> None:
    rng = random.Random(seed)
    aus = gop_stream(rng, gops=5)
    packets, owners = packetize(aus, mtu=800, h265=True)
    gop = rng.randrange(4)
    target = gop * 8 + rng.randrange(1, 8)
    first = owners.index(target) + rng.randrange(owners.count(target))
    out, dep = run(packets[:first] + packets[first + 1 :])
    emitted = [(au.timestamp - 1000) // 3600 for au in out]
    lost_au = owners[first]
    # the AU after the loss is broken too when the lost packet was its predecessor's last:
    # nothing tells whether the missing packet began it
    following = owners[first + 1]
    broken_until = max(lost_au, following)
    resume = (broken_until // 8 + 1) * 8  # the next IRAP after the last broken AU
    assert emitted == list(range(lost_au)) + list(range(resume, len(aus)))
    assert dep.stats.lost_packets == 1
    vanished = owners.count(lost_au) == 1  # an AU sent as one packet is never seen at all
    assert dep.stats.dropped_access_units == resume - lost_au - vanished


def test_malformed_packets_are_counted() -> None:
    bad = [
        rtp_header(1, 1, True) + bytes([48 << 1, 1, 0x00, 0x40, 0x02]),  # AP overrun
        rtp_header(2, 2, True) + bytes([48 << 1, 1, 0x00, 0x01, 0x02]),  # AP unit below 2 bytes
        rtp_header(3, 3, True) + bytes([49 << 1, 1, 0x13, 1, 2]),  # FU continuation only
        rtp_header(4, 4, True) + bytes([49 << 1, 1, 0xD3, 1]),  # FU start+end
        rtp_header(5, 5, True) + bytes([50 << 1, 1, 0, 0]),  # PACI
        rtp_header(6, 6, True) + bytes([1 << 1]),  # too short
        rtp_header(7, 7, True) + bytes([0x80 | 2, 1, 0]),  # forbidden bit
    ]
    out, dep = run(bad)
    assert out == [] and dep.stats.malformed_packets == 7


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=60), max_size=40), st.booleans())
def test_random_payloads_never_raise(payloads: list[bytes], donl: bool) -> None:
    dep = H265Depacketizer(donl=donl)
    for i, data in enumerate(payloads):
        dep.push(parse_rtp(rtp_header(i, data[0] % 3, data[0] & 0x80 != 0) + data[1:]))
    dep.flush()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32))
def test_random_orders_and_drops_never_emit_a_wrong_access_unit(seed: int) -> None:
    rng = random.Random(seed)
    aus = gop_stream(random.Random(seed % 7), gops=3, length=5)
    packets, _ = packetize(
        aus, mtu=rng.choice([300, 1200]), h265=True, first_seq=rng.randrange(65536)
    )
    mangled = [p for p in packets if rng.random() > 0.05] or packets[:1]
    for _ in range(rng.randint(0, 10)):
        i, j = rng.randrange(len(mangled)), rng.randrange(len(mangled))
        mangled[i], mangled[j] = mangled[j], mangled[i]
    if rng.random() < 0.3:
        mangled = mangled[rng.randrange(len(mangled)) :]
    out, _ = run(mangled)
    check_emitted(out, aus)


def check_emitted(out: list[AccessUnit], aus: list[list[bytes]]) -> None:
    """Every AU emitted is one of the stream's, whole; except that the output may
    begin with a keyframe AU whose leading parameter sets were missed: nothing shows a loss
    before the first packet that arrives."""
    by_ts = {1000 + i * 3600: au for i, au in enumerate(aus)}
    for k, au in enumerate(out):
        original = by_ts[au.timestamp]
        if k == 0:
            assert original[len(original) - len(au.nal_units) :] == list(au.nal_units)
            assert [n for n in original if n[0] >> 1 & 0x3F < 32] == [
                n for n in au.nal_units if n[0] >> 1 & 0x3F < 32
            ]
        else:
            assert list(au.nal_units) == original
