"""An asyncio RTSP 1.0 client session: one camera's video track, delivered as access units.

`RtspClient.connect()` runs OPTIONS, DESCRIBE (answering a 401 with Basic or Digest), SETUP of
the first H.264 or H.265 video track (audio and metadata tracks are left alone) and PLAY. From
then on RTP arrives on an `asyncio.Protocol`, interleaved on the RTSP connection (TCP, the
default) or on a pair of UDP sockets, goes straight through `MessageParser` and `parse_rtp` into
the codec's depacketizer, and every complete access unit is handed to `on_access_unit(au,
media_time, wall_time)`: `media_time` is the unwrapped 64-bit RTP timestamp, `wall_time` the Unix
time from the latest RTCP sender report (None before the first). Keep-alives (GET_PARAMETER when
the camera lists it, else OPTIONS) go out every half session timeout; requests a camera sends
are answered. `wait()` returns when `close()` ended the session and raises the `RtspError` that
ended it otherwise: the camera closed, sent garbage, or sent no video for `stall_timeout` (no
RTP at all, or RTP that never made a whole picture, as when the SDP lies about the codec). An
exception raised by `on_access_unit` ends the session too, and `wait()` raises it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import unquote, urlsplit

from argus.media.errors import RtpError
from argus.media.h264 import H264Depacketizer
from argus.media.h265 import H265Depacketizer
from argus.media.nal import AccessUnit, DepacketizerStats, NalDepacketizer
from argus.media.rtp import (
    RtpWallClock,
    TimestampUnwrapper,
    parse_rtcp_sender_reports,
    parse_rtp,
)
from argus.media.rtsp.auth import Authenticator, parse_challenges
from argus.media.rtsp.errors import RtspError
from argus.media.rtsp.messages import (
    DEFAULT_SESSION_TIMEOUT,
    InterleavedPacket,
    MessageParser,
    Request,
    Response,
    RtpInfo,
    Transport,
    build_request,
    parse_public,
    parse_rtp_info,
    parse_session,
    parse_transport,
)
from argus.media.rtsp.sdp import Codec, MediaSection, SessionDescription, parse_describe

log = logging.getLogger(__name__)

TransportName = Literal["tcp", "udp"]
AccessUnitCallback = Callable[[AccessUnit, int, float | None], None]

DEFAULT_PORT = 554
USER_AGENT = "Argus"


# --- errors ----------------------------------------------------------------------------------


class RtspStatusError(RtspError):
    """A request was answered with an error status, e.g. "DESCRIBE answered 404 Not Found"."""

    code = "rtsp_status"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class RtspAuthError(RtspStatusError):
    """The camera wants credentials we do not have, or refused the ones we sent."""

    code = "rtsp_auth"


class RtspTimeoutError(RtspError):
    """Connecting, or an answer to a request, took longer than its timeout."""

    code = "rtsp_timeout"


class RtspConnectionError(RtspError):
    """The connection could not be made, or the camera closed it."""

    code = "rtsp_connection"


class RtspStallError(RtspError):
    """The session is up but no picture arrived for `stall_timeout` seconds."""

    code = "rtsp_stall"


# --- URLs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RtspUrl:
    """An rtsp:// URL split into the URL to send (no credentials) and its parts."""

    url: str
    host: str
    port: int
    username: str | None
    password: str | None


def split_url(url: str) -> RtspUrl:
    """Read `rtsp://[user[:password]@]host[:port]/path`; credentials are percent-decoded."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise RtspError(f"not a usable RTSP URL ({exc}): {_redact(url)!r}") from None
    if parts.scheme.lower() != "rtsp":
        raise RtspError(f"not an rtsp:// URL: {_redact(url)!r}")
    host = parts.hostname
    if not host:
        raise RtspError(f"the RTSP URL has no host: {_redact(url)!r}")
    shown_host = f"[{host}]" if ":" in host else host
    netloc = shown_host if port is None else f"{shown_host}:{port}"
    clean = f"rtsp://{netloc}{parts.path or '/'}"
    if parts.query:
        clean += f"?{parts.query}"
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return RtspUrl(clean, host, port or DEFAULT_PORT, username, password)


def _redact(url: str) -> str:
    """The URL with any password replaced by ***, for messages."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    if "@" not in authority:
        return url
    userinfo, _, hostport = authority.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{hostport}{slash}{tail}"


