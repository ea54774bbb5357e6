"""A recorder process for the kill test: records one camera until it is killed.

Usage: python -m tests.recording.record_child DATA_DIR DATABASE_URL CAMERA_ID FRAMES_FILE
It publishes the clip's frames four times faster than real time (the hub's clock follows the
video, so the recorder sees a steady camera), and prints the index of every frame it has
handed to the hub, so that the test knows what a crash may have lost.
"""

from __future__ import annotations

import asyncio
import pickle
import sys
from pathlib import Path

from argus.config import Settings
from argus.db import make_engine, make_sessionmaker
from argus.media.hub import StreamHub
from argus.media.nal import AccessUnit
from argus.recording.disk import DiskWriter
from argus.recording.recorder import CameraRecorder
from argus.recording.volumes import volumes_of

FPS = 15
SPEED = 4


async def main(data_dir: str, url: str, camera_id: int, frames_file: str) -> None:
    units: list[AccessUnit] = pickle.loads(Path(frames_file).read_bytes())
    settings = Settings(data_dir=Path(data_dir), database_url=url)
    disk = DiskWriter(make_sessionmaker(make_engine(url)), sync_interval=0.1)
    disk.start()
    now = [0.0]
    hub = StreamHub(camera_id, codec="h264", clock=lambda: now[0])
    recorder = CameraRecorder(
        camera_id, "main", hub, disk, volumes_of(settings), segment_seconds=2.0, part_seconds=1.0
    )
    task = asyncio.create_task(recorder.run())
    await asyncio.sleep(0)
    wall0 = 1_780_000_000.0 + camera_id * 1000
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    i = 0
    while not task.done():
        now[0] = i / FPS
        hub.publish(units[i % len(units)], i * (90000 // FPS), wall0 + i / FPS)
        out.write(f"{i}\n")
        out.flush()
        i += 1
        await asyncio.sleep(1 / (FPS * SPEED))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
