"""H.264 over RTP (RFC 6184, non-interleaved mode): depacketizer, SPS reader, avcC builder.

`H264Depacketizer` takes single NAL unit packets, STAP-A and FU-A and emits `AccessUnit`s;
`read_sps` gives the picture size and profile of an SPS; `build_avcc` makes the
AVCDecoderConfigurationRecord (ISO/IEC 14496-15) that an MP4 `avc1` sample entry carries.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from argus.media.errors import RtpError
from argus.media.nal import BitReader, NalDepacketizer, remove_emulation_prevention

NAL_SLICE = 1
NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
STAP_A = 24
FU_A = 28

_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
"""Profiles whose SPS carries chroma_format_idc, bit depths and scaling matrices."""
_AVCC_EXTENSION_PROFILES = frozenset({100, 110, 122, 144})


def nal_type(nal: bytes) -> int:
    """The nal_unit_type of an H.264 NAL unit."""
    return nal[0] & 0x1F


class H264Depacketizer(NalDepacketizer):
    """RTP packets of one H.264 stream in, access units out (RFC 6184 packetization mode 0/1)."""

    __slots__ = ()

    def _unpack(self, payload: memoryview) -> None:
        size = len(payload)
        if size == 0:
            raise RtpError("H.264 RTP payload is empty")
        indicator = payload[0]
        if indicator & 0x80:
            raise RtpError("H.264 NAL unit header has its forbidden_zero_bit set")
        kind = indicator & 0x1F
        if 0 < kind < 24:
            self._add_nal(payload.tobytes())
        elif kind == FU_A:
            if size < 3:
                raise RtpError(f"H.264 FU-A packet of {size} bytes carries no fragment")
            header = payload[1]
            inner = header & 0x1F
            if header & 0x80:
                if header & 0x40:
                    raise RtpError("H.264 FU-A has both its start and end bits set")
                self._fu_start(bytes(((indicator & 0xE0) | inner,)), inner, payload[2:])
            else:
                self._fu_continue(inner, payload[2:], bool(header & 0x40))
        elif kind == STAP_A:
            pos = 1
            while pos < size:
                if pos + 2 > size:
                    raise RtpError("H.264 STAP-A ends inside a NAL unit size field")
                length = (payload[pos] << 8) | payload[pos + 1]
                pos += 2
                if length == 0 or pos + length > size:
                    raise RtpError(
                        f"H.264 STAP-A NAL unit of {length} bytes does not fit its packet"
                    )
                self._add_nal(payload[pos : pos + length].tobytes())
                pos += length
        elif kind in (0, 30, 31):
            return  # undefined types: a receiver ignores them (RFC 6184 §5.2)
        else:
            raise RtpError(f"H.264 RTP packet type {kind} is only for interleaved mode")

    def _add_nal(self, nal: bytes) -> None:
        kind = nal[0] & 0x1F
        if kind <= NAL_IDR:
            if self._first_slice < 0 and kind > 0 and len(nal) > 1:
                self._first_slice = nal[1] >> 7  # first_mb_in_slice == 0 is the bit "1"
            if kind == NAL_IDR:
                self._keyframe = True
        elif kind == NAL_SPS:
            self._set_parameter_set(1, nal)
        elif kind == NAL_PPS:
            self._set_parameter_set(2, nal)
        self._nals.append(nal)


@dataclass(frozen=True, slots=True)
class H264SpsInfo:
    """What an H.264 SPS says about the picture."""

    profile_idc: int
    constraint_flags: int
    level_idc: int
    width: int
    height: int
    chroma_format_idc: int
    bit_depth_luma: int
    bit_depth_chroma: int
    frame_mbs_only: bool

    @property
    def codec_string(self) -> str:
        """The RFC 6381 codecs value, e.g. avc1.42C01F, for MSE and HLS."""
        return f"avc1.{self.profile_idc:02X}{self.constraint_flags:02X}{self.level_idc:02X}"


def _skip_scaling_list(bits: BitReader, size: int) -> None:
    last = 8
    nxt = 8
    for _ in range(size):
        if nxt != 0:
            nxt = (last + bits.se() + 256) % 256
        last = last if nxt == 0 else nxt


def read_sps(sps: bytes) -> H264SpsInfo:
    """Read the profile, level and cropped picture size from an H.264 SPS NAL unit."""
    if len(sps) < 4 or sps[0] & 0x1F != NAL_SPS:
        raise RtpError("not an H.264 SPS NAL unit")
    bits = BitReader(remove_emulation_prevention(sps[1:]))
    profile = bits.u(8)
    constraints = bits.u(8)
    level = bits.u(8)
    bits.ue()  # seq_parameter_set_id
    chroma_format = 1
    separate_planes = False
    depth_luma = depth_chroma = 8
    if profile in _HIGH_PROFILES:
        chroma_format = bits.ue()
        if chroma_format > 3:
            raise RtpError(f"H.264 SPS has chroma_format_idc {chroma_format}")
        if chroma_format == 3:
            separate_planes = bits.flag()
        depth_luma = bits.ue() + 8
        depth_chroma = bits.ue() + 8
        if depth_luma > 14 or depth_chroma > 14:
            raise RtpError(f"H.264 SPS has bit depths {depth_luma}/{depth_chroma}")
        bits.u(1)  # qpprime_y_zero_transform_bypass_flag
        if bits.flag():  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma_format != 3 else 12):
                if bits.flag():
                    _skip_scaling_list(bits, 16 if i < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()  # log2_max_pic_order_cnt_lsb_minus4
    elif poc_type == 1:
        bits.u(1)  # delta_pic_order_always_zero_flag
        bits.se()
        bits.se()
        cycle = bits.ue()
        if cycle > 255:
            raise RtpError(f"H.264 SPS has {cycle} reference frames in its POC cycle")
        for _ in range(cycle):
            bits.se()
    elif poc_type != 2:
        raise RtpError(f"H.264 SPS has pic_order_cnt_type {poc_type}")
    bits.ue()  # max_num_ref_frames
    bits.u(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = bits.ue() + 1
    height_units = bits.ue() + 1
    frame_mbs_only = bits.flag()
    if not frame_mbs_only:
        bits.u(1)  # mb_adaptive_frame_field_flag
    bits.u(1)  # direct_8x8_inference_flag
    width = width_mbs * 16
    height = height_units * 16 * (1 if frame_mbs_only else 2)
    if bits.flag():  # frame_cropping_flag
        left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
        chroma_array_type = 0 if separate_planes else chroma_format
        field_factor = 1 if frame_mbs_only else 2
        if chroma_array_type == 0:
            unit_x, unit_y = 1, field_factor
        else:
            unit_x = 1 if chroma_format == 3 else 2
            unit_y = (2 if chroma_format == 1 else 1) * field_factor
        width -= (left + right) * unit_x
        height -= (top + bottom) * unit_y
        if width <= 0 or height <= 0:
            raise RtpError("H.264 SPS crops the picture to nothing")
    return H264SpsInfo(
        profile_idc=profile,
        constraint_flags=constraints,
        level_idc=level,
        width=width,
        height=height,
        chroma_format_idc=chroma_format,
        bit_depth_luma=depth_luma,
        bit_depth_chroma=depth_chroma,
        frame_mbs_only=frame_mbs_only,
    )


def build_avcc(sps_list: list[bytes], pps_list: list[bytes]) -> bytes:
    """The AVCDecoderConfigurationRecord for these parameter sets (4-byte NAL lengths)."""
    if not sps_list or not pps_list:
        raise RtpError("an avcC needs at least one SPS and one PPS")
    if len(sps_list) > 31 or len(pps_list) > 255:
        raise RtpError("too many parameter sets for an avcC")
    first = sps_list[0]
    info = read_sps(first)
    out = bytearray((1, first[1], first[2], first[3], 0xFF, 0xE0 | len(sps_list)))
    for sps in sps_list:
        out += struct.pack("!H", len(sps)) + sps
    out.append(len(pps_list))
    for pps in pps_list:
        out += struct.pack("!H", len(pps)) + pps
    if info.profile_idc in _AVCC_EXTENSION_PROFILES:
        out += bytes(
            (
                0xFC | info.chroma_format_idc,
                0xF8 | (info.bit_depth_luma - 8),
                0xF8 | (info.bit_depth_chroma - 8),
                0,
            )
        )
    return bytes(out)
