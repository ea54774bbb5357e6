"""The camera simulator over real sockets: ffmpeg as an independent client (TCP, UDP, H.265),
stamps and drawn ids in what it records, raw RTSP exchanges, every fault mode, idle cost."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import time
from pathlib import Path

import av
import numpy as np
import pytest

from argus.config import Settings
from argus.media.h264 import H264Depacketizer
from argus.media.h265 import H265Depacketizer
from argus.media.nal import NalDepacketizer
from argus.media.rtp import SequenceTracker, parse_rtp
from argus.media.rtsp.auth import digest_authorization, parse_challenges
from argus.media.rtsp.messages import parse_rtp_info, parse_session
from argus.media.rtsp.sdp import parse_describe
from argus.media.rtsp.server import Credentials
from argus.media.sei import Stamp, read_stamp, read_stamp_annexb
from argus.media.simulator import Fault, FaultSyntaxError, Simulator, StreamSettings, run_simulator
from argus.media.simulator.picture import label_box
from tests.media.test_rtsp_server import Client, setup_and_play

SMALL = StreamSettings(width=320, height=240, bitrate=300_000, gop_seconds=1.0, clip_seconds=2.0)
SUB = StreamSettings(width=176, height=144, bitrate=100_000, gop_seconds=1.0, clip_seconds=1.0)
FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
FFPROBE = shutil.which("ffprobe") or "/usr/bin/ffprobe"
needs_ffmpeg = pytest.mark.skipif(
    not Path(FFMPEG).exists() or not Path(FFPROBE).exists(), reason="Debian ffmpeg not installed"
)


@pytest.fixture(scope="module")
def clip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("simulator-clips")


def simulator(cache: Path, **options: object) -> Simulator:
    settings: dict[str, object] = {"main": SMALL, "sub": SUB, "h265": {7, 8}}
    settings.update(options)
    return Simulator(host="127.0.0.1", port=0, cache_dir=cache, **settings)  # type: ignore[arg-type]


async def ffmpeg_record(url: str, out: Path, transport: str, seconds: float = 2.0) -> None:
    process = await asyncio.create_subprocess_exec(
        FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-rtsp_transport", transport, "-i", url, "-t", str(seconds), "-c", "copy", str(out),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):
        _, errors = await process.communicate()
    assert process.returncode == 0, errors.decode(errors="replace")


async def ffprobe(path: Path) -> dict[str, object]:
    process = await asyncio.create_subprocess_exec(
        FFPROBE, "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
        "stream=codec_name,width,height,avg_frame_rate,nb_read_frames", "-of", "json", str(path),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output, _ = await process.communicate()
    streams: list[dict[str, object]] = json.loads(output)["streams"]
    return streams[0]


def recorded(path: Path, codec: str) -> tuple[list[Stamp], list[np.ndarray]]:
    """The stamps of every packet (PyAV demux) and the luma planes of the decoded frames."""
    stamps: list[Stamp] = []
    lumas: list[np.ndarray] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            stamp = read_stamp_annexb(codec, bytes(packet))  # type: ignore[arg-type]
            assert stamp is not None, "a recorded picture carries no stamp"
            stamps.append(stamp)
            for frame in packet.decode():
                planes = frame.to_ndarray()  # yuv420p: luma rows first
                lumas.append(planes[: frame.height])
    return stamps, lumas


def label_error(luma: np.ndarray, camera_id: int) -> float:
    y, x, expected = label_box(camera_id, luma.shape[1], luma.shape[0])
    region = luma[y : y + expected.shape[0], x : x + expected.shape[1]].astype(np.int16)
    return float(np.abs(region - expected.astype(np.int16)).mean())


def check_recording(path: Path, codec: str, camera_id: int, since: float, until: float) -> None:
    stamps, lumas = recorded(path, codec)
    assert len(stamps) >= 15 and len(lumas) >= 15
    assert {s.camera_id for s in stamps} == {camera_id}
    numbers = [s.frame_no for s in stamps]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert all(since - 1 <= s.send_time_ns / 1e9 <= until + 1 for s in stamps)
    # the drawn id: close to the rendered digits of this camera, far from another id's
    for luma in (lumas[0], lumas[len(lumas) // 2], lumas[-1]):
        assert label_error(luma, camera_id) < 20
        assert label_error(luma, camera_id + 11) > 3 * label_error(luma, camera_id) + 10


@needs_ffmpeg
async def test_ffmpeg_records_h264_over_tcp_and_udp_and_h265(
    clip_cache: Path, tmp_path: Path
) -> None:
    async with simulator(clip_cache) as sim:
        since = time.time()
        await asyncio.gather(
            ffmpeg_record(sim.url(42, "main"), tmp_path / "tcp.mp4", "tcp"),
            ffmpeg_record(sim.url(43, "main"), tmp_path / "udp.mp4", "udp"),
            ffmpeg_record(sim.url(7, "main"), tmp_path / "h265.mp4", "tcp"),
            ffmpeg_record(sim.url(42, "sub"), tmp_path / "sub.mp4", "tcp"),
        )
        until = time.time()
        assert sim.server.stats.rtcp_packets > 0
    probes = {
        name: await ffprobe(tmp_path / f"{name}.mp4") for name in ("tcp", "udp", "h265", "sub")
    }
    for name, codec in (("tcp", "h264"), ("udp", "h264"), ("h265", "hevc")):
        probe = probes[name]
        assert (probe["codec_name"], probe["width"], probe["height"]) == (codec, 320, 240)
        numerator, denominator = str(probe["avg_frame_rate"]).split("/")
        assert 12 <= int(numerator) / int(denominator) <= 18
        assert 20 <= int(str(probe["nb_read_frames"])) <= 40
    assert (probes["sub"]["width"], probes["sub"]["height"]) == (176, 144)
    check_recording(tmp_path / "tcp.mp4", "h264", 42, since, until)
    check_recording(tmp_path / "udp.mp4", "h264", 43, since, until)
    check_recording(tmp_path / "h265.mp4", "h265", 7, since, until)
    check_recording(tmp_path / "sub.mp4", "h264", 42, since, until)


async def test_raw_rtsp_exchange(clip_cache: Path) -> None:
    async with simulator(clip_cache, session_timeout=1) as sim:
        sim.set_fault(5, Fault(credentials=Credentials("operator", "pa55")))
        client = await Client.connect(sim.port)
        base = f"rtsp://127.0.0.1:{sim.port}"
        for path in ("/cameras/abc/main", "/cameras/1/third", "/other", "/cameras/1"):
            assert (await client.request("DESCRIBE", base + path)).status == 404
        url = sim.url(5, "main")
        challenge = await client.request("DESCRIBE", url)
        assert challenge.status == 401
        digest = parse_challenges(challenge.headers.get_all("WWW-Authenticate"))[0]
        authorization = digest_authorization(digest, "operator", "pa55", "DESCRIBE", url)
        describe = await client.request("DESCRIBE", url, {"Authorization": authorization})
        assert describe.status == 200
        video = parse_describe(describe, url).first_video()
        assert video is not None and video.codec == "h264" and video.h264 is not None
        assert video.h264.sps and video.h264.pps and video.h264.packetization_mode == 1
        setup_auth = digest_authorization(digest, "operator", "pa55", "SETUP", video.control_url)
        setup = await client.request(
            "SETUP",
            video.control_url,
            {"Authorization": setup_auth, "Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"},
        )
        assert setup.status == 200
        session = parse_session(setup.headers["Session"])
        assert session.timeout == 1
        assert (await client.request("PLAY", url, {"Session": "0123456789abcdef"})).status == 454
        assert (await client.request("PLAY", url, {"Session": session.id})).status == 200
        await client.read_for(0.5)
        assert client.packets
        # PAUSE and PLAY again: the same SSRC, the sequence goes on, time moves forward
        assert (await client.request("PAUSE", url, {"Session": session.id})).status == 200
        await client.read_for(0.3)
        last = parse_rtp(client.packets[-1].payload)
        play = await client.request("PLAY", url, {"Session": session.id})
        (info,) = parse_rtp_info(play.headers["RTP-Info"])
        assert info.seq == (last.sequence + 1) & 0xFFFF
        assert 0 < (info.rtptime - last.timestamp) & 0xFFFFFFFF < 90000 * 2  # type: ignore[operator]
        count = len(client.packets)
        await client.read_for(0.3)
        resumed = parse_rtp(client.packets[count].payload)
        assert (resumed.ssrc, resumed.sequence) == (last.ssrc, info.seq)
        assert (await client.request("TEARDOWN", url, {"Session": session.id})).status == 200
        assert sim.stats.playing_streams == 0
        # the H.265 camera describes itself as such; a silent session expires
        h265 = await client.request("DESCRIBE", sim.url(8, "sub"))
        assert parse_describe(h265, sim.url(8, "sub")).first_video().codec == "h265"  # type: ignore[union-attr]
        client.close()
        silent = await Client.connect(sim.port)
        await setup_and_play(silent, sim.url(9, "main"))
        await silent.wait_closed_by_server(4)
        assert sim.server.stats.sessions_expired == 1 and sim.stats.playing_streams == 0


class Receiver:
    """Pulls one stream over TCP and keeps what arrived: packets, times, errors, AUs."""

    def __init__(self, codec: str) -> None:
        self.depacketizer: NalDepacketizer = (
            H265Depacketizer() if codec == "h265" else H264Depacketizer()
        )
        self.tracker = SequenceTracker()
        self.times: list[float] = []
        self.unparsable = 0
        self.stamps: list[Stamp] = []
        self.closed_by_server = False
        self.codec = codec

    async def pull(self, port: int, url: str, seconds: float) -> Receiver:
        client = await Client.connect(port)
        await setup_and_play(client, url)
        start = time.monotonic()
        seen = 0
        try:
            async with asyncio.timeout(seconds):
                while await client.read_some():
                    for packet in client.packets[seen:]:
                        if packet.channel == 0:
                            self._take(packet.payload)
                    seen = len(client.packets)
                self.closed_by_server = True
        except TimeoutError:
            pass
        self.duration = time.monotonic() - start
        client.close()
        return self

    def _take(self, payload: memoryview) -> None:
        self.times.append(time.monotonic())
        try:
            packet = parse_rtp(payload)
        except Exception:
            self.unparsable += 1
            return
        self.tracker.feed(packet.sequence)
        for au in self.depacketizer.push(packet):
            stamp = read_stamp(self.codec, au.nal_units)  # type: ignore[arg-type]
            if stamp is not None:
                self.stamps.append(stamp)

    @property
    def longest_silence(self) -> float:
        return max((b - a for a, b in zip(self.times, self.times[1:], strict=False)), default=0.0)


async def test_fault_modes_are_observable(clip_cache: Path) -> None:
    async with simulator(clip_cache) as sim:
        port = sim.port
        sim.set_fault(21, Fault(malformed=0.2))
        stall = Fault(stall_seconds=1, stall_every=1.8)
        healthy, lossy, stalled, dropped, malformed, h265_lossy = await asyncio.gather(
            Receiver("h264").pull(port, sim.url(20, "sub"), 2.2),
            Receiver("h264").pull(port, sim.url(22, "sub", fault="loss:0.2"), 2.2),
            Receiver("h264").pull(port, sim.url(23, "sub", fault=stall), 2.6),
            Receiver("h264").pull(port, sim.url(24, "sub", fault="disconnect:1"), 4),
            Receiver("h264").pull(port, sim.url(21, "sub"), 2.2),
            Receiver("h265").pull(port, sim.url(7, "sub", fault="loss:0.2"), 2.2),
        )  # fmt: skip
    # a camera without faults: no gaps, no bad packets, a stamp on every picture, steady flow
    assert healthy.tracker.lost == 0 and healthy.unparsable == 0
    assert healthy.depacketizer.stats.malformed_packets == 0
    assert len(healthy.stamps) >= 20 and {s.camera_id for s in healthy.stamps} == {20}
    assert healthy.longest_silence < 0.6
    # loss: sequence gaps
    assert lossy.tracker.lost > 5 and h265_lossy.tracker.lost > 5
    # stall: no packet for about a second
    assert stalled.longest_silence > 0.7
    assert stalled.tracker.lost == 0
    # disconnect: the server closes the connection after about a second
    assert dropped.closed_by_server and 0.5 < dropped.duration < 3.5
    # malformed: packets that our parser or depacketizer reject
    rejected = malformed.unparsable + malformed.depacketizer.stats.malformed_packets
    assert rejected > 3


async def test_unauthorized_camera_refuses_every_credential(clip_cache: Path) -> None:
    async with simulator(clip_cache) as sim:
        client = await Client.connect(sim.port)
        url = sim.url(30, "main", fault="unauthorized")
        first = await client.request("DESCRIBE", url)
        assert first.status == 401
        digest = parse_challenges(first.headers.get_all("WWW-Authenticate"))[0]
        for user, password in (("admin", "admin"), ("", ""), ("operator", "pa55")):
            answer = digest_authorization(digest, user, password, "DESCRIBE", url)
            assert (await client.request("DESCRIBE", url, {"Authorization": answer})).status == 401
        sim.set_fault(31, Fault(unauthorized=True))
        assert (await client.request("DESCRIBE", sim.url(31))).status == 401
        sim.set_fault(31, None)
        assert (await client.request("DESCRIBE", sim.url(31))).status == 200
        assert (await client.request("DESCRIBE", sim.url(31, fault="bogus:1"))).status == 400
        client.close()


async def test_run_time_fault_reaches_a_playing_stream(clip_cache: Path) -> None:
    async with simulator(clip_cache) as sim:
        receiver = Receiver("h264")
        pulling = asyncio.create_task(receiver.pull(sim.port, sim.url(40, "sub"), 2.5))
        await asyncio.sleep(1.0)
        sim.set_fault(40, Fault(disconnect_after=0.0))
        await pulling
        assert receiver.closed_by_server and receiver.duration < 2.4


async def test_idle_cameras_cost_nothing(clip_cache: Path) -> None:
    async with simulator(clip_cache, label=False, camera_ids=range(10_000)) as sim:
        await asyncio.sleep(0.1)
        baseline = len(asyncio.all_tasks())
        assert sim.stats.clocks_running == 0 and sim.stats.playing_streams == 0
        client = await Client.connect(sim.port)
        await setup_and_play(client, sim.url(1234, "main"))
        await client.read_for(0.5)
        assert client.packets
        assert len(asyncio.all_tasks()) <= baseline + 1  # at most this test's own reads
        stats = sim.stats
        assert stats.playing_streams == 1 and stats.clocks_running == 1
        assert stats.clips_in_memory == 1  # one shared unlabelled clip, nothing per camera
        assert (await client.request("DESCRIBE", sim.url(10_000))).status == 404
        # a second camera shares the clip and the clock
        other = await Client.connect(sim.port)
        await setup_and_play(other, sim.url(9_999, "main"))
        await other.read_for(0.3)
        assert sim.stats.clips_in_memory == 1 and sim.stats.clocks_running == 1
        assert sim.stats.playing_streams == 2
        stamps = [read_stamp("h264", [p.payload.tobytes()[12:]]) for p in other.packets]
        assert {s.camera_id for s in stamps if s is not None} == {9_999}
        client.close()
        other.close()
        await asyncio.sleep(0.3)
        assert sim.stats.playing_streams == 0 and sim.stats.clocks_running == 0


async def test_clips_are_cached_on_disk(tmp_path: Path) -> None:
    async with simulator(tmp_path, label=False) as first:
        await first.prepare([1], ["sub"])
        assert first.stats.clips_encoded == 1
    assert len(list(tmp_path.glob("h264-main-176x144-15fps-100k-*-nolabel-*.clip"))) == 1
    async with simulator(tmp_path, label=False) as second:
        await second.prepare([2], ["sub"])
        assert second.stats.clips_encoded == 0 and second.stats.clips_loaded_from_disk == 1


def test_fault_syntax() -> None:
    fault = Fault.parse("loss:0.05, stall:2:10,disconnect:30,malformed:0.01,auth:u:p:w")
    assert fault == Fault(
        loss=0.05,
        stall_seconds=2,
        stall_every=10,
        disconnect_after=30,
        malformed=0.01,
        credentials=Credentials("u", "p:w"),
    )
    assert Fault.parse(str(fault)) == fault
    assert Fault.parse("401").unauthorized and Fault.parse("unauthorized").unauthorized
    for bad in (
        "loss",
        "loss:2",
        "stall:5:2",
        "stall:1",
        "nothing:1",
        "loss:x",
        "auth:u",
        "loss:nan",
    ):
        with pytest.raises(FaultSyntaxError):
            Fault.parse(bad)


def test_labels_differ_per_camera() -> None:
    _, _, one = label_box(1, 320, 240)
    _, _, other = label_box(7, 320, 240)
    assert one.shape == other.shape and (one != other).mean() > 0.05
    assert label_box(1349, 1280, 720)[2].shape[1] < 1280 - 32


async def test_run_simulator_entry_point(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(data_dir=tmp_path)
    ready = asyncio.Event()
    task = asyncio.create_task(run_simulator(settings, port=port, ready=ready, main=SUB, sub=SUB))
    async with asyncio.timeout(10):
        await ready.wait()
    client = await Client.connect(port)
    response = await client.request("DESCRIBE", f"rtsp://127.0.0.1:{port}/cameras/3/main")
    assert response.status == 200
    client.close()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert list((tmp_path / "simulator-clips").glob("*.clip"))
