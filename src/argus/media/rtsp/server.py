"""A generic asyncio RTSP 1.0 server (RFC 2326): sessions, transports, auth; media from mounts.

What is served is decided by a `resolver(path, request)` that returns a `Mount` (or raises
`NotFound`, `Unauthorized`, `Forbidden` or another `RtspStatusError`). A mount describes its
tracks in SDP and, once played, pushes RTP packets into the `Sink` it is given; the server
carries them to the client over TCP-interleaved channels or UDP, sends RTCP sender reports
about every second, and ends sessions on TEARDOWN, on close, or when the client stops
sending keep-alives (any request on its connection or with its Session id, or RTCP) for the
session timeout. The simulator serves cameras this way; the stream hub will re-serve them.

Slow clients: packets are never queued beyond `write_buffer_limit` bytes per client. Over the
limit the session drops packets until a packet the mount marks `resume_point=True` (the start
of a keyframe) arrives with the backlog drained to a quarter of the limit; a client that stays
over the limit for `slow_client_timeout` seconds is disconnected. Both are counted in `stats`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import math
import secrets
import socket
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, cast
from urllib.parse import parse_qs, urlsplit

from argus.media.rtp import NTP_UNIX_OFFSET
from argus.media.rtsp.auth import Challenge, parse_challenges
from argus.media.rtsp.errors import RtspError
from argus.media.rtsp.messages import (
    RTSP_VERSION,
    InterleavedPacket,
    MessageParser,
    Request,
    Transport,
    parse_transport,
)

log = logging.getLogger(__name__)

SERVER_NAME = "Argus"
PUBLIC_METHODS = ("OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "GET_PARAMETER", "TEARDOWN")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    460: "Only Aggregate Operation Allowed",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
    505: "RTSP Version Not Supported",
}
_FRAME = struct.Struct("!BBH")
_TS_SSRC = struct.Struct("!II")
_SR = struct.Struct("!BBHIIIIII")
_NONCE_LIFETIME = 300.0
MAX_QUEUED_REQUESTS = 32
"""Requests a client may send ahead of the answers; more and the connection is closed."""


# --- what resolvers and mounts use -------------------------------------------------------------


class RtspStatusError(Exception):
    """Raised by a resolver (or mount) to answer with this RTSP status instead of streaming."""

    def __init__(self, status: int, reason: str | None = None) -> None:
        super().__init__(reason or _REASONS.get(status, "Error"))
        self.status = status
        self.reason = reason or _REASONS.get(status, "Error")


class NotFound(RtspStatusError):
    def __init__(self, reason: str = "Not Found") -> None:
        super().__init__(404, reason)


class Unauthorized(RtspStatusError):
    """401 with the server's Digest and Basic challenges, whatever credentials came."""

    def __init__(self, reason: str = "Unauthorized") -> None:
        super().__init__(401, reason)


class Forbidden(RtspStatusError):
    def __init__(self, reason: str = "Forbidden") -> None:
        super().__init__(403, reason)


@dataclass(frozen=True, slots=True)
class Track:
    """One media track of a mount: its SDP control name and RTP clock rate."""

    control: str
    clock_rate: int = 90000


@dataclass(frozen=True, slots=True)
class Credentials:
    """Credentials a mount requires; Digest (MD5 or SHA-256) and Basic are accepted."""

    username: str
    password: str
    allow_basic: bool = True


@dataclass(frozen=True, slots=True)
class TrackStart:
    """The sequence number and RTP timestamp of a track's first packet (for RTP-Info)."""

    sequence: int
    rtptime: int


class Sink(Protocol):
    """Where a playing mount pushes its packets; it never blocks."""

    def send_rtp(self, track: int, packet: bytes, *, resume_point: bool = False) -> None:
        """Send one RTP packet; `resume_point` marks the first packet of a keyframe."""

    def send_rtcp(self, track: int, packet: bytes) -> None:
        """Send one (compound) RTCP packet as it is."""

    def close(self, reason: str) -> None:
        """End the session and disconnect its client."""

    @property
    def closed(self) -> bool:
        """Whether the session has ended (the mount should stop sending)."""


