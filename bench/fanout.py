"""Benchmark: one camera to many WebSocket viewers, and camera → viewer latency.

    python bench/fanout.py [--viewers 1,50,200] [--seconds 15] [--warmup 5]

All real, on 127.0.0.1: the camera simulator (H.264 1280x720, 1 Mbit/s, 15 fps, 2 s GOP, the
send time in an SEI in every frame) in its own process; `argus serve --workers 0` (the API
process pulls the camera itself) in another; the viewers (websockets clients, reading every
message) in a third. The API server's CPU is measured from /proc while N viewers watch; CPU per
viewer is the increase over one viewer divided by the added viewers. Latency is the viewer's
receive time minus the send time stamped by the simulator (same machine, same clock), for
frames that arrive live (not the GOP burst at the start): it is the whole path
simulator → RTSP → depacketize → hub → fMP4 → WebSocket → client parse.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from mediabench import cpu_percent, fragment_stamps, free_port, pss_bytes, spawn_ready

PASSWORD = "Bench-mark-2026!"


def setup_database(data_dir: Path, rtsp_port: int, cameras: int) -> list[int]:
    from argus.config import Settings
    from argus.db import make_engine, make_sessionmaker
    from argus.identity.access import Console
    from argus.identity.principal import Role
    from argus.identity.schemas import UserCreate
    from argus.identity.service import IdentityService
    from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
    from argus.registry.service import Registry
    from argus.registry.vocab import AgencyKind, Purpose
    from argus.schema import ensure_schema
    from argus.secretbox import load_secret_box

    settings = Settings(data_dir=data_dir)
    engine = make_engine(settings.db_url)
    ensure_schema(engine)
    registry = Registry(make_sessionmaker(engine), load_secret_box(settings))
    agency = registry.create_agency(AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)).id
    site = registry.create_site(SiteCreate(owner_id=agency, lat=35.16, lon=126.85))
    ids = [
        registry.create_camera(
            CameraCreate(
                site_id=site.id,
                purpose=Purpose.CRIME_PREVENTION,
                main_stream_url=f"rtsp://127.0.0.1:{rtsp_port}/cameras/{n}/main",
            )
        ).id
        for n in range(1, cameras + 1)
    ]
    IdentityService.for_engine(engine).users.create_user(
        Console("bench"),
        UserCreate(username="operator", agency_id=agency, roles=[Role.OPERATOR], password=PASSWORD),
    )
    engine.dispose()
    return ids


async def first_fragment(url: str) -> float:
    """Seconds from opening the WebSocket to the first fMP4 fragment."""
    import websockets

    started = time.perf_counter()
    async with websockets.connect(url, max_queue=None, close_timeout=1) as ws:
        while True:
            message = await ws.recv()
            if isinstance(message, bytes) and message[4:8] == b"moof":
                return time.perf_counter() - started


async def viewers(url: str, count: int, seconds: float) -> dict[str, Any]:
    import websockets

    latencies: list[float] = []
    received = [0] * count

    async def one(i: int) -> None:
        async with websockets.connect(url, max_queue=None, close_timeout=1) as ws:
            first = True
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                message = await ws.recv()
                if isinstance(message, bytes):
                    now = time.time()
                    received[i] += len(message)
                    if first:  # the GOP burst: not live frames
                        first = False
                        continue
                    if i % 10 == 0:  # parse a sample of the viewers, not all: client CPU
                        for stamp in fragment_stamps(message):
                            latencies.append(now - stamp.send_time_ns / 1e9)

    await asyncio.gather(*(one(i) for i in range(count)))
    return {
        "bytes": sum(received),
        "starved": sum(1 for r in received if r == 0),
        "latency_median_ms": statistics.median(latencies) * 1000 if latencies else None,
        "latency_p95_ms": (
            statistics.quantiles(latencies, n=20)[-1] * 1000 if len(latencies) > 20 else None
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--viewers", default="1,50,200")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--cold", type=int, default=10, help="first viewers of unpulled cameras")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print("command: python bench/fanout.py " + " ".join(sys.argv[1:]))
    here = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        rtsp_port, api_port = free_port(), free_port()
        sim = spawn_ready(
            [sys.executable, str(here / "ingest.py"), "--simulator", str(rtsp_port), tmp]
        )
        cameras = setup_database(data, rtsp_port, 1 + args.cold)
        camera = cameras[0]
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
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/api/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            bearer = httpx.post(
                f"{base}/api/auth/token", json={"username": "operator", "password": PASSWORD}
            ).json()["access_token"]
            token = httpx.post(
                f"{base}/api/access/token",
                json={"camera_id": camera, "capability": "live", "purpose": "crime_prevention"},
                headers={"Authorization": f"Bearer {bearer}"},
            ).json()["token"]
            url = f"ws://127.0.0.1:{api_port}/api/live/{camera}?token={token}"
            cold = []
            for other in cameras[1:]:
                other_token = httpx.post(
                    f"{base}/api/access/token",
                    json={"camera_id": other, "capability": "live", "purpose": "crime_prevention"},
                    headers={"Authorization": f"Bearer {bearer}"},
                ).json()["token"]
                cold.append(
                    asyncio.run(
                        first_fragment(
                            f"ws://127.0.0.1:{api_port}/api/live/{other}?token={other_token}"
                        )
                    )
                )
            if cold:
                print(
                    f"first viewer of a camera not yet pulled (RTSP connect + first keyframe, "
                    f"{len(cold)} cameras): WebSocket open → first fragment median "
                    f"{statistics.median(cold) * 1000:.0f} ms, max {max(cold) * 1000:.0f} ms "
                    f"(GOP 2 s)",
                    flush=True,
                )
            baseline: float | None = None
            for count in [int(v) for v in args.viewers.split(",")]:
                client = subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--client",
                        url,
                        str(count),
                        str(args.warmup + args.seconds),
                    ],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                time.sleep(args.warmup)
                cpu = cpu_percent([server.pid], args.seconds)
                pss = pss_bytes(server.pid)
                assert client.stdout is not None
                result = json.loads(client.stdout.readline())
                client.wait(30)
                line = (
                    f"{count} viewers: API process CPU {cpu:.1f} %, PSS {pss / 1e6:.0f} MB, "
                    f"viewers starved {result['starved']}, latency camera→viewer median "
                    f"{result['latency_median_ms']:.1f} ms "
                    f"(p95 {result['latency_p95_ms'] or 0:.1f} ms)"
                )
                if baseline is None:
                    baseline = cpu
                elif count > 1:
                    line += f", CPU per added viewer {(cpu - baseline) / (count - 1):.3f} %"
                print(line, flush=True)
        finally:
            server.terminate()
            server.wait(10)
            sim.terminate()
            sim.wait(10)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        result = asyncio.run(viewers(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
        print(json.dumps(result), flush=True)
    else:
        main()
