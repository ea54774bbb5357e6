"""CameraPuller: state machine, backoff with jitter, counters, and misbehaving cameras."""

from __future__ import annotations

import asyncio
import gc
import random
import socket
import warnings

import pytest

from argus.media.ingest import Backoff, CameraPuller, PullState, RateMeter
from argus.media.nal import AccessUnit
from argus.media.rtsp.sdp import Codec
from tests.media.fake_camera import SAMPLES, FakeCamera, sample_access_units
from tests.media.rtsp_transcripts import transcripts_dir

needs_data = pytest.mark.skipif(
    not SAMPLES.is_dir() or not transcripts_dir().is_dir(),
    reason="shared H.264 samples or RTSP transcripts not present",
)


class FakeSleep:
    """Records each backoff delay and returns at once (after letting the loop run); from the
    `block_after`-th delay on it never returns (until the puller is stopped)."""

    def __init__(self, block_after: int | None = None) -> None:
        self.delays: list[float] = []
        self.block_after = block_after

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if self.block_after is not None and len(self.delays) >= self.block_after:
            await asyncio.Event().wait()
        await asyncio.sleep(0)


class Recorder:
    """on_state / on_connected / on_access_unit of a puller, in the order they were called."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []
        self.units: list[tuple[AccessUnit, int, float | None]] = []

    def on_state(self, state: PullState, error: str | None) -> None:
        self.events.append(("state", state))

    def on_connected(self, codec: Codec) -> None:
        self.events.append(("connected", codec))

    def on_access_unit(self, au: AccessUnit, media_time: int, wall_time: float | None) -> None:
        if not self.units:
            self.events.append(("first unit", media_time))
        self.units.append((au, media_time, wall_time))

    def states(self) -> list[object]:
        return [value for kind, value in self.events if kind == "state"]


def state(puller: CameraPuller) -> PullState:
    """The puller's state, read afresh (mypy would keep an earlier assert's narrowing)."""
    return puller.state


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def until(condition: object, timeout: float = 10.0) -> None:
    """Wait until `condition()` is true, polling the loop."""
    assert callable(condition)
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


def puller_for(camera: FakeCamera, **kwargs: object) -> CameraPuller:
    options: dict[str, object] = {
        "response_timeout": 0.25,
        "stall_timeout": 0.25,
        "sleep": FakeSleep(),
        "rng": random.Random(7),
    }
    options.update(kwargs)
    return CameraPuller(1, camera.url, **options)  # type: ignore[arg-type]


# --- backoff and rates, alone ------------------------------------------------------------------


def test_backoff_grows_caps_and_jitters() -> None:
    backoff = Backoff(initial=1.0, maximum=60.0, factor=2.0, jitter=0.2)
    assert [backoff.base(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff.base(10_000) == 60
    rng = random.Random(1)
    for attempt in range(10):
        base = backoff.base(attempt)
        assert 0.8 * base <= backoff.delay(attempt, rng) <= base
    full = Backoff(jitter=1.0)
    delays = [full.delay(3, rng) for _ in range(200)]
    assert 0 <= min(delays) < 2 and 6 < max(delays) <= 8  # anywhere in [0, 8]
    assert Backoff(jitter=0).delay(2, rng) == 4
    assert 240 <= backoff.auth(rng) <= 300
    # the same seed gives the same delays
    assert [backoff.delay(n, random.Random(5)) for n in range(5)] == [
        backoff.delay(n, random.Random(5)) for n in range(5)
    ]
    for bad in ({"initial": 0}, {"initial": 5, "maximum": 1}, {"factor": 0.5}, {"jitter": 2}):
        with pytest.raises(ValueError):
            Backoff(**bad)


def test_rate_meter_averages_over_its_window() -> None:
    meter = RateMeter(window=5)
    assert meter.rates(100.0) == (0.0, 0.0)
    for frame in range(15 * 10):  # 10 s at 15 fps, 1,000 bytes a frame
        meter.add(100.0 + frame / 15, 1000)
    amount, count = meter.rates(110.0)
    assert count == pytest.approx(15, rel=0.1)
    assert amount == pytest.approx(15_000, rel=0.1)
    assert meter.rates(111.0)[1] == pytest.approx(12, rel=0.1)  # a second without frames
    assert meter.rates(200.0) == (0.0, 0.0)  # long silent: nothing in the window


# --- a healthy camera --------------------------------------------------------------------------


@needs_data
async def test_pull_streams_counts_and_stops_with_teardown() -> None:
    source = sample_access_units("BA_MW_D.264")
    recorder = Recorder()
    async with FakeCamera(sdp_from="hikvision_describe.txt") as camera:
        puller = puller_for(
            camera,
            on_state=recorder.on_state,
            on_connected=recorder.on_connected,
            on_access_unit=recorder.on_access_unit,
            stall_timeout=10.0,
        )
        assert state(puller) is PullState.IDLE
        puller.start()
        puller.start()  # a second start does nothing
        await until(lambda: len(recorder.units) == len(source))
        stats = puller.stats
        assert stats.state is PullState.STREAMING
        assert stats.connects == 1 and stats.reconnects == 0 and stats.last_error is None
        assert stats.access_units == len(source)
        assert stats.keyframes == sum(any(n[0] & 0x1F == 5 for n in au) for au in source)
        assert stats.last_keyframe_at is not None
        assert stats.packets == camera.packets_sent and stats.bytes > 0
        assert stats.lost_packets == 0 and stats.malformed_packets == 0
        assert (stats.codec, stats.width, stats.height) == ("h264", 176, 144)
        assert stats.fps > 0 and stats.bitrate_bps > 0
        snapshot = puller.snapshot()
        assert snapshot["state"] == "streaming" and snapshot["camera_id"] == 1
        assert snapshot["access_units"] == len(source) and snapshot["width"] == 176
        await puller.stop()
        assert camera.teardown.is_set()
    assert state(puller) is PullState.STOPPED
    assert [list(au.nal_units) for au, _, _ in recorder.units] == source
    assert recorder.events[:4] == [
        ("state", PullState.CONNECTING),
        ("connected", "h264"),
        ("state", PullState.STREAMING),
        ("first unit", 1000),
    ] or recorder.events[:4] == [  # RTP may come with the PLAY answer, before connect() returns
        ("state", PullState.CONNECTING),
        ("connected", "h264"),
        ("first unit", 1000),
        ("state", PullState.STREAMING),
    ]
    assert recorder.states()[-1] is PullState.STOPPED
    with pytest.raises(RuntimeError, match="cannot be started again"):
        puller.start()


@needs_data
async def test_puller_over_udp() -> None:
    recorder = Recorder()
    async with FakeCamera(sample="Static.264") as camera:
        puller = puller_for(camera, transport="udp", on_access_unit=recorder.on_access_unit)
        puller.start()
        await until(lambda: len(recorder.units) >= 8)
        assert puller.snapshot()["transport"] == "udp"
        await puller.stop()


# --- misbehaving cameras -----------------------------------------------------------------------


@needs_data
@pytest.mark.parametrize(
    ("camera_args", "error"),
    [
        ({"describe_status": (404, "Not Found")}, "DESCRIBE answered 404 Not Found"),
        ({"fault": "garbage"}, "the camera sent a broken RTSP stream: expected an RTSP message"),
        ({"fault": "close_mid_frame", "mtu": 300}, "the camera closed the connection"),
        ({"fault": "never_answer"}, "OPTIONS: the camera did not answer within 0.25 s"),
        ({"fault": "wrong_cseq"}, "(it answered CSeq"),
        ({"fault": "huge_header"}, "RTSP header block exceeds the limit of 16384 bytes"),
        ({"fault": "no_video"}, "no video for 0.25 s: no RTP packet arrived"),
        ({"fault": "not_h264"}, "RTP packets arrived but no complete picture"),
    ],
    ids=[
        "404",
        "garbage",
        "closes-mid-frame",
        "never-answers",
        "wrong-cseq",
        "huge-header",
        "no-video",
        "not-h264",
    ],
)
async def test_a_misbehaving_camera_is_retried_with_backoff(
    camera_args: dict[str, object], error: str
) -> None:
    sleep = FakeSleep()
    recorder = Recorder()
    async with FakeCamera(**camera_args) as camera:  # type: ignore[arg-type]
        puller = puller_for(camera, sleep=sleep, on_state=recorder.on_state)
        puller.start()
        await until(lambda: len(sleep.delays) >= 3)
        stats = puller.stats
        assert error in (stats.last_error or ""), stats.last_error
        assert stats.reconnects >= 2
        assert camera.connections >= 3
        await puller.stop()
    # exponential backoff, each delay jittered by at most 20 % below its base
    for attempt, delay in enumerate(sleep.delays[:3]):
        assert 0.8 * 2**attempt <= delay <= 2**attempt
    expected = random.Random(7)
    assert sleep.delays[:3] == [Backoff().delay(n, expected) for n in range(3)]
    states = recorder.states()
    assert states[0] is PullState.CONNECTING and PullState.BACKOFF in states
    assert states[-1] is PullState.STOPPED
    assert puller.stats.last_error_at is not None


@needs_data
async def test_refused_credentials_go_to_failed_auth_on_a_long_backoff() -> None:
    sleep = FakeSleep(block_after=2)  # retried once, then waits in FAILED_AUTH
    async with FakeCamera(auth="digest") as camera:
        puller = puller_for(camera, sleep=sleep, username="admin", password="wrong")
        puller.start()
        await until(lambda: len(sleep.delays) == 2)
        stats = puller.stats
        assert stats.state is PullState.FAILED_AUTH
        assert stats.last_error == (
            "the camera refused the credentials of user 'admin' "
            "(DESCRIBE answered 401 Unauthorized)"
        )
        assert (stats.connects, stats.reconnects) == (0, 1)
        await puller.stop()
    assert all(240 <= delay <= 300 for delay in sleep.delays)  # Backoff.auth_delay, jittered
    assert camera.methods() == ["OPTIONS", "DESCRIBE", "DESCRIBE"] * 2


@needs_data
async def test_failed_auth_state_is_reported() -> None:
    seen: list[PullState] = []
    gate = asyncio.Event()

    async def blocking_sleep(delay: float) -> None:
        gate.set()
        await asyncio.Event().wait()  # stays in FAILED_AUTH until stopped

    async with FakeCamera(auth="basic") as camera:
        puller = CameraPuller(
            3, camera.url, sleep=blocking_sleep, on_state=lambda s, e: seen.append(s)
        )
        puller.start()
        await asyncio.wait_for(gate.wait(), 5)
        assert state(puller) is PullState.FAILED_AUTH
        assert "requires credentials and none were given" in (puller.stats.last_error or "")
        await puller.stop()
    assert seen == [PullState.CONNECTING, PullState.FAILED_AUTH, PullState.STOPPED]


@needs_data
async def test_a_healthy_stream_resets_the_backoff() -> None:
    """Each connection streams, then the camera cuts it: with the clock showing a long healthy
    run every delay is the initial one; with a still clock the delays keep growing."""

    async def delays(clock_step: float) -> list[float]:
        now = [0.0]

        def clock() -> float:
            now[0] += clock_step
            return now[0]

        sleep = FakeSleep()
        async with FakeCamera(fault="close_mid_frame", mtu=300) as camera:
            puller = puller_for(camera, sleep=sleep, clock=clock, backoff=Backoff(jitter=0))
            puller.start()
            await until(lambda: len(sleep.delays) >= 3)
            await puller.stop()
        return sleep.delays[:3]

    assert await delays(clock_step=100.0) == [1.0, 1.0, 1.0]
    assert await delays(clock_step=0.0) == [1.0, 2.0, 4.0]


@needs_data
async def test_counters_add_up_over_reconnections() -> None:
    sleep = FakeSleep(block_after=3)  # three connections, then waits in BACKOFF
    async with FakeCamera(fault="close_mid_frame", mtu=300) as camera:
        puller = puller_for(camera, sleep=sleep)
        puller.start()
        await until(lambda: len(sleep.delays) == 3)
        stats = puller.stats
        assert stats.state is PullState.BACKOFF
        assert (stats.connects, stats.reconnects) == (3, 2)
        assert stats.packets == camera.packets_sent  # every connection ended: all counted
        assert stats.bytes > stats.packets * 12
        assert stats.access_units % 3 == 0 and stats.access_units > 0  # same cut each time
        assert stats.last_error == "the camera closed the connection"
        await puller.stop()


@needs_data
async def test_a_broken_consumer_does_not_break_the_camera() -> None:
    calls = []

    def broken(au: AccessUnit, media_time: int, wall_time: float | None) -> None:
        calls.append(media_time)
        raise RuntimeError("consumer bug")

    source = sample_access_units("Static.264")
    async with FakeCamera(sample="Static.264") as camera:
        puller = puller_for(camera, on_access_unit=broken, on_state=lambda s, e: 1 / 0)
        puller.start()
        await until(lambda: len(calls) == len(source))
        assert state(puller) is PullState.STREAMING
        assert puller.stats.callback_errors >= len(source)
        await puller.stop()


# --- stopping ----------------------------------------------------------------------------------


@needs_data
async def test_stopping_mid_connect_is_clean() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with FakeCamera(fault="never_answer") as camera:
            puller = puller_for(camera, response_timeout=30.0)
            puller.start()
            await until(lambda: camera.methods() == ["OPTIONS"])
            assert state(puller) is PullState.CONNECTING
            await puller.stop()
            assert state(puller) is PullState.STOPPED
            await until(lambda: camera.closed_connections == 1)  # the socket was closed
            assert "TEARDOWN" not in camera.methods()
        leftover = [
            task
            for task in asyncio.all_tasks()
            if task is not asyncio.current_task() and not task.done()
        ]
        assert leftover == []
        gc.collect()
    assert [str(w.message) for w in caught] == []


async def test_stopping_during_backoff_and_before_start() -> None:
    port = free_port()
    never = CameraPuller(4, f"rtsp://127.0.0.1:{port}/x")
    await never.stop()
    assert state(never) is PullState.STOPPED

    slept = asyncio.Event()

    async def long_sleep(delay: float) -> None:
        slept.set()
        await asyncio.sleep(3600)

    puller = CameraPuller(5, f"rtsp://127.0.0.1:{port}/x", sleep=long_sleep, connect_timeout=1)
    puller.start()
    await asyncio.wait_for(slept.wait(), 5)
    assert state(puller) is PullState.BACKOFF
    assert (puller.stats.last_error or "").startswith(f"cannot connect to 127.0.0.1:{port}")
    await puller.stop()
    assert state(puller) is PullState.STOPPED