class Mount(Protocol):
    """Something playable: tracks, SDP, and a source of packets while played."""

    @property
    def tracks(self) -> Sequence[Track]: ...

    @property
    def credentials(self) -> Credentials | None:
        """Credentials required of the client, or None for open access."""

    @property
    def sender_reports(self) -> bool:
        """Whether the server sends RTCP sender reports (False: the mount sends its own)."""

    def sdp(self, base_url: str) -> str:
        """The SDP of a DESCRIBE answer; track controls relative to `base_url`."""

    async def start(self, sink: Sink) -> Sequence[TrackStart | None]:
        """Begin pushing packets into `sink`; say each track's first sequence number/rtptime."""

    def stop(self) -> None:
        """Stop pushing packets (TEARDOWN, PAUSE, expiry, disconnect)."""


Resolver = Callable[[str, Request], Awaitable[Mount]]
"""`resolver(path, request)`: the mount for a URL path (no query, no track control)."""


def split_url(url: str) -> tuple[str, str, str | None]:
    """(path, query, control in the query) of an RTSP URL.

    A client that resolves a track control against a base URL with a query appends it to the
    query ("…/main?fault=loss:0.1/trackID=0"); that tail is split off as the third value.
    """
    parts = urlsplit(url)
    path = parts.path or "/"
    query = parts.query
    tail: str | None = None
    if "/" in query:
        query, _, tail = query.rpartition("/")
        tail = tail or None
    return path, query, tail


def query_params(url: str) -> dict[str, list[str]]:
    """The query parameters of a request URL, without any track control appended to them."""
    return parse_qs(split_url(url)[1], keep_blank_values=True)


# --- SDP helpers for mounts ---------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def h264_fmtp(sps: bytes, pps: bytes) -> str:
    """fmtp parameters of an H.264 track (RFC 6184 §8.1), packetization-mode 1."""
    profile = sps[1:4].hex().upper()
    return (
        f"packetization-mode=1;profile-level-id={profile};"
        f"sprop-parameter-sets={_b64(sps)},{_b64(pps)}"
    )


def h265_fmtp(vps: bytes, sps: bytes, pps: bytes) -> str:
    """fmtp parameters of an H.265 track (RFC 7798 §7.1)."""
    return f"sprop-vps={_b64(vps)};sprop-sps={_b64(sps)};sprop-pps={_b64(pps)}"


def video_sdp(
    *,
    codec: Literal["h264", "h265"],
    fmtp: str,
    control: str = "trackID=0",
    payload_type: int = 96,
    session_name: str = "Argus",
    framerate: float | None = None,
    origin_host: str = "127.0.0.1",
    session_id: int | None = None,
) -> str:
    """An SDP with one H.264 or H.265 video track, aggregate control "*", live range."""
    encoding = "H264" if codec == "h264" else "H265"
    sid = session_id if session_id is not None else secrets.randbits(31)
    lines = [
        "v=0",
        f"o=- {sid} 1 IN IP4 {origin_host}",
        f"s={session_name}",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "a=control:*",
        "a=range:npt=now-",
        f"m=video 0 RTP/AVP {payload_type}",
        f"a=rtpmap:{payload_type} {encoding}/90000",
        f"a=fmtp:{payload_type} {fmtp}",
    ]
    if framerate:
        lines.append(f"a=framerate:{framerate:g}")
    lines.append(f"a=control:{control}")
    return "\r\n".join(lines) + "\r\n"


