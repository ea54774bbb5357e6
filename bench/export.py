"""Benchmark: evidence export of a 10-minute clip, beside ffmpeg cutting the same clip.

    python bench/export.py [--clip-minutes 10] [--runs 5]

What runs, in this one run:
- footage: clip + 2 minutes of one camera (H.264 1280x720, 15 fps, 1 Mbit/s, 2 s GOP) recorded
  by the production recorder into 60 s segments (bench/recorded_footage.py);
- Argus: the export service's whole path for a clip from 1 minute in: the request (range
  checks, authorize, approval: own camera), the build (MP4 cut without re-encoding, SHA-256,
  Ed25519-signed manifest, zip), then `verify_export` on the zip as a recipient would;
- baseline: ffmpeg's concat demuxer over the same segment files, `-ss`/`-t` and `-c copy`
  into one MP4: the same cut by the usual tool (no manifest, no signature, no zip).
Medians of `--runs`, and the ratio Argus build / ffmpeg cut.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import select

from argus.evidence.manifest import load_export_key, verify_export
from argus.evidence.service import ExportService, ItemIn, RequestIn
from argus.identity.principal import Principal, Role
from argus.recording.models import Segment
from argus.recording.volumes import volumes_of
from argus.sharing.service import SharingService
from recorded_footage import machine, make_footage


def run(clip_minutes: float, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="argus-bench-export-", dir="/var/tmp") as tmp:
        footage = make_footage(Path(tmp) / "data", clip_minutes + 2)
        from argus.api.services import build_services

        services = build_services(footage.settings, footage.engine)
        sharing: SharingService = services.sharing
        exports = ExportService(footage.settings, footage.registry.sessions, sharing)
        supervisor = Principal(1, "bench-supervisor", footage.agency, frozenset({Role.SUPERVISOR}))
        start = footage.start + timedelta(minutes=1)
        end = start + timedelta(minutes=clip_minutes)
        wanted = RequestIn(
            [ItemIn(footage.camera, start, end)],
            "investigation",
            "개인정보 보호법 제18조 제2항 제7호",
            "광주북부경찰서",
            "2026-bench-1",
        )
        key = load_export_key(footage.settings).public_key()
        requested, built, verified, sizes = [], [], [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            made = exports.request(supervisor, wanted)
            t1 = time.perf_counter()
            exports.build(made["id"])
            t2 = time.perf_counter()
            ready = exports.describe(supervisor, made["id"])
            assert ready["state"] == "ready", ready
            archive = Path(footage.settings.exports_path) / f"export-{made['id']}.zip"
            verdict = verify_export(archive, key)
            t3 = time.perf_counter()
            assert verdict.ok, verdict.lines()
            requested.append(t1 - t0)
            built.append(t2 - t1)
            verified.append(t3 - t2)
            sizes.append(archive.stat().st_size)
        with footage.registry.sessions() as session:
            root = volumes_of(footage.settings)[0].root
            files = [
                root / s.path for s in session.scalars(select(Segment).order_by(Segment.start_time))
            ]
        listing = Path(tmp) / "concat.txt"
        listing.write_text("".join(f"file '{f}'\n" for f in files))
        ffmpeg = []
        for number in range(runs):
            out = Path(tmp) / f"ffmpeg-{number}.mp4"
            t0 = time.perf_counter()
            concat = ["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i"]
            cut_args = ["-ss", "60", "-t", str(clip_minutes * 60), "-c", "copy", str(out)]
            subprocess.run(
                [*concat, str(listing), *cut_args],
                check=True,
                capture_output=True,
            )
            ffmpeg.append(time.perf_counter() - t0)
    med = statistics.median
    result: dict[str, Any] = {
        "benchmark": "export",
        "machine": machine(),
        "clip_minutes": clip_minutes,
        "runs": runs,
        "zip_mib": round(med(sizes) / 2**20, 1),
        "request_ms": round(med(requested) * 1000, 1),
        "build_ms": round(med(built) * 1000, 1),
        "request_and_build_ms": round((med(requested) + med(built)) * 1000, 1),
        "verify_ms": round(med(verified) * 1000, 1),
        "ffmpeg_cut_ms": round(med(ffmpeg) * 1000, 1),
    }
    result["ratio_build_to_ffmpeg"] = round(result["build_ms"] / result["ffmpeg_cut_ms"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip-minutes", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    r = run(args.clip_minutes, args.runs)
    clip = f"a {r['clip_minutes']:g}-minute clip ({r['zip_mib']} MiB zip)"
    print(f"export of {clip}, medians of {r['runs']}:")
    print(f"  request (checks, authorize, approval)        {r['request_ms']:8.1f} ms")
    print(f"  build (cut, SHA-256, signed manifest, zip)    {r['build_ms']:8.1f} ms")
    print(f"  request + build                               {r['request_and_build_ms']:8.1f} ms")
    print(f"  verify_export of the zip                      {r['verify_ms']:8.1f} ms")
    print(f"  ffmpeg concat -ss -t -c copy (same clip)      {r['ffmpeg_cut_ms']:8.1f} ms")
    print(f"  ratio Argus build / ffmpeg cut: {r['ratio_build_to_ffmpeg']}")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
