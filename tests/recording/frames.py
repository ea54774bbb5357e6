"""Real H.264 frames for recording tests: a small clip encoded with PyAV (1 s GOP, 15 fps)."""

from __future__ import annotations

import asyncio
from functools import cache

from sqlalchemy import Engine, select

from argus.config import Settings
from argus.db import make_sessionmaker
from argus.media.h264 import nal_type
from argus.media.hub import StreamHub
from argus.media.nal import AccessUnit, ParameterSets, split_annexb
from argus.media.simulator.clips import ClipKey, StreamSettings, encode_clip
from argus.recording.disk import DiskWriter
from argus.recording.index import SegmentInfo
from argus.recording.models import Segment
from argus.recording.recorder import CameraRecorder
from argus.recording.volumes import volumes_of

FPS = 15
TICKS = 90000 // FPS
CLIP = StreamSettings(
    width=320, height=180, fps=FPS, bitrate=150_000, gop_seconds=1.0, clip_seconds=4.0
)


@cache
def clip_units() -> tuple[AccessUnit, ...]:
    out = []
    for data in encode_clip(ClipKey("h264", CLIP, None)):
        nals = tuple(split_annexb(data))
        sps = (
            next(n for n in nals if nal_type(n) == 7)
            if any(nal_type(n) == 7 for n in nals)
            else None
        )
        pps = next((n for n in nals if nal_type(n) == 8), None)
        out.append((nals, sps, pps))
    first_sps = next(s for _, s, _ in out if s)
    first_pps = next(p for _, _, p in out if p)
    ps = ParameterSets(sps=first_sps, pps=first_pps)
    return tuple(AccessUnit(0, nals, any(nal_type(n) == 5 for n in nals), ps) for nals, _, _ in out)


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def publish(
    hub: StreamHub,
    count: int,
    start_index: int = 0,
    wall_start: float | None = None,
    clock: FakeClock | None = None,
) -> int:
    """Publish ``count`` frames of the looped clip; returns the next index."""
    units = clip_units()
    for i in range(start_index, start_index + count):
        if clock is not None:
            clock.now = 1000.0 + i / FPS
        wall = None if wall_start is None else wall_start + i / FPS
        hub.publish(units[i % len(units)], 1_000_000 + i * TICKS, wall)
    return start_index + count


async def record_frames(
    settings: Settings,
    engine: Engine,
    camera_id: int,
    frames: int,
    wall_start: float,
    segment_seconds: float = 2.0,
    part_seconds: float = 0.5,
) -> list[SegmentInfo]:
    """Record ``frames`` frames of the clip for a camera whose clock starts at ``wall_start``;
    returns the camera's segments, oldest first."""
    sessions = make_sessionmaker(engine)
    disk = DiskWriter(sessions, sync_interval=0.05)
    disk.start()
    clock = FakeClock()
    hub = StreamHub(camera_id, codec="h264", clock=clock)
    recorder = CameraRecorder(
        camera_id,
        "main",
        hub,
        disk,
        volumes_of(settings),
        segment_seconds=segment_seconds,
        part_seconds=part_seconds,
    )
    task = asyncio.create_task(recorder.run())
    await asyncio.sleep(0)
    for i in range(frames):
        publish(hub, 1, i, wall_start, clock)
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.to_thread(disk.stop)
    with sessions() as session:
        rows = session.scalars(
            select(Segment).where(Segment.camera_id == camera_id).order_by(Segment.start_time)
        ).all()
        return [SegmentInfo.of(r) for r in rows]
