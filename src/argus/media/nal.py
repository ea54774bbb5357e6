"""What H.264 and H.265 share: NAL-unit byte helpers and the access-unit assembler.

`split_annexb` cuts an Annex-B byte stream at its start codes, `remove_emulation_prevention`
recovers the RBSP for reading header fields, `BitReader` reads them (exp-Golomb included).
`NalDepacketizer` is the codec-neutral half of an RTP depacketizer: it groups NAL units into
access units (an AU ends on the marker bit or a timestamp change), follows the parameter sets,
and after any loss drops everything up to the next intact keyframe, counting what it dropped.
"""

from __future__ import annotations

import base64
import binascii
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from argus.media.errors import RtpError
from argus.media.rtp import RtpPacket, SeqEvent, SequenceTracker

_START_CODE = b"\x00\x00\x01"


def split_annexb(stream: bytes) -> list[bytes]:
    """The NAL units of an Annex-B byte stream, without start codes or trailing zero bytes."""
    units: list[bytes] = []
    start = stream.find(_START_CODE)
    while start >= 0:
        begin = start + 3
        nxt = stream.find(_START_CODE, begin)
        end = len(stream) if nxt < 0 else nxt
        while end > begin and stream[end - 1] == 0:
            end -= 1
        if end > begin:
            units.append(stream[begin:end])
        start = nxt
    return units


def remove_emulation_prevention(data: bytes) -> bytes:
    """The RBSP of a NAL unit: every 0x000003 turned back into 0x0000."""
    pos = data.find(b"\x00\x00\x03")
    if pos < 0:
        return data
    out = bytearray()
    begin = 0
    while pos >= 0:
        out += data[begin : pos + 2]
        begin = pos + 3
        pos = data.find(b"\x00\x00\x03", begin)
    out += data[begin:]
    return bytes(out)


def decode_sprop(value: str) -> list[bytes]:
    """NAL units from an SDP sprop value: comma-separated base64 (sprop-parameter-sets etc.)."""
    units: list[bytes] = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            units.append(base64.b64decode(part + "=" * (-len(part) % 4), validate=True))
        except (binascii.Error, ValueError) as exc:
            raise RtpError(f"SDP parameter set {part[:20]!r} is not valid base64") from exc
    return units


class BitReader:
    """Reads bits, most significant first, from an RBSP (emulation prevention already removed)."""

    __slots__ = ("_bits", "_pos", "_value")

    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "big")
        self._bits = len(data) * 8
        self._pos = 0

    def u(self, count: int) -> int:
        """An unsigned value of `count` bits."""
        if count == 0:
            return 0
        end = self._pos + count
        if end > self._bits:
            raise RtpError("parameter set ends in the middle of a field")
        self._pos = end
        return (self._value >> (self._bits - end)) & ((1 << count) - 1)

    def flag(self) -> bool:
        return self.u(1) == 1

    def ue(self) -> int:
        """An unsigned exp-Golomb value."""
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise RtpError("exp-Golomb code longer than 32 bits in a parameter set")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        """A signed exp-Golomb value."""
        code = self.ue()
        return (code + 1) // 2 if code & 1 else -(code // 2)


@dataclass(frozen=True, slots=True)
class ParameterSets:
    """The latest parameter sets known for a stream (H.264 has no VPS)."""

    vps: bytes | None = None
    sps: bytes | None = None
    pps: bytes | None = None

    @property
    def complete(self) -> bool:
        """Whether SPS and PPS are known (and VPS too, once any was seen)."""
        return self.sps is not None and self.pps is not None


