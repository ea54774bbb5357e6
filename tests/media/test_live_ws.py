"""Live view over WebSocket, end to end over real sockets: the real API server (uvicorn), a real
WebSocket client, stream tokens from the real sharing API, and the fMP4 decoded by PyAV.

The camera side here replays a real H.264 sample into the hub (tests/media/replay.py); the
RTSP side is tested against the simulator and ffmpeg in test_media_e2e.py."""

from __future__ import annotations

import asyncio
import json
import socket
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
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose
from tests.media.live_server import serve
from tests.media.replay import ReplayFactory, sample_access_units

PASSWORD = "Gwangju-2026!"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class Live:
    base: str
    ws: str
    city: int
    buk: int
    camera: int
    other_camera: int
    factory: ReplayFactory
    app: Any

    def bearer(self, username: str) -> dict[str, str]:
        r = httpx.post(
            f"{self.base}/api/auth/token", json={"username": username, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def token(self, username: str, camera: int, purpose: str = "crime_prevention") -> str:
        r = httpx.post(
            f"{self.base}/api/access/token",
            json={"camera_id": camera, "capability": "live", "purpose": purpose},
            headers=self.bearer(username),
        )
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def url(self, camera: int, token: str, **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"token": token, **params}.items())
        return f"{self.ws}/api/live/{camera}?{query}"


@pytest.fixture
def live(settings: Settings, engine: Engine, registry: Registry) -> Iterator[Live]:
    factory = ReplayFactory(fps=15)
    app = create_app(
        settings.model_copy(update={"media_linger": 0.5}), engine, puller_factory=factory
    )
    city = registry.create_agency(AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)).id
    buk = registry.create_agency(
        AgencyCreate(
            name="광주광역시 북구", kind=AgencyKind.DISTRICT, parent_id=city, district="북구"
        )
    ).id
    site = registry.create_site(SiteCreate(owner_id=buk, lat=35.174, lon=126.912, district="북구"))
    camera = registry.create_camera(
        CameraCreate(
            site_id=site.id,
            purpose=Purpose.TRAFFIC_ENFORCEMENT,
            main_stream_url="rtsp://127.0.0.1:8554/cameras/1/main",
        )
    ).id
    other = registry.create_camera(
        CameraCreate(
            site_id=site.id,
            purpose=Purpose.TRAFFIC_ENFORCEMENT,
            main_stream_url="rtsp://127.0.0.1:8554/cameras/2/main",
        )
    ).id
    for name, agency, role in [
        ("buk-admin", buk, Role.AGENCY_ADMIN),
        ("buk-operator", buk, Role.OPERATOR),
        ("city-operator", city, Role.OPERATOR),
    ]:
        app.state.identity.users.create_user(
            Console("test"),
            UserCreate(username=name, agency_id=agency, roles=[role], password=PASSWORD),
        )
    with serve(app) as base:
        yield Live(base, base.replace("http", "ws"), city, buk, camera, other, factory, app)


def connect(url: str) -> websockets.connect:
    """A client that queues what it has not read yet (as a player's message handler would)."""
    return websockets.connect(url, max_queue=None, close_timeout=2)


async def receive_view(
    ws: websockets.ClientConnection, fragments: int
) -> tuple[dict[str, Any], bytes, list[bytes], float]:
    """The init message, the init segment, `fragments` media messages, time to first fragment."""
    t0 = time.perf_counter()
    init = json.loads(await asyncio.wait_for(ws.recv(), 5))
    segment = await asyncio.wait_for(ws.recv(), 5)
    assert isinstance(segment, bytes)
    media: list[bytes] = []
    first = 0.0
    while len(media) < fragments:
        message = await asyncio.wait_for(ws.recv(), 5)
        assert isinstance(message, bytes), message
        if not media:
            first = time.perf_counter() - t0
        media.append(message)
    return init, segment, media, first


