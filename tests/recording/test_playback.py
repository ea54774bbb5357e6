"""Playback end to end: recorded segments played back over the real API server (uvicorn), with
stream tokens from the real sharing API, over a real WebSocket client and as HLS VOD read by
ffprobe (an independent HLS client); what comes out is decoded by ffprobe and PyAV.

The footage: two stretches of 10 s of a real H.264 clip (15 fps, a keyframe every second, 2 s
segments) with 10 s without recording between them."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import Engine

from argus.api.app import create_app
from argus.config import Settings
from argus.identity.access import Console
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.recording.fmp4_read import scan_fragments
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose
from tests.agreements import accepted_agreement
from tests.media.live_server import serve
from tests.recording.frames import FPS, record_frames

PASSWORD = "Gwangju-2026!"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class Footage:
    base: str
    ws: str
    city: int
    buk: int
    camera: int
    a0: datetime  # first stretch: [a0, a0 + 10 s)
    b0: datetime  # second stretch: [b0, b0 + 10 s)
    app: Any

    def bearer(self, username: str) -> dict[str, str]:
        r = httpx.post(
            f"{self.base}/api/auth/token", json={"username": username, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def token(self, username: str, capability: str = "playback", purpose: str = "traffic") -> str:
        r = httpx.post(
            f"{self.base}/api/access/token",
            json={"camera_id": self.camera, "capability": capability, "purpose": purpose},
            headers=self.bearer(username),
        )
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def url(self, token: str, start: datetime, end: datetime, **params: str) -> str:
        query = {"token": token, "from": _iso(start), "until": _iso(end), **params}
        text = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{self.ws}/api/playback/{self.camera}?{text}"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def footage(settings: Settings, engine: Engine, registry: Registry) -> Iterator[Footage]:
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
    start = float(int(time.time()) - 120)
    # in a thread of its own: the Chromium tests' Playwright holds this thread's event loop
    with ThreadPoolExecutor(1) as pool:
        for wall in (start, start + 20):
            pool.submit(
                asyncio.run, record_frames(settings, engine, camera, 10 * FPS, wall)
            ).result()
    app = create_app(settings, engine)
    for name, agency, role in [
        ("buk-admin", buk, Role.AGENCY_ADMIN),
        ("buk-operator", buk, Role.OPERATOR),
        ("city-operator", city, Role.OPERATOR),
    ]:
        app.state.identity.users.create_user(
            Console("test"),
            UserCreate(username=name, agency_id=agency, roles=[role], password=PASSWORD),
        )
    a0 = datetime.fromtimestamp(start, UTC)
    with serve(app) as base:
        yield Footage(
            base, base.replace("http", "ws"), city, buk, camera, a0, a0 + timedelta(seconds=20), app
        )


def connect(url: str) -> websockets.connect:
    return websockets.connect(url, max_queue=None, close_timeout=2)


@dataclass
class Played:
    messages: list[dict[str, Any]]
    init: bytes
    fragments: list[tuple[dict[str, Any], bytes]]  # (position, fragment)


async def play_to_end(ws: websockets.ClientConnection) -> Played:
    """Everything up to the end message: text messages, the init segment, the fragments."""
    messages: list[dict[str, Any]] = []
    init = b""
    fragments: list[tuple[dict[str, Any], bytes]] = []
    position: dict[str, Any] | None = None
    while True:
        message = await asyncio.wait_for(ws.recv(), 10)
        if isinstance(message, bytes):
            if position is None:
                init = message
            else:
                fragments.append((position, message))
                position = None
            continue
        parsed = json.loads(message)
        messages.append(parsed)
        if parsed["type"] == "position":
            position = parsed
        if parsed["type"] == "end":
            return Played(messages, init, fragments)


def samples_of(fragment: bytes) -> list[tuple[int, bool, int]]:
    """(duration, is_sync, decode time) of every sample of one moof+mdat."""
    scan = scan_fragments(fragment, 0)
    assert scan.error is None and len(scan.fragments) == 1
    return [(s.duration, s.is_sync, s.decode_time) for s in scan.fragments[0].samples]


def ffprobe(*args: str) -> str:
    """ffprobe's standard output (an independent reader of the MP4 and HLS we serve)."""
    probe = subprocess.run(
        ["ffprobe", "-v", "error", *args], capture_output=True, text=True, timeout=60
    )
    assert probe.returncode == 0, probe.stderr
    return probe.stdout


