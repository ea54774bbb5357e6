"""H.265 over RTP (RFC 7798): single NAL unit packets, aggregation packets and fragmentation units.

Keyframes are IRAP pictures (NAL types 16-23); VPS, SPS and PPS (32, 33, 34) are followed in band
and may be given from SDP (sprop-vps / sprop-sps / sprop-pps). DONL fields are read only when the
stream declares sprop-max-don-diff > 0 (pass `donl=True`); PACI packets are not supported.

`read_sps` gives the profile, tier, level and cropped picture size of an SPS (with its RFC 6381
codec string); `build_hvcc` makes the HEVCDecoderConfigurationRecord that an MP4 `hvc1` sample
entry carries.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from argus.media.errors import RtpError
from argus.media.nal import BitReader, NalDepacketizer, remove_emulation_prevention

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


# --- SPS reader and hvcC builder (H.265 §7.3.2.2, §7.3.3; ISO/IEC 14496-15 §8.3.3, Annex E) ---

_MAX_SUB_LAYERS = 7


@dataclass(frozen=True, slots=True)
class H265SpsInfo:
    """What an H.265 SPS says about the stream: its profile, tier and level, and the picture."""

    general_profile_space: int
    general_tier_flag: int
    general_profile_idc: int
    general_profile_compatibility_flags: int
    """32 bits, general_profile_compatibility_flag[0] being the most significant."""
    general_constraint_indicator_flags: int
    """48 bits, general_progressive_source_flag being the most significant."""
    general_level_idc: int
    chroma_format_idc: int
    width: int
    """Luma samples across, after the conformance window."""
    height: int
    bit_depth_luma: int
    bit_depth_chroma: int
    max_sub_layers: int = 1
    """sps_max_sub_layers_minus1 + 1 (numTemporalLayers in an hvcC)."""
    temporal_id_nesting: bool = False

    @property
    def codec_string(self) -> str:
        """The RFC 6381 codecs value for an 'hvc1' track (ISO/IEC 14496-15 Annex E.3).

        For example hvc1.1.6.L93.B0: profile space (A-C, none for 0) and profile, the
        compatibility flags in reverse bit order as hex, L or H tier and the level, then the
        constraint-flag bytes with trailing zero bytes left out.
        """
        space = ("", "A", "B", "C")[self.general_profile_space]
        reversed_flags = int(f"{self.general_profile_compatibility_flags:032b}"[::-1], 2)
        tier = "H" if self.general_tier_flag else "L"
        parts = [
            "hvc1",
            f"{space}{self.general_profile_idc}",
            f"{reversed_flags:X}",
            f"{tier}{self.general_level_idc}",
        ]
        constraints = self.general_constraint_indicator_flags.to_bytes(6, "big").rstrip(b"\x00")
        parts += (f"{byte:02X}" for byte in constraints)
        return ".".join(parts)


def _sub_layers_ptl(bits: BitReader, max_sub_layers_minus1: int) -> None:
    """Skip the sub-layer part of profile_tier_level() (§7.3.3), general part already read."""
    profile_present = []
    level_present = []
    for _ in range(max_sub_layers_minus1):
        profile_present.append(bits.flag())
        level_present.append(bits.flag())
    if max_sub_layers_minus1 > 0:
        bits.u(2 * (8 - max_sub_layers_minus1))  # reserved_zero_2bits
    for i in range(max_sub_layers_minus1):
        if profile_present[i]:
            bits.u(88)  # profile space, tier, idc, 32 compatibility and 48 constraint bits
        if level_present[i]:
            bits.u(8)


def read_sps(sps: bytes) -> H265SpsInfo:
    """Read profile, tier, level, chroma format, bit depths and cropped size from an SPS NAL unit.

    Raises RtpError, saying what is wrong, for anything that is not a readable H.265 SPS.
    """
    if len(sps) < 3:
        raise RtpError(f"H.265 SPS of {len(sps)} bytes is too short")
    if sps[0] & 0x80:
        raise RtpError("H.265 SPS has its forbidden_zero_bit set")
    kind = nal_type(sps)
    if kind != NAL_SPS:
        raise RtpError(f"H.265 NAL unit of type {kind} is not an SPS (type {NAL_SPS})")
    if (sps[0] & 1) or (sps[1] >> 3):
        raise RtpError("H.265 SPS of a layer other than the base layer is not supported")
    bits = BitReader(remove_emulation_prevention(bytes(sps[2:])))
    try:
        bits.u(4)  # sps_video_parameter_set_id
        sub_layers_minus1 = bits.u(3)
        if sub_layers_minus1 >= _MAX_SUB_LAYERS:
            raise RtpError(f"sps_max_sub_layers_minus1 is {sub_layers_minus1}")
        nesting = bits.flag()
        profile_space = bits.u(2)
        tier = bits.u(1)
        profile_idc = bits.u(5)
        compatibility = bits.u(32)
        constraints = bits.u(48)
        level = bits.u(8)
        _sub_layers_ptl(bits, sub_layers_minus1)
        sps_id = bits.ue()
        if sps_id > 15:
            raise RtpError(f"sps_seq_parameter_set_id is {sps_id}")
        chroma_format = bits.ue()
        if chroma_format > 3:
            raise RtpError(f"chroma_format_idc is {chroma_format}")
        separate_planes = bits.flag() if chroma_format == 3 else False
        width = bits.ue()
        height = bits.ue()
        if width == 0 or height == 0:
            raise RtpError(f"the picture is {width}x{height} luma samples")
        if bits.flag():  # conformance_window_flag
            left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
            if chroma_format == 0 or separate_planes or chroma_format == 3:
                unit_x = unit_y = 1
            else:
                unit_x, unit_y = 2, 2 if chroma_format == 1 else 1
            width -= (left + right) * unit_x
            height -= (top + bottom) * unit_y
            if width <= 0 or height <= 0:
                raise RtpError("the conformance window crops the picture to nothing")
        depth_luma = bits.ue() + 8
        depth_chroma = bits.ue() + 8
    except RtpError as exc:
        raise RtpError(f"H.265 SPS cannot be read: {exc}") from None
    if depth_luma > 16 or depth_chroma > 16:
        raise RtpError(f"H.265 SPS has bit depths {depth_luma}/{depth_chroma} (16 at most)")
    return H265SpsInfo(
        general_profile_space=profile_space,
        general_tier_flag=tier,
        general_profile_idc=profile_idc,
        general_profile_compatibility_flags=compatibility,
        general_constraint_indicator_flags=constraints,
        general_level_idc=level,
        chroma_format_idc=chroma_format,
        width=width,
        height=height,
        bit_depth_luma=depth_luma,
        bit_depth_chroma=depth_chroma,
        max_sub_layers=sub_layers_minus1 + 1,
        temporal_id_nesting=nesting,
    )


def build_hvcc(vps_list: list[bytes], sps_list: list[bytes], pps_list: list[bytes]) -> bytes:
    """The HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1) for these parameter sets.

    Profile, tier, level, chroma format, bit depths and temporal layers come from the first SPS;
    NAL unit lengths are 4 bytes; one array each for VPS, SPS and PPS, marked complete.
    Segmentation, parallelism and frame rate are written as unknown (0).
    """
    if not vps_list or not sps_list or not pps_list:
        raise RtpError("an hvcC needs at least one VPS, one SPS and one PPS")
    arrays = ((NAL_VPS, vps_list), (NAL_SPS, sps_list), (NAL_PPS, pps_list))
    for kind, units in arrays:
        if len(units) > 0xFFFF:
            raise RtpError("too many parameter sets for an hvcC")
        for unit in units:
            if len(unit) < 2 or len(unit) > 0xFFFF or nal_type(unit) != kind:
                raise RtpError(f"an hvcC array of NAL type {kind} got another NAL unit")
    info = read_sps(sps_list[0])
    out = bytearray(
        struct.pack(
            "!BBI6sBHBBBBHB",
            1,  # configurationVersion
            (info.general_profile_space << 6)
            | (info.general_tier_flag << 5)
            | info.general_profile_idc,
            info.general_profile_compatibility_flags,
            info.general_constraint_indicator_flags.to_bytes(6, "big"),
            info.general_level_idc,
            0xF000,  # reserved, min_spatial_segmentation_idc 0
            0xFC,  # reserved, parallelismType 0
            0xFC | info.chroma_format_idc,
            0xF8 | (info.bit_depth_luma - 8),
            0xF8 | (info.bit_depth_chroma - 8),
            0,  # avgFrameRate
            (info.max_sub_layers << 3) | (int(info.temporal_id_nesting) << 2) | 3,
        )
    )
    out.append(len(arrays))
    for kind, units in arrays:
        out += struct.pack("!BH", 0x80 | kind, len(units))
        for unit in units:
            out += struct.pack("!H", len(unit)) + unit
    return bytes(out)