def _seconds(value: float) -> str:
    return f"{value:g}"


def _status_text(response: Response) -> str:
    return f"{response.status} {response.reason}".rstrip()


def describe_tracks(description: SessionDescription) -> str:
    """The tracks of a session in a few words, e.g. "audio PCMA, application vnd.onvif.metadata"."""
    names: list[str] = []
    for section in description.media:
        encoding = section.encoding_name or (
            f"payload type {section.payload_type}" if section.payload_type is not None else "?"
        )
        names.append(f"{section.media} {encoding}")
    return ", ".join(names) or "no media at all"


# --- counters --------------------------------------------------------------------------------


@dataclass(slots=True)
class ClientStats:
    """Counters of one RTSP session."""

    bytes: int = 0
    """Bytes received: the RTSP connection and, over UDP, the RTP and RTCP datagrams."""
    packets: int = 0
    """RTP packets of the video track handed to the depacketizer."""
    rtcp_packets: int = 0
    rtcp_reports: int = 0
    """RTCP sender reports read (they give the wall clock)."""
    malformed_packets: int = 0
    """RTP or RTCP packets whose headers could not be read (payload errors count in the
    depacketizer's stats)."""
    other_packets: int = 0
    """Interleaved packets on other channels, and datagrams from other hosts: ignored."""
    access_units: int = 0
    keepalives: int = 0
    keepalive_failures: int = 0
    server_requests: int = 0
    """Requests the camera sent us (answered 200 or 501)."""
    last_packet_error: str | None = None


# --- protocols -------------------------------------------------------------------------------


