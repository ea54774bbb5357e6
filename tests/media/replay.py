"""A puller that replays a real H.264 sample file as a camera would deliver it, for tests of
what lies after ingest (the network side is tested with the simulator and ffmpeg elsewhere)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import cache
from typing import Any

from argus.media.h264 import nal_type
from argus.media.hub import Codec
from argus.media.nal import AccessUnit, ParameterSets, split_annexb
from argus.media.streams import StreamSource
from tests.media.rtp_packetize import split_h264_access_units
from tests.shared import SHARED_DATA

SAMPLE = "Zhling_1280x720.264"


@cache
def sample_access_units(name: str = SAMPLE) -> tuple[AccessUnit, ...]:
    """The sample's AUs with their parameter sets, as the depacketizer would emit them."""
    data = (SHARED_DATA / "h264-samples" / name).read_bytes()
    sps = next(n for n in split_annexb(data) if nal_type(n) == 7)
    pps = next(n for n in split_annexb(data) if nal_type(n) == 8)
    ps = ParameterSets(sps=sps, pps=pps)
    out = []
    for i, nals in enumerate(split_h264_access_units(data)):
        key = any(nal_type(n) == 5 for n in nals)
        out.append(AccessUnit(0, tuple(nals), key, ps, i == 0))
    assert out[0].is_keyframe
    return tuple(out)


class ReplayPuller:
    """Publishes the sample in a loop at `fps`, starting at its first keyframe."""

    def __init__(
        self,
        source: StreamSource,
        on_access_unit: Callable[[AccessUnit, int, float | None], None],
        on_connected: Callable[[Codec], None],
        on_state: Callable[[str, str | None], None],
        fps: float = 15.0,
    ) -> None:
        self.source = source
        self.on_au = on_access_unit
        self.on_connected = on_connected
        self.on_state = on_state
        self.fps = fps
        self.task: asyncio.Task[None] | None = None
        self.sent = 0

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        self.on_connected("h264")
        self.on_state("streaming", None)
        units = sample_access_units()
        loop = asyncio.get_running_loop()
        start = loop.time()
        ticks = int(90000 / self.fps)
        while True:
            au = units[self.sent % len(units)]
            self.on_au(au, 1_000_000 + self.sent * ticks, None)
            self.sent += 1
            await asyncio.sleep(max(0.0, start + self.sent / self.fps - loop.time()))

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    def snapshot(self) -> dict[str, Any]:
        return {"state": "streaming", "access_units": self.sent, "codec": "h264"}


class ReplayFactory:
    def __init__(self, fps: float = 15.0) -> None:
        self.fps = fps
        self.pullers: list[ReplayPuller] = []

    def __call__(
        self,
        source: StreamSource,
        on_access_unit: Callable[[AccessUnit, int, float | None], None],
        on_connected: Callable[[Codec], None],
        on_state: Callable[[str, str | None], None],
    ) -> ReplayPuller:
        puller = ReplayPuller(source, on_access_unit, on_connected, on_state, self.fps)
        self.pullers.append(puller)
        return puller
