"""RtspClient against the scripted fake camera over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shutil
import socket
from fractions import Fraction
from functools import cache

import pytest

from argus.media.nal import AccessUnit, split_annexb
from argus.media.rtsp.client import (
    RtspAuthError,
    RtspClient,
    RtspConnectionError,
    RtspStallError,
    RtspStatusError,
    RtspTimeoutError,
    split_url,
)
from argus.media.rtsp.errors import RtspError
from tests.media.fake_camera import FIRST_SEQ, SAMPLES, TS_STEP, FakeCamera, sample_access_units
from tests.media.rtsp_transcripts import transcripts_dir

pytestmark = pytest.mark.skipif(
    not SAMPLES.is_dir() or not transcripts_dir().is_dir(),
    reason="shared H.264 samples or RTSP transcripts not present",
)

Delivered = tuple[AccessUnit, int, float | None]


class Collector:
    """An on_access_unit callback that remembers what it got and wakes a waiter at `want`."""

    def __init__(self, want: int) -> None:
        self.want = want
        self.items: list[Delivered] = []
        self.enough = asyncio.Event()

    def __call__(self, au: AccessUnit, media_time: int, wall_time: float | None) -> None:
        self.items.append((au, media_time, wall_time))
        if len(self.items) >= self.want:
            self.enough.set()

    async def wait(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self.enough.wait(), timeout)

    @property
    def nal_units(self) -> list[list[bytes]]:
        return [list(au.nal_units) for au, _, _ in self.items]


def source_index(media_time: int) -> int:
    return (media_time - 1000) // TS_STEP


@cache
def hevc_access_units() -> list[list[bytes]]:
    """A small H.265 clip, encoded once with PyAV (libx265): 12 pictures, an IRAP every 5."""
    av = pytest.importorskip("av")
    np = pytest.importorskip("numpy")
    codec = av.CodecContext.create("libx265", "w")
    codec.width, codec.height, codec.pix_fmt = 128, 96, "yuv420p"
    codec.time_base = Fraction(1, 25)
    codec.options = {"x265-params": "keyint=5:min-keyint=5:bframes=0:log-level=none"}
    aus: list[list[bytes]] = []
    for i in range(12):
        frame = av.VideoFrame.from_ndarray(
            np.full((144, 128), (i * 20) % 255, dtype=np.uint8), format="yuv420p"
        )
        frame.pts = i
        aus += [split_annexb(bytes(packet)) for packet in codec.encode(frame)]
    aus += [split_annexb(bytes(packet)) for packet in codec.encode(None)]
    return aus


# --- full sessions -----------------------------------------------------------------------------


async def test_full_session_over_tcp_delivers_every_access_unit_intact() -> None:
    source = sample_access_units("BA_MW_D.264")
    got = Collector(len(source))
    async with FakeCamera(sdp_from="hikvision_describe.txt") as camera:
        client = RtspClient(camera.url, on_access_unit=got)
        await client.connect()
        await got.wait()
        assert client.codec == "h264"
        assert client.session_id == "708345999"
        assert client.session_timeout == 60
        assert client.rtp_info is not None and client.rtp_info.seq == FIRST_SEQ
        assert client.playing
        await client.close()
        await asyncio.wait_for(camera.teardown.wait(), 5)
    assert got.nal_units == source
    assert [t for _, t, _ in got.items] == [1000 + i * TS_STEP for i in range(len(source))]
    assert all(wall is None for _, _, wall in got.items)  # no sender report was sent
    assert [au.is_keyframe for au, _, _ in got.items] == [
        any(n[0] & 0x1F == 5 for n in au) for au in source
    ]
    assert camera.methods() == ["OPTIONS", "DESCRIBE", "SETUP", "PLAY", "TEARDOWN"]
    describe, setup, play, teardown = camera.received[1:5]
    assert describe.headers["accept"] == "application/sdp"
    # the Hikvision SDP has a metadata track (trackID=3): only the video track is set up
    assert "trackID=1" in setup.url and setup.headers["transport"].startswith("RTP/AVP/TCP")
    assert setup.headers["transport"].endswith("interleaved=0-1")
    assert play.headers["session"] == "708345999" and play.headers["range"] == "npt=0.000-"
    assert teardown.headers["session"] == "708345999"
    assert client.stats.packets == camera.packets_sent
    assert client.stats.access_units == len(source)
    assert client.stats.bytes > sum(len(n) for au in source for n in au)
    assert client.depacketizer_stats.lost_packets == 0
    assert client.depacketizer_stats.malformed_packets == 0
    await client.wait()  # closed by us: returns without an error


async def test_full_session_over_udp_delivers_intact_access_units() -> None:
    source = sample_access_units("BA_MW_D.264")
    got = Collector(len(source))
    async with FakeCamera(sdp_from="dahua_describe_h264_aac_onvif.txt") as camera:
        async with RtspClient(camera.url, transport="udp", on_access_unit=got) as client:
            with contextlib.suppress(TimeoutError):  # UDP may lose a packet; what
                await got.wait(timeout=5)  # arrived must still be right
            assert client.setup_transport is not None
            assert client.setup_transport.lower_transport == "UDP"
        await asyncio.wait_for(camera.teardown.wait(), 5)
    setup = camera.received[2]
    assert setup.method == "SETUP" and setup.url.endswith("trackID=0")
    assert "client_port=" in setup.headers["transport"]
    assert len(got.items) >= len(source) * 0.9
    for au, media_time, _ in got.items:
        assert list(au.nal_units) == source[source_index(media_time)]
    assert [r.method for r in camera.received].count("SETUP") == 1  # audio, metadata ignored


@pytest.mark.parametrize(
    "transcript",
    [
        "hikvision_describe.txt",
        "dahua_describe_h264_aac_onvif.txt",
        "bunny_describe.txt",  # audio track first, then video
        "gw_main_describe.txt",
        "gw_sub_describe.txt",
        "reolink_describe.txt",
    ],
)
async def test_real_camera_describe_answers_set_up_only_the_video_track(transcript: str) -> None:
    source = sample_access_units("Static.264")
    got = Collector(len(source))
    camera = FakeCamera(sdp_from=transcript, sample="Static.264")
    async with camera, RtspClient(camera.url, on_access_unit=got) as client:
        await got.wait()
        assert client.track is not None and client.track.media == "video"
        video_url = client.track.control_url
    assert got.nal_units == source
    setups = [r for r in camera.received if r.method == "SETUP"]
    assert [r.url for r in setups] == [video_url]


async def test_h265_with_the_dahua_sdp_and_its_pcma_track() -> None:
    source = hevc_access_units()
    got = Collector(len(source))
    camera = FakeCamera(sdp_from="dahua_describe_h265_pcma.txt", aus=source, codec="h265", mtu=500)
    async with camera, RtspClient(camera.url, on_access_unit=got) as client:
        await got.wait()
        assert client.codec == "h265"
    assert got.nal_units == source
    assert [au.is_keyframe for au, _, _ in got.items] == [i % 5 == 0 for i in range(len(source))]
    assert [r.method for r in camera.received].count("SETUP") == 1


async def test_other_interleaved_channels_than_asked_for() -> None:
    source = sample_access_units("Static.264")
    got = Collector(len(source))
    camera = FakeCamera(sample="Static.264", interleaved=(6, 7), sender_report_at=1.0e9)
    async with camera, RtspClient(camera.url, on_access_unit=got) as client:
        await got.wait()
        assert client.setup_transport is not None
        assert client.setup_transport.interleaved == (6, 7)
        assert client.stats.rtcp_reports == 1
    assert got.nal_units == source


async def test_rtcp_sender_report_gives_wall_times() -> None:
    source = sample_access_units("Static.264")
    got = Collector(len(source))
    camera = FakeCamera(sample="Static.264", sender_report_at=1_800_000_000.25)
    async with camera, RtspClient(camera.url, on_access_unit=got):
        await got.wait()
    for index, (_, media_time, wall) in enumerate(got.items):
        assert media_time == 1000 + index * TS_STEP
        assert wall == pytest.approx(1_800_000_000.25 + index * TS_STEP / 90000, abs=1e-6)


# --- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["digest", "basic"])
async def test_authentication_answers_the_challenge_without_credentials_in_the_url(
    scheme: str,
) -> None:
    source = sample_access_units("Static.264")
    got = Collector(len(source))
    camera = FakeCamera(sample="Static.264", auth=scheme, username="admin", password="p@ss:wörd")  # type: ignore[arg-type]
    async with camera:
        url = camera.url_with("admin", "p%40ss%3Aw%C3%B6rd")
        async with RtspClient(url, on_access_unit=got):
            await got.wait()
    assert got.nal_units == source
    methods = camera.methods()
    assert methods[:6] == ["OPTIONS", "DESCRIBE", "DESCRIBE", "SETUP", "PLAY", "TEARDOWN"]
    first_describe, *later = camera.received[1:]
    assert first_describe.auth_ok is False and "authorization" not in first_describe.headers
    assert all(r.auth_ok for r in later), [
        (r.method, r.headers.get("authorization")) for r in later
    ]
    expected_scheme = "Digest " if scheme == "digest" else "Basic "
    assert all(r.headers["authorization"].startswith(expected_scheme) for r in later)
    if scheme == "basic":
        token = base64.b64encode("admin:p@ss:wörd".encode()).decode()
        assert later[0].headers["authorization"] == f"Basic {token}"
    for request in camera.received:
        assert "admin" not in request.url and "@" not in request.url
        assert request.url.startswith(f"rtsp://127.0.0.1:{camera.port}/")


async def test_credentials_given_apart_from_the_url() -> None:
    got = Collector(3)
    async with FakeCamera(sample="Static.264", auth="digest", digest_qop=False) as camera:
        client = RtspClient(camera.url, username="admin", password="12345", on_access_unit=got)
        async with client:
            await got.wait()
    assert all(r.auth_ok for r in camera.received[2:])


async def test_wrong_password_is_refused_clearly() -> None:
    async with FakeCamera(auth="digest") as camera:
        client = RtspClient(camera.url_with("admin", "wrong"))
        with pytest.raises(
            RtspAuthError,
            match=r"refused the credentials of user 'admin' "
            r"\(DESCRIBE answered 401 Unauthorized\)",
        ):
            await client.connect()
        await client.close()
    assert camera.methods() == ["OPTIONS", "DESCRIBE", "DESCRIBE"]


async def test_no_credentials_for_a_camera_that_wants_them() -> None:
    async with FakeCamera(auth="basic") as camera:
        client = RtspClient(camera.url)
        with pytest.raises(RtspAuthError, match="requires credentials and none were given"):
            await client.connect()
        await client.close()


# --- keep-alive and requests from the camera ---------------------------------------------------


async def test_keepalive_follows_a_short_session_timeout() -> None:
    """timeout=2: a keep-alive every second; GET_PARAMETER if Public lists it, else OPTIONS."""
    with_get = FakeCamera(sample="Static.264", session_timeout=2, loop=True, fps=25)
    without = FakeCamera(
        sample="Static.264",
        session_timeout=2,
        loop=True,
        fps=25,
        public="OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN",
    )
    async with with_get, without:
        got_a, got_b = Collector(10**6), Collector(10**6)
        async with (
            RtspClient(with_get.url, on_access_unit=got_a) as a,
            RtspClient(without.url, on_access_unit=got_b) as b,
        ):
            await asyncio.sleep(1.35)
            assert a.session_timeout == 2 and b.session_timeout == 2
            assert a.stats.keepalives >= 1 and b.stats.keepalives >= 1
            assert a.stats.keepalive_failures == 0 and b.stats.keepalive_failures == 0
    keepalive_a = [r for r in with_get.received[4:] if r.method != "TEARDOWN"]
    keepalive_b = [r for r in without.received[4:] if r.method != "TEARDOWN"]
    assert keepalive_a and {r.method for r in keepalive_a} == {"GET_PARAMETER"}
    assert keepalive_b and {r.method for r in keepalive_b} == {"OPTIONS"}
    assert all(r.headers["session"] == "708345999" for r in keepalive_a + keepalive_b)
    # the keep-alive answers did not disturb the packets: every AU so far is whole and in order
    for got in (got_a, got_b):
        assert len(got.items) > 10
        times = [t for _, t, _ in got.items]
        assert times == sorted(times) and len(set(times)) == len(times)


async def test_requests_from_the_camera_are_answered() -> None:
    got = Collector(5)
    camera = FakeCamera(sample="Static.264", fault="camera_requests")
    async with camera, RtspClient(camera.url, on_access_unit=got) as client:
        await got.wait()
        for _ in range(100):
            if len(camera.client_responses) == 3:
                break
            await asyncio.sleep(0.01)
        assert client.stats.server_requests == 3
    answers = [r.split("\r\n")[:2] for r in camera.client_responses]
    assert answers == [
        ["RTSP/1.0 200 OK", "CSeq: 1"],
        ["RTSP/1.0 200 OK", "CSeq: 2"],
        ["RTSP/1.0 501 Not Implemented", "CSeq: 3"],
    ]


# --- what goes wrong ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("camera_args", "error", "message"),
    [
        (
            {"describe_status": (404, "Not Found")},
            RtspStatusError,
            r"^DESCRIBE answered 404 Not Found$",
        ),
        (
            {"fault": "never_answer"},
            RtspTimeoutError,
            r"^OPTIONS: the camera did not answer within 0\.5 s$",
        ),
        (
            {"fault": "wrong_cseq"},
            RtspTimeoutError,
            r"^DESCRIBE: the camera did not answer within 0\.5 s "
            r"\(it answered CSeq 102 instead of 2\)$",
        ),
        (
            {"fault": "huge_header"},
            RtspError,
            r"broken RTSP stream: RTSP header block exceeds the limit of 16384 bytes",
        ),
        (
            {
                "describe_body": (
                    "v=0\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 8\r\na=control:trackID=1\r\n"
                    "m=application 0 RTP/AVP 107\r\na=rtpmap:107 vnd.onvif.metadata/90000\r\n"
                ),
                "sdp_from": None,
            },
            RtspError,
            r"^the SDP has no H\.264 or H\.265 video track "
            r"\(found: audio PCMA, application vnd\.onvif\.metadata\)$",
        ),
    ],
    ids=["404", "never-answers", "wrong-cseq", "huge-header", "no-video-track"],
)
async def test_handshake_failures_say_what_went_wrong(
    camera_args: dict[str, object], error: type[Exception], message: str
) -> None:
    async with FakeCamera(**camera_args) as camera:  # type: ignore[arg-type]
        client = RtspClient(camera.url, response_timeout=0.5)
        with pytest.raises(error, match=message):
            await client.connect()
        await client.close()
        assert not client.playing


@pytest.mark.parametrize(
    ("camera_args", "error", "message"),
    [
        (
            {"fault": "garbage"},
            RtspError,
            r"^the camera sent a broken RTSP stream: expected an RTSP message or a '\$' "
            r"interleaved frame, got byte 0xff$",
        ),
        (
            {"fault": "close_mid_frame", "mtu": 300},
            RtspConnectionError,
            r"^the camera closed the connection$",
        ),
        ({"fault": "no_video"}, RtspStallError, r"^no video for 0\.4 s: no RTP packet arrived$"),
        (
            {"fault": "not_h264"},
            RtspStallError,
            r"^no video for 0\.4 s: \d+ RTP packets arrived but no complete picture "
            r"\(\d+ malformed; last: H\.264 NAL unit header has its forbidden_zero_bit set\)$",
        ),
    ],
    ids=["garbage", "closes-mid-frame", "no-video", "not-h264"],
)
async def test_streaming_failures_end_the_session_with_a_clear_error(
    camera_args: dict[str, object], error: type[Exception], message: str
) -> None:
    got = Collector(10**6)
    async with FakeCamera(**camera_args) as camera:  # type: ignore[arg-type]
        client = RtspClient(camera.url, stall_timeout=0.4, on_access_unit=got)
        await client.connect()
        with pytest.raises(error, match=message):
            await asyncio.wait_for(client.wait(), 5)
        assert isinstance(client.error, error)
        await client.close()
    if camera_args.get("fault") == "close_mid_frame":
        # the pictures before the cut arrived whole; the cut one did not
        source = sample_access_units("BA_MW_D.264")
        assert 0 < len(got.items) < len(source)
        assert all(list(au.nal_units) == source[source_index(t)] for au, t, _ in got.items)


async def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = RtspClient(f"rtsp://127.0.0.1:{port}/x", connect_timeout=2)
    with pytest.raises(RtspConnectionError, match=rf"^cannot connect to 127\.0\.0\.1:{port}: "):
        await client.connect()
    await client.close()


async def test_callback_errors_end_the_session() -> None:
    def broken(au: AccessUnit, media_time: int, wall_time: float | None) -> None:
        raise ValueError("consumer bug")

    async with FakeCamera(sample="Static.264") as camera:
        client = RtspClient(camera.url, on_access_unit=broken)
        await client.connect()
        with pytest.raises(ValueError, match="consumer bug"):
            await asyncio.wait_for(client.wait(), 5)
        await client.close()


# --- URLs --------------------------------------------------------------------------------------


def test_split_url() -> None:
    parsed = split_url("rtsp://admin:p%40ss@192.168.1.64/Streaming/Channels/101?transportmode=x")
    assert parsed.url == "rtsp://192.168.1.64/Streaming/Channels/101?transportmode=x"
    assert (parsed.host, parsed.port) == ("192.168.1.64", 554)
    assert (parsed.username, parsed.password) == ("admin", "p@ss")
    v6 = split_url("RTSP://[::1]:8554/cam")
    assert (v6.url, v6.host, v6.port, v6.username) == ("rtsp://[::1]:8554/cam", "::1", 8554, None)
    with pytest.raises(RtspError, match=r"not an rtsp:// URL: 'http://u:\*\*\*@h/x'"):
        split_url("http://u:secret@h/x")
    with pytest.raises(RtspError, match="has no host"):
        split_url("rtsp:///x")
    with pytest.raises(RtspError, match="not a usable RTSP URL"):
        split_url("rtsp://h:99999/x")


# --- an independent client checks the fake camera itself --------------------------------------


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is not installed")
async def test_ffprobe_reads_the_fake_camera() -> None:
    """The test double speaks RTSP well enough for FFmpeg: the tests above test the client."""
    async with FakeCamera(sdp_from="dahua_describe_h264_aac_onvif.txt", loop=True, fps=250) as cam:
        process = await asyncio.create_subprocess_exec(
            "ffprobe",
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-show_streams",
            "-of",
            "json",
            cam.url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, err.decode()
    streams = json.loads(out)["streams"]
    video = [(s["codec_name"], s["width"], s["height"]) for s in streams if "width" in s]
    assert video == [("h264", 176, 144)], streams
    # FFmpeg sets up every track (audio and metadata too), unlike our client
    assert [r.method for r in cam.received].count("SETUP") == 3
