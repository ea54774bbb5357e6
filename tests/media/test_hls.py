"""LL-HLS and plain HLS, end to end over real sockets: the real API server (uvicorn), stream tokens
from the real sharing API, a real H.264 sample replayed into the hub (tests/media/replay.py), the
plain playlist read by Debian's ffmpeg and the frames decoded by PyAV; the LL-HLS playlist checked
against the rules of RFC 8216bis. The cutting itself (H.265, a change of parameter sets) is also
tested in process, without a server.

One server serves the whole module (starting one per test would cost more than the tests), with
one camera per concern: camera `main` for playback and playlists, `idle` for the idle stop,
`revoked` for revocation. The HLS tests need no database feature, so they run on SQLite only."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from argon2 import PasswordHasher

from argus.api.app import create_app
from argus.config import Settings
from argus.db import make_engine
from argus.identity.access import Console
from argus.identity.passwords import Hasher
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.media import h264, h265
from argus.media.hls import TICKS, HlsConfig, HlsService, Segmenter
from argus.media.hls_routes import router as hls_router
from argus.media.hub import Codec, StreamHub
from argus.media.nal import AccessUnit, ParameterSets, split_annexb
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose
from tests.media.live_server import serve
from tests.media.replay import ReplayFactory, sample_access_units

PASSWORD = "Gwangju-2026!"
IDLE = 2.0  # seconds without a request before an HLS stream stops, here
LINGER = 0.5
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class Env:
    base: str
    city: int
    buk: int
    cameras: dict[str, int]
    factory: ReplayFactory
    app: Any
    _bearers: dict[str, dict[str, str]]

    @property
    def hls(self) -> HlsService:
        service: HlsService = self.app.state.media.hls
        return service

    def bearer(self, username: str) -> dict[str, str]:
        if username not in self._bearers:
            r = httpx.post(
                f"{self.base}/api/auth/token", json={"username": username, "password": PASSWORD}
            )
            assert r.status_code == 200, r.text
            self._bearers[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return self._bearers[username]

    def token(self, username: str, camera: str, purpose: str = "traffic") -> str:
        r = httpx.post(
            f"{self.base}/api/access/token",
            json={"camera_id": self.cameras[camera], "capability": "live", "purpose": purpose},
            headers=self.bearer(username),
        )
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def url(self, camera: str, file: str) -> str:
        return f"{self.base}/api/hls/{self.cameras[camera]}/main/{file}"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("hls")
    shutil.copy(sqlite_template, folder / "argus.db")
    settings = Settings(
        data_dir=folder / "data",
        database_url=f"sqlite:///{folder / 'argus.db'}",
        media_linger=LINGER,
    )
    engine = make_engine(settings.db_url)
    factory = ReplayFactory(fps=15)
    app = create_app(settings, engine, puller_factory=factory)
    # the wiring create_app and MediaService are to get (MediaService.hls, the router mounted
    # beside the live WebSocket's)
    app.state.media.hls = HlsService(
        app.state.access, app.state.media.streams, app.state.bus, HlsConfig(idle_timeout=IDLE)
    )
    app.include_router(hls_router)
    # argon2id at test strength: the parameters are the deployment's business, not this test's
    app.state.identity.ctx.hasher = Hasher(
        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    registry: Registry = app.state.registry
    city = registry.create_agency(AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)).id
    buk = registry.create_agency(
        AgencyCreate(
            name="광주광역시 북구", kind=AgencyKind.DISTRICT, parent_id=city, district="북구"
        )
    ).id
    site = registry.create_site(SiteCreate(owner_id=buk, lat=35.174, lon=126.912, district="북구"))
    cameras = {
        name: registry.create_camera(
            CameraCreate(
                site_id=site.id,
                purpose=Purpose.TRAFFIC_ENFORCEMENT,
                main_stream_url=f"rtsp://127.0.0.1:8554/cameras/{i}/main",
            )
        ).id
        for i, name in enumerate(("main", "idle", "revoked", "unused"), start=1)
    }
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
        yield Env(base, city, buk, cameras, factory, app, {})
    engine.dispose()


# --- reading playlists ---------------------------------------------------------------------------


@dataclass
class PartLine:
    uri: str
    duration: float
    independent: bool


@dataclass
class SegmentLine:
    msn: int
    parts: list[PartLine]
    duration: float | None = None  # EXTINF, None for the segment in progress
    uri: str | None = None
    discontinuity: bool = False
    map_uri: str | None = None


@dataclass
class Playlist:
    tags: dict[str, str]
    segments: list[SegmentLine]
    hint: str | None

    def last_part(self) -> tuple[int, int]:
        for segment in reversed(self.segments):
            if segment.parts:
                return segment.msn, len(segment.parts) - 1
        raise AssertionError("no parts")


def attributes(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    rest = text
    while rest:
        name, _, rest = rest.partition("=")
        if rest.startswith('"'):
            value, _, rest = rest[1:].partition('"')
            rest = rest.removeprefix(",")
        else:
            value, _, rest = rest.partition(",")
        out[name] = value
    return out


def parse(text: str) -> Playlist:
    """A media playlist, checking the syntax rules a player relies on as it goes."""
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    tags: dict[str, str] = {}
    segments: list[SegmentLine] = []
    msn: int | None = None
    current: SegmentLine | None = None
    pending_inf: float | None = None
    hint: str | None = None
    map_uri: str | None = None
    discontinuity = False

    def begin() -> SegmentLine:
        nonlocal current, msn, discontinuity, map_uri
        if current is None:
            assert msn is not None, "segments before EXT-X-MEDIA-SEQUENCE"
            current = SegmentLine(msn, [], discontinuity=discontinuity, map_uri=map_uri)
            segments.append(current)
            discontinuity, map_uri = False, None
        return current

    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        if name == "#EXT-X-MEDIA-SEQUENCE":
            msn = int(value)
            tags[name] = value
        elif name == "#EXT-X-DISCONTINUITY":
            assert current is None, "EXT-X-DISCONTINUITY inside a segment"
            discontinuity = True
        elif name == "#EXT-X-MAP":
            assert current is None, "EXT-X-MAP after a segment's first part"
            map_uri = attributes(value)["URI"]
        elif name == "#EXT-X-PART":
            attrs = attributes(value)
            begin().parts.append(
                PartLine(attrs["URI"], float(attrs["DURATION"]), attrs.get("INDEPENDENT") == "YES")
            )
        elif name == "#EXTINF":
            pending_inf = float(value.rstrip(","))
            begin()
        elif name == "#EXT-X-PRELOAD-HINT":
            attrs = attributes(value)
            assert attrs["TYPE"] == "PART"
            hint = attrs["URI"]
        elif line.startswith("#"):
            tags[name] = value
        else:
            segment = begin()
            assert pending_inf is not None, "a URI without EXTINF"
            segment.duration, segment.uri = pending_inf, line
            pending_inf, current = None, None
            assert msn is not None
            msn += 1
    assert pending_inf is None
    return Playlist(tags, segments, hint)


def check_rules(playlist: Playlist, low_latency: bool) -> None:
    """What RFC 8216bis asks of a live media playlist (those rules a test can see)."""
    tags = playlist.tags
    target = int(tags["#EXT-X-TARGETDURATION"])
    assert int(tags["#EXT-X-VERSION"]) >= 6  # EXT-X-MAP needs version 6
    assert playlist.segments, "an empty playlist"
    assert playlist.segments[0].map_uri is not None, "no EXT-X-MAP before the first segment"
    complete = [s for s in playlist.segments if s.duration is not None]
    for segment in complete:
        assert segment.duration is not None and round(segment.duration) <= target
    msns = [s.msn for s in playlist.segments]
    assert msns == list(range(msns[0], msns[0] + len(msns)))
    if not low_latency:
        assert all(not s.parts for s in playlist.segments)
        assert "#EXT-X-PART-INF" not in tags and playlist.hint is None
        return
    control = attributes(tags["#EXT-X-SERVER-CONTROL"])
    assert control["CAN-BLOCK-RELOAD"] == "YES"
    part_target = float(attributes(tags["#EXT-X-PART-INF"])["PART-TARGET"])
    assert 0.2 <= part_target <= 0.5
    assert float(control["PART-HOLD-BACK"]) >= 2 * part_target
    assert playlist.segments[-1].parts, "no parts at the live edge"
    for segment in playlist.segments:
        for i, part in enumerate(segment.parts):
            assert part.duration <= part_target + 1e-6
            last = i == len(segment.parts) - 1 and segment.duration is not None
            if not (last or part.independent):
                assert part.duration >= 0.85 * part_target - 1e-6
            assert f"part-{segment.msn}.{i}.m4s?token=" in part.uri
        if segment.parts and segment.duration is not None:
            assert abs(sum(p.duration for p in segment.parts) - segment.duration) < 1e-3
        if segment.parts:
            # every segment here begins at a keyframe (the sample's GOP is 1.27 s)
            assert segment.parts[0].independent
            assert not any(p.independent for p in segment.parts[1:])
    assert playlist.hint is not None and "?token=" in playlist.hint


async def get(client: httpx.AsyncClient, url: str, **params: Any) -> httpx.Response:
    return await client.get(url, params=params, timeout=20)


def pulled(env: Env) -> list[tuple[int, str]]:
    for _ in range(10):
        try:
            return list(env.app.state.media.streams.pulled())
        except RuntimeError:  # the server thread changed the dict while we copied it
            time.sleep(0.01)
    raise AssertionError("could not read the pulled streams")


def decode(data: bytes, path: Path) -> list[av.VideoFrame]:
    path.write_bytes(data)
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


# --- end to end ----------------------------------------------------------------------------------


async def test_plain_playlist_plays_in_ffmpeg(env: Env, tmp_path: Path) -> None:
    token = env.token("buk-operator", "main")
    out = tmp_path / "out.mp4"
    url = f"{env.url('main', 'plain.m3u8')}?token={token}"
    process = await asyncio.create_subprocess_exec(
        "ffmpeg", "-v", "error", "-i", url, "-t", "3", "-c", "copy", "-y", str(out),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = list(container.decode(video=0))
    assert len(frames) >= 40  # 3 s at 15 fps
    assert frames[0].key_frame
    assert (frames[0].width, frames[0].height) == (1280, 720)
    async with httpx.AsyncClient() as client:
        plain = await get(client, env.url("main", "plain.m3u8"), token=token)
    assert plain.headers["content-type"] == "application/vnd.apple.mpegurl"
    check_rules(parse(plain.text), low_latency=False)


async def test_ll_playlist_follows_the_rules_and_its_parts_decode(env: Env, tmp_path: Path) -> None:
    token = env.token("buk-operator", "main")
    async with httpx.AsyncClient() as client:
        first = await get(client, env.url("main", "index.m3u8"), token=token)
        assert first.status_code == 200, first.text
        playlist = parse(first.text)
        check_rules(playlist, low_latency=True)
        start_msn = playlist.segments[-1].msn
        # follow the live edge part by part, as an LL-HLS player does, until two more segments
        while playlist.segments[-1].msn < start_msn + 2:
            msn, part = playlist.last_part()
            r = await get(
                client, env.url("main", "index.m3u8"), token=token, _HLS_msn=msn, _HLS_part=part + 1
            )
            assert r.status_code == 200, r.text
            playlist = parse(r.text)
            check_rules(playlist, low_latency=True)
            assert playlist.last_part() > (msn, part)
        assert playlist.tags["#EXT-X-TARGETDURATION"] == "2"  # the sample's GOP is 1.27 s
        segment = next(s for s in playlist.segments if s.duration is not None and s.parts)
        assert segment.map_uri is not None or playlist.segments[0].map_uri is not None
        map_uri = segment.map_uri or playlist.segments[0].map_uri
        assert map_uri is not None and segment.uri is not None
        base = env.url("main", "")
        init = await client.get(base + map_uri)
        whole = await client.get(base + segment.uri)
        parts = [await client.get(base + p.uri) for p in segment.parts]
    assert init.status_code == whole.status_code == 200
    assert all(p.status_code == 200 for p in parts)
    assert init.content[4:8] == b"ftyp" and b"avc1" in init.content
    assert whole.content == b"".join(p.content for p in parts)
    frames = decode(init.content + whole.content, tmp_path / "segment.mp4")
    assert len(frames) == 19  # one GOP of the sample
    assert frames[0].key_frame and (frames[0].width, frames[0].height) == (1280, 720)
    assert abs(len(frames) / 15 - (segment.duration or 0)) < 1e-3
    first_part = decode(init.content + parts[0].content, tmp_path / "part.mp4")
    assert first_part[0].key_frame and len(first_part) == round(segment.parts[0].duration * 15)


async def test_blocking_reload_and_preload_hint(env: Env) -> None:
    token = env.token("buk-operator", "main")
    async with httpx.AsyncClient() as client:
        playlist = parse((await get(client, env.url("main", "index.m3u8"), token=token)).text)
        msn, part = playlist.last_part()
        t0 = time.perf_counter()
        r = await get(
            client, env.url("main", "index.m3u8"), token=token, _HLS_msn=msn, _HLS_part=part + 1
        )
        waited = time.perf_counter() - t0
        assert r.status_code == 200, r.text
        assert parse(r.text).last_part() >= (msn, part + 1) or parse(r.text).last_part()[0] > msn
        part_target = float(attributes(playlist.tags["#EXT-X-PART-INF"])["PART-TARGET"])
        assert waited < 3 * part_target + 1.0  # a part (and the frame closing it) later
        # the hinted part is answered as soon as it exists
        hinted = parse(r.text).hint
        assert hinted is not None
        got = await client.get(env.url("main", hinted))
        assert got.status_code == 200, got.text
        assert got.content[4:8] == b"moof"
        # too far ahead: 400 at once (RFC 8216bis §6.2.5.2); a part index past the end of a
        # complete segment would mean part 0 of the next one, so ask in the segment after
        now = await get(client, env.url("main", "index.m3u8"), token=token)
        msn, part = parse(now.text).last_part()
        for params in (
            {"_HLS_msn": msn + 3},
            {"_HLS_msn": msn + 1, "_HLS_part": 30},
            {"_HLS_part": 1},
            {"_HLS_msn": "x"},
        ):
            t0 = time.perf_counter()
            bad = await get(client, env.url("main", "index.m3u8"), token=token, **params)
            assert bad.status_code == 400, (params, bad.text)
            assert bad.json()["code"] == "bad_request"
            assert time.perf_counter() - t0 < 1.0
        # an old segment is answered at once with the whole playlist
        old = await get(client, env.url("main", "index.m3u8"), token=token, _HLS_msn=0)
        assert old.status_code == 200
        missing = await client.get(env.url("main", f"seg-{msn + 50}.m4s"), params={"token": token})
        assert missing.status_code == 404


async def test_every_request_needs_a_token_for_its_camera(env: Env) -> None:
    token = env.token("buk-operator", "unused")
    files = ["index.m3u8", "plain.m3u8", "init-1.mp4", "seg-0.m4s", "part-0.0.m4s"]
    async with httpx.AsyncClient() as client:
        for file in files:
            none = await client.get(env.url("main", file))
            assert none.status_code == 401, (file, none.text)
            assert none.json()["code"] == "missing"
            bad = await client.get(env.url("main", file), params={"token": "abc"})
            assert bad.status_code == 401 and bad.json()["code"] == "malformed"
            other = await client.get(env.url("main", file), params={"token": token})
            assert other.status_code == 401, other.text
            assert other.json()["code"] == "wrong_camera"
        stream = await client.get(
            f"{env.base}/api/hls/{env.cameras['unused']}/hd/index.m3u8", params={"token": token}
        )
        assert stream.status_code == 422
    # nothing was pulled for a refused request
    assert (env.cameras["unused"], "main") not in pulled(env)


async def test_revocation_refuses_requests_and_ends_blocked_ones_at_once(env: Env) -> None:
    admin = env.bearer("buk-admin")
    draft = httpx.post(
        f"{env.base}/api/agreements",
        headers=admin,
        json={
            "owner_agency_id": env.buk,
            "consumer_agency_id": env.city,
            "selector": {"camera_ids": [env.cameras["revoked"]]},
            "purposes": ["crime_prevention"],
            "capabilities": ["live"],
            "legal_basis": "개인정보 보호법 제25조, 광주광역시-북구 CCTV 연계 협약",
        },
    )
    assert draft.status_code == 201, draft.text
    agreement = draft.json()["id"]
    for step in ("propose", "accept"):
        r = httpx.post(f"{env.base}/api/agreements/{agreement}/{step}", headers=admin)
        assert r.status_code == 200, r.text
    token = env.token("city-operator", "revoked", purpose="crime_prevention")
    own = env.token("buk-operator", "revoked")
    url = env.url("revoked", "index.m3u8")
    async with httpx.AsyncClient() as client:
        first = await get(client, url, token=token)
        assert first.status_code == 200, first.text
        msn, _ = parse(first.text).last_part()
        # wait for the next segment to begin, then block on the one two after it (~2.5 s away)
        r = await get(client, url, token=token, _HLS_msn=msn + 1, _HLS_part=0)
        assert r.status_code == 200, r.text
        blocked = asyncio.create_task(get(client, url, token=token, _HLS_msn=msn + 3, _HLS_part=0))
        hinted = parse(r.text).hint
        assert hinted is not None
        await asyncio.sleep(0.3)
        assert not blocked.done()
        revoked = await client.post(
            f"{env.base}/api/agreements/{agreement}/revoke", headers=admin, json={"note": "종료"}
        )
        assert revoked.status_code == 200, revoked.text
        t0 = time.perf_counter()
        answer = await asyncio.wait_for(blocked, 5)
        elapsed = time.perf_counter() - t0
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == "revoked" and "revoked" in answer.json()["message"]
        assert elapsed < 1.0
        # every later request with that token is refused, whatever it asks for
        for file in ("index.m3u8", "plain.m3u8", "init-1.mp4", hinted.partition("?")[0]):
            later = await client.get(env.url("revoked", file), params={"token": token})
            assert later.status_code == 403, (file, later.text)
        # the owner's own token is not touched
        mine = await get(client, url, token=own)
        assert mine.status_code == 200


async def test_an_idle_stream_stops_and_releases_its_lease(env: Env) -> None:
    key = (env.cameras["idle"], "main")
    token = env.token("buk-operator", "idle")
    async with httpx.AsyncClient() as client:
        r = await get(client, env.url("idle", "plain.m3u8"), token=token)
        assert r.status_code == 200, r.text
    before = parse(r.text)
    assert key in env.hls.open_streams() and key in pulled(env)
    t0 = time.perf_counter()
    while key in pulled(env) and time.perf_counter() - t0 < IDLE + LINGER + 5:
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - t0
    assert key not in env.hls.open_streams()
    assert key not in pulled(env)
    assert elapsed >= IDLE + LINGER - 0.5  # not before the idle timeout and the linger
    assert env.hls.blocked() == 0
    # a viewer who comes back later gets a new stream whose numbers go on from the old one's
    async with httpx.AsyncClient() as client:
        again = await get(client, env.url("idle", "index.m3u8"), token=token)
    assert again.status_code == 200, again.text
    after = parse(again.text)
    assert after.segments[0].msn > before.segments[-1].msn
    dsn = "#EXT-X-DISCONTINUITY-SEQUENCE"
    assert int(after.tags[dsn]) == int(before.tags[dsn]) + 1
    assert after.segments[0].map_uri is not None and after.segments[0].map_uri.startswith("init-2")


# --- in process: H.265 and a change of parameter sets -------------------------------------------


def encode(codec: Codec, width: int, height: int, frames: int, gop: int) -> list[AccessUnit]:
    """A moving gradient encoded by PyAV (libx264 / libx265), as access units with their
    parameter sets."""
    name = {"h264": "libx264", "h265": "libx265"}[codec]
    ctx = av.CodecContext.create(name, "w")
    assert isinstance(ctx, av.VideoCodecContext)
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
    ctx.time_base = Fraction(1, 15)
    ctx.framerate = Fraction(15)
    if codec == "h264":
        ctx.options = {"preset": "ultrafast", "g": str(gop), "bf": "0", "sc_threshold": "0"}
    else:
        params = f"log-level=error:keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"
        ctx.options = {"preset": "ultrafast", "x265-params": params}
    ramp = np.add.outer(np.arange(height), np.arange(width))
    packets = []
    for i in range(frames):
        luma = ((ramp + 5 * i) % 256).astype(np.uint8)
        rgb = np.ascontiguousarray(np.stack([luma, luma[::-1], luma[:, ::-1]], axis=-1))
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        packets += ctx.encode(frame)
    packets += ctx.encode(None)
    units = [split_annexb(bytes(p)) for p in packets]
    if codec == "h264":
        kinds = {h264.nal_type(n): n for n in units[0]}
        sets = ParameterSets(sps=kinds[7], pps=kinds[8])
        return [AccessUnit(0, tuple(u), any(h264.nal_type(n) == 5 for n in u), sets) for u in units]
    kinds = {h265.nal_type(n): n for n in units[0]}
    sets = ParameterSets(vps=kinds[32], sps=kinds[33], pps=kinds[34])
    return [
        AccessUnit(0, tuple(u), any(16 <= h265.nal_type(n) <= 21 for n in u), sets) for u in units
    ]


def cut(codec: Codec, runs: list[list[AccessUnit]]) -> Segmenter:
    segmenter = Segmenter(HlsConfig())
    hub = StreamHub(1, codec=codec)
    t = 0
    for units in runs:
        for au in units:
            segmenter.feed(hub.publish(au, t), codec)
            t += TICKS // 15
    return segmenter


def test_h265_is_cut_into_hvc1_segments_that_decode(tmp_path: Path) -> None:
    units = encode("h265", 320, 240, 45, 15)
    segmenter = cut("h265", [units])
    playlist = parse(segmenter.playlist("?token=t", low_latency=True))
    check_rules(playlist, low_latency=True)
    assert playlist.tags["#EXT-X-TARGETDURATION"] == "1"
    init = segmenter.maps[1]
    assert b"hvc1" in init and b"hvcC" in init
    done = [s for s in segmenter.segments if s.complete]
    assert [len(s.parts) for s in done] == [3, 3]  # 7 + 7 + 1 frames: a part ends at a keyframe
    frames = decode(init + b"".join(s.data for s in done), tmp_path / "hevc.mp4")
    assert len(frames) == 30 and frames[0].key_frame
    assert (frames[0].width, frames[0].height) == (320, 240)


def test_new_parameter_sets_start_a_new_map_after_a_discontinuity(tmp_path: Path) -> None:
    big = list(sample_access_units()) * 2  # 1280x720, GOP 19
    small = encode("h264", 320, 240, 30, 15)
    segmenter = cut("h264", [big, small])
    text = segmenter.playlist("?token=t", low_latency=True)
    playlist = parse(text)
    check_rules(playlist, low_latency=True)
    assert playlist.tags["#EXT-X-DISCONTINUITY-SEQUENCE"] == "0"
    changed = [s for s in playlist.segments if s.discontinuity]
    assert len(changed) == 1 and changed[0].map_uri == "init-2.mp4?token=t"
    assert text.count("#EXT-X-MAP") == 2
    for segment in segmenter.segments:
        if not segment.complete:
            continue
        frames = decode(segmenter.maps[segment.map_id] + segment.data, tmp_path / "s.mp4")
        size = (1280, 720) if segment.map_id == 1 else (320, 240)
        assert frames[0].key_frame and (frames[0].width, frames[0].height) == size
