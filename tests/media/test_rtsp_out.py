"""RTSP re-serving, end to end over real sockets: the real API server (uvicorn) with RtspOut
started in its event loop, stream tokens from the real sharing API, ffmpeg (Debian) as an
independent client, raw RTSP exchanges for the status lines, and our RtspClient for timing.

The camera side replays a real H.264 sample into the hub (tests/media/replay.py), except in the
stamp test, where the simulator is pulled by the production puller. These tests run on SQLite
only: what they test is the media plane; the token checks under them run on both databases in
tests/sharing."""

from __future__ import annotations

import asyncio
import base64
import itertools
import shutil
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from argus.api.app import create_app
from argus.config import Settings
from argus.identity.access import Console
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.media.hub import Codec
from argus.media.nal import AccessUnit, ParameterSets
from argus.media.rtp import parse_rtp
from argus.media.rtsp.auth import basic_authorization, parse_challenges
from argus.media.rtsp.client import RtspClient
from argus.media.rtsp.errors import RtspError
from argus.media.rtsp.messages import parse_session
from argus.media.rtsp.sdp import parse_describe
from argus.media.rtsp_out import RtspOut, with_parameter_sets
from argus.media.rtsp_out_auth import TokenAuth, rebuild_token, rtsp_credentials
from argus.media.sei import STAMP_UUID, Stamp, read_stamp, read_stamp_annexb
from argus.media.simulator import Simulator, StreamSettings
from argus.registry.schemas import AgencyCreate, CameraCreate, CameraUpdate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose
from argus.sharing.live_grants import GrantsRevoked
from argus.sharing.tokens import read_token
from tests.media.live_server import serve
from tests.media.replay import ReplayFactory
from tests.media.test_rtsp_server import Client

