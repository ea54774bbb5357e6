"""Benchmark: ingest of many RTSP cameras (depacketize + GOP cache) beside ffmpeg -c copy.

    python bench/ingest.py [--counts 100,500,1350] [--workers 2] [--seconds 20] [--warmup 8]
                           [--ffmpeg 40]

What runs, all on 127.0.0.1 in this one run:
- the camera simulator (argus.media.simulator) in its own process, serving every camera the
  parking-enforcement way: H.264 1280x720, 1 Mbit/s, 15 fps, a keyframe every 2 s, over
  RTSP/TCP-interleaved (one shared clip, the camera id in an SEI in every frame);
- Argus ingest: --workers processes (uvloop each), cameras sharded by id, every camera pulled
  always-on by the production CameraPuller into a StreamHub (ring + GOP cache) -- the same code
  the media workers run, without the API;
- the baseline most NVRs use: one `ffmpeg -rtsp_transport tcp -i URL -c copy -f null -` process
  per camera, for --ffmpeg cameras (1,350 of them would need ~15 GB), per stream figures.
CPU is % of one core over the measured window (from /proc/PID/stat), memory is PSS
(/proc/PID/smaps_rollup). "gaps" are RTP sequence gaps summed over all cameras: must be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from mediabench import cpu_seconds, pss_bytes

# --- child: the simulator ----------------------------------------------------------------------


async def run_simulator(port: int, cache: Path) -> None:
    from argus.media.simulator import Simulator

    async with Simulator(host="127.0.0.1", port=port, cache_dir=cache, label=False) as sim:
        await sim.prepare([1], ["main"])
        print("ready", flush=True)
        await asyncio.Event().wait()


# --- child: Argus ingest -----------------------------------------------------------------------


async def run_ingest(port: int, ids: list[int], seconds: float) -> None:
    from argus.media.pulling import rtsp_puller_factory
    from argus.media.streams import StreamManager, StreamName, StreamSource

    async def lookup(camera_id: int, stream: StreamName) -> StreamSource:
        url = f"rtsp://127.0.0.1:{port}/cameras/{camera_id}/{stream}"
        return StreamSource(camera_id, stream, url)

    manager = StreamManager(lookup, rtsp_puller_factory, always_on=[(i, "main") for i in ids])
    await manager.start_always_on()
    print("ready", flush=True)
    await asyncio.sleep(seconds)
    rows = manager.snapshot()
    totals: dict[str, Any] = {
        "cameras": len(rows),
        "streaming": sum(r.get("state") == "streaming" for r in rows),
        "lost_packets": sum(r.get("lost_packets", 0) for r in rows),
        "malformed": sum(r.get("malformed_packets", 0) for r in rows),
        "reconnects": sum(r.get("reconnects", 0) for r in rows),
        "frames": sum(r.get("hub_frames", 0) for r in rows),
        "ring_bytes": sum(r.get("ring_bytes", 0) for r in rows),
        "gop_frames": sum(r.get("gop_frames", 0) for r in rows),
    }
    print(json.dumps(totals), flush=True)
    await manager.close()


# --- parent --------------------------------------------------------------------------------


def spawn(*args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        raise RuntimeError(f"child {args} did not start: {line!r}")
    return proc


def measure(pids: list[int], seconds: float) -> tuple[float, int]:
    before = {pid: cpu_seconds(pid) for pid in pids}
    start = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    cpu = sum(cpu_seconds(pid) - before[pid] for pid in pids) / elapsed * 100
    return cpu, sum(pss_bytes(pid) for pid in pids)


def bench_argus(
    port: int, count: int, workers: int, warmup: float, seconds: float, sim: int
) -> dict[str, Any]:
    ids = list(range(1, count + 1))
    shards = [[i for i in ids if i % workers == w] for w in range(workers)]
    procs = [
        spawn("--ingest", str(port), ",".join(map(str, shard)), str(warmup + seconds + 2))
        for shard in shards
        if shard
    ]
    time.sleep(warmup)
    cpu, pss = measure([p.pid for p in procs], seconds)
    sim_cpu, _ = measure([sim], 3)
    results = []
    for proc in procs:
        assert proc.stdout is not None
        results.append(json.loads(proc.stdout.readline()))
        proc.wait(30)
    total = {k: sum(r[k] for r in results) for k in results[0]}
    expected = count * 15 * (warmup + seconds + 2)
    return {
        "count": count,
        "cpu": cpu,
        "cpu_per_camera": cpu / count,
        "pss_mb": pss / 1e6,
        "pss_per_camera_kb": pss / count / 1e3,
        "simulator_cpu": sim_cpu,
        "frames_ratio": total["frames"] / expected,
        **total,
    }


def bench_ffmpeg(port: int, count: int, warmup: float, seconds: float) -> dict[str, Any]:
    procs = []
    for camera_id in range(1, count + 1):
        url = f"rtsp://127.0.0.1:{port}/cameras/{camera_id}/main"
        procs.append(
            subprocess.Popen(
                [
                    "ffmpeg",
                    "-nostdin",
                    "-loglevel",
                    "error",
                    "-rtsp_transport",
                    "tcp",
                    "-i",
                    url,
                    "-c",
                    "copy",
                    "-f",
                    "null",
                    "-",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    time.sleep(warmup)
    alive = [p for p in procs if p.poll() is None]
    cpu, pss = measure([p.pid for p in alive], seconds)
    for p in procs:
        p.send_signal(signal.SIGINT)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
    return {
        "count": count,
        "alive": len(alive),
        "cpu": cpu,
        "cpu_per_camera": cpu / max(1, len(alive)),
        "pss_mb": pss / 1e6,
        "pss_per_camera_kb": pss / max(1, len(alive)) / 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counts", default="100,500,1350")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=8)
    parser.add_argument("--ffmpeg", type=int, default=40)
    parser.add_argument("--port", type=int, default=18554)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print("command: python bench/ingest.py " + " ".join(sys.argv[1:]))
    with tempfile.TemporaryDirectory() as cache:
        sim = spawn("--simulator", str(args.port), cache)
        try:
            base = None
            if args.ffmpeg:
                base = bench_ffmpeg(args.port, args.ffmpeg, args.warmup, args.seconds)
                print(
                    f"ffmpeg -c copy, {base['alive']} processes: {base['cpu']:.1f} % "
                    f"({base['cpu_per_camera']:.3f} %/camera), PSS {base['pss_mb']:.0f} MB "
                    f"({base['pss_per_camera_kb']:.0f} kB/camera)"
                )
            for count in [int(c) for c in args.counts.split(",")]:
                r = bench_argus(args.port, count, args.workers, args.warmup, args.seconds, sim.pid)
                line = (
                    f"argus, {count} cameras, {args.workers} workers: CPU {r['cpu']:.1f} % "
                    f"({r['cpu_per_camera']:.3f} %/camera), PSS {r['pss_mb']:.0f} MB "
                    f"({r['pss_per_camera_kb']:.0f} kB/camera), "
                    f"streaming {r['streaming']}/{count}, "
                    f"sequence gaps {r['lost_packets']}, reconnects {r['reconnects']}, "
                    f"frames {r['frames_ratio'] * 100:.1f} % of expected; "
                    f"simulator {r['simulator_cpu']:.0f} %"
                )
                if base:
                    line += (
                        f"; ffmpeg per camera / argus per camera: CPU "
                        f"{base['cpu_per_camera'] / r['cpu_per_camera']:.1f}x, memory "
                        f"{base['pss_per_camera_kb'] / r['pss_per_camera_kb']:.1f}x"
                    )
                print(line, flush=True)
        finally:
            sim.terminate()
            sim.wait(10)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--simulator":
        import uvloop

        uvloop.run(run_simulator(int(sys.argv[2]), Path(sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "--ingest":
        import uvloop

        ids = [int(i) for i in sys.argv[3].split(",")]
        uvloop.run(run_ingest(int(sys.argv[2]), ids, float(sys.argv[4])))
    else:
        main()
