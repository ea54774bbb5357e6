"""RTP packetizers: H.264 (RFC 6184, non-interleaved mode) and H.265 (RFC 7798).

A NAL unit that fits the MTU goes alone in a packet; a larger one is cut into fragmentation
units (FU-A, H.265 FU); runs of small NAL units of one access unit (parameter sets, SEI) are
aggregated (STAP-A, H.265 AP) unless `aggregate=False`. `mtu` is the largest RTP packet in
bytes, its 12-byte header included. `payloads` gives the payloads alone, for senders that
pre-packetize once and write the header at send time (`rtp_header`).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import ClassVar

RTP_HEADER_SIZE = 12
DEFAULT_MTU = 1400
_RTP = struct.Struct("!BBHII")
_LENGTH = struct.Struct("!H")

NalUnit = bytes | bytearray | memoryview


def rtp_header(
    *, sequence: int, timestamp: int, ssrc: int, payload_type: int = 96, marker: bool = False
) -> bytes:
    """The 12 bytes of a plain RTP header (version 2, no padding, extension or CSRCs)."""
    return _RTP.pack(
        0x80,
        (0x80 if marker else 0) | (payload_type & 0x7F),
        sequence & 0xFFFF,
        timestamp & 0xFFFFFFFF,
        ssrc & 0xFFFFFFFF,
    )


class Packetizer:
    """NAL units of one access unit in, RTP packets out; one instance per stream (SSRC)."""

    __slots__ = ("aggregate", "mtu", "payload_type", "sequence", "ssrc")

    nal_header_size: ClassVar[int] = 1
    min_mtu: ClassVar[int] = RTP_HEADER_SIZE + 8

    def __init__(
        self,
        *,
        ssrc: int,
        payload_type: int = 96,
        mtu: int = DEFAULT_MTU,
        sequence: int = 0,
        aggregate: bool = True,
    ) -> None:
        if mtu < self.min_mtu:
            raise ValueError(f"an MTU of {mtu} bytes is below the minimum of {self.min_mtu}")
        if not 0 <= payload_type <= 127:
            raise ValueError(f"RTP payload type {payload_type} is not in 0-127")
        self.ssrc = ssrc & 0xFFFFFFFF
        self.payload_type = payload_type
        self.mtu = mtu
        self.sequence = sequence & 0xFFFF
        self.aggregate = aggregate

    def packetize(
        self, nal_units: Sequence[NalUnit], timestamp: int, *, marker: bool = True
    ) -> list[bytes]:
        """RTP packets for one access unit; the last has the marker bit unless marker=False."""
        payloads = self.payloads(nal_units)
        pack = _RTP.pack
        pt = self.payload_type
        ssrc = self.ssrc
        timestamp &= 0xFFFFFFFF
        seq = self.sequence
        last = len(payloads) - 1
        out = [
            pack(
                0x80,
                pt | (0x80 if marker and i == last else 0),
                (seq + i) & 0xFFFF,
                timestamp,
                ssrc,
            )
            + payload
            for i, payload in enumerate(payloads)
        ]
        self.sequence = (seq + len(payloads)) & 0xFFFF
        return out

    def payloads(self, nal_units: Sequence[NalUnit]) -> list[bytes]:
        """The RTP payloads for these NAL units, in order, none longer than mtu - 12."""
        limit = self.mtu - RTP_HEADER_SIZE
        out: list[bytes] = []
        if not self.aggregate:
            for nal in nal_units:
                if len(nal) > limit:
                    self._fragment(nal, limit, out)
                elif nal:
                    out.append(bytes(nal))
            return out
        pending: list[NalUnit] = []
        size = self.nal_header_size
        for nal in nal_units:
            length = len(nal)
            if length == 0:
                continue
            if length > limit:
                if pending:
                    self._flush(pending, out)
                    pending = []
                    size = self.nal_header_size
                self._fragment(nal, limit, out)
                continue
            if pending and size + 2 + length > limit:
                self._flush(pending, out)
                pending = []
                size = self.nal_header_size
            pending.append(nal)
            size += 2 + length
        if pending:
            self._flush(pending, out)
        return out

    def _flush(self, pending: list[NalUnit], out: list[bytes]) -> None:
        if len(pending) == 1:
            out.append(bytes(pending[0]))
            return
        parts = [self._aggregation_header(pending)]
        for nal in pending:
            parts.append(_LENGTH.pack(len(nal)))
            parts.append(bytes(nal))
        out.append(b"".join(parts))

    def _aggregation_header(self, units: list[NalUnit]) -> bytes:
        raise NotImplementedError

    def _fragment(self, nal: NalUnit, limit: int, out: list[bytes]) -> None:
        raise NotImplementedError


class H264Packetizer(Packetizer):
    """H.264: single NAL unit packets, STAP-A (type 24) and FU-A (type 28); packetization-mode=1."""

    __slots__ = ()

    nal_header_size = 1

    def _aggregation_header(self, units: list[NalUnit]) -> bytes:
        forbidden = 0
        nri = 0
        for nal in units:
            forbidden |= nal[0] & 0x80
            nri = max(nri, nal[0] & 0x60)
        return bytes((forbidden | nri | 24,))

    def _fragment(self, nal: NalUnit, limit: int, out: list[bytes]) -> None:
        head = nal[0]
        indicator = (head & 0xE0) | 28
        kind = head & 0x1F
        view = memoryview(nal)[1:]
        chunk = limit - 2
        total = len(view)
        start = 0
        while start < total:
            end = start + chunk
            flags = (0x80 if start == 0 else 0) | (0x40 if end >= total else 0)
            out.append(bytes((indicator, flags | kind)) + view[start:end])
            start = end


class H265Packetizer(Packetizer):
    """H.265: single NAL unit packets, aggregation packets (type 48) and FUs (type 49)."""

    __slots__ = ()

    nal_header_size = 2

    def _aggregation_header(self, units: list[NalUnit]) -> bytes:
        forbidden = 0
        layer = 63
        tid = 7
        for nal in units:
            forbidden |= nal[0] & 0x80
            layer = min(layer, ((nal[0] & 0x01) << 5) | (nal[1] >> 3))
            tid = min(tid, nal[1] & 0x07)
        return bytes((forbidden | (48 << 1) | (layer >> 5), ((layer & 0x1F) << 3) | tid))

    def _fragment(self, nal: NalUnit, limit: int, out: list[bytes]) -> None:
        first = nal[0]
        kind = (first >> 1) & 0x3F
        header = bytes(((first & 0x81) | (49 << 1), nal[1]))
        view = memoryview(nal)[2:]
        chunk = limit - 3
        total = len(view)
        start = 0
        while start < total:
            end = start + chunk
            flags = (0x80 if start == 0 else 0) | (0x40 if end >= total else 0)
            out.append(header + bytes((flags | kind,)) + view[start:end])
            start = end


def packetizer_for(
    codec: str,
    *,
    ssrc: int,
    payload_type: int = 96,
    mtu: int = DEFAULT_MTU,
    sequence: int = 0,
    aggregate: bool = True,
) -> Packetizer:
    """An H264Packetizer or H265Packetizer by codec name ("h264" / "h265")."""
    classes: dict[str, type[Packetizer]] = {"h264": H264Packetizer, "h265": H265Packetizer}
    cls = classes.get(codec)
    if cls is None:
        raise ValueError(f"no RTP packetizer for codec {codec!r}")
    return cls(
        ssrc=ssrc, payload_type=payload_type, mtu=mtu, sequence=sequence, aggregate=aggregate
    )
