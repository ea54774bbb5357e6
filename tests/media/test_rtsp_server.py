"""The RTSP server over real sockets with a scripted client: methods, status codes, auth,
sessions and their expiry, TCP-interleaved and UDP transports, RTCP, slow clients."""

from __future__ import annotations

import asyncio
import itertools
import socket
import struct
import time
from collections.abc import AsyncIterator, Sequence

import pytest

from argus.media.rtp import parse_rtcp_sender_reports, parse_rtp
from argus.media.rtsp.auth import basic_authorization, digest_authorization, parse_challenges
from argus.media.rtsp.messages import (
    InterleavedPacket,
    MessageParser,
    Request,
    Response,
    build_request,
    parse_rtp_info,
    parse_session,
    parse_transport,
)
from argus.media.rtsp.sdp import parse_describe
from argus.media.rtsp.server import (
    Credentials,
    Forbidden,
    Mount,
    NotFound,
    RtspServer,
    Sink,
    Track,
    TrackStart,
    h264_fmtp,
    query_params,
    sender_report,
    split_url,
    video_sdp,
)

SPS = bytes.fromhex("6742c01eda0280bfe5c044")
PPS = bytes.fromhex("68ce3c80")


class FakeMount:
    """Sends `burst` RTP packets of `size` bytes on each track every `period` seconds."""

    def __init__(
        self,
        *,
        tracks: int = 1,
        credentials: Credentials | None = None,
        period: float = 0.02,
        burst: int = 1,
        size: int = 100,
        resume_every: int = 10,
    ) -> None:
        self.tracks = [Track(f"trackID={i}") for i in range(tracks)]
        self.credentials = credentials
        self.sender_reports = True
        self.period = period
        self.burst = burst
        self.size = size
        self.resume_every = resume_every
        self.started = 0
        self.stopped = 0
        self.sink: Sink | None = None
        self.sequence = 1000
        self.timestamp = 5000
        self._handle: asyncio.Handle | None = None

    def sdp(self, base_url: str) -> str:
        sdp = video_sdp(codec="h264", fmtp=h264_fmtp(SPS, PPS), framerate=25)
        for index in range(1, len(self.tracks)):
            sdp += (
                f"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID={index}\r\n"
            )
        return sdp

    async def start(self, sink: Sink) -> Sequence[TrackStart | None]:
        self.started += 1
        self.sink = sink
        self._handle = asyncio.get_running_loop().call_soon(self._send)
        return [TrackStart(self.sequence, self.timestamp) for _ in self.tracks]

    def stop(self) -> None:
        self.stopped += 1
        if self._handle is not None:
            self._handle.cancel()
        self.sink = None

    def _send(self) -> None:
        sink = self.sink
        if sink is None or sink.closed:
            return
        for _ in range(self.burst):
            resume = self.sequence % self.resume_every == 0
            body = (b"K" if resume else b"P") * (self.size - 12)
            for track in range(len(self.tracks)):
                header = struct.pack(
                    "!BBHII", 0x80, 96, self.sequence & 0xFFFF, self.timestamp, 0xABC0 + track
                )
                sink.send_rtp(track, header + body, resume_point=resume)
            self.sequence += 1
            self.timestamp += 3600
        self._handle = asyncio.get_running_loop().call_later(self.period, self._send)


class Resolver:
    """/cam (open), /secret (Digest or Basic), /two (two tracks), /forbidden; else 404."""

    def __init__(self, **mount_options: object) -> None:
        self.mounts: list[FakeMount] = []
        self.calls: list[tuple[str, Request]] = []
        self.options = mount_options

    async def __call__(self, path: str, request: Request) -> Mount:
        self.calls.append((path, request))
        if path == "/forbidden":
            raise Forbidden()
        options: dict[str, object] = dict(self.options)
        if path == "/secret":
            options["credentials"] = Credentials("admin", "s3cret")
        elif path == "/two":
            options["tracks"] = 2
        elif path != "/cam":
            raise NotFound()
        mount = FakeMount(**options)  # type: ignore[arg-type]
        self.mounts.append(mount)
        return mount


