"""Benchmark: seeking in recorded footage, request → first frame, beside ffmpeg's own seek.

    python bench/playback.py [--minutes 15] [--seeks 40]

What runs, all on 127.0.0.1 in this one run:
- footage: `--minutes` of one camera (H.264 1280x720, 15 fps, 1 Mbit/s, 2 s GOP) recorded by
  the production recorder into 60 s segments (bench/recorded_footage.py);
- the real API server (uvicorn) and a WebSocket client with a playback token from the API;
- "open": a new playback WebSocket at a random moment: connect → first fragment (decodable:
  it starts at the keyframe at or before the moment);
- "seek": one open playback, `{type: seek}` to random moments: message → first fragment;
- "hls": ffmpeg (an independent client) opening the HLS VOD playlist of the whole footage at
  a random moment (`-ss`): process start → its first frame copied;
- baseline "ffmpeg file": `ffmpeg -ss T -i <the segment file> -frames:v 1 -c copy` on the
  recorded file itself: what a seek costs a tool reading the disk directly.
Medians, 90th percentiles and the ratio Argus seek / ffmpeg file seek are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
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

import httpx
import websockets
from sqlalchemy import select

from argus.api.app import create_app
from argus.identity.principal import Role
from argus.recording.models import Segment
from argus.recording.volumes import volumes_of
from recorded_footage import PASSWORD, Footage, add_user, machine, make_footage, serve


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1] * 1000, 1),
        "n": len(ordered),
    }


def _iso(footage: Footage, seconds: float) -> str:
    """The moment `seconds` into the footage, as ISO 8601 UTC ("Z": no "+" to escape)."""
    return (footage.start + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


async def _first_fragment(ws: websockets.ClientConnection, after: str | None) -> None:
    """Read until the first fragment (a binary message after a position; after `after`)."""
    armed = after is None
    position = False
    while True:
        message = await asyncio.wait_for(ws.recv(), 10)
        if isinstance(message, str):
            kind = json.loads(message)["type"]
            if kind == after:
                armed = True
            position = armed and kind == "position"
        elif position:
            return


async def _opens(
    url: str, footage: Footage, token: str, count: int, rng: random.Random
) -> list[float]:
    total = (footage.end - footage.start).total_seconds()
    out = []
    for _ in range(count):
        at = rng.uniform(0, total - 5)
        query = f"token={token}&from={_iso(footage, 0)}&until={_iso(footage, total)}"
        query += f"&at={_iso(footage, at)}"
        began = time.perf_counter()
        async with websockets.connect(f"{url}?{query}", max_queue=None) as ws:
            await _first_fragment(ws, None)
            out.append(time.perf_counter() - began)
    return out


async def _seeks(
    url: str, footage: Footage, token: str, count: int, rng: random.Random
) -> list[float]:
    total = (footage.end - footage.start).total_seconds()
    query = f"token={token}&from={_iso(footage, 0)}&until={_iso(footage, total)}"
    out = []
    async with websockets.connect(f"{url}?{query}", max_queue=None) as ws:
        await _first_fragment(ws, None)
        for _ in range(count):
            at = rng.uniform(0, total - 5)
            began = time.perf_counter()
            await ws.send(json.dumps({"type": "seek", "to": _iso(footage, at)}))
            await _first_fragment(ws, "seeked")
            out.append(time.perf_counter() - began)
    return out


def _ffmpeg(args: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(
        ["ffmpeg", "-v", "error", *args, "-frames:v", "1", "-c", "copy", "-f", "null", "-"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - began


def run(minutes: float, seeks: int) -> dict[str, Any]:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="argus-bench-playback-", dir="/var/tmp") as tmp:
        made = time.perf_counter()
        footage = make_footage(Path(tmp), minutes)
        made = time.perf_counter() - made
        app = create_app(footage.settings, footage.engine)
        add_user(app, footage.agency, "bench-operator", Role.OPERATOR)
        with footage.registry.sessions() as session:
            files = [
                (volumes_of(footage.settings)[0].root / s.path, s.end_time - s.start_time)
                for s in session.scalars(select(Segment).order_by(Segment.start_time))
            ]
        with serve(app) as base:
            bearer = httpx.post(
                f"{base}/api/auth/token", json={"username": "bench-operator", "password": PASSWORD}
            ).json()["access_token"]
            token = httpx.post(
                f"{base}/api/access/token",
                json={
                    "camera_id": footage.camera,
                    "capability": "playback",
                    "purpose": "crime_prevention",
                },
                headers={"Authorization": f"Bearer {bearer}"},
            ).json()["token"]
            url = f"{base.replace('http', 'ws')}/api/playback/{footage.camera}"
            opens = asyncio.run(_opens(url, footage, token, seeks, rng))
            in_session = asyncio.run(_seeks(url, footage, token, seeks, rng))
            total = (footage.end - footage.start).total_seconds()
            playlist = (
                f"{base}/api/playback/{footage.camera}/index.m3u8?token={token}"
                f"&from={_iso(footage, 0)}&until={_iso(footage, total)}"
            )
            hls = [
                _ffmpeg(["-ss", f"{rng.uniform(0, total - 5):.3f}", "-i", playlist])
                for _ in range(min(seeks, 15))
            ]
        local = []
        for _ in range(seeks):
            path, length = rng.choice(files)
            local.append(
                _ffmpeg(
                    ["-ss", f"{rng.uniform(0, length.total_seconds() - 3):.3f}", "-i", str(path)]
                )
            )
    result: dict[str, Any] = {
        "benchmark": "playback",
        "machine": machine(),
        "footage_minutes": minutes,
        "segments": len(files),
        "recording_seconds": round(made, 1),
        "open": _ms(opens),
        "seek": _ms(in_session),
        "hls_ffmpeg": _ms(hls),
        "ffmpeg_file": _ms(local),
    }
    result["ratio_seek_to_ffmpeg_file"] = round(
        result["seek"]["median_ms"] / result["ffmpeg_file"]["median_ms"], 2
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--seeks", type=int, default=40)
    args = parser.parse_args()
    result = run(args.minutes, args.seeks)
    print(f"footage: {args.minutes:g} min in {result['segments']} segments")
    for key, label in [
        ("open", "Argus: open playback at a moment → first fragment"),
        ("seek", "Argus: seek in an open playback → first fragment"),
        ("hls_ffmpeg", "ffmpeg -ss on Argus HLS VOD → first frame (incl. process start)"),
        ("ffmpeg_file", "ffmpeg -ss on the segment file → first frame (incl. process start)"),
    ]:
        row = result[key]
        figures = f"median {row['median_ms']:7.1f} ms  p90 {row['p90_ms']:7.1f} ms"
        print(f"{label:72} {figures}  n={row['n']}")
    print(f"ratio Argus seek / ffmpeg file seek: {result['ratio_seek_to_ffmpeg_file']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
