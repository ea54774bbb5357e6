"""Benchmark: the console's map in Chromium with 10,000 cameras, beside Leaflet's own markers.

    python bench/console_map.py [--cameras 10000] [--moves 40]

What runs, all on 127.0.0.1 in this one run:
- a data folder with the Gwangju reference deployment (`argus scenario gwangju`: 8,484 cameras)
  and, to reach `--cameras`, extra cameras at the same sites (marked synthetic, named "bench");
- the real API server (uvicorn) and Debian's Chromium (Playwright), 1400x900, signed in to
  /console/ as an operator;
- "sign in → map ready": the click on Sign in until every camera is loaded and drawn;
- "move": `--moves` pans and zooms (no animation), each timed from the call to the second
  animation frame after it (the frame that shows it; two frames at 60 Hz are ~33 ms), and the
  console's own redraw of the canvas (clustering and drawing);
- baseline: the same cameras, unclustered, as Leaflet circle markers on Leaflet's canvas
  renderer (one layer per camera, the usual way), the same moves.
Medians and the ratio of the two are printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from playwright.sync_api import Page, sync_playwright
from sqlalchemy import func, select

from argus.api.app import create_app
from argus.config import Settings
from argus.db import make_engine, make_sessionmaker
from argus.identity.principal import Role
from argus.registry.models import Agency, Camera
from recorded_footage import PASSWORD, add_user, machine, serve

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MOVES = """async (count) => {
    const m = window.argusConsole.map;
    const frames = [], draws = [];
    for (let i = 0; i < count; i += 1) {
        const t0 = performance.now();
        if (i % 2) m.setZoom(11 + (i % 6), { animate: false });
        else m.panBy([120 * ((i % 4) - 1.5), 60], { animate: false });
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        frames.push(performance.now() - t0);
        draws.push(window.argusConsole.drawMs);
    }
    return { frames, draws };
}"""
BASELINE = """async (count) => {
    const m = window.argusConsole.map;
    window.argusConsole.layer.remove();
    const renderer = L.canvas();
    const group = L.layerGroup(window.argusConsole.features.map((f) => L.circleMarker(
        [f.geometry.coordinates[1], f.geometry.coordinates[0]], { radius: 6, renderer })));
    const t0 = performance.now();
    group.addTo(m);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const added = performance.now() - t0;
    const frames = [];
    for (let i = 0; i < count; i += 1) {
        const t1 = performance.now();
        if (i % 2) m.setZoom(11 + (i % 6), { animate: false });
        else m.panBy([120 * ((i % 4) - 1.5), 60], { animate: false });
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        frames.push(performance.now() - t1);
    }
    return { added, frames };
}"""


def build(data: Path, cameras: int) -> Settings:
    env = {"ARGUS_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"}
    argus = str(Path(sys.executable).with_name("argus"))
    subprocess.run([argus, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([argus, "scenario", "gwangju"], env=env, check=True, capture_output=True)
    settings = Settings(data_dir=data, media_rtsp_port=0)
    engine = make_engine(settings.db_url)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        have = int(session.scalar(select(func.count()).select_from(Camera)) or 0)
        templates = list(session.scalars(select(Camera).order_by(Camera.id).limit(cameras)))
        for n in range(max(0, cameras - have)):
            t = templates[n % len(templates)]
            session.add(
                Camera(
                    owner_id=t.owner_id,
                    site_id=t.site_id,
                    name="bench",
                    lat=t.lat + ((n % 7) - 3) * 2e-4,
                    lon=t.lon + ((n % 5) - 2) * 2e-4,
                    purpose=t.purpose,
                    synthetic=True,
                    provenance="bench/console_map.py",
                )
            )
    engine.dispose()
    return settings


def sign_in(page: Page, base: str) -> float:
    page.goto(f"{base}/console/")
    page.fill("#username", "bench-operator")
    page.fill("#password", PASSWORD)
    began = time.perf_counter()
    page.click("#signin")
    page.wait_for_selector("body[data-ready='true']", timeout=60000)
    return time.perf_counter() - began


def run(cameras: int, moves: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="argus-bench-console-", dir="/var/tmp") as tmp:
        settings = build(Path(tmp) / "data", cameras)
        app = create_app(settings)
        with app.state.registry.sessions() as session:
            city = session.scalar(select(Agency.id).order_by(Agency.id).limit(1))
        add_user(app, int(city), "bench-operator", Role.OPERATOR)
        with serve(app) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            ready = sign_in(page, base)
            count = int(page.get_attribute("#count", "data-count") or 0)
            ours = page.evaluate(MOVES, moves)
            base_line = page.evaluate(BASELINE, moves)
            browser.close()
    med = statistics.median
    result: dict[str, Any] = {
        "benchmark": "console_map",
        "machine": machine(),
        "cameras": count,
        "sign_in_to_ready_ms": round(ready * 1000),
        "move_frame_ms": round(med(ours["frames"]), 1),
        "move_frame_max_ms": round(max(ours["frames"]), 1),
        "redraw_ms": round(med(ours["draws"]), 2),
        "redraw_max_ms": round(max(ours["draws"]), 2),
        "leaflet_markers_added_ms": round(base_line["added"], 1),
        "leaflet_markers_move_frame_ms": round(med(base_line["frames"]), 1),
        "leaflet_markers_move_frame_max_ms": round(max(base_line["frames"]), 1),
    }
    result["ratio_leaflet_markers_to_console"] = round(
        result["leaflet_markers_move_frame_ms"] / result["move_frame_ms"], 2
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=10_000)
    parser.add_argument("--moves", type=int, default=40)
    args = parser.parse_args()
    r = run(args.cameras, args.moves)
    print(f"{r['cameras']:,} cameras in Chromium, {args.moves} moves:")
    print(f"  sign in → map ready                          {r['sign_in_to_ready_ms']:8} ms")
    print(
        f"  console: move → shown (2 frames)  median {r['move_frame_ms']:6.1f} ms"
        f"  max {r['move_frame_max_ms']:6.1f} ms; its redraw median {r['redraw_ms']} ms"
        f" (max {r['redraw_max_ms']})"
    )
    worst = r["leaflet_markers_move_frame_max_ms"]
    print(
        f"  Leaflet circle markers, one per camera: move median "
        f"{r['leaflet_markers_move_frame_ms']:6.1f} ms  max {worst}"
        f" ms (adding them: {r['leaflet_markers_added_ms']} ms)"
    )
    print(f"  ratio Leaflet markers / console: {r['ratio_leaflet_markers_to_console']}")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
