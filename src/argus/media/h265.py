"""H.265 over RTP (RFC 7798): single NAL unit packets, aggregation packets and fragmentation units.

Keyframes are IRAP pictures (NAL types 16-23); VPS, SPS and PPS (32, 33, 34) are followed in band
and may be given from SDP (sprop-vps / sprop-sps / sprop-pps). DONL fields are read only when the
stream declares sprop-max-don-diff > 0 (pass `donl=True`); PACI packets are not supported.
"""

from __future__ import annotations

from argus.media.errors import RtpError
from argus.media.nal import NalDepacketizer

NAL_IRAP_FIRST = 16
NAL_IRAP_LAST = 23
NAL_VPS = 32
NAL_SPS = 33
NAL_PPS = 34
NAL_AUD = 35
AP = 48
FU = 49
PACI = 50


def nal_type(nal: bytes) -> int:
    """The nal_unit_type of an H.265 NAL unit."""
    return (nal[0] >> 1) & 0x3F


class H265Depacketizer(NalDepacketizer):
    """RTP packets of one H.265 stream in, access units out."""

    __slots__ = ("donl",)

    def __init__(
        self, parameter_sets: list[bytes] | tuple[bytes, ...] = (), *, donl: bool = False
    ) -> None:
        self.donl = donl
        super().__init__(parameter_sets)

    def _unpack(self, payload: memoryview) -> None:
        size = len(payload)
        if size < 3:
            raise RtpError(f"H.265 RTP payload of {size} bytes is shorter than 3")
        first = payload[0]
        if first & 0x80:
            raise RtpError("H.265 payload header has its forbidden_zero_bit set")
        kind = (first >> 1) & 0x3F
        if kind < AP:
            self._add_nal(payload.tobytes())
        elif kind == FU:
            header = payload[2]
            inner = header & 0x3F
            start = 3
            if header & 0x80:
                if header & 0x40:
                    raise RtpError("H.265 FU has both its start and end bits set")
                if self.donl:
                    start += 2
                if start >= size:
                    raise RtpError("H.265 FU start carries no fragment")
                nal_header = bytes(((first & 0x81) | (inner << 1), payload[1]))
                self._fu_start(nal_header, inner, payload[start:])
            else:
                if start >= size:
                    raise RtpError("H.265 FU carries no fragment")
                self._fu_continue(inner, payload[start:], bool(header & 0x40))
        elif kind == AP:
            pos = 2
            first_unit = True
            while pos < size:
                if self.donl:
                    pos += 2 if first_unit else 1
                first_unit = False
                if pos + 2 > size:
                    raise RtpError("H.265 aggregation packet ends inside a NAL unit size field")
                length = (payload[pos] << 8) | payload[pos + 1]
                pos += 2
                if length < 2 or pos + length > size:
                    raise RtpError(
                        f"H.265 aggregated NAL unit of {length} bytes does not fit its packet"
                    )
                self._add_nal(payload[pos : pos + length].tobytes())
                pos += length
        else:
            raise RtpError(f"H.265 RTP packet type {kind} is not supported")

    def _add_nal(self, nal: bytes) -> None:
        if len(nal) < 2:
            raise RtpError("H.265 NAL unit shorter than its 2-byte header")
        kind = (nal[0] >> 1) & 0x3F
        if kind < NAL_VPS:
            if self._first_slice < 0 and len(nal) > 2:
                self._first_slice = nal[2] >> 7  # first_slice_segment_in_pic_flag
            if NAL_IRAP_FIRST <= kind <= NAL_IRAP_LAST:
                self._keyframe = True
        elif kind == NAL_VPS:
            self._set_parameter_set(0, nal)
        elif kind == NAL_SPS:
            self._set_parameter_set(1, nal)
        elif kind == NAL_PPS:
            self._set_parameter_set(2, nal)
        self._nals.append(nal)
