"""The media plane end to end over real sockets, with nothing replaced:

simulator (RTSP server, H.264 clips encoded by PyAV, a stamp SEI in every frame) → the
production RTSP puller → stream hub → the live WebSocket of the real API server → fMP4 demuxed
and decoded by PyAV; and the same through media worker processes started by the API.
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
import websockets
from sqlalchemy import Engine

from argus.api.app import create_app
from argus.config import Settings
from argus.identity.access import Console
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.media.sei import read_stamp_annexb
from argus.media.simulator import Simulator, StreamSettings
from argus.media.workers.plan import WorkerPlan
from argus.registry.schemas import AgencyCreate, CameraCreate, CameraUpdate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose
from tests.media.live_server import serve

PASSWORD = "Gwangju-2026!"
SMALL = StreamSettings(width=320, height=240, bitrate=200_000, fps=15, clip_seconds=2.0)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def clip_cache() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


@pytest.fixture
def simulator(clip_cache: Path) -> Iterator[Simulator]:
    """The simulator runs on its own thread's event loop, as a separate camera would."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    sim = Simulator(port=0, cache_dir=clip_cache, main=SMALL, sub=SMALL)
    asyncio.run_coroutine_threadsafe(sim.start(), loop).result(30)
    try:
        yield sim
    finally:
        asyncio.run_coroutine_threadsafe(sim.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@dataclass
class World:
    base: str
    ws: str
    app: Any
    cameras: dict[str, int]
    registry: Registry

    def bearer(self, username: str) -> dict[str, str]:
        r = httpx.post(
            f"{self.base}/api/auth/token", json={"username": username, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def token(self, camera: int, username: str = "operator") -> str:
        r = httpx.post(
            f"{self.base}/api/access/token",
            json={"camera_id": camera, "capability": "live", "purpose": "crime_prevention"},
            headers=self.bearer(username),
        )
        assert r.status_code == 200, r.text
        return str(r.json()["token"])


def make_world(registry: Registry, app: Any, sim: Simulator) -> dict[str, int]:
    agency = registry.create_agency(AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)).id
    site = registry.create_site(SiteCreate(owner_id=agency, lat=35.16, lon=126.85))
    cameras: dict[str, int] = {}
    for name in ("good", "refusing", "dropping"):
        camera_id = registry.create_camera(
            CameraCreate(site_id=site.id, purpose=Purpose.CRIME_PREVENTION)
        ).id
        fault = {"good": None, "refusing": "unauthorized", "dropping": "disconnect:1.5"}[name]
        url = sim.url(camera_id, "main", fault=fault)
        registry.update_camera(camera_id, CameraUpdate(main_stream_url=url))
        cameras[name] = camera_id
    app.state.identity.users.create_user(
        Console("test"),
        UserCreate(username="operator", agency_id=agency, roles=[Role.OPERATOR], password=PASSWORD),
    )
    app.state.identity.users.create_user(
        Console("test"),
        UserCreate(username="root", agency_id=agency, roles=[Role.SYSTEM_ADMIN], password=PASSWORD),
    )
    return cameras


@pytest.fixture
def world(
    settings: Settings, engine: Engine, registry: Registry, simulator: Simulator
) -> Iterator[World]:
    app = create_app(settings.model_copy(update={"media_linger": 1.0}), engine)
    cameras = make_world(registry, app, simulator)
    with serve(app) as base:
        yield World(base, base.replace("http", "ws"), app, cameras, registry)


async def watch(
    url: str, frames: int, timeout: float = 15
) -> tuple[bytes, list[tuple[float, bytes]]]:
    """The init segment and `frames` media messages with their arrival times."""
    async with websockets.connect(url, max_queue=None, close_timeout=2) as ws:
        init = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        assert init["type"] == "init", init
        segment = await asyncio.wait_for(ws.recv(), timeout)
        assert isinstance(segment, bytes)
        media: list[tuple[float, bytes]] = []
        while len(media) < frames:
            message = await asyncio.wait_for(ws.recv(), timeout)
            assert isinstance(message, bytes)
            media.append((time.time(), message))
    return segment, media


def stamps_of(path: Path) -> list[Any]:
    with av.open(str(path)) as container:
        return [read_stamp_annexb("h264", bytes(p)) for p in container.demux(video=0) if p.size]


async def test_simulated_camera_to_browser_socket_carries_its_own_stamped_frames(
    world: World, tmp_path: Path
) -> None:
    camera = world.cameras["good"]
    token = world.token(camera)
    segment, media = await watch(f"{world.ws}/api/live/{camera}?token={token}", 20)
    path = tmp_path / "live.mp4"
    path.write_bytes(segment + b"".join(m for _, m in media))
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) >= 20 and frames[0].key_frame
    assert (frames[0].width, frames[0].height) == (320, 240)
    stamps = stamps_of(path)
    assert all(s is not None and s.camera_id == camera for s in stamps)
    # latency camera send → viewer receive for the frames that came one per message (live)
    latencies = []
    for arrived, message in media[5:]:
        single = tmp_path / "one.mp4"
        single.write_bytes(segment + message)
        found = stamps_of(single)
        if len(found) == 1 and found[0] is not None:
            latencies.append(arrived - found[0].send_time_ns / 1e9)
    assert latencies, "no live frames to time"
    print(f"camera → viewer latency, median {statistics.median(latencies) * 1000:.1f} ms")
    assert statistics.median(latencies) < 0.5  # measured in bench/latency.py; here: sane


async def test_camera_state_reaches_the_registry_and_the_api(world: World) -> None:
    good, refusing = world.cameras["good"], world.cameras["refusing"]
    root = world.bearer("root")
    async with (
        websockets.connect(
            f"{world.ws}/api/live/{good}?token={world.token(good)}",
            max_queue=None,
            close_timeout=1,
        ) as watching,
        websockets.connect(
            f"{world.ws}/api/live/{refusing}?token={world.token(refusing)}", close_timeout=1
        ),
    ):
        await asyncio.wait_for(watching.recv(), 10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            rows = httpx.get(f"{world.base}/api/media/streams", headers=root).json()
            states = {r["camera_id"]: r for r in rows}
            if states.get(refusing, {}).get("state") == "failed_auth":
                break
            await asyncio.sleep(0.2)
        metrics = httpx.get(f"{world.base}/metrics", headers=root)
        assert metrics.status_code == 200
        line = f'argus_camera_received_bytes_total{{camera="{good}",stream="main"}}'
        assert line in metrics.text
        assert f'argus_camera_streaming{{camera="{refusing}",stream="main"}} 0.0' in metrics.text
    assert states[refusing]["state"] == "failed_auth"
    assert "401" in (states[refusing]["last_error"] or "") or "credential" in (
        states[refusing]["last_error"] or ""
    )
    assert states[good]["codec"] == "h264" and states[good]["lost_packets"] == 0
    await asyncio.sleep(1.5)  # the status writer writes once a second
    good_row = httpx.get(f"{world.base}/api/cameras/{good}", headers=root).json()
    bad_row = httpx.get(f"{world.base}/api/cameras/{refusing}", headers=root).json()
    assert good_row["stream_status"] == "streaming" and good_row["stream_error"] is None
    assert bad_row["stream_status"] == "failed_auth" and bad_row["stream_error"]


async def test_a_camera_that_drops_the_connection_is_retried_and_the_view_goes_on(
    world: World, tmp_path: Path
) -> None:
    camera = world.cameras["dropping"]  # the simulator closes its connection every 1.5 s
    token = world.token(camera)
    segment, media = await watch(f"{world.ws}/api/live/{camera}?token={token}", 60, timeout=20)
    path = tmp_path / "dropping.mp4"
    path.write_bytes(segment + b"".join(m for _, m in media))
    with av.open(str(path)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    dts = [p.dts for p in packets if p.dts is not None]
    assert dts == sorted(dts), "the timeline went backwards across a reconnection"
    rows = world.app.state.media.snapshot()
    assert next(r for r in rows if r["camera_id"] == camera)["reconnects"] >= 1


async def test_hls_from_a_simulated_camera_carries_its_stamped_frames(
    world: World, tmp_path: Path
) -> None:
    """Simulator → RTSP ingest → hub → plain HLS → ffmpeg (an independent HLS client) → PyAV:
    every frame is the camera's own (its SEI stamp names it) and was sent moments ago."""
    camera = world.cameras["good"]
    token = world.token(camera)
    out = tmp_path / "hls.mp4"
    url = f"{world.base}/api/hls/{camera}/main/plain.m3u8?token={token}"
    started = time.time()
    process = await asyncio.create_subprocess_exec(
        "ffmpeg", "-v", "error", "-i", url, "-t", "3", "-c", "copy", "-y", str(out),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    with av.open(str(out)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) >= 30 and frames[0].key_frame
    assert (frames[0].width, frames[0].height) == (320, 240)
    stamps = stamps_of(out)
    assert stamps and all(s is not None and s.camera_id == camera for s in stamps)
    sent = [s.send_time_ns / 1e9 for s in stamps if s is not None]
    assert min(sent) > started - 10 and max(sent) <= time.time()
    numbers = [s.frame_no for s in stamps if s is not None]
    assert numbers == sorted(numbers)


# --- through media worker processes ---------------------------------------------------------


def free_port_pair() -> int:
    """A base port with the next one free too (workers listen on base, base+1)."""
    for _ in range(50):
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port pair")


@pytest.mark.slow
async def test_workers_serve_their_cameras_and_hear_revocations(
    settings: Settings, engine: Engine, registry: Registry, simulator: Simulator
) -> None:
    plan = WorkerPlan(2, "127.0.0.1", free_port_pair())
    app = create_app(
        settings.model_copy(update={"media_worker_port": plan.base_port}), engine, workers=plan
    )
    cameras = make_world(registry, app, simulator)
    with serve(app) as base:
        pool = app.state.media_front
        deadline = time.monotonic() + 60
        while not all(w.ready.is_set() for w in pool.workers):
            assert time.monotonic() < deadline, "media workers did not start"
            await asyncio.sleep(0.2)
        world = World(base, base.replace("http", "ws"), app, cameras, registry)
        camera = cameras["good"]
        where = httpx.get(
            f"{base}/api/live/{camera}/endpoint", headers=world.bearer("operator")
        ).json()
        assert where["worker"] == camera % 2
        assert where["live_ws"].endswith(f":{plan.port(camera % 2)}/api/live/{camera}")
        token = world.token(camera)
        _, media = await watch(f"{where['live_ws']}?token={token}", 3)
        assert media
        # the other worker refuses the camera
        other = plan.port(1 - camera % 2)
        async with websockets.connect(
            f"ws://127.0.0.1:{other}/api/live/{camera}?token={token}"
        ) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4421
        # disabling the user revokes the token in the API process; the worker closes the view
        async with websockets.connect(f"{where['live_ws']}?token={token}") as ws:
            await asyncio.wait_for(ws.recv(), 10)
            user = next(
                u
                for u in app.state.identity.users.list_users(Console("test"))
                if u.username == "operator"
            )
            t0 = time.perf_counter()
            await asyncio.to_thread(app.state.identity.users.disable_user, Console("test"), user.id)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
            assert time.perf_counter() - t0 < 1.0
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        rows = httpx.get(f"{base}/api/media/streams", headers=world.bearer("root")).json()
        assert any(r["camera_id"] == camera and r["worker"] == camera % 2 for r in rows)
