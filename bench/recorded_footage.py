"""Recorded footage for the playback and export benchmarks, made by the production recorder.

The simulator's clip (H.264 1280x720, 15 fps, 1 Mbit/s, a keyframe every 2 s, as the
parking-enforcement cameras send) is published into a StreamHub with the camera's clock set
`minutes` into the past, and the production CameraRecorder and DiskWriter record it into
60 s segments with their index, as `argus serve` would. Also: a user with a playback token.
"""

from __future__ import annotations

import asyncio
import os
import platform
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from argus.config import Settings
from argus.db import make_engine, make_sessionmaker, upgrade
from argus.identity.access import Console
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.media.h264 import nal_type
from argus.media.hub import StreamHub
from argus.media.nal import AccessUnit, ParameterSets, split_annexb
from argus.media.simulator.clips import ClipKey, StreamSettings, encode_clip
from argus.recording.disk import DiskWriter
from argus.recording.recorder import CameraRecorder
from argus.recording.volumes import volumes_of
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose
from argus.secretbox import load_secret_box

PASSWORD = "Gwangju-2026!"
CLIP = StreamSettings(clip_seconds=20.0)  # 1280x720, 15 fps, 1 Mbit/s, 2 s GOP


@dataclass
class Footage:
    settings: Settings
    engine: Engine
    registry: Registry
    agency: int
    camera: int
    start: datetime
    end: datetime
    frames: int


def _units() -> list[AccessUnit]:
    out = []
    sps = pps = None
    for data in encode_clip(ClipKey("h264", CLIP, None)):
        nals = tuple(split_annexb(data))
        sps = next((n for n in nals if nal_type(n) == 7), sps)
        pps = next((n for n in nals if nal_type(n) == 8), pps)
        key = any(nal_type(n) == 5 for n in nals)
        out.append(AccessUnit(0, nals, key, ParameterSets(sps=sps, pps=pps)))
    return out


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _record(
    settings: Settings, engine: Engine, camera: int, start: float, count: int
) -> None:
    units = _units()
    fps = int(CLIP.fps)
    ticks = 90000 // fps
    disk = DiskWriter(make_sessionmaker(engine), sync_interval=1.0)
    disk.start()
    clock = _Clock()
    hub = StreamHub(camera, codec="h264", clock=clock)
    recorder = CameraRecorder(camera, "main", hub, disk, volumes_of(settings))
    task = asyncio.create_task(recorder.run())
    await asyncio.sleep(0)
    for i in range(count):
        clock.now = 1000.0 + i / fps
        hub.publish(units[i % len(units)], 1_000_000 + i * ticks, start + i / fps)
        if i % 8 == 0:
            await asyncio.sleep(0)
            while disk.stats.queued_bytes > 64 << 20:
                await asyncio.sleep(0.05)
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.to_thread(disk.stop)


def make_footage(directory: Path, minutes: float) -> Footage:
    """A data folder with `minutes` of one camera's recordings ending a minute ago."""
    settings = Settings(data_dir=directory, media_rtsp_port=0)
    engine = make_engine(settings.db_url)
    upgrade(engine)
    registry = Registry(make_sessionmaker(engine), load_secret_box(settings))
    city = registry.create_agency(AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)).id
    site = registry.create_site(SiteCreate(owner_id=city, lat=35.16, lon=126.85))
    camera = registry.create_camera(
        CameraCreate(site_id=site.id, purpose=Purpose.TRAFFIC_ENFORCEMENT, name="bench")
    ).id
    frames = int(minutes * 60 * CLIP.fps)
    start = float(int(time.time() - 60 - minutes * 60))
    asyncio.run(_record(settings, engine, camera, start, frames))
    began = datetime.fromtimestamp(start, UTC)
    ended = datetime.fromtimestamp(start + frames / CLIP.fps, UTC)
    return Footage(settings, engine, registry, city, camera, began, ended, frames)


def add_user(app: FastAPI, agency: int, name: str, role: Role) -> None:
    user = UserCreate(username=name, agency_id=agency, roles=[role], password=PASSWORD)
    app.state.identity.users.create_user(Console("bench"), user)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The real API server (uvicorn) on 127.0.0.1 in a thread; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def machine() -> str:
    """CPU model, core count and kernel, for the benchmark record."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Linux {platform.release()}"