class _RtspProtocol(asyncio.Protocol):
    """The RTSP connection: every byte goes through one MessageParser, events to the client."""

    def __init__(self, client: RtspClient, parser: MessageParser) -> None:
        self.client = client
        self.parser = parser
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport (uvloop's is not a subclass of asyncio.Transport)
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        client = self.client
        client.stats.bytes += len(data)
        parser = self.parser
        try:
            events = parser.feed(data)
        except RtspError as exc:
            client._fail(RtspError(f"the camera sent a broken RTSP stream: {exc}"))
            return
        if not events:
            return
        rtp_channel = client._rtp_channel
        rtcp_channel = client._rtcp_channel
        for event in events:
            if type(event) is InterleavedPacket:
                channel = event.channel
                if channel == rtp_channel:
                    client._on_rtp(event.payload)
                elif channel == rtcp_channel:
                    client._on_rtcp(event.payload)
                else:
                    client.stats.other_packets += 1
            elif type(event) is Response:
                client._on_response(event)
            elif type(event) is Request:
                client._on_request(event)
            if client._finished:
                return
        try:
            parser.feed(b"")  # raises the error of bad bytes that followed these events
        except RtspError as exc:
            client._fail(RtspError(f"the camera sent a broken RTSP stream: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.client._on_connection_lost(exc)


class _DatagramProtocol(asyncio.DatagramProtocol):
    """One of the two UDP sockets (RTP or RTCP); only datagrams from the camera's host count."""

    def __init__(self, client: RtspClient, rtcp: bool) -> None:
        self.client = client
        self.rtcp = rtcp

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        client = self.client
        client.stats.bytes += len(data)
        if client._server_ip is not None and addr[0] != client._server_ip:
            client.stats.other_packets += 1
            return
        if self.rtcp:
            client._on_rtcp(data)
        else:
            client._on_rtp(data)

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error from %s: %s", self.client.url, exc)


# --- the client ------------------------------------------------------------------------------


class RtspClient:
    """One RTSP session with one camera: connect, stream the video track, close.

    Use `async with RtspClient(url, on_access_unit=cb) as client: await client.wait()`, or call
    `connect()`, `wait()` and `close()` yourself (always close, also after an error).
    """

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        transport: TransportName = "tcp",
        on_access_unit: AccessUnitCallback | None = None,
        connect_timeout: float = 5.0,
        response_timeout: float = 10.0,
        stall_timeout: float | None = 10.0,
        teardown_timeout: float = 1.0,
        user_agent: str = USER_AGENT,
    ) -> None:
        if transport not in ("tcp", "udp"):
            raise RtspError(f"RTSP transport must be 'tcp' or 'udp', not {transport!r}")
        parsed = split_url(url)
        self.url = parsed.url
        """The camera's URL without credentials (what goes in request lines)."""
        self.host = parsed.host
        self.port = parsed.port
        self.username = username if username is not None else parsed.username
        self.password = password if password is not None else parsed.password
        self.transport: TransportName = transport
        self.on_access_unit = on_access_unit
        self.connect_timeout = connect_timeout
        self.response_timeout = response_timeout
        self.stall_timeout = stall_timeout
        self.teardown_timeout = teardown_timeout
        self.user_agent = user_agent
        self.stats = ClientStats()

        # what the session learned
        self.public: frozenset[str] = frozenset()
        self.description: SessionDescription | None = None
        self.track: MediaSection | None = None
        self.session_id: str | None = None
        self.session_timeout: int = DEFAULT_SESSION_TIMEOUT
        self.setup_transport: Transport | None = None
        self.rtp_info: RtpInfo | None = None

        self._depacketizer: NalDepacketizer | None = None
        self._unwrapper = TimestampUnwrapper()
        self._wall_clock: RtpWallClock | None = None
        self._authenticator: Authenticator | None = None
        self._cseq = 0
        self._pending: dict[int, tuple[str, asyncio.Future[Response | None]]] = {}
        self._stray_cseq: int | None = None
        self._protocol: _RtspProtocol | None = None
        self._udp: list[asyncio.DatagramTransport] = []
        self._server_ip: str | None = None
        self._rtp_channel = -1
        self._rtcp_channel = -1
        self._supervisor: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Future[Response | None] | None = None
        self._keepalive_method = "OPTIONS"
        self._started = False
        self._playing = False
        self._closing = False
        self._finished = False
        self._error: BaseException | None = None
        self._done = asyncio.Event()

    # --- public ------------------------------------------------------------------------------

    @property
    def codec(self) -> Codec | None:
        """ "h264" or "h265" once DESCRIBE chose the track."""
        return self.track.codec if self.track is not None else None

    @property
    def depacketizer_stats(self) -> DepacketizerStats:
        """The depacketizer's counters (losses, malformed payloads, dropped AUs)."""
        if self._depacketizer is None:
            return DepacketizerStats()
        return self._depacketizer.stats

    @property
    def playing(self) -> bool:
        """Whether PLAY succeeded and the session has not ended."""
        return self._playing and not self._finished

    @property
    def error(self) -> BaseException | None:
        """What ended the session, once it ended with an error."""
        return self._error

    async def __aenter__(self) -> RtspClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Connect, DESCRIBE, SETUP and PLAY; raise an RtspError subclass saying what failed."""
        if self._started:
            raise RuntimeError("an RtspClient connects once; make a new one to reconnect")
        self._started = True
        try:
            await self._open()
            await self._options()
            await self._describe()
            await self._setup()
            await self._play()
        except BaseException as exc:
            self._shutdown(exc if isinstance(exc, Exception) else None)
            raise
        if not self._finished:  # bytes that came with the PLAY answer may already have ended it
            self._supervisor = asyncio.get_running_loop().create_task(
                self._supervise(), name=f"rtsp-supervise {self.url}"
            )

    async def wait(self) -> None:
        """Wait until the session ends: return if `close()` ended it, else raise why it ended."""
        await self._done.wait()
        if self._error is not None:
            raise self._error

    async def close(self) -> None:
        """TEARDOWN (best effort, `teardown_timeout`) and release the sockets; idempotent."""
        if self._closing:
            await self._reap_supervisor()
            return
        self._closing = True
        try:
            if self._playing and not self._finished and self.session_id is not None:
                url = self.description.control_url if self.description else self.url
                with contextlib.suppress(RtspError, OSError, TimeoutError):
                    async with asyncio.timeout(self.teardown_timeout):
                        response = await self._request("TEARDOWN", url)
                    log.debug("TEARDOWN %s answered %s", self.url, response.status)
        finally:
            self._shutdown(None)
            await self._reap_supervisor()

    # --- handshake ---------------------------------------------------------------------------

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        parser = MessageParser()
        where = f"{self.host}:{self.port}"
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation
        # that arrives as the awaited operation completes, and stop() must always stop.
        try:
            async with asyncio.timeout(self.connect_timeout):
                transport, protocol = await loop.create_connection(
                    lambda: _RtspProtocol(self, parser), self.host, self.port
                )
        except TimeoutError:
            raise RtspTimeoutError(
                f"connecting to {where} timed out after {_seconds(self.connect_timeout)} s"
            ) from None
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise RtspConnectionError(f"cannot connect to {where}: {reason}") from None
        self._protocol = protocol
        peer = transport.get_extra_info("peername")
        self._server_ip = str(peer[0]) if peer else None

    async def _options(self) -> None:
        response = await self._request("OPTIONS", self.url)
        if response.status == 200:
            public = response.headers.get("Public")
            if public:
                self.public = parse_public(public)
        # Cameras that refuse OPTIONS (4xx/5xx) may still DESCRIBE: carry on.
        self._keepalive_method = "GET_PARAMETER" if "GET_PARAMETER" in self.public else "OPTIONS"

    async def _describe(self) -> None:
        response = await self._request("DESCRIBE", self.url, [("Accept", "application/sdp")])
        self._check("DESCRIBE", response)
        description = parse_describe(response, self.url)
        track = description.first_video()
        if track is None:
            raise RtspError(
                f"the SDP has no H.264 or H.265 video track (found: {describe_tracks(description)})"
            )
        self.description = description
        self.track = track
        self._depacketizer = _make_depacketizer(track)
        self._wall_clock = RtpWallClock(track.clock_rate or 90000)

    async def _setup(self) -> None:
        assert self.track is not None
        if self.transport == "udp":
            rtp_port = await self._open_udp()
            spec = f"RTP/AVP;unicast;client_port={rtp_port}-{rtp_port + 1}"
        else:
            spec = "RTP/AVP/TCP;unicast;interleaved=0-1"
        response = await self._request("SETUP", self.track.control_url, [("Transport", spec)])
        if response.status == 461:
            raise RtspStatusError(
                f"the camera does not offer RTP over {self.transport.upper()} "
                f"(SETUP answered {_status_text(response)})",
                461,
            )
        self._check("SETUP", response)
        session_value = response.headers.get("Session")
        if not session_value:
            raise RtspError("SETUP answer has no Session header")
        session = parse_session(session_value)
        self.session_id = session.id
        if session.timeout is not None and session.timeout > 0:
            self.session_timeout = session.timeout
        transport_value = response.headers.get("Transport")
        chosen = parse_transport(transport_value) if transport_value else None
        self.setup_transport = chosen
        if chosen is not None and chosen.lower_transport == "TCP":
            rtp, rtcp = chosen.interleaved or (0, 1)
        elif chosen is not None or self.transport == "udp":
            if self.transport == "tcp":
                raise RtspError(
                    f"asked for RTP interleaved over TCP, the camera answered {transport_value!r}"
                )
            rtp, rtcp = -1, -1  # over UDP; interleaved packets, if any, are ignored
        else:
            rtp, rtcp = 0, 1  # no Transport in the answer: assume what we asked for
        self._rtp_channel = rtp
        self._rtcp_channel = rtcp

    async def _play(self) -> None:
        assert self.description is not None and self.track is not None
        response = await self._request(
            "PLAY", self.description.control_url, [("Range", "npt=0.000-")]
        )
        self._check("PLAY", response)
        info = response.headers.get("RTP-Info")
        if info:
            try:
                self.rtp_info = _pick_rtp_info(parse_rtp_info(info), self.track)
            except RtspError as exc:
                log.debug("%s: unreadable RTP-Info ignored: %s", self.url, exc)
        self._playing = True

    async def _open_udp(self) -> int:
        """Bind an even/odd pair of UDP ports on the RTSP connection's local address."""
        assert self._protocol is not None and self._protocol.transport is not None
        tcp = self._protocol.transport
        local = tcp.get_extra_info("sockname")
        sock = tcp.get_extra_info("socket")
        family = sock.family if sock is not None else socket.AF_INET
        address = str(local[0]) if local else "0.0.0.0"
        for _ in range(64):
            rtp_sock = socket.socket(family, socket.SOCK_DGRAM)
            rtcp_sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                rtp_sock.bind((address, 0))
                port = int(rtp_sock.getsockname()[1])
                if port % 2 or port >= 65535:
                    raise OSError("odd port")
                rtcp_sock.bind((address, port + 1))
            except OSError:
                rtp_sock.close()
                rtcp_sock.close()
                continue
            break
        else:
            raise RtspError(f"could not bind a pair of UDP ports on {address} for RTP and RTCP")
        loop = asyncio.get_running_loop()
        for sock_, rtcp in ((rtp_sock, False), (rtcp_sock, True)):
            with contextlib.suppress(OSError):
                sock_.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sock_.setblocking(False)
            try:
                datagrams, _ = await loop.create_datagram_endpoint(
                    functools.partial(_DatagramProtocol, self, rtcp), sock=sock_
                )
            except BaseException:
                sock_.close()
                if not rtcp:
                    rtcp_sock.close()
                raise
            self._udp.append(datagrams)
        return port

    def _check(self, method: str, response: Response) -> None:
        if not 200 <= response.status < 300:
            raise RtspStatusError(f"{method} answered {_status_text(response)}", response.status)

    # --- requests ----------------------------------------------------------------------------

    def _send(
        self, method: str, url: str, extra: Iterable[tuple[str, str]]
    ) -> tuple[int, asyncio.Future[Response | None]]:
        protocol = self._protocol
        if self._finished or protocol is None or protocol.transport is None:
            raise self._error_or_closed(method)
        self._cseq += 1
        cseq = self._cseq
        headers: list[tuple[str, str]] = [("User-Agent", self.user_agent)]
        if self.session_id is not None:
            headers.append(("Session", self.session_id))
        if self._authenticator is not None:
            headers.append(("Authorization", self._authenticator.authorization(method, url)))
        headers.extend(extra)
        data = build_request(method, url, cseq, headers)
        future: asyncio.Future[Response | None] = asyncio.get_running_loop().create_future()
        self._pending[cseq] = (method, future)
        protocol.transport.write(data)
        return cseq, future

    async def _request(
        self, method: str, url: str, extra: Iterable[tuple[str, str]] = ()
    ) -> Response:
        """Send one request and wait for its answer; a 401 is answered with credentials once
        (twice when the camera says the nonce was stale)."""
        extra = list(extra)
        answered_challenge = False
        stale_retried = False
        while True:
            cseq, future = self._send(method, url, extra)
            try:
                async with asyncio.timeout(self.response_timeout):
                    response = await future
            except TimeoutError:
                stray = self._stray_cseq
                hint = f" (it answered CSeq {stray} instead of {cseq})" if stray is not None else ""
                raise RtspTimeoutError(
                    f"{method}: the camera did not answer within "
                    f"{_seconds(self.response_timeout)} s{hint}"
                ) from None
            finally:
                self._pending.pop(cseq, None)
            if response is None:
                raise self._error_or_closed(method)
            if response.status != 401:
                return response
            status = _status_text(response)
            if self.username is None or self.password is None:
                raise RtspAuthError(
                    f"{method} answered {status}: the camera requires credentials and none "
                    "were given",
                    401,
                )
            challenges = parse_challenges(response.headers.get_all("WWW-Authenticate"))
            stale = any(c.params.get("stale", "").lower() == "true" for c in challenges)
            if answered_challenge and not (stale and not stale_retried):
                raise RtspAuthError(
                    f"the camera refused the credentials of user {self.username!r} "
                    f"({method} answered {status})",
                    401,
                )
            stale_retried = stale_retried or answered_challenge
            try:
                self._authenticator = Authenticator(challenges, self.username, self.password)
            except RtspError as exc:
                raise RtspAuthError(f"{method} answered {status}: {exc}", 401) from None
            answered_challenge = True

    def _error_or_closed(self, method: str) -> RtspError:
        if isinstance(self._error, RtspError):
            return self._error
        return RtspConnectionError(
            f"the connection to the camera closed before it answered {method}"
        )

    # --- events from the protocols -----------------------------------------------------------

    def _on_response(self, response: Response) -> None:
        try:
            cseq = response.cseq
        except RtspError:
            cseq = None
        entry = self._pending.pop(cseq, None) if cseq is not None else None
        if entry is None and cseq is None and self._pending:
            entry = self._pending.pop(next(iter(self._pending)))  # no CSeq: the oldest request
        if entry is None:
            self._stray_cseq = cseq
            log.debug("%s: answer with unexpected CSeq %s ignored", self.url, cseq)
            return
        future = entry[1]
        if not future.done():
            future.set_result(response)

    def _on_request(self, request: Request) -> None:
        """Answer a request the camera sent: OPTIONS and GET_PARAMETER 200, anything else 501."""
        self.stats.server_requests += 1
        protocol = self._protocol
        if protocol is None or protocol.transport is None or protocol.transport.is_closing():
            return
        if request.method in ("OPTIONS", "GET_PARAMETER"):
            status, reason = 200, "OK"
        else:
            status, reason = 501, "Not Implemented"
        lines = [f"RTSP/1.0 {status} {reason}"]
        cseq = request.headers.get("CSeq")
        if cseq is not None and cseq.strip().isdigit():
            lines.append(f"CSeq: {cseq.strip()}")
        if self.session_id is not None:
            lines.append(f"Session: {self.session_id}")
        if request.method == "OPTIONS":
            lines.append("Public: OPTIONS, GET_PARAMETER")
        protocol.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))

    def _on_rtp(self, data: bytes | memoryview) -> None:
        depacketizer = self._depacketizer
        if depacketizer is None:
            self.stats.other_packets += 1
            return
        try:
            packet = parse_rtp(data)
        except RtpError as exc:
            stats = self.stats
            stats.malformed_packets += 1
            stats.last_packet_error = str(exc)
            return
        self.stats.packets += 1
        units = depacketizer.push(packet)
        if units:
            self._deliver(units)

    def _deliver(self, units: list[AccessUnit]) -> None:
        callback = self.on_access_unit
        wall_clock = self._wall_clock
        for unit in units:
            self.stats.access_units += 1
            media_time = self._unwrapper.extend(unit.timestamp)
            wall = wall_clock.wall_time(unit.timestamp) if wall_clock is not None else None
            if callback is not None:
                try:
                    callback(unit, media_time, wall)
                except Exception as exc:
                    self._fail(exc)
                    return

    def _on_rtcp(self, data: bytes | memoryview) -> None:
        stats = self.stats
        stats.rtcp_packets += 1
        try:
            reports = parse_rtcp_sender_reports(data)
        except RtpError as exc:
            stats.malformed_packets += 1
            stats.last_packet_error = str(exc)
            return
        if reports and self._wall_clock is not None:
            stats.rtcp_reports += len(reports)
            self._wall_clock.update(reports[-1])

    def _on_connection_lost(self, exc: Exception | None) -> None:
        if self._finished:
            return
        if self._closing:
            self._shutdown(None)
            return
        waiting = [method for method, _ in self._pending.values()]
        message = "the camera closed the connection"
        if waiting and not self._playing:
            message += f" before it answered {waiting[0]}"
        if exc is not None:
            message += f": {exc}"
        self._fail(RtspConnectionError(message))

    # --- supervision -------------------------------------------------------------------------

    async def _supervise(self) -> None:
        """Send keep-alives and end the session when no picture arrives for `stall_timeout`."""
        loop = asyncio.get_running_loop()
        interval = max(self.session_timeout / 2, 0.5)
        stall = self.stall_timeout
        check_every = stall / 4 if stall else interval
        now = loop.time()
        next_keepalive = now + interval
        next_check = now + check_every
        stats = self.stats
        progress_at = now
        seen_units = stats.access_units
        packets_then = stats.packets
        malformed_then = self.depacketizer_stats.malformed_packets + stats.malformed_packets
        while not self._finished:
            await asyncio.sleep(max(0.0, min(next_keepalive, next_check) - loop.time()))
            now = loop.time()
            if stall and now >= next_check:
                next_check = now + check_every
                if stats.access_units != seen_units:
                    seen_units = stats.access_units
                    progress_at = now
                    packets_then = stats.packets
                    malformed_then = (
                        self.depacketizer_stats.malformed_packets + stats.malformed_packets
                    )
                elif now - progress_at >= stall:
                    malformed = (
                        self.depacketizer_stats.malformed_packets
                        + stats.malformed_packets
                        - malformed_then
                    )
                    self._fail(self._stall_error(stall, stats.packets - packets_then, malformed))
                    return
            if now >= next_keepalive:
                next_keepalive = now + interval
                self._send_keepalive()

    def _stall_error(self, stall: float, packets: int, malformed: int) -> RtspStallError:
        message = f"no video for {_seconds(stall)} s: "
        if packets == 0 and malformed == 0:
            return RtspStallError(message + "no RTP packet arrived")
        message += f"{packets} RTP packets arrived but no complete picture"
        if malformed:
            last = self.depacketizer_stats.last_error or self.stats.last_packet_error
            message += f" ({malformed} malformed; last: {last})"
        elif self._depacketizer is not None and self._depacketizer.waiting_for_keyframe:
            message += " (still waiting for a keyframe)"
        return RtspStallError(message)

    def _send_keepalive(self) -> None:
        previous = self._keepalive
        if previous is not None and not previous.done():
            previous.set_result(None)  # unanswered: counted as a failure by its callback
        method = self._keepalive_method
        url = self.description.control_url if self.description is not None else self.url
        try:
            cseq, future = self._send(method, url, ())
        except RtspError:
            return
        self.stats.keepalives += 1
        self._keepalive = future
        future.add_done_callback(lambda done: self._keepalive_answered(cseq, method, done))

    def _keepalive_answered(
        self, cseq: int, method: str, future: asyncio.Future[Response | None]
    ) -> None:
        self._pending.pop(cseq, None)
        response = None if future.cancelled() else future.result()
        if response is None:
            if not self._finished:
                self.stats.keepalive_failures += 1
            return
        if 200 <= response.status < 300:
            return
        self.stats.keepalive_failures += 1
        if response.status == 454:
            self._fail(
                RtspStatusError(
                    f"the camera no longer knows the session ({method} keep-alive answered "
                    f"{_status_text(response)})",
                    454,
                )
            )
        elif method == "GET_PARAMETER" and response.status in (400, 405, 501):
            self._keepalive_method = "OPTIONS"
        elif response.status == 401 and self.username is not None and self.password is not None:
            challenges = parse_challenges(response.headers.get_all("WWW-Authenticate"))
            with contextlib.suppress(RtspError):
                self._authenticator = Authenticator(challenges, self.username, self.password)

    # --- ending ------------------------------------------------------------------------------

    def _fail(self, error: BaseException) -> None:
        """End the session with `error` (the first error wins)."""
        if self._finished:
            return
        log.debug("%s: session ends: %s", self.url, error)
        self._shutdown(error)

    def _shutdown(self, error: BaseException | None) -> None:
        """Release everything at once, without waiting; wake whoever waits."""
        if self._finished:
            return
        self._finished = True
        if error is not None:
            self._error = error
        protocol = self._protocol
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()
        for datagrams in self._udp:
            datagrams.close()
        pending = list(self._pending.values())
        self._pending.clear()
        for _, future in pending:
            if not future.done():
                future.set_result(None)
        supervisor = self._supervisor
        if supervisor is not None and supervisor is not _current_task():
            supervisor.cancel()
        self._done.set()

    async def _reap_supervisor(self) -> None:
        supervisor = self._supervisor
        if supervisor is None or supervisor is _current_task():
            return
        if not supervisor.done():
            supervisor.cancel()
        try:
            await supervisor
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # close() itself was cancelled