def decoded_frames(tmp_path: Path, played: Played) -> int:
    path = tmp_path / "played.mp4"
    path.write_bytes(played.init + b"".join(data for _, data in played.fragments))
    out = ffprobe(
        "-count_frames",
        "-select_streams",
        "v",
        "-show_entries",
        "stream=nb_read_frames",
        "-of",
        "json",
        str(path),
    )
    return int(json.loads(out)["streams"][0]["nb_read_frames"])


async def test_plays_a_range_from_the_keyframe_before_it_at_normal_speed(
    footage: Footage, tmp_path: Path
) -> None:
    token = footage.token("buk-operator")
    start = footage.a0 + timedelta(seconds=2.5)
    end = footage.a0 + timedelta(seconds=5.5)
    async with connect(footage.url(token, start, end)) as ws:
        played = await play_to_end(ws)
    first = played.messages[0]
    assert first["type"] == "range" and first["gaps"] == []
    init = next(m for m in played.messages if m["type"] == "init")
    assert init["mime"].startswith('video/mp4; codecs="avc1.') and init["width"] == 320
    # GOPs at 2, 3, 4 and 5 s: the first starts at the keyframe before `from`
    walls = [datetime.fromisoformat(p["wall"]) for p, _ in played.fragments]
    assert [round((w - footage.a0).total_seconds(), 3) for w in walls] == [2, 3, 4, 5]
    samples = [s for _, data in played.fragments for s in samples_of(data)]
    assert len(samples) == 3 * FPS + 8  # whole GOPs at 2, 3, 4 and 5.0 … 5.467 s
    assert {d for d, _, _ in samples} == {90000 // FPS}
    assert [sync for _, sync, _ in samples].count(True) == 4
    # one continuous output timeline from 0
    times = [t for _, _, t in samples]
    assert times[0] == 0 and times == sorted(times)
    assert decoded_frames(tmp_path, played) == len(samples)


@pytest.mark.parametrize(("speed", "keyframes_only"), [(2, False), (8, True)])
async def test_speeds_scale_time_and_send_only_keyframes_from_x4(
    footage: Footage, speed: int, keyframes_only: bool, tmp_path: Path
) -> None:
    token = footage.token("buk-operator")
    end = footage.b0 + timedelta(seconds=10)
    async with connect(footage.url(token, footage.a0, end, speed=str(speed))) as ws:
        played = await play_to_end(ws)
    samples = [s for _, data in played.fragments for s in samples_of(data)]
    if keyframes_only:
        assert len(samples) == 20 and all(sync for _, sync, _ in samples)
        assert {d for d, _, _ in samples} == {90000 // speed}  # a keyframe lasts its GOP
    else:
        assert len(samples) == 20 * FPS
        assert {d for d, _, _ in samples} == {90000 // FPS // speed}
    # the 10 s without recordings is reported where the output timeline jumps over it
    gaps = [m for m in played.messages if m["type"] == "gap"]
    assert len(gaps) == 1
    gap_from = datetime.fromisoformat(gaps[0]["from"]) - footage.a0
    gap_until = datetime.fromisoformat(gaps[0]["until"]) - footage.a0
    assert abs(gap_from.total_seconds() - 10) < 0.01 and abs(gap_until.total_seconds() - 20) < 0.01
    assert abs(gaps[0]["media_time"] - 10 / speed) < 0.01
    rng = played.messages[0]
    assert [(g["from"], g["until"]) for g in rng["gaps"]] == [(gaps[0]["from"], gaps[0]["until"])]
    assert decoded_frames(tmp_path, played) == len(samples)


async def test_seek_continues_the_timeline_from_the_keyframe_before_the_target(
    footage: Footage,
) -> None:
    token = footage.token("buk-operator")
    end = footage.b0 + timedelta(seconds=10)
    async with connect(footage.url(token, footage.a0, end)) as ws:
        received: list[dict[str, Any]] = []
        while len([m for m in received if m["type"] == "position"]) < 2:
            message = await asyncio.wait_for(ws.recv(), 5)
            if isinstance(message, str):
                received.append(json.loads(message))
        await ws.send(json.dumps({"type": "seek", "to": "2020-01-01T00:00:00Z"}))
        target = footage.b0 + timedelta(seconds=4.5)
        t0 = time.perf_counter()
        await ws.send(json.dumps({"type": "seek", "to": _iso(target), "speed": 2}))
        error = seeked = position = None
        last_before = 0.0
        while position is None:
            message = await asyncio.wait_for(ws.recv(), 5)
            if isinstance(message, bytes):
                continue
            parsed = json.loads(message)
            if parsed["type"] == "error":
                error = parsed
            elif parsed["type"] == "seeked":
                seeked = parsed
            elif parsed["type"] == "position" and seeked is None:
                last_before = parsed["media_time"]
            elif parsed["type"] == "position":
                position = parsed
        latency = time.perf_counter() - t0
    assert error is not None and "outside the range" in error["message"]
    assert seeked is not None and seeked["speed"] == 2
    assert datetime.fromisoformat(position["wall"]) == footage.b0 + timedelta(seconds=4)
    # the timeline never goes back; the target is half a second (at ×2: 0.25 s) into the GOP
    assert position["media_time"] > last_before
    assert abs(seeked["media_time"] - (position["media_time"] + 0.25)) < 0.01
    assert latency < 5.0  # its speed is measured in bench/playback.py


async def test_bad_ranges_and_tokens_are_refused_with_the_reason(footage: Footage) -> None:
    token = footage.token("buk-operator")
    now = datetime.now(UTC)
    cases = [
        (footage.url(token, now - timedelta(minutes=1), now + timedelta(minutes=5)), "future"),
        (footage.url(token, footage.b0, footage.a0), "must be after from"),
        (
            footage.url(token, now - timedelta(days=40), now - timedelta(days=39)),
            "retention of 30 days",
        ),
        (footage.url(token, footage.a0, footage.b0, speed="3"), "speed"),
        (footage.url(token, footage.a0, footage.b0).replace("Z&until", "&until"), "offset"),
    ]
    for url, reason in cases:
        async with connect(url) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None, url
        assert closed.value.rcvd.code == 4400, (url, closed.value.rcvd)
        assert reason in closed.value.rcvd.reason, (reason, closed.value.rcvd.reason)
    live = footage.token("buk-operator", capability="live")
    for bad in (live, ""):
        async with connect(footage.url(bad, footage.a0, footage.b0)) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_a_user_without_an_agreement_gets_no_playback_token(footage: Footage) -> None:
    r = httpx.post(
        f"{footage.base}/api/access/token",
        json={"camera_id": footage.camera, "capability": "playback", "purpose": "crime_prevention"},
        headers=footage.bearer("city-operator"),
    )
    assert r.status_code == 403 and "agreement" in r.json()["message"]


async def test_revoking_the_agreement_stops_playback_within_a_second(footage: Footage) -> None:
    admin = footage.bearer("buk-admin")
    agreement = accepted_agreement(
        footage.base,
        admin,
        footage.buk,
        footage.city,
        ["crime_prevention"],
        ["playback"],
        "개인정보 보호법 제25조, 광주광역시-북구 CCTV 연계 협약",
    )
    token = footage.token("city-operator", purpose="crime_prevention")
    end = footage.b0 + timedelta(seconds=10)
    async with connect(footage.url(token, footage.a0, end)) as ws:
        while not isinstance(await asyncio.wait_for(ws.recv(), 5), bytes):
            pass
        revoked = httpx.post(
            f"{footage.base}/api/agreements/{agreement}/revoke",
            headers=admin,
            json={"note": "종료"},
        )
        assert revoked.status_code == 200
        t0 = time.perf_counter()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        elapsed = time.perf_counter() - t0
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    assert "revoked" in closed.value.rcvd.reason and elapsed < 1.0


def test_timeline_lists_recorded_spans_and_gaps(footage: Footage) -> None:
    token = footage.token("buk-operator")
    start = footage.a0 - timedelta(seconds=5)
    end = footage.b0 + timedelta(seconds=15)
    r = httpx.get(
        f"{footage.base}/api/playback/{footage.camera}/timeline",
        params={"token": token, "from": _iso(start), "until": _iso(end)},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["recorded_seconds"] == pytest.approx(20, abs=0.01)
    spans = [(datetime.fromisoformat(g["from"]) - footage.a0).total_seconds() for g in body["gaps"]]
    assert spans == pytest.approx([-5, 10, 30], abs=0.01)
    assert len(body["segments"]) == 10
    refused = httpx.get(
        f"{footage.base}/api/playback/{footage.camera}/timeline",
        params={
            "token": footage.token("buk-operator", "live"),
            "from": _iso(start),
            "until": _iso(end),
        },
    )
    assert refused.status_code == 401


def test_hls_vod_plays_every_frame_in_ffprobe_with_the_gap_marked(footage: Footage) -> None:
    token = footage.token("buk-operator")
    end = footage.b0 + timedelta(seconds=10)
    query = f"token={token}&from={_iso(footage.a0)}&until={_iso(end)}"
    url = f"{footage.base}/api/playback/{footage.camera}/index.m3u8?{query}"
    playlist = httpx.get(url)
    assert playlist.status_code == 200, playlist.text
    text = playlist.text
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and text.rstrip().endswith("#EXT-X-ENDLIST")
    # one timeline over back-to-back files; the 10 s without recordings is a discontinuity
    assert text.count("#EXT-X-DISCONTINUITY") == 1 and text.count("#EXT-X-MAP") == 10
    assert text.count("#EXTINF:1.000,") == 20
    out = ffprobe(
        "-count_frames",
        "-select_streams",
        "v",
        "-show_entries",
        "stream=nb_read_frames,codec_name",
        "-of",
        "json",
        url,
    )
    stream = json.loads(out)["streams"][0]
    assert stream["codec_name"] == "h264" and int(stream["nb_read_frames"]) == 20 * FPS
    packets = ffprobe(
        "-select_streams", "v", "-show_entries", "packet=pts_time", "-of", "csv=p=0", url
    ).split()
    times = [float(t) for t in packets]
    steps = [round(b - a, 3) for a, b in itertools.pairwise(times)]
    # wall-clock time: frame steps of 1/15 s, and one jump over the 10 s gap
    assert len(times) == 20 * FPS and sorted(set(steps)) == [round(1 / FPS, 3), 10.067]
    # a byte range of a recorded file, and a range past its end
    line = next(x for x in text.splitlines() if x.startswith("#EXT-X-BYTERANGE"))
    size, offset = (int(v) for v in line.split(":")[1].split("@"))
    uri = next(x for x in text.splitlines() if x.startswith("rec/"))
    file_url = f"{footage.base}/api/playback/{footage.camera}/{uri}"
    part = httpx.get(file_url, headers={"Range": f"bytes={offset}-{offset + size - 1}"})
    assert part.status_code == 206 and len(part.content) == size
    assert part.content[4:8] == b"moof"
    whole = httpx.get(file_url)
    assert whole.status_code == 200 and whole.content[offset : offset + size] == part.content
    beyond = httpx.get(file_url, headers={"Range": f"bytes={len(whole.content) + 10}-"})
    assert beyond.status_code == 416
    no_token = httpx.get(file_url.split("?")[0])
    assert no_token.status_code in (401, 422)
