"""RTP packets and RTCP sender reports (RFC 3550): parsing, sequence arithmetic, clock mapping.

`parse_rtp` reads one packet without copying its payload (a memoryview slice of the input).
`SequenceTracker` tells each arriving sequence number apart as next, after a gap, late or a
duplicate. `parse_rtcp_sender_reports` reads the sender reports of a compound RTCP packet, and
`RtpWallClock` maps RTP timestamps to wall-clock time through the latest of them;
`TimestampUnwrapper` turns 32-bit RTP timestamps into a monotonic 64-bit media time.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import NamedTuple

from argus.media.errors import RtpError

RTP_VERSION = 2
RTCP_SENDER_REPORT = 200
NTP_UNIX_OFFSET = 2_208_988_800
"""Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01)."""

MAX_DROPOUT = 3000
"""A forward jump larger than this is a restart of the sequence, not a loss (RFC 3550 A.1)."""
MAX_MISORDER = 100
"""A backward step larger than this is a restart of the sequence, not a late packet."""

_HEADER = struct.Struct("!BBHII")
_EXTENSION = struct.Struct("!HH")
_RTCP_HEADER = struct.Struct("!BBH")
_SENDER_INFO = struct.Struct("!IQIII")

Buffer = bytes | bytearray | memoryview


class RtpPacket(NamedTuple):
    """One RTP packet; `payload` is a view into the buffer it was parsed from."""

    marker: bool
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: memoryview
    csrcs: tuple[int, ...] = ()
    padding: bool = False
    extension_profile: int | None = None
    extension: memoryview | None = None


def parse_rtp(data: Buffer) -> RtpPacket:
    """Read one RTP packet; raise RtpError naming what is wrong with a malformed one."""
    size = len(data)
    if size < 12:
        raise RtpError(f"RTP packet of {size} bytes is shorter than the 12-byte header")
    first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
    if first >> 6 != RTP_VERSION:
        raise RtpError(f"RTP version is {first >> 6}, expected 2")
    view = data if isinstance(data, memoryview) else memoryview(data)
    csrc_count = first & 0x0F
    offset = 12 + 4 * csrc_count
    if offset > size:
        raise RtpError(f"RTP packet of {size} bytes is too short for its {csrc_count} CSRCs")
    csrcs: tuple[int, ...] = struct.unpack_from(f"!{csrc_count}I", data, 12) if csrc_count else ()
    extension_profile: int | None = None
    extension: memoryview | None = None
    if first & 0x10:
        if offset + 4 > size:
            raise RtpError("RTP packet is too short for the extension header its X bit announces")
        extension_profile, words = _EXTENSION.unpack_from(data, offset)
        start = offset + 4
        offset = start + 4 * words
        if offset > size:
            raise RtpError(f"RTP header extension of {words} words runs past the packet's end")
        extension = view[start:offset]
    end = size
    padding = bool(first & 0x20)
    if padding:
        count = view[size - 1]
        if count == 0 or offset + count > size:
            raise RtpError(f"RTP padding count {count} does not fit the packet")
        end = size - count
    return RtpPacket(
        bool(second & 0x80),
        second & 0x7F,
        sequence,
        timestamp,
        ssrc,
        view[offset:end],
        csrcs,
        padding,
        extension_profile,
        extension,
    )


def build_rtp(
    payload: bytes,
    *,
    sequence: int,
    timestamp: int,
    ssrc: int,
    payload_type: int = 96,
    marker: bool = False,
) -> bytes:
    """Serialize a plain RTP packet (no CSRCs, extension or padding)."""
    header = _HEADER.pack(
        RTP_VERSION << 6,
        (0x80 if marker else 0) | (payload_type & 0x7F),
        sequence & 0xFFFF,
        timestamp & 0xFFFFFFFF,
        ssrc & 0xFFFFFFFF,
    )
    return header + payload


def seq_distance(earlier: int, later: int) -> int:
    """Signed steps from `earlier` to `later` in 16-bit sequence space, in [-32768, 32767]."""
    return ((later - earlier + 0x8000) & 0xFFFF) - 0x8000


def seq_before(a: int, b: int) -> bool:
    """Whether sequence number `a` comes before `b`, allowing for wrap-around."""
    return seq_distance(a, b) > 0


class SeqEvent(IntEnum):
    """How an arriving sequence number relates to the highest one seen so far."""

    FIRST = 0
    NEXT = 1
    GAP = 2
    """Packets were skipped; `SequenceTracker.last_lost` says how many."""
    LATE = 3
    """Older than the highest seen: reordered (already counted lost when it was skipped)."""
    DUPLICATE = 4
    RESTART = 5
    """A jump too large to be loss or reordering: the sender restarted its sequence."""


class SequenceTracker:
    """Follows one SSRC's sequence numbers and counts losses, reordering and duplicates."""

    __slots__ = ("duplicates", "highest", "last_lost", "lost", "received", "reordered", "restarts")

    def __init__(self) -> None:
        self.highest: int | None = None
        self.received = 0
        self.lost = 0
        self.reordered = 0
        self.duplicates = 0
        self.restarts = 0
        self.last_lost = 0

    def feed(self, sequence: int) -> SeqEvent:
        """Record one arriving sequence number and say how it relates to the ones before."""
        self.received += 1
        self.last_lost = 0
        highest = self.highest
        if highest is None:
            self.highest = sequence & 0xFFFF
            return SeqEvent.FIRST
        step = ((sequence - highest + 0x8000) & 0xFFFF) - 0x8000
        if step == 1:
            self.highest = sequence
            return SeqEvent.NEXT
        if 1 < step <= MAX_DROPOUT:
            self.highest = sequence
            self.last_lost = step - 1
            self.lost += step - 1
            return SeqEvent.GAP
        if step == 0:
            self.duplicates += 1
            return SeqEvent.DUPLICATE
        if -MAX_MISORDER <= step < 0:
            self.reordered += 1
            return SeqEvent.LATE
        self.highest = sequence & 0xFFFF
        self.restarts += 1
        return SeqEvent.RESTART