class Client:
    """A scripted RTSP client: requests and responses, interleaved packets collected aside."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.parser = MessageParser()
        self.cseq = 0
        self.packets: list[InterleavedPacket] = []
        self.responses: list[Response] = []

    @classmethod
    async def connect(cls, port: int, rcvbuf: int | None = None) -> Client:
        if rcvbuf is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
            reader, writer = await asyncio.open_connection(sock=sock, limit=rcvbuf)
        return cls(reader, writer)

    async def request(
        self, method: str, url: str, headers: dict[str, str] | None = None, timeout: float = 5
    ) -> Response:
        self.cseq += 1
        self.writer.write(build_request(method, url, self.cseq, headers or {}))
        async with asyncio.timeout(timeout):
            while True:
                for response in self.responses:
                    if response.cseq == self.cseq:
                        self.responses.remove(response)
                        return response
                await self.read_some()

    async def read_some(self) -> bool:
        data = await self.reader.read(65536)
        if not data:
            return False
        for event in self.parser.feed(data):
            if isinstance(event, InterleavedPacket):
                self.packets.append(
                    InterleavedPacket(event.channel, memoryview(bytes(event.payload)))
                )
            elif isinstance(event, Response):
                self.responses.append(event)
        return True

    async def read_for(self, seconds: float) -> bool:
        """Read for a while; False when the server closed the connection."""
        try:
            async with asyncio.timeout(seconds):
                while await self.read_some():
                    pass
                return False
        except TimeoutError:
            return True

    async def wait_closed_by_server(self, seconds: float) -> None:
        async with asyncio.timeout(seconds):
            while await self.read_some():
                pass

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
async def served() -> AsyncIterator[tuple[RtspServer, Resolver]]:
    resolver = Resolver()
    server = RtspServer(resolver, host="127.0.0.1", port=0, session_timeout=30)
    async with server:
        yield server, resolver


async def setup_and_play(client: Client, url: str) -> tuple[str, Response]:
    setup = await client.request(
        "SETUP", url + "/trackID=0", {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
    )
    assert setup.status == 200, setup
    session = parse_session(setup.headers["Session"]).id
    play = await client.request("PLAY", url, {"Session": session, "Range": "npt=0-"})
    assert play.status == 200
    return session, play


async def test_options_describe_and_not_found(served) -> None:
    server, resolver = served
    client = await Client.connect(server.port)
    url = f"rtsp://127.0.0.1:{server.port}"
    options = await client.request("OPTIONS", f"{url}/cam")
    assert options.status == 200
    assert "DESCRIBE" in options.headers["Public"] and "TEARDOWN" in options.headers["Public"]
    assert (await client.request("DESCRIBE", f"{url}/nothing")).status == 404
    assert (await client.request("DESCRIBE", f"{url}/forbidden")).status == 403
    describe = await client.request("DESCRIBE", f"{url}/cam?x=1", {"Accept": "application/sdp"})
    assert describe.status == 200
    assert describe.headers["Content-Base"] == f"{url}/cam?x=1/"
    sdp = parse_describe(describe, f"{url}/cam?x=1")
    video = sdp.first_video()
    assert video is not None and video.codec == "h264"
    assert video.h264 is not None and video.h264.sps == (SPS,) and video.h264.pps == (PPS,)
    assert video.control_url == f"{url}/cam?x=1/trackID=0"
    assert resolver.calls[-1][0] == "/cam"
    assert query_params(resolver.calls[-1][1].url) == {"x": ["1"]}
    assert (await client.request("ANNOUNCE", f"{url}/cam")).status == 501
    client.close()


async def test_digest_and_basic_authentication(served) -> None:
    server, _ = served
    client = await Client.connect(server.port)
    url = f"rtsp://127.0.0.1:{server.port}/secret"
    first = await client.request("DESCRIBE", url)
    assert first.status == 401
    challenges = parse_challenges(first.headers.get_all("WWW-Authenticate"))
    assert [c.scheme for c in challenges] == ["Digest", "Basic"]
    digest = challenges[0]
    wrong = digest_authorization(digest, "admin", "nope", "DESCRIBE", url)
    assert (await client.request("DESCRIBE", url, {"Authorization": wrong})).status == 401
    good = digest_authorization(digest, "admin", "s3cret", "DESCRIBE", url)
    assert (await client.request("DESCRIBE", url, {"Authorization": good})).status == 200
    # the same nonce with qop=auth (RFC 2617) and for the next method
    qop = parse_challenges([first.headers["WWW-Authenticate"] + ', qop="auth"'])[0]
    answer = digest_authorization(qop, "admin", "s3cret", "SETUP", url + "/trackID=0", nc=2)
    setup = await client.request(
        "SETUP",
        url + "/trackID=0",
        {"Authorization": answer, "Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"},
    )
    assert setup.status == 200
    basic = basic_authorization("admin", "s3cret")
    assert (await client.request("DESCRIBE", url, {"Authorization": basic})).status == 200
    bad_basic = basic_authorization("admin", "wrong")
    assert (await client.request("DESCRIBE", url, {"Authorization": bad_basic})).status == 401
    stale = good.replace(f'nonce="{digest.params["nonce"]}"', 'nonce="1234abcd"')
    assert (await client.request("DESCRIBE", url, {"Authorization": stale})).status == 401
    client.close()


async def test_setup_play_rtp_info_and_interleaved_rtp_and_rtcp(served) -> None:
    server, resolver = served
    client = await Client.connect(server.port)
    url = f"rtsp://127.0.0.1:{server.port}/cam"
    setup = await client.request(
        "SETUP", url + "/trackID=0", {"Transport": "RTP/AVP/TCP;unicast;interleaved=4-5"}
    )
    assert setup.status == 200
    session = parse_session(setup.headers["Session"])
    assert session.timeout == 30 and len(session.id) >= 16
    transport = parse_transport(setup.headers["Transport"])
    assert transport.lower_transport == "TCP" and transport.interleaved == (4, 5)
    play = await client.request("PLAY", url, {"Session": session.id})
    assert play.status == 200
    (info,) = parse_rtp_info(play.headers["RTP-Info"])
    assert info.url == url + "/trackID=0" and info.seq == 1000 and info.rtptime == 5000
    await client.read_for(1.6)
    rtp = [parse_rtp(p.payload) for p in client.packets if p.channel == 4]
    assert rtp and rtp[0].sequence == 1000 and rtp[0].timestamp == 5000
    assert [p.sequence for p in rtp] == list(range(1000, 1000 + len(rtp)))
    reports = [
        r for p in client.packets if p.channel == 5 for r in parse_rtcp_sender_reports(p.payload)
    ]
    assert reports, "no RTCP sender report within 1.6 s"
    assert reports[0].ssrc == 0xABC0 and reports[0].packet_count > 0
    assert abs(reports[0].unix_time - time.time()) < 5
    # GET_PARAMETER keeps the session alive and is answered with its id
    alive = await client.request("GET_PARAMETER", url, {"Session": session.id})
    assert alive.status == 200 and alive.headers["Session"].startswith(session.id)
    # PAUSE stops the mount, PLAY starts it again
    assert (await client.request("PAUSE", url, {"Session": session.id})).status == 200
    mount = resolver.mounts[-1]
    assert (mount.started, mount.stopped) == (1, 1)
    assert (await client.request("PLAY", url, {"Session": session.id})).status == 200
    assert (mount.started, mount.stopped) == (2, 1)
    teardown = await client.request("TEARDOWN", url, {"Session": session.id})
    assert teardown.status == 200
    assert mount.stopped == 2 and not server.sessions
    count = len(client.packets)
    await client.read_for(0.3)
    assert len(client.packets) - count <= 3  # at most what was already on its way
    assert (await client.request("PLAY", url, {"Session": session.id})).status == 454
    client.close()


async def test_session_and_state_errors(served) -> None:
    server, _ = served
    client = await Client.connect(server.port)
    base = f"rtsp://127.0.0.1:{server.port}"
    assert (await client.request("PLAY", f"{base}/cam", {"Session": "deadbeef"})).status == 454
    assert (await client.request("PLAY", f"{base}/cam")).status == 454
    tcp = {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
    assert (await client.request("SETUP", f"{base}/nothing/trackID=0", tcp)).status == 404
    assert (await client.request("SETUP", f"{base}/cam/trackID=9", tcp)).status == 404
    multicast = {"Transport": "RTP/AVP;multicast;port=5000-5001"}
    assert (await client.request("SETUP", f"{base}/cam/trackID=0", multicast)).status == 461
    assert (
        await client.request(
            "SETUP", f"{base}/cam/trackID=0", {"Transport": "RTP/SAVP/TCP;interleaved=0-1"}
        )
    ).status == 461
    assert (await client.request("SETUP", f"{base}/cam/trackID=0")).status == 461
    assert (await client.request("SETUP", f"{base}/two", tcp)).status == 459
    setup = await client.request("SETUP", f"{base}/two/trackID=0", tcp)
    session = parse_session(setup.headers["Session"]).id
    assert (await client.request("PLAY", f"{base}/two", {"Session": session})).status == 200
    second = {"Session": session, "Transport": "RTP/AVP/TCP;unicast;interleaved=2-3"}
    assert (await client.request("SETUP", f"{base}/two/trackID=1", second)).status == 455
    # a SETUP without a track control on a one-track mount is that track
    assert (await client.request("SETUP", f"{base}/cam", tcp)).status == 200
    client.close()


async def test_two_tracks_and_channel_assignment(served) -> None:
    server, _ = served
    client = await Client.connect(server.port)
    base = f"rtsp://127.0.0.1:{server.port}/two"
    first = await client.request("SETUP", f"{base}/trackID=0", {"Transport": "RTP/AVP/TCP;unicast"})
    session = parse_session(first.headers["Session"]).id
    assert parse_transport(first.headers["Transport"]).interleaved == (0, 1)
    second = await client.request(
        "SETUP",
        f"{base}/trackID=1",
        {"Session": session, "Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"},
    )
    assert parse_transport(second.headers["Transport"]).interleaved == (2, 3)  # 0-1 was taken
    play = await client.request("PLAY", base, {"Session": session})
    assert len(parse_rtp_info(play.headers["RTP-Info"])) == 2
    await client.read_for(0.3)
    assert {p.channel for p in client.packets} >= {0, 2}
    client.close()


async def test_query_with_track_control_appended() -> None:
    assert split_url("rtsp://h:1/cameras/7/main?fault=loss:0.1/trackID=0") == (
        "/cameras/7/main",
        "fault=loss:0.1",
        "trackID=0",
    )
    assert split_url("rtsp://h:1/cam/trackID=0") == ("/cam/trackID=0", "", None)
    assert query_params("rtsp://h/cam?a=1&b=2/trackID=0") == {"a": ["1"], "b": ["2"]}


async def test_session_expires_without_keepalive() -> None:
    resolver = Resolver()
    async with RtspServer(resolver, port=0, session_timeout=1) as server:
        url = f"rtsp://127.0.0.1:{server.port}/cam"
        kept = await Client.connect(server.port)
        kept_session, _ = await setup_and_play(kept, url)
        silent = await Client.connect(server.port)
        await setup_and_play(silent, url)
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:  # one client sends keep-alives, the other does not
            await kept.request("GET_PARAMETER", url, {"Session": kept_session})
            await kept.read_for(0.3)
        await silent.wait_closed_by_server(3)
        assert server.stats.sessions_expired == 1
        assert [m.stopped for m in resolver.mounts] == [0, 1]
        assert kept_session in server.sessions
        other = await Client.connect(server.port)
        assert (await other.request("PLAY", url, {"Session": kept_session})).status == 200
        kept.close()
        other.close()


async def test_bad_bytes_get_400_and_a_closed_connection(served) -> None:
    server, _ = served
    client = await Client.connect(server.port)
    client.writer.write(b"\x01\x02 not rtsp\r\n\r\n")
    await client.wait_closed_by_server(3)
    assert client.responses and client.responses[0].status == 400
    version = await Client.connect(server.port)
    version.writer.write(b"OPTIONS rtsp://127.0.0.1/cam RTSP/2.0\r\nCSeq: 1\r\n\r\n")
    await version.read_for(0.3)
    assert version.responses[0].status == 505
    version.close()


async def test_udp_transport() -> None:
    loop = asyncio.get_running_loop()
    received: dict[str, list[bytes]] = {"rtp": [], "rtcp": []}

    class Collect(asyncio.DatagramProtocol):
        def __init__(self, kind: str) -> None:
            self.kind = kind

        def datagram_received(self, data: bytes, addr: object) -> None:
            received[self.kind].append(data)

    rtp_transport, _ = await loop.create_datagram_endpoint(
        lambda: Collect("rtp"), local_addr=("127.0.0.1", 0)
    )
    rtp_port = rtp_transport.get_extra_info("sockname")[1]
    rtcp_transport, _ = await loop.create_datagram_endpoint(
        lambda: Collect("rtcp"), local_addr=("127.0.0.1", 0)
    )
    rtcp_port = rtcp_transport.get_extra_info("sockname")[1]
    resolver = Resolver()
    async with RtspServer(
        resolver, port=0, session_timeout=30, sender_report_interval=0.5
    ) as server:
        client = await Client.connect(server.port)
        url = f"rtsp://127.0.0.1:{server.port}/cam"
        setup = await client.request(
            "SETUP",
            url + "/trackID=0",
            {"Transport": f"RTP/AVP;unicast;client_port={rtp_port}-{rtcp_port}"},
        )
        assert setup.status == 200
        transport = parse_transport(setup.headers["Transport"])
        assert transport.lower_transport == "UDP" and transport.server_port is not None
        assert transport.client_port == (rtp_port, rtcp_port)
        session = parse_session(setup.headers["Session"]).id
        assert (await client.request("PLAY", url, {"Session": session})).status == 200
        await asyncio.sleep(1.3)
        assert len(received["rtp"]) > 10
        assert [parse_rtp(p).sequence for p in received["rtp"][:3]] == [1000, 1001, 1002]
        assert parse_rtcp_sender_reports(received["rtcp"][0])[0].ssrc == 0xABC0
        # RTCP from the client's port counts as a keep-alive
        rtcp_transport.sendto(
            b"\x80\xc9\x00\x01\x00\x00\x00\x01", ("127.0.0.1", transport.server_port[1])
        )
        await asyncio.sleep(0.1)
        assert (await client.request("TEARDOWN", url, {"Session": session})).status == 200
        client.close()
    rtp_transport.close()
    rtcp_transport.close()


async def test_slow_client_drops_to_a_keyframe_then_resumes() -> None:
    resolver = Resolver(period=0.002, burst=4, size=1400, resume_every=50)
    server = RtspServer(resolver, port=0, write_buffer_limit=64 * 1024, slow_client_timeout=30)
    async with server:
        client = await Client.connect(server.port, rcvbuf=4096)
        await setup_and_play(client, f"rtsp://127.0.0.1:{server.port}/cam")
        await asyncio.sleep(1.5)  # not reading: the kernel buffers fill, then the server's
        assert server.stats.slow_episodes >= 1 and server.stats.dropped_packets > 0
        await client.read_for(1.0)
        packets = [parse_rtp(p.payload) for p in client.packets if p.channel == 0]
        gaps = [
            (a, b)
            for a, b in itertools.pairwise(packets)
            if b.sequence != (a.sequence + 1) & 0xFFFF
        ]
        assert gaps, "the server never dropped anything"
        for _, after in gaps:  # every resumption is at a keyframe
            assert after.sequence % 50 == 0 and after.payload.tobytes()[:1] == b"K"
        assert server.stats.slow_disconnects == 0
        client.close()


async def test_slow_client_is_disconnected_after_the_timeout() -> None:
    resolver = Resolver(period=0.002, burst=4, size=1400, resume_every=10**9)
    server = RtspServer(resolver, port=0, write_buffer_limit=32 * 1024, slow_client_timeout=0.5)
    async with server:
        client = await Client.connect(server.port, rcvbuf=4096)
        await setup_and_play(client, f"rtsp://127.0.0.1:{server.port}/cam")
        await asyncio.sleep(2.0)
        await client.wait_closed_by_server(5)
        assert server.stats.slow_disconnects == 1
        assert resolver.mounts[-1].stopped == 1 and not server.sessions


def test_sender_report_layout() -> None:
    packet = sender_report(0x1234, 1_700_000_000.25, 99, 10, 1000, b"argus@test")
    (report,) = parse_rtcp_sender_reports(packet)
    assert report.ssrc == 0x1234 and report.rtp_timestamp == 99
    assert report.packet_count == 10 and report.octet_count == 1000
    assert abs(report.unix_time - 1_700_000_000.25) < 1e-6
    assert len(packet) % 4 == 0 and packet[29] == 202  # followed by an SDES