def decode(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


async def test_owner_operator_sees_decodable_live_video_at_once(live: Live, tmp_path: Path) -> None:
    token = live.token("buk-operator", live.camera, purpose="traffic")
    async with connect(live.url(live.camera, token)) as ws:
        init, segment, _, _ = await receive_view(ws, 1)
        assert init["type"] == "init" and init["codec"] == "h264"
        assert init["width"] == 1280 and init["height"] == 720
        assert init["mime"].startswith('video/mp4; codecs="avc1.')
        # the first viewer of a camera waits for the pull; a second one starts from the cache
        await asyncio.sleep(1.5)
        async with connect(live.url(live.camera, token)) as second:
            _, segment2, media2, first2 = await receive_view(second, 10)
        for _ in range(5):
            assert isinstance(await asyncio.wait_for(ws.recv(), 5), bytes)
    assert segment2 == segment
    path = tmp_path / "second.mp4"
    path.write_bytes(segment2 + b"".join(media2))
    frames = decode(path)
    assert len(frames) >= 10
    assert frames[0].key_frame
    assert (frames[0].width, frames[0].height) == (1280, 720)
    # the second viewer got the GOP cache in one message: several frames before any new one
    with av.open(str(path)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    assert packets[0].is_keyframe
    assert len(packets) > len(media2)
    # catch-up: every cached frame but the newest lasts one tick, so the newest is "now"
    squeezed = [p for p in packets if p.duration == 1]
    assert len(squeezed) >= 1
    assert first2 < 1.0  # generous here; the benchmark measures it (bench/live_start.py)


async def test_peer_style_start_waits_for_the_next_keyframe(live: Live) -> None:
    token = live.token("buk-operator", live.camera, purpose="traffic")
    async with connect(live.url(live.camera, token)) as warm:
        await receive_view(warm, 1)
        async with connect(
            live.url(live.camera, token, start="next_keyframe", catchup="none")
        ) as ws:
            _, _, media, _ = await receive_view(ws, 1)
    # the sample's keyframes come every len(sample) frames: no squeeze, one frame per message
    assert len(media[0]) < 60_000


@pytest.mark.parametrize(
    ("query", "code", "words"),
    [
        ("", 4401, "token is needed"),
        ("token=abc", 4401, "malformed"),
        ("token=abc&stream=hd", 4400, "stream must be main or sub"),
        ("token=abc&catchup=fast", 4400, "catchup must be"),
    ],
)
async def test_bad_requests_are_closed_with_a_reason(
    live: Live, query: str, code: int, words: str
) -> None:
    async with connect(f"{live.ws}/api/live/{live.camera}?{query}") as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == code
    assert words in closed.value.rcvd.reason
    assert live.factory.pullers == []  # nothing was pulled for a refused viewer


async def test_a_token_for_another_camera_is_refused(live: Live) -> None:
    token = live.token("buk-operator", live.camera, purpose="traffic")
    async with connect(live.url(live.other_camera, token)) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    assert f"not for camera {live.other_camera}" in closed.value.rcvd.reason


async def test_revoking_the_agreement_closes_the_live_view_within_a_second(live: Live) -> None:
    admin = live.bearer("buk-admin")
    draft = httpx.post(
        f"{live.base}/api/agreements",
        headers=admin,
        json={
            "owner_agency_id": live.buk,
            "consumer_agency_id": live.city,
            "selector": {"purposes": ["교통단속"]},
            "purposes": ["crime_prevention"],
            "capabilities": ["live"],
            "legal_basis": "개인정보 보호법 제25조, 광주광역시-북구 CCTV 연계 협약",
        },
    )
    assert draft.status_code == 201, draft.text
    agreement = draft.json()["id"]
    for step in ("propose", "accept"):
        r = httpx.post(f"{live.base}/api/agreements/{agreement}/{step}", headers=admin)
        assert r.status_code == 200, r.text
    token = live.token("city-operator", live.camera)
    own = live.token("buk-operator", live.camera, purpose="traffic")
    async with (
        connect(live.url(live.camera, token)) as ws,
        connect(live.url(live.camera, own)) as owner_ws,
    ):
        await receive_view(ws, 2)
        await receive_view(owner_ws, 2)
        revoked = httpx.post(
            f"{live.base}/api/agreements/{agreement}/revoke", headers=admin, json={"note": "종료"}
        )
        assert revoked.status_code == 200
        t0 = time.perf_counter()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        elapsed = time.perf_counter() - t0
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        assert "revoked" in closed.value.rcvd.reason
        assert elapsed < 1.0
        # the owner's own view is not touched
        assert isinstance(await asyncio.wait_for(owner_ws.recv(), 5), bytes)


async def test_renewal_over_the_socket_keeps_the_view(live: Live) -> None:
    token = live.token("buk-operator", live.camera, purpose="traffic")
    async with connect(live.url(live.camera, token)) as ws:
        await receive_view(ws, 1)
        renewed = httpx.post(
            f"{live.base}/api/access/token/renew",
            json={"token": token},
            headers=live.bearer("buk-operator"),
        )
        assert renewed.status_code == 200, renewed.text
        await ws.send(json.dumps({"type": "renew", "token": renewed.json()["token"]}))
        await ws.send(json.dumps({"type": "renew", "token": "garbage"}))
        answers: list[dict[str, Any]] = []
        while len(answers) < 2:
            message = await asyncio.wait_for(ws.recv(), 5)
            if isinstance(message, str):
                answers.append(json.loads(message))
        assert answers[0]["type"] == "renewed"
        assert answers[1]["type"] == "error" and "malformed" in answers[1]["message"]


async def test_the_pull_lingers_after_the_last_viewer_and_then_stops(live: Live) -> None:
    token = live.token("buk-operator", live.camera, purpose="traffic")
    async with connect(live.url(live.camera, token)) as ws:
        await receive_view(ws, 1)
    media = live.app.state.media
    await asyncio.sleep(0.1)
    assert media.streams.pulled() == [(live.camera, "main")]
    await asyncio.sleep(1.0)
    assert media.streams.pulled() == []
    assert live.factory.pullers[0].task is not None and live.factory.pullers[0].task.done()


def test_sample_is_what_the_replay_serves() -> None:
    units = sample_access_units()
    assert sum(u.is_keyframe for u in units) >= 1 and len(units) == 19


@pytest.fixture
def fast_live(settings: Settings, engine: Engine, registry: Registry) -> Iterator[Live]:
    """The same world with a camera sending 300 frames a second, to fill a slow viewer's pipe."""
    factory = ReplayFactory(fps=300)
    app = create_app(settings, engine, puller_factory=factory)
    agency = registry.create_agency(AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)).id
    site = registry.create_site(SiteCreate(owner_id=agency, lat=35.16, lon=126.85))
    camera = registry.create_camera(
        CameraCreate(
            site_id=site.id,
            purpose=Purpose.CRIME_PREVENTION,
            main_stream_url="rtsp://127.0.0.1:8554/cameras/1/main",
        )
    ).id
    app.state.identity.users.create_user(
        Console("test"),
        UserCreate(username="operator", agency_id=agency, roles=[Role.OPERATOR], password=PASSWORD),
    )
    with serve(app) as base:
        yield Live(base, base.replace("http", "ws"), agency, agency, camera, camera, factory, app)


def sequence_numbers(message: bytes) -> list[int]:
    """The mfhd sequence numbers of the fragments in one message (one per frame here)."""
    out, at = [], 0
    while at < len(message):
        size = int.from_bytes(message[at : at + 4], "big")
        if message[at + 4 : at + 8] == b"moof":
            out.append(int.from_bytes(message[at + 20 : at + 24], "big"))
        at += size
    return out


async def test_a_slow_viewer_never_slows_a_fast_one_or_ingest(fast_live: Live) -> None:
    """Invariant 6: a viewer who stops reading is closed once the ring has passed it twice; the
    fast viewer gets every frame in order and the camera's frames keep their own pace."""
    live = fast_live
    token = live.token("operator", live.camera, purpose="crime_prevention")
    slow_sock = socket.socket()
    slow_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow_sock.connect(("127.0.0.1", int(live.base.rsplit(":", 1)[1])))
    async with (
        connect(live.url(live.camera, token)) as fast,
        websockets.connect(live.url(live.camera, token), sock=slow_sock, max_queue=1) as slow,
    ):
        await receive_view(fast, 1)
        seen: list[int] = []
        hub = live.app.state.media.streams.hub(live.camera)
        started = time.perf_counter()
        while time.perf_counter() - started < 8 and hub.stats.subscribers_dropped == 0:
            message = await asyncio.wait_for(fast.recv(), 5)
            if isinstance(message, bytes):
                seen += sequence_numbers(message)
        assert hub.stats.subscribers_dropped == 1, "the stuck viewer was never closed"
        for _ in range(50):  # the fast viewer goes on
            message = await asyncio.wait_for(fast.recv(), 5)
            if isinstance(message, bytes):
                seen += sequence_numbers(message)
        assert seen == list(range(seen[0], seen[0] + len(seen))), "the fast viewer lost frames"
        elapsed = time.perf_counter() - started
        puller = live.factory.pullers[0]
        # ingest kept its pace: 300 frames a second, whatever the slow viewer did
        assert puller.sent >= 0.8 * 300 * elapsed
        assert hub.subscriber_count == 1
        del slow
