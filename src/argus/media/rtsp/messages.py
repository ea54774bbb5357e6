"""RTSP 1.0 messages (RFC 2326): building requests, parsing the byte stream, reading headers.

`MessageParser.feed` takes whatever bytes arrived on a TCP-interleaved connection and returns the
complete events in them: responses, requests a camera may send (GET_PARAMETER, OPTIONS) and
`$`-framed interleaved packets. Interleaved payloads are memoryview slices of the received bytes,
not copies, except when a frame straddles two reads. Header helpers below read the few headers
the client needs, tolerating the quirks real cameras send.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from argus.media.rtsp.errors import RtspError

MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_SESSION_TIMEOUT = 60  # seconds, RFC 2326 §12.37
RTSP_VERSION = "RTSP/1.0"

_HEADER_END_MARKERS = (b"\r\n\r\n", b"\n\n", b"\n\r\n")


class Headers:
    """RTSP headers: names compared case-insensitively, order and repeats kept."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: tuple[tuple[str, str], ...] = tuple(items)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of `name`, or `default`."""
        key = name.lower()
        for item_name, value in self._items:
            if item_name.lower() == key:
                return value
        return default

    def __getitem__(self, name: str) -> str:
        """The first value of `name`; RtspError naming the header when it is missing."""
        value = self.get(name)
        if value is None:
            raise RtspError(f"the {name} header is missing")
        return value

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`, in order (e.g. repeated WWW-Authenticate)."""
        key = name.lower()
        return [value for item_name, value in self._items if item_name.lower() == key]

    def items(self) -> tuple[tuple[str, str], ...]:
        return self._items

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return self._items == other._items

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"Headers({list(self._items)!r})"


@dataclass(frozen=True, slots=True)
class Response:
    """An RTSP response: status line, headers and body (empty when there is none)."""

    version: str
    status: int
    reason: str
    headers: Headers
    body: bytes = b""

    @property
    def cseq(self) -> int | None:
        return _cseq(self.headers)


@dataclass(frozen=True, slots=True)
class Request:
    """An RTSP request, as a server (or a camera, on the same connection) sends it."""

    method: str
    url: str
    version: str
    headers: Headers
    body: bytes = b""

    @property
    def cseq(self) -> int | None:
        return _cseq(self.headers)


@dataclass(frozen=True, slots=True)
class InterleavedPacket:
    """One `$`-framed packet (RFC 2326 §10.12): channel number and RTP/RTCP payload."""

    channel: int
    payload: memoryview  # a read-only slice of the received bytes; compares by content


Event = Response | Request | InterleavedPacket


def _cseq(headers: Headers) -> int | None:
    value = headers.get("CSeq")
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit():
        raise RtspError(f"CSeq header is not a number: {value[:40]!r}")
    return int(value)


def _check_text(what: str, value: str) -> None:
    if "\r" in value or "\n" in value or "\0" in value:
        raise RtspError(f"{what} must not contain CR, LF or NUL: {value[:60]!r}")


def build_request(
    method: str,
    url: str,
    cseq: int,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    body: bytes = b"",
) -> bytes:
    """The bytes of one RTSP/1.0 request; CSeq first, Content-Length added for a body."""
    if not method or not all(c.isalnum() or c in "_-" for c in method):
        raise RtspError(f"RTSP method must be a token: {method!r}")
    _check_text("request URL", url)
    if not url or " " in url:
        raise RtspError(f"request URL must be non-empty without spaces: {url!r}")
    if cseq < 0:
        raise RtspError(f"CSeq must not be negative: {cseq}")
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    lines = [f"{method} {url} {RTSP_VERSION}", f"CSeq: {cseq}"]
    for name, value in pairs:
        lowered = name.lower()
        if lowered in ("cseq", "content-length"):
            continue
        if not name or ":" in name or " " in name:
            raise RtspError(f"bad header name: {name!r}")
        _check_text(f"header {name}", name)
        _check_text(f"header {name}", value)
        lines.append(f"{name}: {value}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    return head + bytes(body)


def _find_header_end(data: bytes, start: int, stop: int) -> tuple[int, int] | None:
    """(end of header block, start of body) for the first empty line in data[start:stop]."""
    best: tuple[int, int] | None = None
    for marker in _HEADER_END_MARKERS:
        at = data.find(marker, start, stop)
        if at != -1 and (best is None or at < best[0]):
            best = (at, at + len(marker))
    return best


def _parse_head(head: str) -> tuple[str, Headers]:
    lines = head.replace("\r\n", "\n").split("\n")
    start_line = lines[0]
    items: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        if line[0] in " \t":
            if not items:
                raise RtspError("header continuation line before any header")
            name, value = items[-1]
            items[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not name or " " in name:
            raise RtspError(f"malformed header line: {line[:80]!r}")
        items.append((name, value.strip()))
    return start_line, Headers(items)


def _parse_start(start_line: str, headers: Headers, body: bytes) -> Response | Request:
    if start_line.startswith("RTSP/"):
        version, _, rest = start_line.partition(" ")
        status_text, _, reason = rest.strip().partition(" ")
        if len(status_text) != 3 or not status_text.isdigit():
            raise RtspError(f"malformed status line: {start_line[:80]!r}")
        return Response(version, int(status_text), reason.strip(), headers, body)
    parts = start_line.split()
    if len(parts) != 3 or not parts[2].startswith("RTSP/"):
        raise RtspError(f"malformed request or status line: {start_line[:80]!r}")
    method, url, version = parts
    if not all(c.isalnum() or c in "_-" for c in method):
        raise RtspError(f"malformed request method: {method[:40]!r}")
    return Request(method, url, version, headers, body)


class MessageParser:
    """Incremental parser of the bytes an RTSP peer sends on one connection."""

    def __init__(
        self, max_header_bytes: int = MAX_HEADER_BYTES, max_body_bytes: int = MAX_BODY_BYTES
    ) -> None:
        self.max_header_bytes = max_header_bytes
        self.max_body_bytes = max_body_bytes
        self._pending = bytearray()
        self._need = 1  # total bytes of pending input before another parse can progress
        self._failed: RtspError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete event."""
        return len(self._pending)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Every complete event in the bytes received so far; raise RtspError on bad input.

        Events that precede bad bytes in the same call are returned first and the error is raised
        by the next call (even `feed(b"")`). The stream cannot be resynchronised after an error:
        every later call raises it again.
        """
        if self._failed is not None:
            raise self._failed
        if not data:
            return []
        if self._pending:
            self._pending += data
            if len(self._pending) < self._need:
                return []
            work = bytes(self._pending)
            self._pending = bytearray()
        else:
            work = data if isinstance(data, bytes) else bytes(data)
        events: list[Event] = []
        try:
            pos = self._parse(work, events)
        except RtspError as err:
            self._failed = err
            if not events:
                raise
            return events  # the events before the bad bytes; the next call raises
        if pos < len(work):
            self._pending = bytearray(memoryview(work)[pos:])
        return events

    def _parse(self, work: bytes, events: list[Event]) -> int:
        view = memoryview(work)
        end = len(work)
        pos = 0
        while pos < end:
            first = work[pos]
            if first == 0x24:  # '$'
                if end - pos < 4:
                    self._need = 4
                    break
                length = (work[pos + 2] << 8) | work[pos + 3]
                if end - pos < 4 + length:
                    self._need = 4 + length
                    break
                events.append(InterleavedPacket(work[pos + 1], view[pos + 4 : pos + 4 + length]))
                pos += 4 + length
                continue
            if first in (0x0D, 0x0A):  # blank lines between messages are allowed
                pos += 1
                continue
            if not (0x41 <= first <= 0x5A or 0x61 <= first <= 0x7A):
                raise RtspError(
                    f"expected an RTSP message or a '$' interleaved frame, got byte 0x{first:02x}"
                )
            message = self._parse_message(work, pos)
            if message is None:
                break
            event, pos = message
            events.append(event)
        if pos >= end:
            self._need = 1
        return pos

    def _parse_message(self, work: bytes, pos: int) -> tuple[Event, int] | None:
        end = len(work)
        stop = min(end, pos + self.max_header_bytes + 4)
        found = _find_header_end(work, pos, stop)
        if found is None:
            if end - pos > self.max_header_bytes:
                raise RtspError(
                    f"RTSP header block exceeds the limit of {self.max_header_bytes} bytes"
                )
            self._need = end - pos + 1
            return None
        head_end, body_start = found
        if head_end - pos > self.max_header_bytes:
            raise RtspError(f"RTSP header block exceeds the limit of {self.max_header_bytes} bytes")
        start_line, headers = _parse_head(work[pos:head_end].decode("latin-1"))
        length_text = headers.get("Content-Length")
        length = 0
        if length_text is not None:
            length_text = length_text.strip()
            if not length_text.isdigit() or not length_text.isascii():
                raise RtspError(f"Content-Length is not a number: {length_text[:40]!r}")
            length = int(length_text)
            if length > self.max_body_bytes:
                raise RtspError(
                    f"RTSP body of {length} bytes exceeds the limit of {self.max_body_bytes} bytes"
                )
        if end - body_start < length:
            self._need = body_start - pos + length
            return None
        body = work[body_start : body_start + length]
        return _parse_start(start_line, headers, body), body_start + length


# ---------------------------------------------------------------------------------------------
# Header helpers


@dataclass(frozen=True, slots=True)
class SessionHeader:
    """The Session header: id and timeout in seconds (None when the server gave none)."""

    id: str
    timeout: int | None

    @property
    def timeout_or_default(self) -> int:
        return self.timeout if self.timeout is not None else DEFAULT_SESSION_TIMEOUT


def parse_session(value: str) -> SessionHeader:
    """Read `id[;timeout=N]`, tolerating spaces around the parts (Hikvision, GW Security)."""
    session_id, *params = value.split(";")
    session_id = session_id.strip()
    if not session_id:
        raise RtspError(f"Session header has no session id: {value[:80]!r}")
    timeout: int | None = None
    for param in params:
        name, _, raw = param.partition("=")
        if name.strip().lower() == "timeout":
            raw = raw.strip()
            if not raw.isdigit() or not raw.isascii():
                raise RtspError(f"Session timeout is not a number: {raw[:40]!r}")
            timeout = int(raw)
    return SessionHeader(session_id, timeout)


def parse_ssrc(value: str) -> int:
    """An SSRC as cameras write it: 8 hex digits, fewer (4), "0x…", spaces, or decimal."""
    text = value.strip().strip('"').strip()
    try:
        if text[:2].lower() == "0x":
            digits = text[2:]
            if not digits or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise ValueError
            number = int(digits, 16)
        elif text and len(text) <= 8 and all(c in "0123456789abcdefABCDEF" for c in text):
            number = int(text, 16)
        elif text.isdigit() and text.isascii():
            number = int(text)
        else:
            raise ValueError
    except ValueError:
        raise RtspError(f"SSRC is neither hex nor decimal: {value[:40]!r}") from None
    if number > 0xFFFFFFFF:
        raise RtspError(f"SSRC does not fit in 32 bits: {value[:40]!r}")
    return number


def _parse_pair(name: str, value: str) -> tuple[int, int]:
    first, sep, second = value.strip().partition("-")
    try:
        low = int(first)
        high = int(second) if sep else low + 1
    except ValueError:
        raise RtspError(f"Transport {name} is not a number or range: {value[:40]!r}") from None
    if not (0 <= low <= 65535 and 0 <= high <= 65535):
        raise RtspError(f"Transport {name} out of range: {value[:40]!r}")
    return low, high


@dataclass(frozen=True, slots=True)
class Transport:
    """One transport specification of a Transport header (RFC 2326 §12.39)."""

    protocol: str  # "RTP/AVP"
    lower_transport: str  # "TCP" or "UDP"
    unicast: bool
    interleaved: tuple[int, int] | None = None
    client_port: tuple[int, int] | None = None
    server_port: tuple[int, int] | None = None
    ssrc: int | None = None
    mode: str | None = None
    source: str | None = None
    destination: str | None = None


def parse_transport(value: str) -> Transport:
    """The first transport specification in a Transport header value."""
    spec = value.split(",")[0].strip()
    parts = [part.strip() for part in spec.split(";")]
    profile = parts[0].upper()
    if not profile.startswith("RTP/"):
        raise RtspError(f"Transport is not RTP: {value[:80]!r}")
    pieces = profile.split("/")
    protocol = "/".join(pieces[:2])
    lower = pieces[2] if len(pieces) > 2 else "UDP"
    if lower not in ("TCP", "UDP"):
        raise RtspError(f"Transport lower transport is neither TCP nor UDP: {value[:80]!r}")
    unicast = True
    fields: dict[str, object] = {}
    for part in parts[1:]:
        name, sep, raw = part.partition("=")
        name = name.strip().lower()
        raw = raw.strip()
        if name == "multicast":
            unicast = False
        elif name == "unicast":
            unicast = True
        elif not sep:
            continue
        elif name in ("interleaved", "client_port", "server_port"):
            fields[name] = _parse_pair(name, raw)
        elif name == "ssrc":
            fields["ssrc"] = parse_ssrc(raw)
        elif name == "mode":
            fields["mode"] = raw.strip('"').upper()
        elif name in ("source", "destination"):
            fields[name] = raw
    interleaved = fields.get("interleaved")
    client_port = fields.get("client_port")
    server_port = fields.get("server_port")
    ssrc = fields.get("ssrc")
    mode = fields.get("mode")
    source = fields.get("source")
    destination = fields.get("destination")
    return Transport(
        protocol=protocol,
        lower_transport=lower,
        unicast=unicast,
        interleaved=interleaved if isinstance(interleaved, tuple) else None,
        client_port=client_port if isinstance(client_port, tuple) else None,
        server_port=server_port if isinstance(server_port, tuple) else None,
        ssrc=ssrc if isinstance(ssrc, int) else None,
        mode=mode if isinstance(mode, str) else None,
        source=source if isinstance(source, str) else None,
        destination=destination if isinstance(destination, str) else None,
    )


@dataclass(frozen=True, slots=True)
class RtpInfo:
    """One stream of an RTP-Info header; values a camera garbles are None."""

    url: str
    seq: int | None = None
    rtptime: int | None = None
    ssrc: int | None = None


def _u32(raw: str, bits: int) -> int | None:
    raw = raw.strip()
    if not raw.isdigit() or not raw.isascii():
        return None
    number = int(raw)
    return number if number < (1 << bits) else None


def parse_rtp_info(value: str) -> list[RtpInfo]:
    """Each stream of RTP-Info (RFC 2326 §12.33); a bad seq/rtptime/ssrc is read as None."""
    streams: list[RtpInfo] = []
    for chunk in value.split(","):
        chunk = chunk.strip()
        if not chunk:
            continue
        url: str | None = None
        seq: int | None = None
        rtptime: int | None = None
        ssrc: int | None = None
        for part in chunk.split(";"):
            name, _, raw = part.partition("=")
            name = name.strip().lower()
            if name == "url":
                url = raw.strip()
            elif name == "seq":
                seq = _u32(raw, 16)
            elif name == "rtptime":
                rtptime = _u32(raw, 32)
            elif name == "ssrc":
                try:
                    ssrc = parse_ssrc(raw)
                except RtspError:
                    ssrc = None
        if not url:
            raise RtspError(f"RTP-Info stream has no url: {chunk[:80]!r}")
        streams.append(RtpInfo(url, seq, rtptime, ssrc))
    return streams


def parse_public(value: str) -> frozenset[str]:
    """The methods a Public header lists, upper-cased."""
    return frozenset(part.strip().upper() for part in value.split(",") if part.strip())
