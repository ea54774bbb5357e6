"""A scripted RTSP camera for tests, on 127.0.0.1: real camera DESCRIBE answers, real H.264 video.

`FakeCamera` answers OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER and TEARDOWN. Its DESCRIBE
answer is adapted from a real camera transcript (../shared/data/rtsp-camera-transcripts, read at
run time): the camera's addresses become ours, the SDP's parameter sets become those of the clip
streamed, and CSeq and Content-Length are rewritten. After PLAY it streams the clip's access units
as RTP (packetized by tests/media/rtp_packetize.py), interleaved over TCP or over UDP, optionally
with an RTCP sender report first. It can demand Basic or Digest authentication (checked here,
independently of argus.media.rtsp.auth) and misbehave in the ways `Fault` lists. Everything the
client sent is recorded in `received` for the tests to inspect.

Written for tests, on purpose without argus's RTSP code: it reads requests with a StreamReader.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import re
import secrets
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from tests.media.rtp_packetize import SSRC, packetize, split_h264_access_units
from tests.media.rtsp_transcripts import read as read_transcript
from tests.shared import SHARED_DATA

SAMPLES = SHARED_DATA / "h264-samples"
HOST = "127.0.0.1"
SESSION_ID = "708345999"
FIRST_SEQ = 24104
TS_STEP = 3600
NTP_UNIX_OFFSET = 2_208_988_800
DEFAULT_PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER, SET_PARAMETER"

Fault = Literal[
    "garbage",  # after a few packets, bytes that are neither RTSP nor '$' frames
    "wrong_cseq",  # answers DESCRIBE with a CSeq the client never sent
    "close_mid_frame",  # closes the connection after the first packet of a fragmented AU
    "never_answer",  # reads requests and never answers
    "huge_header",  # answers OPTIONS with a header block that never ends
    "no_video",  # PLAY succeeds, then nothing is sent
    "not_h264",  # the SDP says H.264, the RTP carries something else (JPEG-like bytes)
    "camera_requests",  # after PLAY the camera sends GET_PARAMETER, OPTIONS and ANNOUNCE
]


@cache
def sample_access_units(name: str = "BA_MW_D.264") -> list[list[bytes]]:
    """The access units (lists of NAL units) of one shared H.264 sample."""
    return split_h264_access_units((SAMPLES / name).read_bytes())


def ntp_timestamp(unix_time: float) -> int:
    seconds = int(unix_time)
    fraction = int((unix_time - seconds) * (1 << 32))
    return ((seconds + NTP_UNIX_OFFSET) << 32) | fraction


def sender_report(unix_time: float, rtp_time: int, packets: int = 0, octets: int = 0) -> bytes:
    """An RTCP sender report (RFC 3550 §6.4.1) with no report blocks."""
    return struct.pack(
        "!BBHIQIII", 0x80, 200, 6, SSRC, ntp_timestamp(unix_time), rtp_time, packets, octets
    )


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _auth_params(value: str) -> dict[str, str]:
    return {
        match.group(1).lower(): match.group(2) if match.group(2) is not None else match.group(3)
        for match in re.finditer(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))', value)
    }


@dataclass
class Received:
    """One request as the camera received it."""

    connection: int
    method: str
    url: str
    headers: dict[str, str]  # names lower-cased
    auth_ok: bool | None = None  # None when no authentication was required


@dataclass
class FakeCamera:
    """An RTSP camera on 127.0.0.1 (port chosen by the OS) that follows a script."""

    sdp_from: str | None = "hikvision_describe.txt"
    """A transcript whose DESCRIBE answer is adapted, or None for a plain one-track SDP."""
    describe_body: str | None = None
    """An SDP to send as it is (after address replacement) instead of the transcript's."""
    aus: list[list[bytes]] | None = None
    """Access units to stream; default: the NAL units of `sample`."""
    sample: str = "BA_MW_D.264"
    codec: Literal["h264", "h265"] = "h264"
    path: str = "/Streaming/Channels/101"
    auth: Literal["basic", "digest"] | None = None
    username: str = "admin"
    password: str = "12345"
    realm: str = "IP Camera(C1234)"
    digest_qop: bool = True
    authenticate_options: bool = False
    session_timeout: int | None = 60
    public: str | None = DEFAULT_PUBLIC
    interleaved: tuple[int, int] | None = None
    """The channels the SETUP answer names whatever the client asked; None: those asked for."""
    loop: bool = False
    fps: float | None = None
    """Pacing of access units; None sends them as fast as the loop allows."""
    sender_report_at: float | None = None
    """If set, an RTCP sender report mapping the first AU's RTP time to this Unix time."""
    fault: Fault | None = None
    describe_status: tuple[int, str] = (200, "OK")
    mtu: int = 1400

    received: list[Received] = field(default_factory=list)
    client_responses: list[str] = field(default_factory=list)
    teardown: asyncio.Event = field(default_factory=asyncio.Event)
    connections: int = 0
    closed_connections: int = 0
    packets_sent: int = 0

    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _connections: set[_Connection] = field(default_factory=set)
    _transports: set[asyncio.BaseTransport] = field(default_factory=set)
    _port: int = 0
    _nonce: str = field(default_factory=lambda: secrets.token_hex(12))

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> FakeCamera:
        loop = asyncio.get_running_loop()

        def protocol() -> asyncio.StreamReaderProtocol:
            reader = asyncio.StreamReader(limit=1 << 20)
            return _TrackedProtocol(self, reader, self._serve)

        self._server = await loop.create_server(protocol, HOST, 0)
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        # Let connections already queued for accept get their transports first: Python 3.11's
        # Server._attach asserts the server is open, and a transport built for a connection
        # accepted just before close() would leak its socket.
        await asyncio.sleep(0.005)
        for _ in range(5):
            await asyncio.sleep(0)
        if self._server is not None:
            self._server.close()
        # A connection accepted just before may not have its handler running yet: let the
        # loop turn a few times so that every handler starts, then close them all.
        for _ in range(3):
            for _ in range(5):
                await asyncio.sleep(0)
            for connection in list(self._connections):
                await connection.stop_streaming()
                connection.writer.close()  # its reader sees EOF: the handler ends by itself
            for transport in list(self._transports):
                transport.close()  # accepted, but its handler may never have started
            if self._tasks:
                await asyncio.wait(list(self._tasks), timeout=5)
        for _ in range(5):
            await asyncio.sleep(0)  # let the closed transports finish closing
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> FakeCamera:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"rtsp://{HOST}:{self._port}{self.path}"

    def url_with(self, username: str, password: str) -> str:
        return f"rtsp://{username}:{password}@{HOST}:{self._port}{self.path}"

    def methods(self) -> list[str]:
        return [r.method for r in self.received]

    def access_units(self) -> list[list[bytes]]:
        return self.aus if self.aus is not None else sample_access_units(self.sample)

    # --- the script ------------------------------------------------------------------------------

    def sdp(self) -> tuple[list[tuple[str, str]], str]:
        """Extra headers and the SDP body of the DESCRIBE answer."""
        base = f"rtsp://{HOST}:{self._port}"
        headers: list[tuple[str, str]] = []
        if self.describe_body is not None:
            body = self.describe_body
        elif self.sdp_from is not None:
            raw = read_transcript(self.sdp_from).decode()
            head, _, body = raw.partition("\r\n\r\n")
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.lower() in ("cseq", "content-length", "session"):
                    continue
                headers.append((name.strip(), value.strip()))
        else:
            body = (
                "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=Argus fake camera\r\nt=0 0\r\n"
                "a=control:*\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=X\r\na=control:trackID=1\r\n"
            )
            headers = [("Content-Type", "application/sdp"), ("Content-Base", f"{base}{self.path}/")]
        # the camera's own addresses become ours, its parameter sets those of our clip
        headers = [(n, re.sub(r"rtsp://[^/\s]+", base, v)) for n, v in headers]
        body = re.sub(r"rtsp://[^/\s]+", base, body)
        nals = [n for au in self.access_units() for n in au]
        if self.codec == "h264":
            sets = [n for n in nals if n[0] & 0x1F in (7, 8)][:2]
            value = ",".join(base64.b64encode(n).decode() for n in sets)
            body = re.sub(r"sprop-parameter-sets=[^;\r\n]*", f"sprop-parameter-sets={value}", body)
        else:
            for name, kind in (("vps", 32), ("sps", 33), ("pps", 34)):
                found = [n for n in nals if (n[0] >> 1) & 0x3F == kind][:1]
                value = base64.b64encode(found[0]).decode() if found else ""
                body = re.sub(rf"sprop-{name}=[^;\r\n]*", f"sprop-{name}={value}", body)
        return headers, body

    # --- connection ------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        connection = _Connection(self, self.connections, reader, writer)
        self._connections.add(connection)
        try:
            await connection.run()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await connection.stop_streaming()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self.closed_connections += 1
            self._connections.discard(connection)
            self._tasks.discard(task)