def _current_task() -> asyncio.Task[object] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _make_depacketizer(track: MediaSection) -> NalDepacketizer:
    """The depacketizer for the track's codec, primed with the SDP's parameter sets."""
    try:
        if track.codec == "h264":
            params = track.h264
            if params is not None and params.packetization_mode == 2:
                raise RtspError(
                    "the camera's H.264 track uses packetization-mode 2 (interleaved), "
                    "which is not supported"
                )
            return H264Depacketizer((params.sps + params.pps) if params is not None else ())
        h265 = track.h265
        sets = (h265.vps + h265.sps + h265.pps) if h265 is not None else ()
        don_text = track.fmtp.get("sprop-max-don-diff", "0").strip()
        donl = don_text.isdigit() and int(don_text) > 0
        return H265Depacketizer(sets, donl=donl)
    except RtpError as exc:
        raise RtspError(f"the SDP's parameter sets cannot be used: {exc}") from None


def _pick_rtp_info(streams: list[RtpInfo], track: MediaSection) -> RtpInfo | None:
    """The RTP-Info entry of our track: by full URL, by its control suffix, or the only one."""
    for info in streams:
        if info.url == track.control_url:
            return info
    control = (track.control or "").strip()
    if control:
        for info in streams:
            if info.url.endswith(control) or track.control_url.endswith(info.url):
                return info
    return streams[0] if len(streams) == 1 else None
