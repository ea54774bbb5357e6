"""The recorder: hub frames become keyframe-aligned fMP4 segments whose index matches the disk."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import subprocess
import time
from pathlib import Path

from sqlalchemy import select

from argus.db import make_sessionmaker
from argus.media.hub import StreamHub
from argus.recording.disk import DiskWriter
from argus.recording.fmp4_read import parse_init, scan_fragments
from argus.recording.index import SegmentInfo, gaps_in, recorded_spans, segments_between
from argus.recording.models import Segment
from argus.recording.recorder import CameraRecorder
from argus.recording.volumes import volumes_of
from tests.recording.frames import FPS, FakeClock, clip_units, publish, record_frames

WALL0 = 1_780_000_000.0  # 2026-05-28, a fixed camera clock


async def test_segments_are_keyframe_aligned_and_match_the_index(settings, engine):
    segments = await record_frames(
        settings, engine, 7, 150, WALL0
    )  # 10 s at 15 fps, a keyframe every second
    root = volumes_of(settings)[0].root
    assert [s.state for s in segments] == ["closed"] * 5
    assert sum(s.frames for s in segments) == 150
    # 2 s segments, back to back on the camera's clock
    for one, two in itertools.pairwise(segments):
        assert abs((two.start - one.end).total_seconds()) < 0.002
        assert abs((one.end - one.start).total_seconds() - 2.0) < 0.002
    assert segments[0].start.timestamp() == WALL0
    for seg in segments:
        path = root / seg.path
        data = path.read_bytes()
        assert len(data) == seg.bytes
        assert hashlib.sha256(data).hexdigest() == seg.sha256
        init = parse_init(data)
        scan = scan_fragments(data, init.size)
        assert scan.error is None and scan.trailing == 0
        assert sum(len(f.samples) for f in scan.fragments) == seg.frames == 30
        # parts of at most half a second, a new fragment at every keyframe
        assert all(f.duration <= 0.5 * 90000 for f in scan.fragments)
        syncs = {f.offset: f for f in scan.fragments if f.starts_with_sync}
        assert [k[1] for k in seg.keyframes] == sorted(syncs)
        assert [k[0] for k in seg.keyframes] == [0, 1000]
        assert seg.path.startswith("7/2026-05-28/7-20260528T")
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", path],
            capture_output=True,
            text=True,
            check=True,
        )
        stream = json.loads(probe.stdout)["streams"][0]
        assert stream["codec_name"] == "h264" and int(stream["nb_read_frames"]) == 30
        assert (stream["width"], stream["height"]) == (320, 180)


async def test_the_timeline_reports_recorded_spans_and_gaps(settings, engine):
    segments = await record_frames(settings, engine, 7, 90, WALL0)
    with make_sessionmaker(engine)() as session:
        found = segments_between(session, 7, segments[0].start, segments[-1].end)
    assert [s.id for s in found] == [s.id for s in segments]
    start, end = segments[0].start, segments[-1].end
    spans = recorded_spans(found, start, end)
    assert len(spans) == 1 and spans[0].start == start and spans[0].end == end
    # a range that starts before the recording and ends after it shows both gaps
    from datetime import timedelta

    wide = gaps_in(spans, start - timedelta(seconds=5), end + timedelta(seconds=3))
    assert [(g.end - g.start).total_seconds() for g in wide] == [5.0, 3.0]
    # without the middle segment, the timeline has a gap where it was
    spans = recorded_spans([found[0], found[2]], start, end)
    gaps = gaps_in(spans, start, end)
    assert len(gaps) == 1 and gaps[0].start == found[0].end and gaps[0].end == found[2].start


async def test_a_stalled_disk_never_slows_ingest_or_viewers(settings, engine):
    """Invariant 6 for recording: the disk thread is never started, its queue fills up."""
    sessions = make_sessionmaker(engine)
    disk = DiskWriter(sessions, max_queued=64 * 1024)
    clock = FakeClock()
    hub = StreamHub(8, codec="h264", clock=clock)
    recorder = CameraRecorder(8, "main", hub, disk, volumes_of(settings), part_seconds=0.5)
    task = asyncio.create_task(recorder.run())
    viewer = hub.subscribe("viewer")
    await asyncio.sleep(0)
    seen = 0
    slowest = 0.0
    for i in range(300):
        began = time.perf_counter()
        publish(hub, 1, i, WALL0, clock)
        slowest = max(slowest, time.perf_counter() - began)
        await asyncio.sleep(0)
        seen += len(viewer.take())
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert seen == 300  # the viewer got every frame
    assert slowest < 0.01
    assert recorder.stats.dropped_parts > 0 and recorder.stats.failures > 0
    assert disk.stats.refused_parts > 0
    assert disk.stats.queued_bytes <= 64 * 1024


async def test_a_changed_picture_format_starts_a_new_segment(settings, engine, tmp_path: Path):
    sessions = make_sessionmaker(engine)
    disk = DiskWriter(sessions, sync_interval=0.05)
    disk.start()
    clock = FakeClock()
    hub = StreamHub(9, codec="h264", clock=clock)
    recorder = CameraRecorder(9, "main", hub, disk, volumes_of(settings), segment_seconds=60)
    task = asyncio.create_task(recorder.run())
    await asyncio.sleep(0)
    for i in range(30):
        publish(hub, 1, i, WALL0, clock)
        await asyncio.sleep(0)
    # the camera reconnects after 5 s away: the clock breaks, the gap stays a gap
    from dataclasses import replace

    units = clip_units()
    for i in range(30, 60):
        clock.now = 1000.0 + 5 + i / FPS
        au = units[i % len(units)]
        hub.publish(replace(au), 1_000_000 + i * 6000, WALL0 + 5 + i / FPS)
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.to_thread(disk.stop)
    with sessions() as session:
        rows = [
            SegmentInfo.of(r) for r in session.scalars(select(Segment).order_by(Segment.start_time))
        ]
    assert len(rows) == 2
    assert recorder.stats.breaks == 1
    gap = (rows[1].start - rows[0].end).total_seconds()
    assert 4.5 < gap < 5.5
