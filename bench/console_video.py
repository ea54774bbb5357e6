"""Benchmark: video in the console, in Chromium: click on a camera → first painted frame, and a
16-tile wall of live 720p cameras (CPU of the machine's parts).

    python bench/console_video.py [--runs 12] [--seconds 20]

What runs, all on 127.0.0.1 in this one run:
- the camera simulator (bench/ingest.py's child: H.264 1280x720, 1 Mbit/s, 15 fps, a keyframe
  every 2 s, over RTSP/TCP) in its own process;
- `argus serve --workers 0` (the API process pulls the cameras itself) over an SQLite database;
- Debian's Chromium (Playwright), headless, software decoding, signed in to /console/.
(a) "click → first painted frame": the camera panel's Watch live button until the tile's first
    requestVideoFrameCallback; for cameras nobody watches yet (the RTSP pull starts with the
    click: connect, DESCRIBE, SETUP, PLAY, the simulator's first keyframe) and for cameras
    already pulled (another tile shows them: the view starts from the GOP cache).
(b) "16-tile wall": 16 cameras on the wall, all playing; CPU % of one core of Chromium (all its
    processes), of the server and of the simulator over `--seconds`, and the frames Chromium
    painted and dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from playwright.sync_api import Page, sync_playwright

from fanout import PASSWORD, setup_database
from mediabench import cpu_seconds, free_port, spawn_ready
from recorded_footage import machine

CHROMIUM = "/usr/bin/chromium"
FRAMES = """() => [...document.querySelectorAll('#wall video')]
    .map((v) => v.getVideoPlaybackQuality())
    .reduce((a, q) => [a[0] + q.totalVideoFrames, a[1] + q.droppedVideoFrames], [0, 0])"""
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def descendants(pid: int) -> list[int]:
    """The process and all its children, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            total += cpu_seconds(pid)
    return total


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/console/")
    page.fill("#username", "operator")
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_selector("body[data-ready='true']", timeout=60000)


def click_to_frame(page: Page, camera: int) -> float:
    page.fill("#search", f"#{camera}")
    page.click("#search-form button")
    page.click(".leaflet-popup-content .popup-open")
    page.select_option("#purpose", "crime_prevention")
    page.click("#open-live")
    page.wait_for_function(
        "() => window.argusStats[0] && window.argusStats[0].firstFrameAt !== null", timeout=20000
    )
    stats = page.evaluate("() => window.argusStats[0]")
    return float(stats["firstFrameAt"] - stats["requestedAt"])


def run(runs: int, seconds: float) -> dict[str, Any]:
    here = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory(prefix="argus-bench-console-video-", dir="/var/tmp") as tmp:
        data = Path(tmp) / "data"
        rtsp_port, api_port = free_port(), free_port()
        sim = spawn_ready(
            [sys.executable, str(here / "ingest.py"), "--simulator", str(rtsp_port), tmp]
        )
        cameras = setup_database(data, rtsp_port, 16 + runs)
        env = {**os.environ, "ARGUS_DATA_DIR": str(data)}
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from argus.cli import main; main()",
                "serve",
                "--workers",
                "0",
                "--bind",
                f"127.0.0.1:{api_port}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{api_port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/api/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=ARGS
                )
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                sign_in(page, base)
                # (a) cold: cameras nobody watches; warm: the wall shows them already
                cold = [click_to_frame(page, c) for c in cameras[16 : 16 + runs]]
                wall = cameras[:16]
                bearer = page.evaluate("() => ArgusLive.bearer()")
                httpx.put(
                    f"{base}/api/console/wall",
                    json={"size": 16, "tiles": wall},
                    headers={"Authorization": f"Bearer {bearer}"},
                ).raise_for_status()
                page.click("#nav button[data-view='wall']")
                page.wait_for_function(
                    "() => [...Array(16).keys()].every((i) => window.argusStats[100 + i]"
                    " && window.argusStats[100 + i].firstFrameAt !== null)",
                    timeout=60000,
                )
                time.sleep(3)
                chromium = [
                    p
                    for p in descendants(os.getpid())
                    if "chrom" in Path(f"/proc/{p}/comm").read_text(errors="ignore")
                ]
                groups = {
                    "chromium": chromium,
                    "server": descendants(server.pid),
                    "simulator": [sim.pid],
                }
                before = {k: cpu(v) for k, v in groups.items()}
                frames_before = page.evaluate(FRAMES)
                t0 = time.monotonic()
                time.sleep(seconds)
                elapsed = time.monotonic() - t0
                usage = {
                    k: round((cpu(v) - before[k]) / elapsed * 100, 1) for k, v in groups.items()
                }
                frames_after = page.evaluate(FRAMES)
                page.click("#nav button[data-view='map']")
                warm = [click_to_frame(page, c) for c in wall[:runs]]
                browser.close()
        finally:
            server.terminate()
            sim.terminate()
            server.wait(10)
            sim.wait(10)
    painted = (frames_after[0] - frames_before[0]) / elapsed
    dropped = (frames_after[1] - frames_before[1]) / elapsed
    return {
        "benchmark": "console_video",
        "machine": machine(),
        "click_to_frame_cold_ms": {
            "median": round(statistics.median(cold)),
            "max": round(max(cold)),
            "n": len(cold),
        },
        "click_to_frame_warm_ms": {
            "median": round(statistics.median(warm)),
            "max": round(max(warm)),
            "n": len(warm),
        },
        "wall_tiles": 16,
        "wall_cpu_percent_of_one_core": usage,
        "wall_frames_painted_per_s": round(painted, 1),
        "wall_frames_dropped_per_s": round(dropped, 1),
        "wall_expected_frames_per_s": 16 * 15,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    r = run(args.runs, args.seconds)
    cold, warm = r["click_to_frame_cold_ms"], r["click_to_frame_warm_ms"]
    for name, row in (("not yet pulled", cold), ("already pulled", warm)):
        print(
            f"click → first painted frame, camera {name}: median {row['median']} ms,"
            f" max {row['max']} ms (n={row['n']})"
        )
    print(f"16-tile wall of 720p cameras, CPU % of one core: {r['wall_cpu_percent_of_one_core']}")
    print(
        f"  frames painted {r['wall_frames_painted_per_s']}/s of"
        f" {r['wall_expected_frames_per_s']}/s, dropped {r['wall_frames_dropped_per_s']}/s"
    )
    print(json.dumps(r))


if __name__ == "__main__":
    main()
