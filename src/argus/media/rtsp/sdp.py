"""SDP (RFC 4566) of a DESCRIBE response: media sections, codecs, parameter sets, control URLs.

Only what an RTSP client needs is read; unknown lines are kept as attributes and otherwise
ignored. H.264 (RFC 6184) and H.265 (RFC 7798) video tracks get their parameter sets decoded;
audio and application tracks (e.g. vnd.onvif.metadata) are parsed and marked as not video.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from argus.media.rtsp.errors import RtspError
from argus.media.rtsp.messages import Headers, Response

MAX_SDP_BYTES = 1024 * 1024

Codec = Literal["h264", "h265"]

# RFC 3551 static payload types a camera may use without an rtpmap line.
_STATIC_PAYLOAD_TYPES: Mapping[int, tuple[str, int, int | None]] = {
    0: ("PCMU", 8000, 1),
    8: ("PCMA", 8000, 1),
    9: ("G722", 8000, 1),
    14: ("MPA", 90000, None),
    26: ("JPEG", 90000, None),
    32: ("MPV", 90000, None),
    33: ("MP2T", 90000, None),
}

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class H264Parameters:
    """H.264 fmtp parameters (RFC 6184 §8.1); `sps`/`pps` are the raw NAL units."""

    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]
    profile_level_id: str | None
    packetization_mode: int

    @property
    def profile_level_id_bytes(self) -> bytes | None:
        """profile_idc, constraint flags, level_idc, when profile-level-id is 6 hex digits."""
        text = self.profile_level_id
        if text is None or len(text) != 6:
            return None
        try:
            return bytes.fromhex(text)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class H265Parameters:
    """H.265 fmtp parameter sets (RFC 7798 §7.1), raw NAL units."""

    vps: tuple[bytes, ...]
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class MediaSection:
    """One m= section."""

    media: str  # "video", "audio", "application", ...
    port: int
    protocol: str
    payload_types: tuple[int, ...]
    encoding_name: str | None  # as written in rtpmap, e.g. "H264", "mpeg4-generic"
    clock_rate: int | None
    encoding_parameters: str | None  # e.g. audio channels
    fmtp: Mapping[str, str]  # keys lower-cased
    control: str | None  # the a=control value as written
    control_url: str  # resolved against the base URL (RFC 2326 C.1.1)
    attributes: tuple[tuple[str, str | None], ...] = field(repr=False)
    h264: H264Parameters | None = None
    h265: H265Parameters | None = None

    @property
    def payload_type(self) -> int | None:
        return self.payload_types[0] if self.payload_types else None

    @property
    def is_video(self) -> bool:
        return self.media == "video"

    @property
    def codec(self) -> Codec | None:
        """ "h264" or "h265" for a video track we can depacketize, else None."""
        if not self.is_video or self.encoding_name is None:
            return None
        name = self.encoding_name.upper()
        if name == "H264":
            return "h264"
        if name in ("H265", "HEVC"):
            return "h265"
        return None


@dataclass(frozen=True, slots=True)
class SessionDescription:
    """A parsed SDP session."""

    name: str | None
    base_url: str  # Content-Base, else Content-Location, else the request URL
    control: str | None  # session-level a=control as written
    control_url: str  # aggregate control URL (for PLAY, TEARDOWN)
    media: tuple[MediaSection, ...]
    attributes: tuple[tuple[str, str | None], ...] = field(repr=False)

    def first_video(self) -> MediaSection | None:
        """The first H.264 or H.265 video track, the one the client streams."""
        for section in self.media:
            if section.codec is not None:
                return section
        return None


def resolve_control(base_url: str, control: str | None) -> str:
    """The URL a control attribute names (RFC 2326 C.1.1).

    "*" or no control means the base URL; an absolute URL stands as it is; a relative one is
    appended to the base with one "/" between, as live555 and FFmpeg do and as cameras expect:
    Dahua's Content-Base ends in "?…&proto=Onvif/", which an RFC 3986 join would cut off.
    """
    if control is None:
        return base_url
    control = control.strip()
    if control in ("", "*"):
        return base_url
    if "://" in control.split("?", 1)[0]:
        return control
    if base_url.endswith("/"):
        return base_url + control.lstrip("/")
    return f"{base_url}/{control.lstrip('/')}"


def base_url_for(request_url: str, headers: Headers | None) -> str:
    """Content-Base, else Content-Location, else the request URL (RFC 2326 C.1.1)."""
    if headers is not None:
        for name in ("Content-Base", "Content-Location"):
            value = headers.get(name)
            if value and value.strip():
                return value.strip()
    return request_url


def _decode_parameter_sets(name: str, value: str) -> tuple[bytes, ...]:
    units: list[bytes] = []
    for piece in value.split(","):
        piece = piece.strip()
        if not piece:
            continue
        padded = piece + "=" * (-len(piece) % 4)
        try:
            unit = base64.b64decode(padded, validate=True)
        except (binascii.Error, ValueError):
            raise RtspError(f"{name} is not base64: {piece[:60]!r}") from None
        # Some cameras wrap parameter sets in Annex-B start codes (GW Security appends
        # 00 00 00 01); a start code cannot occur inside a NAL unit, so split on it.
        for nal in unit.split(b"\x00\x00\x01"):
            nal = nal.rstrip(b"\x00")
            if nal:
                units.append(nal)
    return tuple(units)


def _h264(fmtp: Mapping[str, str]) -> H264Parameters:
    sps: list[bytes] = []
    pps: list[bytes] = []
    sets = fmtp.get("sprop-parameter-sets")
    if sets:
        for unit in _decode_parameter_sets("sprop-parameter-sets", sets):
            nal_type = unit[0] & 0x1F
            if nal_type == 7:
                sps.append(unit)
            elif nal_type == 8:
                pps.append(unit)
            # other NAL units (rare: SEI) are not parameter sets and are left out
    mode_text = fmtp.get("packetization-mode", "0").strip() or "0"
    if not mode_text.isdigit() or int(mode_text) > 2:
        raise RtspError(f"H.264 packetization-mode is not 0, 1 or 2: {mode_text[:20]!r}")
    profile = fmtp.get("profile-level-id")
    return H264Parameters(
        sps=tuple(sps),
        pps=tuple(pps),
        profile_level_id=profile.strip() if profile else None,
        packetization_mode=int(mode_text),
    )


def _h265(fmtp: Mapping[str, str]) -> H265Parameters:
    def sets(key: str) -> tuple[bytes, ...]:
        value = fmtp.get(key)
        return _decode_parameter_sets(key, value) if value else ()

    return H265Parameters(vps=sets("sprop-vps"), sps=sets("sprop-sps"), pps=sets("sprop-pps"))


def _parse_fmtp(value: str) -> tuple[str, dict[str, str]]:
    fmt, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    for part in rest.split(";"):
        key, sep, val = part.strip().partition("=")
        key = key.strip().lower()
        if key:
            params[key] = val.strip() if sep else ""
    return fmt.strip(), params


class _SectionBuilder:
    def __init__(self, line: str) -> None:
        parts = line.split()
        if len(parts) < 3:
            raise RtspError(f"SDP m= line is too short: {line[:80]!r}")
        self.media = parts[0].lower()
        port_text = parts[1].split("/")[0]
        if not port_text.isdigit() or not port_text.isascii() or int(port_text) > 65535:
            raise RtspError(f"SDP m= line has a bad port: {line[:80]!r}")
        self.port = int(port_text)
        self.protocol = parts[2]
        payload_types: list[int] = []
        for fmt in parts[3:]:
            if fmt.isdigit() and fmt.isascii() and int(fmt) <= 127:
                payload_types.append(int(fmt))
        self.payload_types = tuple(payload_types)
        self.attributes: list[tuple[str, str | None]] = []

    def build(self, base_url: str) -> MediaSection:
        rtpmaps: dict[int, str] = {}
        fmtps: list[tuple[str, dict[str, str]]] = []
        control: str | None = None
        for name, value in self.attributes:
            if value is None:
                continue
            if name == "rtpmap":
                fmt, _, map_text = value.strip().partition(" ")
                if fmt.isdigit() and fmt.isascii():
                    rtpmaps.setdefault(int(fmt), map_text.strip())
            elif name == "fmtp":
                fmtps.append(_parse_fmtp(value))
            elif name == "control" and control is None:
                control = value.strip()
        pt = self.payload_types[0] if self.payload_types else None
        encoding: str | None = None
        clock_rate: int | None = None
        encoding_parameters: str | None = None
        mapping = rtpmaps.get(pt) if pt is not None else None
        if mapping is None and len(rtpmaps) == 1:
            mapping = next(iter(rtpmaps.values()))
        if mapping:
            encoding_text, _, rest = mapping.partition("/")
            rate_text, _, extra = rest.partition("/")
            encoding = encoding_text.strip() or None
            rate_text = rate_text.strip()
            if rate_text:
                if not rate_text.isdigit() or not rate_text.isascii() or int(rate_text) == 0:
                    raise RtspError(f"SDP rtpmap has a bad clock rate: {mapping[:80]!r}")
                clock_rate = int(rate_text)
            encoding_parameters = extra.strip() or None
        elif pt is not None and pt in _STATIC_PAYLOAD_TYPES:
            encoding, clock_rate, channels = _STATIC_PAYLOAD_TYPES[pt]
            encoding_parameters = str(channels) if channels else None
        # The fmtp for our payload type; cameras that write a wrong number (Vitek writes
        # fmtp:62 for payload type 98) get their only fmtp line used.
        fmtp: dict[str, str] = {}
        for fmt, fmt_params in fmtps:
            if pt is not None and fmt == str(pt):
                fmtp = fmt_params
                break
        else:
            if len(fmtps) == 1:
                fmtp = fmtps[0][1]
        section = MediaSection(
            media=self.media,
            port=self.port,
            protocol=self.protocol,
            payload_types=self.payload_types,
            encoding_name=encoding,
            clock_rate=clock_rate,
            encoding_parameters=encoding_parameters,
            fmtp=MappingProxyType(fmtp) if fmtp else _EMPTY,
            control=control,
            control_url=resolve_control(base_url, control),
            attributes=tuple(self.attributes),
        )
        if section.codec == "h264":
            return _replace_codec(section, h264=_h264(fmtp))
        if section.codec == "h265":
            return _replace_codec(section, h265=_h265(fmtp))
        return section


def _replace_codec(
    section: MediaSection,
    h264: H264Parameters | None = None,
    h265: H265Parameters | None = None,
) -> MediaSection:
    return MediaSection(
        media=section.media,
        port=section.port,
        protocol=section.protocol,
        payload_types=section.payload_types,
        encoding_name=section.encoding_name,
        clock_rate=section.clock_rate,
        encoding_parameters=section.encoding_parameters,
        fmtp=section.fmtp,
        control=section.control,
        control_url=section.control_url,
        attributes=section.attributes,
        h264=h264,
        h265=h265,
    )


def parse_sdp(body: bytes | str, base_url: str) -> SessionDescription:
    """Parse an SDP body; control URLs are resolved against `base_url`.

    Use `base_url_for(request_url, response.headers)` for the base, or `parse_describe`.
    """
    if isinstance(body, bytes | bytearray | memoryview):
        if len(body) > MAX_SDP_BYTES:
            raise RtspError(f"SDP of {len(body)} bytes exceeds the limit of {MAX_SDP_BYTES} bytes")
        text = bytes(body).decode("utf-8", errors="replace")
    else:
        text = body
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise RtspError("SDP is empty")
    if not lines[0].startswith("v="):
        raise RtspError(f"SDP does not start with a v= line: {lines[0][:60]!r}")
    session_name: str | None = None
    session_attributes: list[tuple[str, str | None]] = []
    sections: list[_SectionBuilder] = []
    for line in lines:
        kind, sep, value = line.partition("=")
        kind = kind.strip()
        if not sep or len(kind) != 1:
            raise RtspError(f"SDP line is not of the form x=value: {line[:60]!r}")
        if kind == "m":
            sections.append(_SectionBuilder(value))
        elif kind == "a":
            attr_name, colon, attr_text = value.partition(":")
            entry = (attr_name.strip().lower(), attr_text if colon else None)
            (sections[-1].attributes if sections else session_attributes).append(entry)
        elif kind == "s" and not sections:
            session_name = value.strip() or None
    control: str | None = None
    for attr, attr_value in session_attributes:
        if attr == "control" and attr_value is not None:
            control = attr_value.strip()
            break
    return SessionDescription(
        name=session_name,
        base_url=base_url,
        control=control,
        control_url=resolve_control(base_url, control),
        media=tuple(section.build(base_url) for section in sections),
        attributes=tuple(session_attributes),
    )


def parse_describe(response: Response, request_url: str) -> SessionDescription:
    """The session a successful DESCRIBE response describes."""
    if response.status != 200:
        raise RtspError(f"DESCRIBE failed: {response.status} {response.reason}".rstrip())
    content_type = response.headers.get("Content-Type")
    if content_type is not None and "sdp" not in content_type.lower():
        raise RtspError(f"DESCRIBE answered {content_type!r}, not application/sdp")
    if not response.body:
        raise RtspError("DESCRIBE response has no body")
    return parse_sdp(response.body, base_url_for(request_url, response.headers))
