"""The "stamp": an SEI message naming the camera, the send time and the frame number of an AU.

The simulator puts one before every access unit so that tests and benchmarks downstream (ingest,
hub, recording, live out) can tell which camera a picture came from and measure latency exactly.
It is a user_data_unregistered SEI message (payload type 5, H.264 D.1.7 / H.265 D.2.7): our
own UUID followed by a 17-byte body: version (1), camera id (u32), send time in nanoseconds
since the Unix epoch (u64) and frame number (u32), big-endian. Decoders ignore it.

A camera with pan, tilt and zoom (the simulator with its ONVIF side on) appends an extension
after the body: kind 1 (u8) and the position in ONVIF's generic spaces as three big-endian
IEEE 754 doubles (pan, tilt, zoom), so that a test can see a PTZ move in what the camera sends.
The version stays 1 and the 17-byte body stays first: a reader that knows only the body reads
such a stamp as before and ignores the rest of the payload.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from argus.media.nal import add_emulation_prevention, remove_emulation_prevention, split_annexb
from argus.ptz.driver import PtzPosition

Codec = Literal["h264", "h265"]

STAMP_UUID = bytes.fromhex("a7c5e31f2b6d4e8a9c415f3d7b9e1a62")
"""The uuid_iso_iec_11578 of our stamp; made up for Argus, free of zero bytes."""

STAMP_VERSION = 1
_BODY = struct.Struct("!BIQI")
_PTZ_EXTENSION = struct.Struct("!Bddd")
_EXTENSION_PTZ = 1
_USER_DATA_UNREGISTERED = 5
_H264_SEI = 6
_H265_PREFIX_SEI = 39
_H265_SUFFIX_SEI = 40
_NAL_HEADER: dict[str, bytes] = {
    "h264": bytes((_H264_SEI,)),  # nal_ref_idc 0
    "h265": bytes((_H265_PREFIX_SEI << 1, 1)),  # nuh_layer_id 0, nuh_temporal_id_plus1 1
}


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a stamp SEI says: which camera, when it was sent (ns since the epoch), which frame,
    and where the camera pointed (pan, tilt, zoom) when it carries that."""

    camera_id: int
    send_time_ns: int
    frame_no: int
    position: PtzPosition | None = None