class _Udp(asyncio.DatagramProtocol):
    pass


class _TrackedProtocol(asyncio.StreamReaderProtocol):
    """A stream protocol whose transport the camera knows from the moment it is accepted."""

    def __init__(
        self,
        camera: FakeCamera,
        reader: asyncio.StreamReader,
        handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    ) -> None:
        super().__init__(reader, handler)
        self.camera = camera

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.tracked = transport
        self.camera._transports.add(transport)
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.camera._transports.discard(self.tracked)


class _Connection:
    def __init__(
        self,
        camera: FakeCamera,
        number: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.camera = camera
        self.number = number
        self.reader = reader
        self.writer = writer
        self.stream_task: asyncio.Task[None] | None = None
        self.udp: list[asyncio.DatagramTransport] = []
        self.client_ports: tuple[int, int] | None = None
        self.channels: tuple[int, int] | None = None
        self.setup_url = ""
        self.cseq_out = 0

    async def run(self) -> None:
        while True:
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if length:
                await self.reader.readexactly(length)
            if lines[0].startswith("RTSP/"):
                self.camera.client_responses.append(head.decode("latin-1"))
                continue
            method, url, _ = lines[0].split(" ", 2)
            await self.handle(method, url, headers)

    def reply(
        self,
        cseq: str,
        status: int = 200,
        reason: str = "OK",
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
    ) -> None:
        lines = [f"RTSP/1.0 {status} {reason}", f"CSeq: {cseq}"]
        lines += [f"{name}: {value}" for name, value in headers or []]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def check_auth(self, method: str, url: str, headers: dict[str, str]) -> bool | None:
        camera = self.camera
        if camera.auth is None or (method == "OPTIONS" and not camera.authenticate_options):
            return None
        value = headers.get("authorization", "")
        if camera.auth == "basic":
            token = base64.b64encode(f"{camera.username}:{camera.password}".encode()).decode()
            return value == f"Basic {token}"
        if not value.startswith("Digest "):
            return False
        params = _auth_params(value[len("Digest ") :])
        if params.get("uri") != url or params.get("nonce") != camera._nonce:
            return False
        if params.get("username") != camera.username or params.get("realm") != camera.realm:
            return False
        ha1 = _md5(f"{camera.username}:{camera.realm}:{camera.password}")
        ha2 = _md5(f"{method}:{url}")
        if camera.digest_qop:
            if params.get("qop") != "auth" or "nc" not in params or "cnonce" not in params:
                return False
            expected = _md5(f"{ha1}:{camera._nonce}:{params['nc']}:{params['cnonce']}:auth:{ha2}")
        else:
            expected = _md5(f"{ha1}:{camera._nonce}:{ha2}")
        return params.get("response") == expected

    def challenge(self) -> list[tuple[str, str]]:
        camera = self.camera
        if camera.auth == "basic":
            return [("WWW-Authenticate", f'Basic realm="{camera.realm}"')]
        qop = ', qop="auth"' if camera.digest_qop else ""
        return [
            ("WWW-Authenticate", f'Digest realm="{camera.realm}", nonce="{camera._nonce}"{qop}'),
            ("WWW-Authenticate", f'Basic realm="{camera.realm}"'),
        ]

    async def handle(self, method: str, url: str, headers: dict[str, str]) -> None:
        camera = self.camera
        auth_ok = self.check_auth(method, url, headers)
        camera.received.append(Received(self.number, method, url, headers, auth_ok))
        cseq = headers.get("cseq", "0")
        if camera.fault == "never_answer":
            return
        if auth_ok is False:
            self.reply(cseq, 401, "Unauthorized", self.challenge())
            return
        session = SESSION_ID
        if camera.session_timeout is not None:
            session += f";timeout={camera.session_timeout}"
        if method == "OPTIONS":
            if camera.fault == "huge_header":
                self.writer.write(f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nX-Padding: ".encode())
                self.writer.write(b"x" * 20000)
                return
            extra = [("Public", camera.public)] if camera.public else []
            self.reply(cseq, headers=extra)
        elif method == "DESCRIBE":
            status, reason = camera.describe_status
            if status != 200:
                self.reply(cseq, status, reason)
                return
            extra, body = camera.sdp()
            if camera.fault == "wrong_cseq":
                cseq = str(int(cseq) + 100)
            self.reply(cseq, headers=extra, body=body.encode())
        elif method == "SETUP":
            if not self.setup_url:
                self.setup_url = url
            transport = headers.get("transport", "")
            if "/TCP" in transport.upper():
                asked = re.search(r"interleaved=(\d+)-(\d+)", transport)
                if camera.interleaved is not None:
                    low, high = camera.interleaved
                elif asked is not None:
                    low, high = int(asked.group(1)), int(asked.group(2))
                else:
                    low, high = 0, 1
                if self.channels is None:  # the first track set up is the one streamed
                    self.channels = (low, high)
                answer = f'RTP/AVP/TCP;unicast;interleaved={low}-{high};ssrc={SSRC:08X};mode="play"'
            else:
                match = re.search(r"client_port=(\d+)-(\d+)", transport)
                if match is None:
                    self.reply(cseq, 461, "Unsupported Transport")
                    return
                self.client_ports = (int(match.group(1)), int(match.group(2)))
                server_ports = await self.open_udp()
                answer = (
                    f"RTP/AVP;unicast;client_port={match.group(1)}-{match.group(2)};"
                    f"server_port={server_ports[0]}-{server_ports[1]};ssrc={SSRC:08X}"
                )
            self.reply(cseq, headers=[("Session", session), ("Transport", answer)])
        elif method == "PLAY":
            info = f"url={self.setup_url};seq={FIRST_SEQ};rtptime=1000"
            self.reply(
                cseq,
                headers=[("Session", SESSION_ID), ("Range", "npt=0.000-"), ("RTP-Info", info)],
            )
            if self.stream_task is None:
                self.stream_task = asyncio.get_running_loop().create_task(self.stream())
        elif method in ("GET_PARAMETER", "SET_PARAMETER"):
            self.reply(cseq, headers=[("Session", SESSION_ID)])
        elif method == "TEARDOWN":
            self.reply(cseq, headers=[("Session", SESSION_ID)])
            await self.stop_streaming()
            camera.teardown.set()
        else:
            self.reply(cseq, 501, "Not Implemented")

    async def open_udp(self) -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        ports: list[int] = []
        for _ in range(2):
            transport, _ = await loop.create_datagram_endpoint(_Udp, local_addr=(HOST, 0))
            self.udp.append(transport)
            ports.append(transport.get_extra_info("sockname")[1])
        return ports[0], ports[1]

    async def stop_streaming(self) -> None:
        task, self.stream_task = self.stream_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task
        for transport in self.udp:
            transport.close()
        self.udp.clear()

    # --- streaming -------------------------------------------------------------------------------

    def send(self, rtcp: bool, packet: bytes) -> None:
        camera = self.camera
        if self.writer.transport.is_closing():
            raise ConnectionResetError("the client went away")
        if self.client_ports is not None and self.udp:
            port = self.client_ports[1 if rtcp else 0]
            self.udp[1 if rtcp else 0].sendto(packet, (HOST, port))
        else:
            channel = (self.channels or (0, 1))[1 if rtcp else 0]
            self.writer.write(struct.pack("!BBH", 0x24, channel, len(packet)) + packet)
        if not rtcp:
            camera.packets_sent += 1

    async def stream(self) -> None:
        camera = self.camera
        if camera.fault == "camera_requests":
            for number, (method, target) in enumerate(
                [("GET_PARAMETER", self.setup_url), ("OPTIONS", "*"), ("ANNOUNCE", self.setup_url)],
                start=1,
            ):
                request = f"{method} {target} RTSP/1.0\r\nCSeq: {number}\r\n"
                self.writer.write(f"{request}Session: {SESSION_ID}\r\n\r\n".encode())
        if camera.fault == "no_video":
            return
        aus = camera.access_units()
        packets, owners = packetize(
            aus, mtu=camera.mtu, h265=camera.codec == "h265", first_seq=FIRST_SEQ, ts_step=TS_STEP
        )
        if camera.fault == "not_h264":
            packets = [p[:12] + b"\xff\xd8\xff\xe0" + bytes(range(200)) for p in packets]
        if camera.sender_report_at is not None:
            self.send(True, sender_report(camera.sender_report_at, 1000))
        mid_frame = _mid_frame_packet(owners) if camera.fault == "close_mid_frame" else None
        span = len(aus)
        lap = 0
        udp = self.client_ports is not None
        while True:
            for index, packet in enumerate(packets):
                if lap:
                    packet = _rewrite(packet, len(packets) * lap, span * TS_STEP * lap)
                self.send(False, packet)
                if index == mid_frame:
                    await self.writer.drain()
                    self.writer.close()
                    return
                if camera.fault == "garbage" and index == 5:
                    self.writer.write(b"\xff\xfe garbage that is not RTSP \x00\x01")
                    return
                last_of_au = index + 1 == len(packets) or owners[index + 1] != owners[index]
                if last_of_au:
                    if camera.fps:
                        await asyncio.sleep(1 / camera.fps)
                    elif udp:
                        await asyncio.sleep(0.0005)
                    else:
                        await self.writer.drain()
                        await asyncio.sleep(0)
            if not camera.loop:
                return
            lap += 1


def _mid_frame_packet(owners: list[int]) -> int | None:
    """The first packet of the third AU sent in more than one packet."""
    seen = 0
    for index in range(len(owners) - 1):
        starts = index == 0 or owners[index - 1] != owners[index]
        if starts and owners[index + 1] == owners[index]:
            seen += 1
            if seen == 3:
                return index
    return None


def _rewrite(packet: bytes, seq_add: int, ts_add: int) -> bytes:
    seq, ts = struct.unpack_from("!HI", packet, 2)
    head = struct.pack("!HI", (seq + seq_add) & 0xFFFF, (ts + ts_add) & 0xFFFFFFFF)
    return packet[:2] + head + packet[8:]
