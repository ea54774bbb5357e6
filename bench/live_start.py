"""Time to first frame of a live view: Argus's start from the GOP cache against the peers' way.

    python bench/live_start.py [--runs 20] [--fps 15] [--no-browser] [--seed 7]

Starts its own API server on 127.0.0.1 (uvicorn, real sockets, an SQLite database in a
temporary folder) whose camera is a **replayed H.264 sample, not RTSP**: tests/media/replay.py
publishes the access units of a real 1280x720 sample into the stream hub at `--fps` (keyframe
every 19 frames), as the RTSP client would after depacketizing. So the figures cover the hub,
the fMP4 writer, the WebSocket and the browser, not a camera or a network.

(a) WebSocket open → first decodable fragment, with the `websockets` client (no browser): the
    GOP cache (start=keyframe, catchup=squeeze) against the peers' way (start=next_keyframe,
    catchup=none), alternating in the same run, on a camera already pulled (another viewer
    watches it). Requests land at a random phase of the GOP. Also: the first viewer of a camera
    not yet pulled (the replay has no RTSP connect, so this is the hub's share only).
(b) In Chromium (Debian's, via Playwright), the example player at /player/: request (the
    Open button) → first painted frame (requestVideoFrameCallback), WebSocket open → first
    painted frame, and how far behind live the picture is 2 s after the first frame
    (buffered end − currentTime), for both modes.

Targets (issue #4): (a) median ≤ 50 ms; (b) ≤ 500 ms, and ≤ 300 ms behind live 2 s later.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import websockets
from tests.media.live_server import serve
from tests.media.replay import SAMPLE, ReplayFactory, sample_access_units

from argus.api.app import create_app
from argus.config import Settings
from argus.db import make_engine, make_sessionmaker, upgrade
from argus.identity.access import Console
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.media.player_routes import router as player_router
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose
from argus.secretbox import load_secret_box

PASSWORD = "Gwangju-2026!"
USER = "operator"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MODES = {
    "GOP cache": {"start": "keyframe", "catchup": "squeeze"},
    "next keyframe (peers)": {"start": "next_keyframe", "catchup": "none"},
}
PLAYER_MODE = {"GOP cache": "instant", "next keyframe (peers)": "next_keyframe"}


@dataclass
class Server:
    base: str
    cameras: list[int]
    factory: ReplayFactory

    @property
    def ws(self) -> str:
        return self.base.replace("http", "ws", 1)

    def token(self, camera: int) -> str:
        with httpx.Client(base_url=self.base) as client:
            r = client.post("/api/auth/token", json={"username": USER, "password": PASSWORD})
            r.raise_for_status()
            bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}
            r = client.post(
                "/api/access/token",
                json={"camera_id": camera, "capability": "live", "purpose": "traffic"},
                headers=bearer,
            )
            r.raise_for_status()
            return str(r.json()["token"])

    def url(self, camera: int, token: str, mode: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"token": token, **MODES[mode]}.items())
        return f"{self.ws}/api/live/{camera}?{query}"


@contextmanager
def server(fps: float, cameras: int, linger: float) -> Iterator[Server]:
    """The real API server over a fresh SQLite database, every camera a replay of the sample."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", database_url=f"sqlite:///{tmp}/argus.db")
        engine = make_engine(settings.db_url)
        upgrade(engine)
        registry = Registry(make_sessionmaker(engine), load_secret_box(settings))
        factory = ReplayFactory(fps=fps)
        app = create_app(
            settings.model_copy(update={"media_linger": linger}), engine, puller_factory=factory
        )
        if not any(getattr(route, "path", None) == "/player/" for route in app.routes):
            app.include_router(player_router)
        buk = registry.create_agency(
            AgencyCreate(name="광주광역시 북구", kind=AgencyKind.DISTRICT, district="북구")
        ).id
        site = registry.create_site(SiteCreate(owner_id=buk, lat=35.174, lon=126.912))
        ids = [
            registry.create_camera(
                CameraCreate(
                    site_id=site.id,
                    purpose=Purpose.TRAFFIC_ENFORCEMENT,
                    main_stream_url=f"rtsp://127.0.0.1:8554/cameras/{n}/main",
                )
            ).id
            for n in range(cameras)
        ]
        app.state.identity.users.create_user(
            Console("bench"),
            UserCreate(username=USER, agency_id=buk, roles=[Role.OPERATOR], password=PASSWORD),
        )
        try:
            with serve(app) as base:
                yield Server(base, ids, factory)
        finally:
            engine.dispose()


# -- (a) WebSocket open → first decodable fragment, no browser -------------------------------


async def first_fragment(url: str) -> float:
    """Seconds from the WebSocket open to the first media message (after init and its segment)."""
    async with websockets.connect(url, max_queue=None, close_timeout=1) as ws:
        t0 = time.perf_counter()
        seen = 0
        while True:
            message = await asyncio.wait_for(ws.recv(), 10)
            if isinstance(message, bytes):
                seen += 1
                if seen == 2:  # the init segment, then the first fragment
                    return time.perf_counter() - t0