class SenderReport(NamedTuple):
    """The sender info of an RTCP SR: which NTP (wall-clock) time matched which RTP time."""

    ssrc: int
    ntp_timestamp: int
    """64-bit NTP time: seconds since 1900 in the high 32 bits, a binary fraction below."""
    rtp_timestamp: int
    packet_count: int
    octet_count: int

    @property
    def unix_time(self) -> float:
        """The NTP timestamp as seconds since the Unix epoch."""
        seconds = (self.ntp_timestamp >> 32) - NTP_UNIX_OFFSET
        return seconds + (self.ntp_timestamp & 0xFFFFFFFF) / 4_294_967_296


def parse_rtcp_sender_reports(data: Buffer) -> list[SenderReport]:
    """Read every sender report in a compound RTCP packet; other packet types are skipped."""
    size = len(data)
    if size < 4:
        raise RtpError(f"RTCP packet of {size} bytes is shorter than its 4-byte header")
    reports: list[SenderReport] = []
    offset = 0
    while offset < size:
        if offset + 4 > size:
            raise RtpError(f"RTCP packet has {size - offset} stray bytes after its last report")
        first, packet_type, words = _RTCP_HEADER.unpack_from(data, offset)
        if first >> 6 != RTP_VERSION:
            raise RtpError(f"RTCP version is {first >> 6}, expected 2")
        end = offset + 4 * (words + 1)
        if end > size:
            raise RtpError(f"RTCP packet of type {packet_type} runs past the datagram's end")
        if packet_type == RTCP_SENDER_REPORT:
            if end - offset < 28:
                raise RtpError("RTCP sender report is shorter than its 28-byte sender info")
            reports.append(SenderReport(*_SENDER_INFO.unpack_from(data, offset + 4)))
        offset = end
    return reports


class TimestampUnwrapper:
    """Extends 32-bit RTP timestamps to a monotonic-ish 64-bit count across wrap-arounds."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: int | None = None

    def extend(self, timestamp: int) -> int:
        """The extended value of `timestamp`, taken as the closest to the previous one."""
        last = self._last
        if last is None:
            extended = timestamp & 0xFFFFFFFF
        else:
            step = ((timestamp - last + 0x80000000) & 0xFFFFFFFF) - 0x80000000
            extended = last + step
        self._last = extended
        return extended


class RtpWallClock:
    """Maps RTP timestamps of one stream to Unix time through its latest sender report."""

    __slots__ = ("_report", "clock_rate")

    def __init__(self, clock_rate: int) -> None:
        if clock_rate <= 0:
            raise RtpError(f"RTP clock rate must be positive, got {clock_rate}")
        self.clock_rate = clock_rate
        self._report: SenderReport | None = None

    def update(self, report: SenderReport) -> None:
        """Take a newer sender report as the reference."""
        self._report = report

    @property
    def synchronized(self) -> bool:
        return self._report is not None

    def wall_time(self, rtp_timestamp: int) -> float | None:
        """Unix time of `rtp_timestamp`, or None before the first sender report."""
        report = self._report
        if report is None:
            return None
        step = ((rtp_timestamp - report.rtp_timestamp + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        return report.unix_time + step / self.clock_rate
