"""The stream manager: one pull per camera stream, shared; linger; always-on; re-basing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from argus.errors import NotFoundError
from argus.media.hub import Codec
from argus.media.nal import AccessUnit, ParameterSets
from argus.media.streams import StreamManager, StreamName, StreamSource

PS = ParameterSets(sps=b"\x67s", pps=b"\x68p")


class RecordingPuller:
    """Stands in for the network side: the manager's own logic is what is tested here."""

    def __init__(
        self,
        source: StreamSource,
        on_access_unit: Callable[[AccessUnit, int, float | None], None],
        on_connected: Callable[[Codec], None],
        on_state: Callable[[str, str | None], None],
    ) -> None:
        self.source = source
        self.on_au = on_access_unit
        self.on_connected = on_connected
        self.on_state = on_state
        self.started = 0
        self.stopped = 0

    def start(self) -> None:
        self.started += 1
        self.on_connected("h264")
        self.on_state("streaming", None)

    async def stop(self) -> None:
        self.stopped += 1

    def snapshot(self) -> dict[str, Any]:
        return {"state": "streaming", "url": self.source.url}


class World:
    def __init__(self, linger: float = 0.05, **kw: Any) -> None:
        self.pullers: list[RecordingPuller] = []
        self.lookups = 0
        self.states: list[tuple[Any, str]] = []
        self.manager = StreamManager(
            self.lookup,
            self.make,
            linger=linger,
            on_state=lambda key, state, error: self.states.append((key, state)),
            **kw,
        )

    async def lookup(self, camera_id: int, stream: StreamName) -> StreamSource:
        self.lookups += 1
        await asyncio.sleep(0.01)  # a database look-up takes a while
        if camera_id == 404:
            raise NotFoundError("camera 404 does not exist")
        return StreamSource(camera_id, stream, f"rtsp://127.0.0.1:1/cameras/{camera_id}/{stream}")

    def make(
        self,
        source: StreamSource,
        on_access_unit: Callable[[AccessUnit, int, float | None], None],
        on_connected: Callable[[Codec], None],
        on_state: Callable[[str, str | None], None],
    ) -> RecordingPuller:
        puller = RecordingPuller(source, on_access_unit, on_connected, on_state)
        self.pullers.append(puller)
        return puller


async def test_viewers_of_one_camera_share_one_pull() -> None:
    world = World()
    leases = await asyncio.gather(*(world.manager.acquire(7) for _ in range(5)))
    assert len(world.pullers) == 1 and world.lookups == 1
    assert len({id(lease.hub) for lease in leases}) == 1
    other = await world.manager.acquire(7, "sub")
    assert len(world.pullers) == 2 and other.hub is not leases[0].hub
    assert world.manager.pulled() == [(7, "main"), (7, "sub")]
    await world.manager.close()
    assert all(p.stopped == 1 for p in world.pullers)


async def test_access_units_reach_the_hub_and_codec_is_known() -> None:
    world = World()
    lease = await world.manager.acquire(3)
    puller = world.pullers[0]
    puller.on_au(AccessUnit(0, (b"\x65",), True, PS, True), 90_000, None)
    assert lease.hub.codec == "h264"
    assert lease.hub.stats.frames == 1
    snap = world.manager.snapshot()[0]
    assert snap["camera_id"] == 3 and snap["state"] == "streaming" and snap["leases"] == 1
    assert world.states == [((3, "main"), "streaming")]
    await world.manager.close()


async def test_last_release_lingers_then_stops_and_a_return_within_it_keeps_the_pull() -> None:
    world = World(linger=0.2)
    lease = await world.manager.acquire(9)
    hub = lease.hub
    lease.release()
    lease.release()  # releasing twice is harmless
    await asyncio.sleep(0.05)
    again = await world.manager.acquire(9)
    assert again.hub is hub and len(world.pullers) == 1
    again.release()
    await asyncio.sleep(0.4)
    assert world.pullers[0].stopped == 1
    assert world.manager.pulled() == []
    assert hub.closed_reason == "nobody is watching this camera"
    fresh = await world.manager.acquire(9)
    assert fresh.hub is not hub and len(world.pullers) == 2
    await world.manager.close()


async def test_always_on_streams_start_at_once_and_never_linger_out() -> None:
    world = World(linger=0.01, always_on=[(1, "main"), (404, "main")])
    await world.manager.start_always_on()
    assert world.manager.pulled() == [(1, "main")]  # 404 is logged and skipped
    lease = await world.manager.acquire(1)
    lease.release()
    await asyncio.sleep(0.1)
    assert world.pullers[0].stopped == 0
    await world.manager.close()


async def test_an_unknown_camera_is_not_found_and_leaves_nothing_behind() -> None:
    world = World()
    with pytest.raises(NotFoundError):
        await world.manager.acquire(404)
    assert world.manager.pulled() == [] and world.pullers == []
    ok = await world.manager.acquire(5)
    assert ok.hub.camera_id == 5
    await world.manager.close()
    with pytest.raises(RuntimeError, match="closed"):
        await world.manager.acquire(5)