def _sei_size(value: int) -> bytes:
    """payloadType / payloadSize coding: 0xFF per 255, then the remainder."""
    return b"\xff" * (value // 255) + bytes((value % 255,))


_PAYLOAD_PREFIX = (
    _sei_size(_USER_DATA_UNREGISTERED) + _sei_size(len(STAMP_UUID) + _BODY.size) + STAMP_UUID
)
_PTZ_PAYLOAD_PREFIX = (
    _sei_size(_USER_DATA_UNREGISTERED)
    + _sei_size(len(STAMP_UUID) + _BODY.size + _PTZ_EXTENSION.size)
    + STAMP_UUID
)


def build_stamp_nal(
    codec: Codec,
    camera_id: int,
    send_time_ns: int,
    frame_no: int,
    position: PtzPosition | None = None,
) -> bytes:
    """One SEI NAL unit (no start code) holding the stamp; frame_no wraps at 2**32.

    With a position, the PTZ extension follows the body (its values must be finite).
    """
    if not 0 <= camera_id <= 0xFFFFFFFF:
        raise ValueError(f"camera id {camera_id} does not fit in 32 bits")
    if not 0 <= send_time_ns <= 0xFFFFFFFFFFFFFFFF:
        raise ValueError(f"send time {send_time_ns} does not fit in 64 bits")
    body = _BODY.pack(STAMP_VERSION, camera_id, send_time_ns, frame_no & 0xFFFFFFFF)
    if position is None:
        rbsp = _PAYLOAD_PREFIX + body + b"\x80"  # rbsp_trailing_bits
    else:
        values = (position.pan, position.tilt, position.zoom)
        if not all(math.isfinite(value) for value in values):
            raise ValueError(f"a stamp position must be finite: {position}")
        extension = _PTZ_EXTENSION.pack(_EXTENSION_PTZ, *values)
        rbsp = _PTZ_PAYLOAD_PREFIX + body + extension + b"\x80"
    return _NAL_HEADER[codec] + add_emulation_prevention(rbsp)


def _read_position(payload: bytes) -> PtzPosition | None:
    """The PTZ extension after the body, if the payload carries a whole and finite one."""
    start = len(STAMP_UUID) + _BODY.size
    if len(payload) < start + _PTZ_EXTENSION.size or payload[start] != _EXTENSION_PTZ:
        return None
    _, pan, tilt, zoom = _PTZ_EXTENSION.unpack_from(payload, start)
    if not (math.isfinite(pan) and math.isfinite(tilt) and math.isfinite(zoom)):
        return None
    return PtzPosition(pan, tilt, zoom)


def _is_sei(codec: Codec, nal: bytes) -> bool:
    if not nal:
        return False
    if codec == "h264":
        return nal[0] & 0x1F == _H264_SEI
    return len(nal) > 2 and ((nal[0] >> 1) & 0x3F) in (_H265_PREFIX_SEI, _H265_SUFFIX_SEI)


def _sei_messages(rbsp: bytes) -> Iterator[tuple[int, bytes]]:
    """(payloadType, payload) of each SEI message in an SEI RBSP; stops at anything malformed."""
    pos = 0
    end = len(rbsp)
    while pos < end and rbsp[pos:] != b"\x80":
        values = []
        for _ in range(2):
            value = 0
            while pos < end and rbsp[pos] == 0xFF:
                value += 255
                pos += 1
            if pos >= end:
                return
            value += rbsp[pos]
            pos += 1
            values.append(value)
        kind, size = values
        if pos + size > end:
            return
        yield kind, rbsp[pos : pos + size]
        pos += size


def read_stamp(codec: Codec, nal_units: Iterable[bytes]) -> Stamp | None:
    """The stamp among an access unit's NAL units (no start codes), or None."""
    header_size = 1 if codec == "h264" else 2
    for nal in nal_units:
        nal = bytes(nal)
        if STAMP_UUID not in nal or not _is_sei(codec, nal):
            continue
        for kind, payload in _sei_messages(remove_emulation_prevention(nal[header_size:])):
            if (
                kind == _USER_DATA_UNREGISTERED
                and len(payload) >= len(STAMP_UUID) + _BODY.size
                and payload.startswith(STAMP_UUID)
            ):
                version, camera_id, send_time_ns, frame_no = _BODY.unpack_from(
                    payload, len(STAMP_UUID)
                )
                if version == STAMP_VERSION:
                    return Stamp(camera_id, send_time_ns, frame_no, _read_position(payload))
    return None


def split_length_prefixed(data: bytes, length_size: int = 4) -> list[bytes] | None:
    """NAL units of length-prefixed data (MP4 samples), or None when the lengths do not fit."""
    units: list[bytes] = []
    pos = 0
    end = len(data)
    while pos < end:
        if pos + length_size > end:
            return None
        length = int.from_bytes(data[pos : pos + length_size], "big")
        pos += length_size
        if length == 0 or pos + length > end or data[pos] & 0x80:
            return None
        units.append(data[pos : pos + length])
        pos += length
    return units


def read_stamp_annexb(codec: Codec, data: bytes | bytearray | memoryview) -> Stamp | None:
    """The stamp in one demuxed packet, Annex-B (start codes) or length-prefixed (from MP4).

    The form is detected: data that reads exactly as 4-byte length-prefixed NAL units is taken
    as such, anything else as Annex-B.
    """
    raw = bytes(data)
    if STAMP_UUID not in raw:
        return None
    units = split_length_prefixed(raw)
    if units is not None:
        stamp = read_stamp(codec, units)
        if stamp is not None:
            return stamp
    return read_stamp(codec, split_annexb(raw))