PASSWORD = "Gwangju-2026!"
FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.skipif(not Path(FFMPEG).exists(), reason="Debian ffmpeg not installed"),
]


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only (see the module's docstring)."""
    path = tmp_path / "argus.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def with_rtsp_out(app: FastAPI, started: list[RtspOut], **options: Any) -> None:
    """Run an RtspOut over the app's media service in the app's own event loop (its lifespan)."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[Any]:
        async with inner(a) as state:
            out = RtspOut(
                a.state.media, a.state.access, a.state.bus, host="127.0.0.1", port=0, **options
            )
            await out.start()
            started.append(out)
            try:
                yield state
            finally:
                await out.stop()

    app.router.lifespan_context = lifespan


@dataclass
class World:
    base: str
    city: int
    buk: int
    camera: int
    other_camera: int
    factory: ReplayFactory | None
    app: Any
    out: RtspOut

    def bearer(self, username: str) -> dict[str, str]:
        r = httpx.post(
            f"{self.base}/api/auth/token", json={"username": username, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def token(self, username: str, camera: int, purpose: str = "traffic") -> str:
        r = httpx.post(
            f"{self.base}/api/access/token",
            json={"camera_id": camera, "capability": "live", "purpose": purpose},
            headers=self.bearer(username),
        )
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def url(self, camera: int, token: str | None = None, stream: str = "main") -> str:
        url = f"rtsp://127.0.0.1:{self.out.port}/cameras/{camera}/{stream}"
        return url if token is None else f"{url}?token={token}"


def make_world(
    settings: Settings,
    engine: Engine,
    registry: Registry,
    factory: ReplayFactory | None,
    stream_url: str = "rtsp://127.0.0.1:9/cameras/1/main",
) -> tuple[FastAPI, list[RtspOut], int, int, int, int]:
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
    cameras = [
        registry.create_camera(
            CameraCreate(
                site_id=site.id, purpose=Purpose.TRAFFIC_ENFORCEMENT, main_stream_url=stream_url
            )
        ).id
        for _ in range(2)
    ]
    for name, agency, role in [
        ("buk-admin", buk, Role.AGENCY_ADMIN),
        ("buk-operator", buk, Role.OPERATOR),
        ("city-operator", city, Role.OPERATOR),
    ]:
        app.state.identity.users.create_user(
            Console("test"),
            UserCreate(username=name, agency_id=agency, roles=[role], password=PASSWORD),
        )
    started: list[RtspOut] = []
    with_rtsp_out(app, started, describe_timeout=1.5)
    return app, started, city, buk, cameras[0], cameras[1]


@pytest.fixture
def world(settings: Settings, engine: Engine, registry: Registry) -> Iterator[World]:
    factory = ReplayFactory(fps=15)
    app, started, city, buk, camera, other = make_world(settings, engine, registry, factory)
    with serve(app) as base:
        yield World(base, city, buk, camera, other, factory, app, started[0])


async def run_ffmpeg(*args: str, timeout: float = 30) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(timeout):
        _, errors = await process.communicate()
    assert process.returncode is not None
    return process.returncode, errors.decode(errors="replace")


async def record(url: str, out: Path, seconds: float, transport: str = "tcp") -> None:
    code, errors = await run_ffmpeg(
        "-rtsp_transport", transport, "-i", url, "-t", str(seconds), "-c", "copy", str(out)
    )
    assert code == 0, errors


def decode(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


# --- ffmpeg plays it -----------------------------------------------------------------------------


async def test_ffmpeg_records_a_camera_with_the_token_in_the_query(
    world: World, tmp_path: Path
) -> None:
    token = world.token("buk-operator", world.camera)
    path = tmp_path / "out.mp4"
    await record(world.url(world.camera, token), path, 3)
    frames = decode(path)
    assert (frames[0].width, frames[0].height) == (1280, 720)
    assert frames[0].key_frame
    assert 35 <= len(frames) <= 60, len(frames)  # ≈ 3 s × 15 fps
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    await asyncio.sleep(0.2)
    stats = world.out.stats
    assert stats.describes == 1 and stats.sessions_started == 1 and stats.refusals == 0
    assert stats.frames_sent >= len(frames)
    assert world.out.sessions == 0  # ffmpeg's TEARDOWN ended the session and its lease
    assert world.app.state.media.streams.hub(world.camera).subscriber_count == 0


async def test_ffmpeg_with_the_short_pair_as_url_credentials(world: World, tmp_path: Path) -> None:
    """ffmpeg keeps only 127 bytes of user:password, too few for a whole token: the short pair
    (token id, signature) fits, and ffmpeg answers the Digest challenge with it. Over UDP."""
    token = world.token("buk-operator", world.camera)
    username, password = rtsp_credentials(token)
    assert len(f"{username}:{password}") < 127
    url = f"rtsp://{username}:{password}@127.0.0.1:{world.out.port}/cameras/{world.camera}/main"
    path = tmp_path / "short.mp4"
    await record(url, path, 1.5, transport="udp")
    frames = decode(path)
    assert frames[0].key_frame and len(frames) >= 10
    stats = world.out.stats
    assert stats.refusals == 0 and stats.challenges == 1  # ffmpeg asks first without them
    assert stats.forms == {"digest-short": 3}  # DESCRIBE, SETUP, PLAY


async def test_basic_and_digest_with_the_whole_token_as_password(world: World) -> None:
    token = world.token("buk-operator", world.camera)
    url = world.url(world.camera)
    # Digest (what VLC and most VMSes answer): our own client, username anything
    units: list[AccessUnit] = []
    async with RtspClient(
        url, username="token", password=token, on_access_unit=lambda au, t, w: units.append(au)
    ) as client:
        assert client.codec == "h264"
        for _ in range(50):
            if len(units) >= 5:
                break
            await asyncio.sleep(0.1)
    assert len(units) >= 5 and units[0].is_keyframe
    # Basic, raw: whole token as password; and the short pair
    raw = await Client.connect(world.out.port)
    try:
        for user, secret in [("token", token), rtsp_credentials(token)]:
            answer = await raw.request(
                "DESCRIBE", url, {"Authorization": basic_authorization(user, secret)}
            )
            assert answer.status == 200, answer.reason
            track = parse_describe(answer, url).first_video()
            assert track is not None and track.codec == "h264"
            assert track.h264 is not None and track.h264.sps and track.h264.pps
    finally:
        raw.close()
    assert world.out.stats.forms == {"digest": 3, "basic": 1, "basic-short": 1}
    # the token the short pair stands for is the token itself
    claims = read_token(token, world.app.state.access.signer.public_key, now=_now(world))
    assert rebuild_token(claims, rtsp_credentials(token)[1]) == token


async def test_a_raw_session_pauses_and_plays_on_in_time(world: World) -> None:
    """RTP over the interleaved channel: a keyframe first, the marker on each frame's last
    packet, 90 kHz timestamps at 15 fps; after PAUSE and PLAY sequence and time go on."""
    token = world.token("buk-operator", world.camera)
    url = world.url(world.camera, token)
    raw = await Client.connect(world.out.port)
    try:
        assert (await raw.request("DESCRIBE", url)).status == 200
        setup = await raw.request(
            "SETUP", url + "/trackID=0", {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
        )
        session = parse_session(setup.headers["Session"]).id
        play = await raw.request("PLAY", url, {"Session": session})
        assert play.status == 200 and "rtptime=" in play.headers["RTP-Info"]
        await raw.read_for(1.0)
        pause = await raw.request("PAUSE", url, {"Session": session})
        assert pause.status == 200
        await raw.read_for(0.3)
        first = [parse_rtp(bytes(p.payload)) for p in raw.packets if p.channel == 0]
        raw.packets.clear()
        assert (await raw.request("PLAY", url, {"Session": session})).status == 200
        for _ in range(30):  # at most a GOP (19 frames here) until the next keyframe
            await raw.read_for(0.1)
            if sum(parse_rtp(bytes(p.payload)).marker for p in raw.packets if p.channel == 0):
                break
        second = [parse_rtp(bytes(p.payload)) for p in raw.packets if p.channel == 0]
        assert (await raw.request("TEARDOWN", url, {"Session": session})).status == 200
    finally:
        raw.close()
    assert first and second
    assert first[0].payload[0] & 0x1F in (7, 24)  # SPS, or a STAP-A holding SPS and PPS
    stamps = sorted({p.timestamp for p in first})
    steps = {b - a for a, b in itertools.pairwise(stamps)}
    assert steps == {6000}  # 90 kHz at 15 fps
    assert sum(p.marker for p in first) == len(stamps)  # one marker per frame
    sequences = [p.sequence for p in first]
    assert sequences == [(sequences[0] + i) & 0xFFFF for i in range(len(first))]
    assert second[0].sequence == (first[-1].sequence + 1) & 0xFFFF
    assert second[0].timestamp > first[-1].timestamp  # on in time, from a keyframe
    assert second[0].payload[0] & 0x1F in (7, 24)
    assert world.out.sessions == 0


def test_parameter_sets_go_before_a_keyframe_that_lacks_them() -> None:
    aud, sps, pps, idr = b"\x09\xf0", b"\x67\x42", b"\x68\xce", b"\x65\x88"
    ps = ParameterSets(sps=sps, pps=pps)
    assert with_parameter_sets("h264", (aud, idr), ps) == [aud, sps, pps, idr]
    assert with_parameter_sets("h264", (idr,), ps) == [sps, pps, idr]
    assert with_parameter_sets("h264", (sps, pps, idr), ps) == [sps, pps, idr]
    vps, sps5, pps5, idr5 = b"\x40\x01", b"\x42\x01", b"\x44\x01", b"\x26\x01"
    ps5 = ParameterSets(vps=vps, sps=sps5, pps=pps5)
    assert with_parameter_sets("h265", (b"\x46\x01", idr5), ps5) == [
        b"\x46\x01",
        vps,
        sps5,
        pps5,
        idr5,
    ]


def _now(world: World) -> Any:
    return world.app.state.access.clock()


# --- refusals ------------------------------------------------------------------------------------


async def test_refusals_carry_their_reason_in_the_status_line(world: World) -> None:
    token = world.token("buk-operator", world.camera)
    raw = await Client.connect(world.out.port)
    try:
        # no token: 401 with Digest and Basic challenges (VLC then asks for a password)
        answer = await raw.request("DESCRIBE", world.url(world.camera))
        assert answer.status == 401
        assert "stream token is needed" in answer.reason
        challenges = parse_challenges(answer.headers.get_all("WWW-Authenticate"))
        assert [c.scheme for c in challenges] == ["Digest", "Basic"]
        # a process that does not see tokens issued (a media worker) offers Basic only
        worker_auth = TokenAuth(world.app.state.access, digest=False)
        assert [v.split()[0] for _, v in worker_auth.challenges()] == ["Basic"]
        # an unreadable token: 401 too
        answer = await raw.request("DESCRIBE", world.url(world.camera, "abc"))
        assert (answer.status, answer.reason) == (
            401,
            "Unauthorized (the stream token is malformed)",
        )
        # a valid token for another camera: 403
        answer = await raw.request("DESCRIBE", world.url(world.other_camera, token))
        assert answer.status == 403
        assert (
            answer.reason == f"Forbidden (the stream token is not for camera {world.other_camera})"
        )
        # a wrong whole-token password over Basic: 401
        answer = await raw.request(
            "DESCRIBE",
            world.url(world.camera),
            {"Authorization": basic_authorization("token", token[:-4] + "AAAA")},
        )
        assert answer.status == 401 and "signature" in answer.reason
        # no such path; a camera another worker serves
        answer = await raw.request("DESCRIBE", f"rtsp://127.0.0.1:{world.out.port}/nothing")
        assert answer.status == 404 and "/cameras/ID/main" in answer.reason
        media = world.app.state.media
        media.serves = lambda camera_id: camera_id != world.other_camera
        answer = await raw.request("DESCRIBE", world.url(world.other_camera, token))
        assert answer.status == 404
        assert answer.reason == (
            f"Not Found (camera {world.other_camera} is served by another media worker)"
        )
        # SETUP and PLAY check too
        setup = await raw.request(
            "SETUP",
            world.url(world.camera) + "/trackID=0",
            {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"},
        )
        assert setup.status == 401
    finally:
        raw.close()
    assert world.factory is not None and world.factory.pullers == []  # nothing pulled for them
    stats = world.out.stats
    assert stats.refusal_codes == {"malformed": 1, "wrong_camera": 1, "bad_signature": 1}
    assert stats.not_served == 1
    # ffmpeg fails, saying why
    for bad in (None, "abc"):
        code, errors = await run_ffmpeg(
            "-rtsp_transport", "tcp", "-i", world.url(world.camera, bad), "-t", "1",
            "-f", "null", "-",
        )  # fmt: skip
        assert code != 0 and "401 Unauthorized (" in errors
    code, errors = await run_ffmpeg(
        "-rtsp_transport", "tcp", "-i", world.url(world.camera + 1000, token), "-t", "1",
        "-f", "null", "-",
    )  # fmt: skip
    assert code != 0 and "403 Forbidden (the stream token is not for camera" in errors


async def test_a_camera_without_pictures_gets_503_with_its_state(
    settings: Settings, engine: Engine, registry: Registry
) -> None:
    """The production puller against a port where nothing listens: DESCRIBE waits, then 503."""
    app, started, _, _, camera, _ = make_world(settings, engine, registry, None)
    with serve(app) as base:
        world = World(base, 0, 0, camera, 0, None, app, started[0])
        token = world.token("buk-operator", camera)
        raw = await Client.connect(world.out.port)
        try:
            t0 = time.perf_counter()
            answer = await raw.request("DESCRIBE", world.url(camera, token), timeout=10)
            waited = time.perf_counter() - t0
        finally:
            raw.close()
    assert answer.status == 503
    assert answer.reason.startswith(f"Service Unavailable (camera {camera} sent no picture")
    assert "pull" in answer.reason
    assert 1.4 < waited < 5


# --- revocation and expiry -----------------------------------------------------------------------


async def _play(url: str, **options: Any) -> tuple[RtspClient, list[AccessUnit]]:
    units: list[AccessUnit] = []
    client = RtspClient(url, on_access_unit=lambda au, t, w: units.append(au), **options)
    await client.connect()
    for _ in range(50):
        if units:
            break
        await asyncio.sleep(0.1)
    assert units, "no picture"
    return client, units


async def test_revoking_the_agreement_closes_the_rtsp_session_within_a_second(
    world: World,
) -> None:
    admin = world.bearer("buk-admin")
    draft = httpx.post(
        f"{world.base}/api/agreements",
        headers=admin,
        json={
            "owner_agency_id": world.buk,
            "consumer_agency_id": world.city,
            "selector": {"purposes": ["교통단속"]},
            "purposes": ["crime_prevention"],
            "capabilities": ["live"],
            "legal_basis": "개인정보 보호법 제25조, 광주광역시-북구 CCTV 연계 협약",
        },
    )
    assert draft.status_code == 201, draft.text
    agreement = draft.json()["id"]
    for step in ("propose", "accept"):
        r = httpx.post(f"{world.base}/api/agreements/{agreement}/{step}", headers=admin)
        assert r.status_code == 200, r.text
    police = world.token("city-operator", world.camera, purpose="crime_prevention")
    own = world.token("buk-operator", world.camera)
    revoked_at: list[float] = []
    world.app.state.bus.subscribe(
        lambda e: revoked_at.append(time.perf_counter()) if isinstance(e, GrantsRevoked) else None
    )
    client, _ = await _play(world.url(world.camera, police))
    owner, owner_units = await _play(world.url(world.camera), username="x", password=own)
    # a session set up (not playing yet) with the police token
    raw = await Client.connect(world.out.port)
    setup = await raw.request(
        "SETUP",
        world.url(world.camera, police) + "/trackID=0",
        {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"},
    )
    assert setup.status == 200, setup.reason
    try:
        response = await asyncio.to_thread(
            httpx.post,
            f"{world.base}/api/agreements/{agreement}/revoke",
            headers=admin,
            json={"note": "종료"},
        )
        assert response.status_code == 200
        with pytest.raises(RtspError):
            await asyncio.wait_for(client.wait(), 5)
        closed_at = time.perf_counter()
        elapsed = closed_at - revoked_at[0]
        print(f"\nrevocation → RTSP connection closed: {elapsed * 1000:.0f} ms")
        assert elapsed < 1.0
        # the owner's own session goes on
        seen = len(owner_units)
        await asyncio.sleep(0.5)
        assert owner.playing and len(owner_units) > seen
        # PLAY of the set-up session, and any new request with the token: 403
        play = await raw.request(
            "PLAY",
            world.url(world.camera, police),
            {"Session": parse_session(setup.headers["Session"]).id},
        )
        assert (play.status, play.reason) == (
            403,
            "Forbidden (the grant behind this stream token was revoked)",
        )
        describe = await raw.request("DESCRIBE", world.url(world.camera, police))
        assert describe.status == 403 and "revoked" in describe.reason
    finally:
        raw.close()
        await client.close()
        await owner.close()
    assert world.out.stats.revoked_closes == 1


async def test_token_expiry_ends_the_session(world: World) -> None:
    access = world.app.state.access
    claims = read_token(
        world.token("buk-operator", world.camera), access.signer.public_key, now=_now(world)
    )
    token, expiring = access.signer.issue(
        grant=claims.grant,
        camera_id=world.camera,
        capability="live",
        purpose=claims.purpose,
        case_number=None,
        user_id=claims.user_id,
        agency_id=claims.agency_id,
        now=access.clock(),
        ttl=timedelta(seconds=3),
    )
    access.live.add(expiring)
    client, _ = await _play(world.url(world.camera, token))
    try:
        with pytest.raises(RtspError):
            await asyncio.wait_for(client.wait(), 6)
    finally:
        await client.close()
    assert time.time() >= expiring.expires_at - 0.1
    assert world.out.stats.expired_closes == 1
    raw = await Client.connect(world.out.port)
    try:
        answer = await raw.request("DESCRIBE", world.url(world.camera, token))
    finally:
        raw.close()
    assert (answer.status, answer.reason) == (
        401,
        "Unauthorized (the stream token has expired; renew it)",
    )


# --- simulator → production ingest → RTSP out → ffmpeg, with stamps ------------------------------

SMALL = StreamSettings(width=320, height=240, bitrate=300_000, gop_seconds=1.0, clip_seconds=2.0)


@pytest.mark.parametrize("codec", ["h264", "h265"])
async def test_simulator_stamps_reach_ffmpeg_through_ingest_and_rtsp_out(
    settings: Settings, engine: Engine, registry: Registry, tmp_path: Path, codec: Codec
) -> None:
    h265 = (lambda camera_id: True) if codec == "h265" else None
    async with Simulator(
        host="127.0.0.1", port=0, cache_dir=tmp_path / "clips", main=SMALL, sub=SMALL, h265=h265
    ) as sim:
        app, started, _, _, camera, _ = make_world(settings, engine, registry, None)
        registry.update_camera(camera, CameraUpdate(main_stream_url=sim.url(camera)))
        await sim.prepare([camera], ["main"])
        with serve(app) as base:
            world = World(base, 0, 0, camera, 0, None, app, started[0])
            token = world.token("buk-operator", camera)
            ours: list[float] = []  # our RtspClient beside ffmpeg: stamp → access unit out

            def on_unit(au: AccessUnit, media_time: int, wall: float | None) -> None:
                stamp = read_stamp(codec, au.nal_units)
                if stamp is not None and stamp.camera_id == camera:
                    ours.append(time.time() - stamp.send_time_ns / 1e9)

            raw = await Client.connect(world.out.port)
            try:
                answer = await raw.request("DESCRIBE", world.url(camera, token))
            finally:
                raw.close()
            track = parse_describe(answer, world.url(camera)).first_video()
            assert track is not None and track.codec == codec
            if codec == "h265":
                assert track.h265 is not None and track.h265.vps and track.h265.sps
            async with RtspClient(world.url(camera, token), on_access_unit=on_unit):
                chunks = await ffmpeg_elementary_stream(
                    world.url(camera, token), codec, seconds=2.5
                )
    stamps = stamps_with_arrival(chunks, codec)
    assert len(stamps) >= 25, len(stamps)
    assert {stamp.camera_id for stamp, _ in stamps} == {camera}
    frames = [stamp.frame_no for stamp, _ in stamps]
    assert frames == sorted(frames)
    latencies = [arrived - stamp.send_time_ns / 1e9 for stamp, arrived in stamps]
    live = latencies[len(latencies) // 2 :]  # after the GOP-cache start has caught up
    print(
        f"\nstamp → ffmpeg output, ms: median {statistics.median(live) * 1000:.1f} "
        f"(all frames: median {statistics.median(latencies) * 1000:.1f}, "
        f"max {max(latencies) * 1000:.1f}); stamp → our RtspClient: median "
        f"{statistics.median(ours) * 1000:.1f} over {len(ours)} frames"
    )
    assert min(latencies) > -0.05  # same clock
    assert statistics.median(live) < 1.0  # recent: not a replay of old frames
    assert len(ours) >= 30 and statistics.median(ours) < 1.0


async def ffmpeg_elementary_stream(
    url: str, codec: Codec, seconds: float
) -> list[tuple[bytes, float]]:
    """ffmpeg copies the stream to Annex-B on a pipe; each chunk with its arrival time."""
    process = await asyncio.create_subprocess_exec(
        FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-analyzeduration", "100000",
        "-rtsp_transport", "tcp", "-i", url, "-t", str(seconds), "-c", "copy",
        "-flush_packets", "1", "-f", "h264" if codec == "h264" else "hevc", "pipe:1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    chunks: list[tuple[bytes, float]] = []
    async with asyncio.timeout(30):
        while data := await process.stdout.read(65536):
            chunks.append((data, time.time()))
        errors = await process.stderr.read()
        await process.wait()
    assert process.returncode == 0, errors.decode(errors="replace")
    return chunks


def stamps_with_arrival(
    chunks: list[tuple[bytes, float]], codec: Codec
) -> list[tuple[Stamp, float]]:
    """Every stamp SEI in the stream, with the time the chunk that completed it arrived."""
    stream = b"".join(data for data, _ in chunks)
    ends: list[tuple[int, float]] = []
    offset = 0
    for data, arrived in chunks:
        offset += len(data)
        ends.append((offset, arrived))
    out: list[tuple[Stamp, float]] = []
    at = stream.find(STAMP_UUID)
    while at >= 0:
        start = stream.rfind(b"\x00\x00\x01", 0, at)
        end = stream.find(b"\x00\x00\x01", at)
        end = len(stream) if end < 0 else end
        stamp = read_stamp_annexb(codec, stream[start:end])
        if stamp is not None:
            arrived = next(t for o, t in ends if o >= end)
            out.append((stamp, arrived))
        at = stream.find(STAMP_UUID, at + 1)
    return out


def test_short_pair_reads_any_token_shape() -> None:
    with pytest.raises(ValueError):
        rtsp_credentials("no-dot")
    body = base64.urlsafe_b64encode(b'{"jti":"abc"}').rstrip(b"=").decode()
    assert rtsp_credentials(f"{body}.sig") == ("abc", "sig")
