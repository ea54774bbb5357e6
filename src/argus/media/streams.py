"""Which camera streams are pulled, and for how long: on demand with a linger, or always on.

`StreamManager.acquire` returns a lease on a camera stream's hub, starting the pull if nobody
held one. Releasing the last lease starts the linger (default 30 s); a new lease within it keeps
the same connection and GOP cache, so a viewer who switches back starts at once. Cameras set
always-on are pulled from `start_always_on()` until the manager closes.

The pull itself is a `Puller` (argus.media.ingest.CameraPuller in production): the manager only
starts and stops it and routes its access units into the hub. A reconnection is a
discontinuity: the hub re-bases the new connection's clock so time keeps increasing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from argus.errors import NotFoundError
from argus.media.hub import Codec, StreamHub
from argus.media.nal import AccessUnit

log = logging.getLogger(__name__)

StreamName = Literal["main", "sub"]
STREAM_NAMES: tuple[StreamName, ...] = ("main", "sub")
StreamKey = tuple[int, StreamName]


@dataclass(frozen=True, slots=True)
class StreamSource:
    """Where and how to pull one camera stream."""

    camera_id: int
    stream: StreamName
    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    transport: Literal["tcp", "udp"] = "tcp"
    owner_id: int | None = None  # the camera's owner agency


class Puller(Protocol):
    """What the manager needs of a camera connection."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...

    def snapshot(self) -> dict[str, Any]: ...


class PullerFactory(Protocol):
    def __call__(
        self,
        source: StreamSource,
        on_access_unit: Callable[[AccessUnit, int, float | None], None],
        on_connected: Callable[[Codec], None],
        on_state: Callable[[str, str | None], None],
    ) -> Puller: ...


SourceLookup = Callable[[int, StreamName], Awaitable[StreamSource]]
StateListener = Callable[[StreamKey, str, str | None], None]


class _Entry:
    __slots__ = ("hub", "key", "leases", "linger", "puller", "source")

    def __init__(self, key: StreamKey, hub: StreamHub, source: StreamSource) -> None:
        self.key = key
        self.hub = hub
        self.source = source
        self.puller: Puller | None = None
        self.leases = 0
        self.linger: asyncio.TimerHandle | None = None


class StreamLease:
    """A hold on one camera stream; `release()` (or `async with`) gives it back."""

    def __init__(self, manager: StreamManager, entry: _Entry) -> None:
        self._manager = manager
        self._entry: _Entry | None = entry

    @property
    def hub(self) -> StreamHub:
        if self._entry is None:
            raise RuntimeError("this stream lease was released")
        return self._entry.hub

    @property
    def source(self) -> StreamSource:
        if self._entry is None:
            raise RuntimeError("this stream lease was released")
        return self._entry.source

    def release(self) -> None:
        entry, self._entry = self._entry, None
        if entry is not None:
            self._manager._release(entry)

    async def __aenter__(self) -> StreamLease:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()