def sender_report(
    ssrc: int, unix_time: float, rtp_timestamp: int, packets: int, octets: int, cname: bytes
) -> bytes:
    """A compound RTCP packet: a sender report (RFC 3550 §6.4.1) and an SDES CNAME."""
    ntp = unix_time + NTP_UNIX_OFFSET
    seconds = int(ntp)
    fraction = int((ntp - seconds) * 4_294_967_296) & 0xFFFFFFFF
    report = _SR.pack(
        0x80,
        200,
        6,
        ssrc,
        seconds & 0xFFFFFFFF,
        fraction,
        rtp_timestamp & 0xFFFFFFFF,
        packets & 0xFFFFFFFF,
        octets & 0xFFFFFFFF,
    )
    cname = cname[:255]
    chunk = struct.pack("!IBB", ssrc, 1, len(cname)) + cname + b"\x00"
    chunk += b"\x00" * (-len(chunk) % 4)
    sdes = struct.pack("!BBH", 0x81, 202, (4 + len(chunk)) // 4 - 1) + chunk
    return report + sdes


# --- server -------------------------------------------------------------------------------------


@dataclass(slots=True)
class ServerStats:
    """Counters of one server, for metrics and tests."""

    connections: int = 0
    requests: int = 0
    sessions_started: int = 0
    sessions_expired: int = 0
    rtp_packets: int = 0
    rtcp_packets: int = 0
    dropped_packets: int = 0
    """RTP packets not sent because the client's backlog was over the limit."""
    slow_episodes: int = 0
    """Times a client's backlog went over the limit (each starts dropping to a keyframe)."""
    slow_disconnects: int = 0
    """Clients disconnected for staying over the limit for slow_client_timeout."""


class _TrackOut:
    """One set-up track of a session: where its packets go and what the RTCP SR needs."""

    __slots__ = (
        "clock_rate",
        "control_url",
        "last_mono",
        "last_packet",
        "octets",
        "packets",
        "rtcp_addr",
        "rtcp_channel",
        "rtp_addr",
        "rtp_channel",
    )

    def __init__(self, clock_rate: int, control_url: str) -> None:
        self.clock_rate = clock_rate
        self.control_url = control_url
        self.rtp_channel = -1
        self.rtcp_channel = -1
        self.rtp_addr: tuple[str, int] | None = None
        self.rtcp_addr: tuple[str, int] | None = None
        self.last_packet: bytes | None = None
        self.last_mono = 0.0
        self.packets = 0
        self.octets = 0


class ServerSession:
    """One RTSP session: a mount, its set-up tracks and their transports. It is the mount's Sink."""

    def __init__(
        self, server: RtspServer, session_id: str, mount: Mount, conn: _Connection, path: str
    ) -> None:
        self.server = server
        self.id = session_id
        self.mount = mount
        self.path = path
        self.conn: _Connection | None = conn
        self.tracks: list[_TrackOut | None] = [None] * len(mount.tracks)
        self.state: Literal["ready", "playing"] = "ready"
        self.last_seen = time.monotonic()
        self.last_report = 0.0
        self.udp = False
        self.dropped_packets = 0
        self._closed = False
        self._dropping_since: float | None = None
        self._held: list[tuple[int, bytes, bool]] | None = None

    # Sink ------------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def send_rtp(self, track: int, packet: bytes, *, resume_point: bool = False) -> None:
        if self._closed:
            return
        held = self._held
        if held is not None:
            held.append((track, packet, resume_point))
            return
        out = self.tracks[track] if track < len(self.tracks) else None
        if out is None:
            return
        server = self.server
        backlog = self._backlog()
        if self._dropping_since is not None:
            if not resume_point or backlog > server.write_buffer_limit // 4:
                self._drop(server)
                return
            self._dropping_since = None
        elif backlog > server.write_buffer_limit:
            self._dropping_since = time.monotonic()
            server.stats.slow_episodes += 1
            self._drop(server)
            return
        out.last_packet = packet
        out.last_mono = time.monotonic()
        out.packets += 1
        out.octets += len(packet) - 12
        server.stats.rtp_packets += 1
        conn = self.conn
        if out.rtp_channel >= 0:
            if conn is not None:
                conn.queue_frame(out.rtp_channel, packet)
        elif out.rtp_addr is not None:
            server.send_udp_rtp(packet, out.rtp_addr)

    def send_rtcp(self, track: int, packet: bytes) -> None:
        if self._closed or self._held is not None or track >= len(self.tracks):
            return
        out = self.tracks[track]
        if out is None or self._backlog() > self.server.write_buffer_limit:
            return
        self.server.stats.rtcp_packets += 1
        if out.rtcp_channel >= 0:
            if self.conn is not None:
                self.conn.queue_frame(out.rtcp_channel, packet)
        elif out.rtcp_addr is not None:
            self.server.send_udp_rtcp(packet, out.rtcp_addr)

    def close(self, reason: str) -> None:
        if self._closed:
            return
        log.info("RTSP session %s closed: %s", self.id, reason)
        conn = self.conn
        self.server.end_session(self, reason)
        if conn is not None:
            conn.close()

    # internals -------------------------------------------------------------------------------

    def _backlog(self) -> int:
        if self.udp:
            return self.server.udp_backlog()
        conn = self.conn
        return conn.backlog() if conn is not None else 0

    def _drop(self, server: RtspServer) -> None:
        self.dropped_packets += 1
        server.stats.dropped_packets += 1
        since = self._dropping_since
        if since is not None and time.monotonic() - since > server.slow_client_timeout:
            server.stats.slow_disconnects += 1
            self.close("the client reads too slowly")

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    def hold(self) -> None:
        """Queue packets instead of sending them (until the PLAY response is written)."""
        self._held = []

    def discard_held(self) -> None:
        self._held = None

    def release(self) -> None:
        held = self._held
        self._held = None
        if held:
            for track, packet, resume in held:
                self.send_rtp(track, packet, resume_point=resume)

    def stop_mount(self) -> None:
        if self.state == "playing":
            self.state = "ready"
            try:
                self.mount.stop()
            except Exception:
                log.exception("stopping the mount of RTSP session %s failed", self.id)

    def mark_closed(self) -> None:
        self._closed = True
        self.stop_mount()

    def send_reports(self, now_mono: float, now_wall: float) -> None:
        """One RTCP sender report per track that has sent something."""
        self.last_report = now_mono
        for index, out in enumerate(self.tracks):
            if out is None or out.last_packet is None:
                continue
            timestamp, ssrc = _TS_SSRC.unpack_from(out.last_packet, 4)
            elapsed = now_mono - out.last_mono
            rtp_now = timestamp + round(elapsed * out.clock_rate)
            report = sender_report(
                ssrc, now_wall, rtp_now, out.packets, out.octets, self.server.cname
            )
            self.send_rtcp(index, report)


class _Connection(asyncio.Protocol):
    """One client's TCP connection: RTSP requests in, responses and interleaved frames out."""

    def __init__(self, server: RtspServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.peer_host = ""
        self.parser = MessageParser()
        self.sessions: set[ServerSession] = set()
        self.channels: dict[int, ServerSession] = {}
        self._requests: deque[Request] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._out: list[bytes] = []
        self._out_bytes = 0
        self._flush_scheduled = False
        self._closing = False

    # asyncio.Protocol --------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.peer_host = peer[0] if isinstance(peer, tuple) else ""
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.connections.add(self)
        self.server.stats.connections += 1

    def data_received(self, data: bytes) -> None:
        try:
            events = self.parser.feed(data)
        except RtspError as exc:
            log.info("RTSP client %s sent bad data: %s", self.peer_host, exc)
            self._write_response(None, 400, [], b"")
            self.close()
            return
        for event in events:
            if isinstance(event, InterleavedPacket):
                session = self.channels.get(event.channel)
                if session is not None:
                    session.touch()  # RTCP receiver reports count as keep-alive
            elif isinstance(event, Request):
                if len(self._requests) >= MAX_QUEUED_REQUESTS:
                    log.info("RTSP client %s floods requests; closing", self.peer_host)
                    self.close()
                    return
                self._requests.append(event)
        if self._requests and self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work())

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self.server.connections.discard(self)
        for session in list(self.sessions):
            if session.udp:
                session.conn = None  # a UDP session outlives its control connection
            else:
                self.server.end_session(session, "connection closed")
        self.sessions.clear()
        self.channels.clear()
        if self._worker is not None:
            self._worker.cancel()

    # output ----------------------------------------------------------------------------------

    def backlog(self) -> int:
        transport = self.transport
        if transport is None:
            return 0
        return transport.get_write_buffer_size() + self._out_bytes

    def queue_frame(self, channel: int, packet: bytes) -> None:
        """Queue one interleaved frame; frames queued in one loop turn go out in one write."""
        if self._closing:
            return
        self._out.append(_FRAME.pack(0x24, channel, len(packet)))
        self._out.append(packet)
        self._out_bytes += len(packet) + 4
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._flush_scheduled = False
        if not self._out:
            return
        data = b"".join(self._out)
        self._out = []
        self._out_bytes = 0
        if self.transport is not None and not self._closing:
            self.transport.write(data)

    def close(self) -> None:
        if self._closing:
            return
        self.flush()
        self._closing = True
        if self.transport is not None:
            self.transport.close()

    def _write_response(
        self,
        cseq: str | None,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        reason: str | None = None,
    ) -> None:
        phrase = _REASONS.get(status, "Error") if reason is None else _status_text(reason)
        lines = [f"{RTSP_VERSION} {status} {phrase}"]
        if cseq is not None:
            lines.append(f"CSeq: {cseq}")
        lines.append(f"Server: {self.server.server_name}")
        lines.extend(f"{name}: {value}" for name, value in headers)
        if body:
            lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body
        self.flush()
        if self.transport is not None and not self._closing:
            self.transport.write(data)

    # requests --------------------------------------------------------------------------------

    async def _work(self) -> None:
        try:
            while self._requests and not self._closing:
                request = self._requests.popleft()
                await self._serve(request)
        finally:
            self._worker = None

    async def _serve(self, request: Request) -> None:
        server = self.server
        server.stats.requests += 1
        for session in self.sessions:
            session.touch()
        cseq = request.headers.get("CSeq")
        extra: list[tuple[str, str]] = []
        body = b""
        after: Callable[[], None] | None = None
        reason: str | None = None
        try:
            if request.version != RTSP_VERSION:
                raise RtspStatusError(505)
            handler = server.handlers.get(request.method.upper())
            if handler is None:
                extra.append(("Public", ", ".join(PUBLIC_METHODS)))
                raise RtspStatusError(501)
            result = await handler(self, request)
            status, extra, body, after = result.status, result.headers, result.body, result.after
        except RtspStatusError as exc:
            status, reason = exc.status, exc.reason
            if status == 401:
                extra.extend(server.challenges())
        except RtspError as exc:
            log.info("bad RTSP request from %s: %s", self.peer_host, exc)
            status = 400
        except Exception:
            log.exception("RTSP request %s %s failed", request.method, request.url)
            status = 500
        self._write_response(cseq, status, extra, body, reason)
        if after is not None:
            after()


def _status_text(reason: str) -> str:
    """A reason phrase fit for a status line: printable, one line, not too long."""
    return "".join(c if c.isprintable() else " " for c in reason)[:300] or "Error"


@dataclass(slots=True)
class _Result:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    after: Callable[[], None] | None = None


_Handler = Callable[[_Connection, Request], Awaitable[_Result]]


class _UdpEndpoint(asyncio.DatagramProtocol):
    """The server's RTP or RTCP UDP socket; RTCP from a client counts as its keep-alive."""

    def __init__(self, server: RtspServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        session = self.server.udp_peers.get((str(addr[0]), int(addr[1])))
        if session is not None:
            session.touch()


class RtspServer:
    """An RTSP 1.0 server on one TCP port (and, for UDP clients, one pair of UDP ports)."""

    def __init__(
        self,
        resolver: Resolver,
        *,
        host: str = "127.0.0.1",
        port: int = 8554,
        session_timeout: float = 60.0,
        realm: str = "Argus",
        server_name: str = SERVER_NAME,
        write_buffer_limit: int = 512 * 1024,
        slow_client_timeout: float = 10.0,
        sender_report_interval: float = 1.0,
        allow_udp: bool = True,
    ) -> None:
        self.resolver = resolver
        self.host = host
        self.port = port
        self.session_timeout = session_timeout
        self.realm = realm
        self.server_name = server_name
        self.write_buffer_limit = write_buffer_limit
        self.slow_client_timeout = slow_client_timeout
        self.sender_report_interval = sender_report_interval
        self.allow_udp = allow_udp
        self.cname = f"argus@{host}".encode()
        self.stats = ServerStats()
        self.sessions: dict[str, ServerSession] = {}
        self.connections: set[_Connection] = set()
        self.udp_peers: dict[tuple[str, int], ServerSession] = {}
        self.handlers: dict[str, _Handler] = {
            "OPTIONS": _options,
            "DESCRIBE": _describe,
            "SETUP": _setup,
            "PLAY": _play,
            "PAUSE": _pause,
            "GET_PARAMETER": _get_parameter,
            "TEARDOWN": _teardown,
        }
        self._server: asyncio.Server | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._udp: tuple[_UdpEndpoint, _UdpEndpoint, int] | None = None
        self._udp_lock = asyncio.Lock()
        self._nonce_key = secrets.token_bytes(32)

    # lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen; `port` is the bound port afterwards (useful with port=0)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), self.host, self.port, reuse_address=True
        )
        sockets = self._server.sockets
        if sockets:
            self.port = sockets[0].getsockname()[1]
        self._housekeeping = loop.create_task(self._keep_house())

    async def stop(self) -> None:
        """Stop listening, end every session and close every connection."""
        if self._server is not None:
            self._server.close()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
            self._housekeeping = None
        for session in list(self.sessions.values()):
            self.end_session(session, "server stopped")
        for conn in list(self.connections):
            conn.close()
        if self._udp is not None:
            for endpoint in self._udp[:2]:
                if isinstance(endpoint, _UdpEndpoint) and endpoint.transport is not None:
                    endpoint.transport.close()
            self._udp = None
        if self._server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    async def __aenter__(self) -> RtspServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # sessions --------------------------------------------------------------------------------

    def end_session(self, session: ServerSession, reason: str) -> None:
        """Stop the session's mount and forget it (the connection stays open)."""
        if session.closed:
            return
        session.mark_closed()
        self.sessions.pop(session.id, None)
        for out in session.tracks:
            if out is not None and out.rtcp_addr is not None:
                self.udp_peers.pop(out.rtcp_addr, None)
        conn = session.conn
        if conn is not None:
            conn.sessions.discard(session)
            for channel in [c for c, s in conn.channels.items() if s is session]:
                del conn.channels[channel]
        log.debug("RTSP session %s ended: %s", session.id, reason)

    async def _keep_house(self) -> None:
        """Expire silent sessions and send sender reports: one timer for the whole server."""
        period = min(0.25, self.sender_report_interval / 2, self.session_timeout / 4)
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            wall = time.time()
            for session in list(self.sessions.values()):
                if now - session.last_seen > self.session_timeout:
                    self.stats.sessions_expired += 1
                    session.close("no keep-alive within the session timeout")
                elif (
                    session.state == "playing"
                    and now - session.last_report >= self.sender_report_interval
                    and session.mount.sender_reports
                ):
                    session.send_reports(now, wall)

    # UDP -------------------------------------------------------------------------------------

    async def udp_ports(self) -> int:
        """The server's RTP port (RTCP is the next); bound on first use."""
        async with self._udp_lock:
            if self._udp is None:
                self._udp = await self._bind_udp()
            return self._udp[2]

    async def _bind_udp(self) -> tuple[_UdpEndpoint, _UdpEndpoint, int]:
        loop = asyncio.get_running_loop()
        for _ in range(20):
            rtp_transport, rtp = await loop.create_datagram_endpoint(
                lambda: _UdpEndpoint(self), local_addr=(self.host, 0)
            )
            port = rtp_transport.get_extra_info("sockname")[1]
            if port % 2 == 0 and port < 65535:
                try:
                    _, rtcp = await loop.create_datagram_endpoint(
                        lambda: _UdpEndpoint(self), local_addr=(self.host, port + 1)
                    )
                except OSError:
                    pass
                else:
                    return rtp, rtcp, port
            rtp_transport.close()
        raise RtspStatusError(500, "no free UDP port pair")

    def send_udp_rtp(self, packet: bytes, addr: tuple[str, int]) -> None:
        if self._udp is not None and self._udp[0].transport is not None:
            self._udp[0].transport.sendto(packet, addr)

    def send_udp_rtcp(self, packet: bytes, addr: tuple[str, int]) -> None:
        if self._udp is not None and self._udp[1].transport is not None:
            self._udp[1].transport.sendto(packet, addr)

    def udp_backlog(self) -> int:
        if self._udp is None or self._udp[0].transport is None:
            return 0
        size = getattr(self._udp[0].transport, "get_write_buffer_size", None)
        return int(size()) if size is not None else 0

    # authentication --------------------------------------------------------------------------

    def challenges(self) -> list[tuple[str, str]]:
        """WWW-Authenticate headers of a 401: Digest (fresh nonce), then Basic."""
        return [
            ("WWW-Authenticate", f'Digest realm="{self.realm}", nonce="{self._nonce()}"'),
            ("WWW-Authenticate", f'Basic realm="{self.realm}"'),
        ]

    def _nonce(self, stamp: int | None = None) -> str:
        stamp = int(time.time()) if stamp is None else stamp
        mac = hmac.new(self._nonce_key, str(stamp).encode(), hashlib.sha256).hexdigest()[:24]
        return f"{stamp:x}{mac}"

    def _nonce_valid(self, nonce: str) -> bool:
        stamp_text = nonce[:-24]
        try:
            stamp = int(stamp_text, 16)
        except ValueError:
            return False
        if abs(time.time() - stamp) > _NONCE_LIFETIME:
            return False
        return hmac.compare_digest(self._nonce(stamp), nonce)

    def check_credentials(self, request: Request, credentials: Credentials | None) -> None:
        """Raise Unauthorized unless the request's Authorization header satisfies them."""
        if credentials is None:
            return
        value = request.headers.get("Authorization")
        if value is None:
            raise Unauthorized()
        scheme, _, rest = value.strip().partition(" ")
        if scheme.lower() == "basic" and credentials.allow_basic:
            try:
                decoded = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                raise Unauthorized() from None
            user, _, password = decoded.partition(":")
            if _same(user, credentials.username) & _same(password, credentials.password):
                return
        elif scheme.lower() == "digest":
            challenges = parse_challenges([value])
            if challenges and self._digest_ok(challenges[0], request, credentials):
                return
        raise Unauthorized()

    def _digest_ok(self, answer: Challenge, request: Request, credentials: Credentials) -> bool:
        params = answer.params
        nonce = params.get("nonce", "")
        uri = params.get("uri", "")
        if uri not in (request.url, urlsplit(request.url).path):
            return False  # an answer computed for another URL
        if params.get("realm") != self.realm or not self._nonce_valid(nonce):
            return False
        if not _same(params.get("username", ""), credentials.username):
            return False
        algorithm = answer.algorithm
        digest = {"MD5": _md5, "SHA-256": _sha256}.get(algorithm)
        if digest is None:
            return False
        ha1 = digest(f"{credentials.username}:{self.realm}:{credentials.password}")
        ha2 = digest(f"{request.method}:{uri}")
        qop = params.get("qop")
        if qop is None:
            expected = digest(f"{ha1}:{nonce}:{ha2}")
        elif qop.lower() == "auth":
            nc, cnonce = params.get("nc", ""), params.get("cnonce", "")
            expected = digest(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        else:
            return False
        return _same(params.get("response", "").lower(), expected)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# --- request handlers ---------------------------------------------------------------------------


def _session_of(conn: _Connection, request: Request, *, required: bool) -> ServerSession | None:
    value = request.headers.get("Session")
    if value is None:
        if required:
            raise RtspStatusError(454)
        return None
    session = conn.server.sessions.get(value.split(";")[0].strip())
    if session is None:
        raise RtspStatusError(454)
    if session.conn is None:
        session.conn = conn  # a UDP session taken up by a new control connection
        conn.sessions.add(session)
    session.touch()
    return session


def _session_header(session: ServerSession) -> tuple[str, str]:
    return ("Session", f"{session.id};timeout={math.ceil(session.server.session_timeout)}")


async def _options(conn: _Connection, request: Request) -> _Result:
    with contextlib.suppress(RtspStatusError):
        _session_of(conn, request, required=False)
    return _Result(headers=[("Public", ", ".join(PUBLIC_METHODS))])


async def _get_parameter(conn: _Connection, request: Request) -> _Result:
    session = _session_of(conn, request, required=False)
    return _Result(headers=[_session_header(session)] if session is not None else [])


async def _resolve(conn: _Connection, path: str, request: Request) -> Mount:
    mount = await conn.server.resolver(path, request)
    conn.server.check_credentials(request, mount.credentials)
    return mount


async def _describe(conn: _Connection, request: Request) -> _Result:
    path, _, _ = split_url(request.url)
    if len(path) > 1:
        path = path.rstrip("/")
    mount = await _resolve(conn, path, request)
    base = request.url if request.url.endswith("/") else request.url + "/"
    body = mount.sdp(base).encode("utf-8")
    return _Result(headers=[("Content-Base", base), ("Content-Type", "application/sdp")], body=body)


def _track_index(mount: Mount, control: str | None) -> int | None:
    tracks = mount.tracks
    if control is None:
        if len(tracks) == 1:
            return 0
        raise RtspStatusError(459)
    for index, track in enumerate(tracks):
        if track.control == control:
            return index
    return None


def _candidates(url: str) -> list[tuple[str, str | None]]:
    """(mount path, track control) readings of a SETUP URL, most likely first."""
    path, _, tail = split_url(url)
    path = path.rstrip("/") or "/"
    if tail is not None:
        return [(path, tail), (path, None)]
    parent, _, last = path.rpartition("/")
    options: list[tuple[str, str | None]] = []
    if parent and last:
        options.append((parent, last))
    options.append((path, None))
    return options


def _choose_transport(value: str, server: RtspServer) -> Transport:
    last_error = "no transport offered"
    for spec in value.split(","):
        if not spec.strip():
            continue
        try:
            transport = parse_transport(spec)
        except RtspError as exc:
            last_error = str(exc)
            continue
        if transport.protocol != "RTP/AVP" or not transport.unicast:
            continue
        if transport.lower_transport == "TCP":
            return transport
        if server.allow_udp and transport.client_port is not None:
            return transport
    raise RtspStatusError(461, f"Unsupported Transport ({last_error})"[:120])


async def _setup(conn: _Connection, request: Request) -> _Result:
    server = conn.server
    session = _session_of(conn, request, required=False)
    transport_value = request.headers.get("Transport")
    if transport_value is None:
        raise RtspStatusError(461)
    transport = _choose_transport(transport_value, server)
    index: int | None = None
    mount: Mount | None = session.mount if session is not None else None
    path = session.path if session is not None else ""
    for candidate_path, control in _candidates(request.url):
        if session is not None:
            if candidate_path != session.path:
                continue
        else:
            try:
                mount = await _resolve(conn, candidate_path, request)
            except NotFound:
                continue
            path = candidate_path
        assert mount is not None
        index = _track_index(mount, control)
        if index is not None:
            break
    if mount is None or index is None:
        raise NotFound()
    if session is not None and session.state == "playing" and session.tracks[index] is None:
        raise RtspStatusError(455)
    out = _TrackOut(mount.tracks[index].clock_rate, request.url)
    if transport.lower_transport == "TCP":
        wanted = transport.interleaved or (2 * index, 2 * index + 1)
        rtp_channel, rtcp_channel = wanted[0], wanted[1]
        taken = set(conn.channels)
        previous = session.tracks[index] if session is not None else None
        if previous is not None:  # a new SETUP of the same track may keep its channels
            taken -= {previous.rtp_channel, previous.rtcp_channel}
        if rtp_channel in taken or rtcp_channel in taken or rtp_channel == rtcp_channel:
            rtp_channel = next(c for c in range(0, 254, 2) if c not in taken and c + 1 not in taken)
            rtcp_channel = rtp_channel + 1
        out.rtp_channel, out.rtcp_channel = rtp_channel, rtcp_channel
        reply = f"RTP/AVP/TCP;unicast;interleaved={rtp_channel}-{rtcp_channel}"
    else:
        assert transport.client_port is not None
        server_port = await server.udp_ports()
        low, high = transport.client_port
        out.rtp_addr = (conn.peer_host, low)
        out.rtcp_addr = (conn.peer_host, high)
        reply = (
            f"RTP/AVP;unicast;client_port={low}-{high};server_port={server_port}-{server_port + 1}"
        )
    if session is None:
        session = ServerSession(server, secrets.token_hex(8), mount, conn, path)
        server.sessions[session.id] = session
        server.stats.sessions_started += 1
        conn.sessions.add(session)
    previous = session.tracks[index]
    if previous is not None:
        _forget_track(session, previous)
    session.tracks[index] = out
    if out.rtp_channel >= 0:
        conn.channels[out.rtp_channel] = session
        conn.channels[out.rtcp_channel] = session
    else:
        session.udp = True
        assert out.rtcp_addr is not None
        server.udp_peers[out.rtcp_addr] = session
    return _Result(headers=[("Transport", reply), _session_header(session)])


def _forget_track(session: ServerSession, out: _TrackOut) -> None:
    conn = session.conn
    if conn is not None and out.rtp_channel >= 0:
        conn.channels.pop(out.rtp_channel, None)
        conn.channels.pop(out.rtcp_channel, None)
    if out.rtcp_addr is not None:
        session.server.udp_peers.pop(out.rtcp_addr, None)


async def _play(conn: _Connection, request: Request) -> _Result:
    session = _session_of(conn, request, required=True)
    assert session is not None
    if not any(session.tracks):
        raise RtspStatusError(455)
    headers = [_session_header(session), ("Range", "npt=0.000-")]
    if session.state == "playing":
        return _Result(headers=headers)
    session.hold()
    session.state = "playing"
    try:
        starts = await session.mount.start(session)
    except BaseException:
        session.state = "ready"
        session.discard_held()
        raise
    if session.closed:
        session.mount.stop()
        raise RtspStatusError(454)
    infos = []
    for out, start in zip(session.tracks, starts, strict=False):
        if out is None:
            continue
        info = f"url={out.control_url}"
        if start is not None:
            info += f";seq={start.sequence & 0xFFFF};rtptime={start.rtptime & 0xFFFFFFFF}"
        infos.append(info)
    if infos:
        headers.append(("RTP-Info", ",".join(infos)))
    return _Result(headers=headers, after=session.release)


async def _pause(conn: _Connection, request: Request) -> _Result:
    session = _session_of(conn, request, required=True)
    assert session is not None
    session.stop_mount()
    return _Result(headers=[_session_header(session)])


async def _teardown(conn: _Connection, request: Request) -> _Result:
    session = _session_of(conn, request, required=True)
    assert session is not None
    conn.server.end_session(session, "TEARDOWN")
    return _Result()
