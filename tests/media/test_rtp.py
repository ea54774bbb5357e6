"""RTP packet parsing, sequence arithmetic, loss tracking and RTCP sender reports."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from argus.media.errors import RtpError
from argus.media.rtp import (
    RtpWallClock,
    SenderReport,
    SeqEvent,
    SequenceTracker,
    TimestampUnwrapper,
    build_rtp,
    parse_rtcp_sender_reports,
    parse_rtp,
    seq_before,
    seq_distance,
)


def test_parse_plain_packet() -> None:
    raw = build_rtp(b"hello", sequence=7, timestamp=90000, ssrc=0xDEADBEEF, marker=True)
    p = parse_rtp(raw)
    assert (p.marker, p.payload_type, p.sequence, p.timestamp, p.ssrc) == (
        True,
        96,
        7,
        90000,
        0xDEADBEEF,
    )
    assert bytes(p.payload) == b"hello" and p.csrcs == () and p.extension is None


def test_payload_is_a_view_not_a_copy() -> None:
    buf = bytearray(build_rtp(b"abcdef", sequence=1, timestamp=2, ssrc=3))
    p = parse_rtp(buf)
    buf[12] = ord("X")
    assert bytes(p.payload) == b"Xbcdef"
    assert p.payload.obj is buf


def test_csrcs_extension_and_padding() -> None:
    header = struct.pack("!BBHII", 0x80 | 0x20 | 0x10 | 2, 0x60, 65535, 1, 2)
    csrcs = struct.pack("!II", 11, 22)
    ext = struct.pack("!HH", 0xBEDE, 1) + b"\x10\xaa\x00\x00"
    raw = header + csrcs + ext + b"payload" + b"\x00\x00\x03"
    p = parse_rtp(raw)
    assert p.csrcs == (11, 22)
    assert p.extension_profile == 0xBEDE and p.extension is not None
    assert bytes(p.extension) == b"\x10\xaa\x00\x00"
    assert p.padding and bytes(p.payload) == b"payload"
    assert p.payload_type == 0x60 and not p.marker and p.sequence == 65535


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x80\x60\x00", "shorter than the 12-byte header"),
        (b"\x40" + bytes(11), "version is 1"),
        (b"\x83" + bytes(11), "CSRCs"),
        (b"\x90" + bytes(11), "extension header"),
        (b"\x90" + bytes(11) + b"\x00\x00\x00\x05", "runs past"),
        (b"\xa0" + bytes(11) + b"ab\x00", "padding count 0"),
        (b"\xa0" + bytes(11) + b"ab\x09", "padding count 9"),
    ],
)
def test_malformed_packets_name_their_fault(raw: bytes, message: str) -> None:
    with pytest.raises(RtpError, match=message):
        parse_rtp(raw)


@given(st.binary(max_size=100))
def test_random_bytes_raise_only_rtp_error(data: bytes) -> None:
    try:
        p = parse_rtp(data)
    except RtpError:
        return
    assert len(p.payload) <= len(data) - 12


@given(st.binary(max_size=100))
def test_random_rtcp_raises_only_rtp_error(data: bytes) -> None:
    with contextlib.suppress(RtpError):
        parse_rtcp_sender_reports(data)


def test_sequence_arithmetic_wraps() -> None:
    assert seq_distance(65535, 0) == 1
    assert seq_distance(0, 65535) == -1
    assert seq_distance(65530, 4) == 10
    assert seq_before(65535, 2) and not seq_before(2, 65535)
    assert seq_distance(5, 5) == 0


def test_tracker_reports_gaps_reordering_duplicates_and_restarts() -> None:
    t = SequenceTracker()
    assert t.feed(65534) is SeqEvent.FIRST
    assert t.feed(65535) is SeqEvent.NEXT
    assert t.feed(0) is SeqEvent.NEXT
    assert t.feed(3) is SeqEvent.GAP and t.last_lost == 2
    assert t.feed(2) is SeqEvent.LATE
    assert t.feed(3) is SeqEvent.DUPLICATE
    assert t.feed(4) is SeqEvent.NEXT and t.last_lost == 0
    assert t.feed(30000) is SeqEvent.RESTART
    assert t.feed(30001) is SeqEvent.NEXT
    assert (t.lost, t.reordered, t.duplicates, t.restarts, t.received) == (2, 1, 1, 1, 9)


def sender_report(ssrc: int, ntp: int, rtp: int) -> bytes:
    body = struct.pack("!IQIII", ssrc, ntp, rtp, 10, 1000)
    return struct.pack("!BBH", 0x80, 200, len(body) // 4) + body


def test_compound_rtcp_with_sender_report() -> None:
    unix = 1_790_000_000.25
    ntp = (int(unix) + 2_208_988_800) << 32 | (1 << 30)
    receiver_report = struct.pack("!BBHI", 0x80, 201, 1, 99)
    sdes = struct.pack("!BBH", 0x81, 202, 2) + b"\x00\x00\x00\x01\x01\x00\x00\x00"
    reports = parse_rtcp_sender_reports(sender_report(7, ntp, 5000) + receiver_report + sdes)
    assert reports == [SenderReport(7, ntp, 5000, 10, 1000)]
    assert reports[0].unix_time == pytest.approx(unix)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x80\xc8", "shorter than its 4-byte header"),
        (b"\x40\xc8\x00\x00", "version"),
        (b"\x80\xc8\x00\x06" + bytes(20), "past"),
        (b"\x80\xc8\x00\x01" + bytes(4), "28-byte"),
        (b"\x80\xc9\x00\x00\x00", "stray"),
    ],
)
def test_malformed_rtcp(raw: bytes, message: str) -> None:
    with pytest.raises(RtpError, match=message):
        parse_rtcp_sender_reports(raw)


def test_wall_clock_from_sender_report_across_wrap() -> None:
    clock = RtpWallClock(90000)
    assert clock.wall_time(0) is None and not clock.synchronized
    ntp = (1000 + 2_208_988_800) << 32
    clock.update(SenderReport(1, ntp, 0xFFFFFF00, 0, 0))
    assert clock.wall_time(0xFFFFFF00) == pytest.approx(1000.0)
    assert clock.wall_time(0xFFFFFF00 + 90000 - 2**32) == pytest.approx(1001.0)
    assert clock.wall_time(0xFFFFFF00 - 45000) == pytest.approx(999.5)
    with pytest.raises(RtpError):
        RtpWallClock(0)


def test_timestamp_unwrapper_is_monotonic_across_wrap() -> None:
    u = TimestampUnwrapper()
    values = [2**32 - 6000, 2**32 - 3000, 0, 3000, 1500]
    assert [u.extend(v) for v in values] == [
        2**32 - 6000,
        2**32 - 3000,
        2**32,
        2**32 + 3000,
        2**32 + 1500,
    ]