async def bench_socket(srv: Server, runs: int, gop: float, rng: random.Random) -> dict[str, Any]:
    camera = srv.cameras[0]
    token = srv.token(camera)
    out: dict[str, list[float]] = {mode: [] for mode in MODES}
    async with websockets.connect(srv.url(camera, token, "GOP cache"), max_queue=None) as warm:
        await warm.recv()  # the camera is pulled and stays pulled while this viewer watches
        reader = asyncio.create_task(_drain(warm))
        await asyncio.sleep(gop * 1.5)
        for _ in range(runs):
            for mode in MODES:
                await asyncio.sleep(rng.uniform(0, gop))  # land at a random phase of the GOP
                out[mode].append(await first_fragment(srv.url(camera, token, mode)))
        reader.cancel()
    # the first viewer of a camera nobody watches (each camera once, so each is cold)
    cold: list[float] = []
    for camera in srv.cameras[1:]:
        cold.append(await first_fragment(srv.url(camera, srv.token(camera), "GOP cache")))
    return {"modes": out, "cold": cold}


async def _drain(ws: websockets.ClientConnection) -> None:
    async for _ in ws:
        pass


# -- (b) Chromium, the example player ---------------------------------------------------------


def bench_chromium(srv: Server, runs: int, gop: float, rng: random.Random) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    camera = srv.cameras[0]
    out: dict[str, dict[str, list[float]]] = {
        mode: {"request": [], "open": [], "behind": [], "jumps": []} for mode in MODES
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        version = browser.version
        page = browser.new_context().new_page()
        page.goto(f"{srv.base}/player/")
        page.fill("#username", USER)
        page.fill("#password", PASSWORD)
        page.click("#signin")
        page.wait_for_selector("#open-panel", state="visible")
        page.select_option("#purpose", "traffic")
        page.fill("#camera-id", str(camera))
        page.click("details summary")
        # a warm viewer in tile 4 keeps the camera pulled, as in (a)
        page.click("#open")
        page.wait_for_function("() => window.argusStats[0]?.firstFrameAt != null")
        page.wait_for_timeout(gop * 1500)
        for _ in range(runs):
            for mode in MODES:
                page.wait_for_timeout(rng.uniform(0, gop) * 1000)
                page.select_option("#start-mode", PLAYER_MODE[mode])
                page.click("#open")
                page.wait_for_function(
                    "() => window.argusStats[1]?.firstFrameAt != null", timeout=10_000
                )
                page.wait_for_timeout(2000)
                s = page.evaluate(
                    """() => {
                        const s = window.argusStats[1];
                        const v = document.querySelectorAll('.tile video')[1];
                        const b = v.buffered;
                        return {...s, behindNow: (b.end(b.length - 1) - v.currentTime) * 1000};
                    }"""
                )
                page.locator(".tile").nth(1).get_by_role("button").click()
                out[mode]["request"].append(s["firstFrameAt"] - s["requestedAt"])
                out[mode]["open"].append(s["firstFrameAt"] - s["wsOpenAt"])
                out[mode]["behind"].append(s["behindNow"])
                out[mode]["jumps"].append(s["jumps"])
        browser.close()
    return {"modes": out, "version": version}


# -- report ---------------------------------------------------------------------------------


def ms(values: list[float], scale: float = 1.0) -> str:
    if not values:
        return "n/a"
    xs = sorted(v * scale for v in values)
    p90 = xs[min(len(xs) - 1, int(0.9 * len(xs)))]
    return f"median {statistics.median(xs):7.1f}  p90 {p90:7.1f}  max {xs[-1]:7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument("--cold", type=int, default=5, help="cameras for the cold start")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    units = sample_access_units()
    gop = len(units) / args.fps
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )
    print(
        f"camera:  replayed H.264 sample, not RTSP ({SAMPLE}, 1280x720, {args.fps:g} fps, "
        f"keyframe every {len(units)} frames = {gop:.2f} s), served by the real API server "
        "on 127.0.0.1"
    )
    print(f"runs:    {args.runs} per mode, alternating, at a random phase of the GOP\n")
    with server(args.fps, 1 + args.cold, linger=30.0) as srv:
        socket = asyncio.run(bench_socket(srv, args.runs, gop, rng))
        print("(a) WebSocket open → first decodable fragment (websockets client), ms")
        modes = socket["modes"]
        for mode, values in modes.items():
            print(f"    {mode:<22} {ms(values, 1000)}")
        ratio = statistics.median(modes["next keyframe (peers)"]) / statistics.median(
            modes["GOP cache"]
        )
        print(f"    ratio of medians (peers / GOP cache): {ratio:.1f}x")
        print(f"    first viewer of a camera not yet pulled: {ms(socket['cold'], 1000)}")
        print("    (replay puller: no RTSP connect; a real camera adds connect + first keyframe)")
        if args.no_browser:
            return
        if not CHROMIUM.exists():
            sys.exit(f"Debian's chromium is needed at {CHROMIUM}: apt-get install chromium")
        browser = bench_chromium(srv, args.runs, gop, rng)
        print(f"\n(b) Chromium {browser['version']} (headless), the player at /player/, ms")
        for mode, figures in browser["modes"].items():
            print(f"    {mode}")
            print(f"      request → first painted frame      {ms(figures['request'])}")
            print(f"      WebSocket open → first painted     {ms(figures['open'])}")
            print(f"      behind live 2 s after first frame  {ms(figures['behind'])}")
            print(f"      live-edge jumps in those 2 s       {ms(figures['jumps'])}")


if __name__ == "__main__":
    main()