class StreamManager:
    """The pulled camera streams of this process, their hubs and their connections."""

    def __init__(
        self,
        lookup: SourceLookup,
        puller_factory: PullerFactory,
        *,
        linger: float = 30.0,
        always_on: Iterable[StreamKey] = (),
        hub_factory: Callable[[int], StreamHub] = StreamHub,
        on_state: StateListener | None = None,
    ) -> None:
        self._lookup = lookup
        self._puller_factory = puller_factory
        self.linger = linger
        self.always_on: set[StreamKey] = set(always_on)
        self._hub_factory = hub_factory
        self._on_state = on_state
        self._entries: dict[StreamKey, _Entry] = {}
        self._pending: dict[StreamKey, asyncio.Future[_Entry]] = {}
        self._closed = False

    async def acquire(self, camera_id: int, stream: StreamName = "main") -> StreamLease:
        """A lease on the camera stream, pulling it if it is not pulled yet.

        NotFoundError when the camera has no such stream (from the source lookup)."""
        if self._closed:
            raise RuntimeError("the stream manager is closed")
        key = (camera_id, stream)
        entry = self._entries.get(key)
        if entry is None:
            entry = await self._open(key)
        entry.leases += 1
        if entry.linger is not None:
            entry.linger.cancel()
            entry.linger = None
        return StreamLease(self, entry)

    async def start_always_on(self) -> None:
        """Start pulling every always-on stream (those that cannot be found are logged)."""
        for key in sorted(self.always_on):
            if key in self._entries:
                continue
            try:
                await self._open(key)
            except NotFoundError as exc:
                log.warning("always-on stream %s/%s: %s", key[0], key[1], exc)

    def hub(self, camera_id: int, stream: StreamName = "main") -> StreamHub | None:
        entry = self._entries.get((camera_id, stream))
        return None if entry is None else entry.hub

    def pulled(self) -> list[StreamKey]:
        return sorted(self._entries)

    def snapshot(self) -> list[dict[str, Any]]:
        """The state and counters of every pulled stream, for the API and metrics."""
        out: list[dict[str, Any]] = []
        for key in sorted(self._entries):
            entry = self._entries[key]
            hub = entry.hub
            pull = entry.puller.snapshot() if entry.puller is not None else {}
            out.append(
                {
                    **pull,
                    "camera_id": key[0],
                    "stream": key[1],
                    "owner_id": entry.source.owner_id,
                    "viewers": hub.subscriber_count,
                    "leases": entry.leases,
                    "always_on": key in self.always_on,
                    "lingering": entry.linger is not None,
                    "hub_frames": hub.stats.frames,
                    "gop_frames": len(hub.gop),
                    "ring_bytes": hub.ring_bytes,
                    "subscriber_skips": hub.stats.subscriber_skips,
                    "subscribers_dropped": hub.stats.subscribers_dropped,
                }
            )
        return out

    async def close(self) -> None:
        """Stop every pull and close every hub."""
        self._closed = True
        entries = list(self._entries.values())
        self._entries.clear()
        for entry in entries:
            await self._stop(entry, "the media service is shutting down")

    # --- internals -----------------------------------------------------------------------------

    async def _open(self, key: StreamKey) -> _Entry:
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[_Entry] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            source = await self._lookup(*key)
            entry = _Entry(key, self._hub_factory(key[0]), source)
            entry.puller = self._make_puller(entry)
            self._entries[key] = entry
            entry.puller.start()
            future.set_result(entry)
            return entry
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._pending[key]

    def _make_puller(self, entry: _Entry) -> Puller:
        hub = entry.hub

        def on_access_unit(au: AccessUnit, media_time: int, wall_time: float | None) -> None:
            hub.publish(au, media_time, wall_time)

        def on_connected(codec: Codec) -> None:
            hub.codec = codec
            hub.discontinuity()

        def on_state(state: str, error: str | None) -> None:
            if self._on_state is not None:
                self._on_state(entry.key, state, error)

        return self._puller_factory(entry.source, on_access_unit, on_connected, on_state)

    def _release(self, entry: _Entry) -> None:
        entry.leases -= 1
        if entry.leases > 0 or entry.key in self.always_on or self._closed:
            return
        if self._entries.get(entry.key) is not entry:
            return
        loop = asyncio.get_running_loop()
        entry.linger = loop.call_later(self.linger, self._linger_over, entry)

    def _linger_over(self, entry: _Entry) -> None:
        entry.linger = None
        if entry.leases > 0 or self._entries.get(entry.key) is not entry:
            return
        del self._entries[entry.key]
        task = asyncio.get_running_loop().create_task(
            self._stop(entry, "nobody is watching this camera")
        )
        task.add_done_callback(_log_failure)

    async def _stop(self, entry: _Entry, reason: str) -> None:
        if entry.linger is not None:
            entry.linger.cancel()
            entry.linger = None
        entry.hub.close(reason)
        if entry.puller is not None:
            await entry.puller.stop()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("stopping a camera pull failed", exc_info=task.exception())