@dataclass(frozen=True, slots=True)
class AccessUnit:
    """One picture's NAL units (no start codes), as sent under one RTP timestamp."""

    timestamp: int
    nal_units: tuple[bytes, ...]
    is_keyframe: bool
    parameter_sets: ParameterSets
    parameter_sets_changed: bool = False
    """True on the first AU emitted after the parameter sets changed (or the very first AU)."""
    size: int = field(init=False)
    """Bytes of NAL units, counted once here for ingest's bitrate and the hub's ring."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", sum(map(len, self.nal_units)))


@dataclass(slots=True)
class DepacketizerStats:
    """Counters of one depacketizer, for the camera's health and metrics."""

    packets: int = 0
    lost_packets: int = 0
    late_packets: int = 0
    duplicate_packets: int = 0
    sequence_restarts: int = 0
    malformed_packets: int = 0
    access_units: int = 0
    dropped_access_units: int = 0
    """AUs not emitted: broken by loss or a malformed packet, or waiting for a keyframe."""
    last_error: str | None = field(default=None)


class NalDepacketizer(ABC):
    """Assembles access units from RTP packets; subclasses read their codec's payload formats.

    Malformed payloads do not raise: they count as `malformed_packets`, their message is kept in
    `stats.last_error`, and the AU they belong to is dropped like one hit by packet loss.
    """

    __slots__ = (
        "_broken",
        "_check_start",
        "_emitted_ps",
        "_first_slice",
        "_fu",
        "_fu_type",
        "_in_au",
        "_keyframe",
        "_nals",
        "_pps",
        "_ps",
        "_sps",
        "_timestamp",
        "_vps",
        "_waiting",
        "stats",
        "tracker",
    )

    def __init__(self, parameter_sets: list[bytes] | tuple[bytes, ...] = ()) -> None:
        self.tracker = SequenceTracker()
        self.stats = DepacketizerStats()
        self._nals: list[bytes] = []
        self._timestamp = 0
        self._in_au = False
        self._broken = False
        self._keyframe = False
        self._first_slice = -1
        self._check_start = False
        self._waiting = True
        self._fu: bytearray | None = None
        self._fu_type = -1
        self._vps: bytes | None = None
        self._sps: bytes | None = None
        self._pps: bytes | None = None
        self._ps = ParameterSets()
        self._emitted_ps: ParameterSets | None = None
        self.add_parameter_sets(parameter_sets)

    # --- what subclasses provide -------------------------------------------------------------

    @abstractmethod
    def _unpack(self, payload: memoryview) -> None:
        """Read one RTP payload, calling `_add_nal` / `_fu_*`; raise RtpError if malformed."""

    @abstractmethod
    def _add_nal(self, nal: bytes) -> None:
        """Append one complete NAL unit to the current AU, noting keyframes and parameter sets.

        On the AU's first slice it sets `_first_slice` to 1 if that slice begins a picture
        (first_mb_in_slice 0, first_slice_segment_in_pic_flag 1), else 0.
        """

    # --- public ------------------------------------------------------------------------------

    @property
    def parameter_sets(self) -> ParameterSets:
        self._refresh_parameter_sets()
        return self._ps

    @property
    def waiting_for_keyframe(self) -> bool:
        return self._waiting

    def add_parameter_sets(self, nal_units: list[bytes] | tuple[bytes, ...]) -> None:
        """Take parameter sets given out of band (from SDP sprop-* attributes)."""
        saved = self._nals, self._keyframe, self._first_slice
        self._nals = []
        try:
            for nal in nal_units:
                if nal:
                    self._add_nal(bytes(nal))
        finally:
            self._nals, self._keyframe, self._first_slice = saved

    def push(self, packet: RtpPacket) -> list[AccessUnit]:
        """Feed one RTP packet; return the access units it completed (usually zero or one)."""
        stats = self.stats
        stats.packets += 1
        event = self.tracker.feed(packet.sequence)
        if event is SeqEvent.LATE or event is SeqEvent.DUPLICATE:
            if event is SeqEvent.LATE:
                stats.late_packets += 1
            else:
                stats.duplicate_packets += 1
            return []
        out: list[AccessUnit] = []
        if event is SeqEvent.FIRST:
            self._check_start = True  # the stream may begin in the middle of a picture
        elif event is SeqEvent.GAP or event is SeqEvent.RESTART:
            if event is SeqEvent.GAP:
                stats.lost_packets += self.tracker.last_lost
            else:
                stats.sequence_restarts += 1
            if self._in_au:
                self._broken = True
                if packet.timestamp != self._timestamp:
                    self._finish(out)
            self._broken = True
            self._fu = None
        elif self._in_au and packet.timestamp != self._timestamp:
            self._finish(out)
        if not self._in_au:
            self._in_au = True
            self._timestamp = packet.timestamp
        try:
            self._unpack(packet.payload)
        except RtpError as exc:
            stats.malformed_packets += 1
            stats.last_error = str(exc)
            self._broken = True
            self._fu = None
        if packet.marker:
            self._finish(out)
        return out

    def flush(self) -> list[AccessUnit]:
        """Close the AU in progress (at the end of a stream) and return it if it is whole."""
        out: list[AccessUnit] = []
        if self._in_au:
            self._finish(out)
        return out

    # --- helpers for subclasses --------------------------------------------------------------

    def _set_parameter_set(self, kind: int, nal: bytes) -> None:
        """Remember a VPS (0), SPS (1) or PPS (2)."""
        if kind == 1:
            if nal != self._sps:
                self._sps = nal
        elif kind == 2:
            if nal != self._pps:
                self._pps = nal
        elif nal != self._vps:
            self._vps = nal

    def _fu_start(self, header: bytes, nal_type: int, data: memoryview) -> None:
        if self._fu is not None:
            self._fu = None
            raise RtpError("fragmentation unit started before the previous one ended")
        self._fu = bytearray(header)
        self._fu += data
        self._fu_type = nal_type

    def _fu_continue(self, nal_type: int, data: memoryview, end: bool) -> None:
        fu = self._fu
        if fu is None:
            raise RtpError("fragmentation unit continues a NAL unit whose start was not seen")
        if nal_type != self._fu_type:
            self._fu = None
            raise RtpError(
                f"fragmentation unit of NAL type {nal_type} continues one of type {self._fu_type}"
            )
        fu += data
        if end:
            self._fu = None
            self._add_nal(bytes(fu))

    # --- internals ---------------------------------------------------------------------------

    def _refresh_parameter_sets(self) -> None:
        ps = self._ps
        if ps.vps is not self._vps or ps.sps is not self._sps or ps.pps is not self._pps:
            self._ps = ParameterSets(self._vps, self._sps, self._pps)

    def _finish(self, out: list[AccessUnit]) -> None:
        nals = self._nals
        keyframe = self._keyframe
        broken = self._broken or self._fu is not None
        if self._check_start:
            broken = broken or self._first_slice == 0
            self._check_start = False
        self._nals = []
        self._keyframe = False
        self._first_slice = -1
        self._broken = False
        self._fu = None
        self._in_au = False
        if broken:
            self._waiting = True
            self.stats.dropped_access_units += 1
            return
        if not nals:
            return
        if self._waiting:
            if not keyframe:
                self.stats.dropped_access_units += 1
                return
            self._waiting = False
        self._refresh_parameter_sets()
        ps = self._ps
        emitted = self._emitted_ps
        changed = ps is not emitted
        self._emitted_ps = ps
        self.stats.access_units += 1
        out.append(AccessUnit(self._timestamp, tuple(nals), keyframe, ps, changed))


def add_emulation_prevention(rbsp: bytes) -> bytes:
    """The NAL payload of an RBSP: 0x03 inserted after every 0x0000 followed by 0x00-0x03.

    A trailing 0x0000 also gets a 0x03, so that `remove_emulation_prevention` restores the RBSP.
    """
    if b"\x00\x00" not in rbsp:
        return rbsp
    out = _EMULATION.sub(b"\x00\x00\x03", rbsp)
    if out.endswith(b"\x00\x00"):
        out += b"\x03"
    return out


_EMULATION = re.compile(rb"\x00\x00(?=[\x00-\x03])")
