"""The stream hub of one camera: a ring of access units, a GOP cache, and subscribers on cursors.

Ingest calls `StreamHub.publish` once per access unit. Publishing never waits: it appends the
frame to a ring and wakes whoever is waiting. Every subscriber reads the same ring through its
own cursor, so a viewer costs no copy and no queue of its own. The ring keeps the frames since
the previous keyframe, so it holds at most about two GOPs (and never more than `max_frames` or
`max_bytes`). A subscriber whose cursor has fallen out of the ring lost frames it would need to
decode what follows; it skips to the newest keyframe and counts the skip. A subscriber that
skips `max_skips` times within `skip_window` seconds is closed as too slow. A slow subscriber
therefore costs the rest nothing: ingest, recording and other viewers never wait for it
(invariant 6).

A new subscriber starts at the latest keyframe at once (the GOP cache); `start="next_keyframe"`
waits for the next one instead, which is how most systems start a view.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Literal

from argus.media.nal import AccessUnit

Codec = Literal["h264", "h265"]
StartAt = Literal["keyframe", "next_keyframe"]

DEFAULT_FRAME_TICKS = 90000 // 15  # a 15 fps stream on the 90 kHz clock


class SubscriberClosed(Exception):
    """The subscription ended: the hub closed, the subscriber was too slow, or it was closed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True, eq=False)
class Frame:
    """One access unit in the hub, with its times and a slot for formats built from it once."""

    index: int  # position in this hub's sequence of frames, from 0
    au: AccessUnit
    media_time: int  # extended RTP time, 90 kHz for video
    duration: int  # ticks until the next frame, estimated from the previous interval
    wall_time: float | None  # camera wall clock (RTCP) in Unix seconds, if known
    received: float  # monotonic time the frame was published
    size: int  # bytes of NAL units
    cache: dict[str, bytes] = field(default_factory=dict)  # e.g. the fMP4 fragment, built once

    @property
    def is_keyframe(self) -> bool:
        return self.au.is_keyframe


@dataclass(slots=True)
class SubscriberStats:
    delivered: int = 0
    skipped_frames: int = 0
    skips: int = 0


class Subscriber:
    """A cursor on the hub's ring; iterate with `async for batch in sub.batches()`."""

    def __init__(self, hub: StreamHub, name: str, start: StartAt) -> None:
        self.hub = hub
        self.name = name
        self.stats = SubscriberStats()
        self.closed_reason: str | None = None
        self.on_closed: Callable[[str], None] | None = None
        self._skip_times: deque[float] = deque()
        self._overruns = 0  # times the ring moved past this cursor with no take in between
        if start == "keyframe" and hub.last_keyframe_index is not None:
            self._cursor = hub.last_keyframe_index
            self._need_keyframe = False
        else:
            self._cursor = hub.next_index
            self._need_keyframe = True

    @property
    def cursor(self) -> int:
        return self._cursor

    @property
    def lag(self) -> int:
        """Frames published that this subscriber has not yet taken."""
        return self.hub.next_index - self._cursor

    def close(self, reason: str) -> None:
        """End this subscription; a waiting `next_batch` raises SubscriberClosed(reason)."""
        if self.closed_reason is None:
            self.closed_reason = reason
            self.hub._remove(self)
            if self.on_closed is not None:
                self.on_closed(reason)

    def take(self, limit: int = 64) -> list[Frame]:
        """The frames ready now (maybe none), skipping to the newest keyframe if fallen behind."""
        if self.closed_reason is not None:
            raise SubscriberClosed(self.closed_reason)
        hub = self.hub
        ring = hub._ring
        self._overruns = 0
        if not ring:
            return []
        first = ring[0].index
        if self._cursor < first:
            self._skip(hub)
            if self.closed_reason is not None:
                raise SubscriberClosed(self.closed_reason)
        if self._need_keyframe:
            key = hub.last_keyframe_index
            if key is None or key < self._cursor:
                self._cursor = hub.next_index
                return []
            self._cursor = key
            self._need_keyframe = False
        start = self._cursor - first
        if start >= len(ring):
            return []
        end = min(len(ring), start + limit)
        frames = [ring[i] for i in range(start, end)]
        self._cursor = frames[-1].index + 1
        self.stats.delivered += len(frames)
        return frames

    async def next_batch(self, limit: int = 64) -> list[Frame]:
        """Wait for at least one frame and return the frames ready (at most `limit`)."""
        while True:
            frames = self.take(limit)
            if frames:
                return frames
            await self.hub._wait()

    async def batches(self, limit: int = 64) -> AsyncIterator[list[Frame]]:
        """Batches of frames until the subscription is closed (which ends the iteration)."""
        try:
            while True:
                yield await self.next_batch(limit)
        except SubscriberClosed:
            return

    def _skip(self, hub: StreamHub) -> None:
        key = hub.last_keyframe_index
        target = key if key is not None else hub.next_index
        self.stats.skips += 1
        self.stats.skipped_frames += max(0, target - self._cursor)
        self._cursor = target
        self._need_keyframe = key is None
        hub.stats.subscriber_skips += 1
        now = hub.clock()
        times = self._skip_times
        times.append(now)
        while times and now - times[0] > hub.skip_window:
            times.popleft()
        if len(times) >= hub.max_skips:
            hub.stats.subscribers_dropped += 1
            self.close(f"too slow: fell behind {len(times)} times in {hub.skip_window:g} s")


@dataclass(slots=True)
class HubStats:
    frames: int = 0
    keyframes: int = 0
    bytes: int = 0
    subscriber_skips: int = 0
    subscribers_dropped: int = 0
    last_keyframe_at: float | None = None  # monotonic
    last_frame_at: float | None = None  # monotonic


class StreamHub:
    """The live frames of one camera stream, shared by every subscriber."""

    def __init__(
        self,
        camera_id: int,
        *,
        codec: Codec | None = None,
        max_frames: int = 900,
        max_bytes: int = 8 * 1024 * 1024,
        max_skips: int = 3,
        skip_window: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.camera_id = camera_id
        self.codec: Codec | None = codec
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self.max_skips = max_skips
        self.skip_window = skip_window
        self.clock = clock
        self.stats = HubStats()
        self.closed_reason: str | None = None
        self.next_index = 0
        self.last_keyframe_index: int | None = None
        self._previous_keyframe_index: int | None = None
        self._ring: deque[Frame] = deque()
        self._ring_bytes = 0
        self._last_media_time: int | None = None
        self._last_duration = DEFAULT_FRAME_TICKS
        self._offset = 0
        self._rebase = False
        self._subscribers: set[Subscriber] = set()
        self._waiter: asyncio.Future[None] | None = None
        self._on_idle: list[Callable[[StreamHub], None]] = []

    # --- ingest side ---------------------------------------------------------------------------

    def publish(self, au: AccessUnit, media_time: int, wall_time: float | None = None) -> Frame:
        """Add one access unit; never waits. Returns the frame as stored."""
        last = self._last_media_time
        if self._rebase:
            self._rebase = False
            self._offset = 0 if last is None else last + self._last_duration - media_time
        media_time += self._offset
        if last is not None:
            delta = media_time - last
            if 0 < delta <= 90000 * 5:
                self._last_duration = delta
        self._last_media_time = media_time
        size = au.size
        now = self.clock()
        frame = Frame(self.next_index, au, media_time, self._last_duration, wall_time, now, size)
        self.next_index += 1
        ring = self._ring
        ring.append(frame)
        self._ring_bytes += size
        stats = self.stats
        stats.frames += 1
        stats.bytes += size
        stats.last_frame_at = now
        if au.is_keyframe:
            stats.keyframes += 1
            stats.last_keyframe_at = now
            self._previous_keyframe_index = self.last_keyframe_index
            self.last_keyframe_index = frame.index
            self._trim_to(self._previous_keyframe_index)
        self._trim_to_limits()
        self._wake()
        return frame

    def discontinuity(self) -> None:
        """The next frame starts a new connection: continue its clock after the last frame."""
        self._rebase = True

    def close(self, reason: str) -> None:
        """End the stream: every subscriber's wait ends with SubscriberClosed(reason)."""
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        for sub in list(self._subscribers):
            sub.close(reason)
        self._wake()

    # --- subscriber side -----------------------------------------------------------------------

    def subscribe(self, name: str = "", start: StartAt = "keyframe") -> Subscriber:
        if self.closed_reason is not None:
            raise SubscriberClosed(self.closed_reason)
        sub = Subscriber(self, name, start)
        self._subscribers.add(sub)
        return sub

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def ring_frames(self) -> int:
        return len(self._ring)

    @property
    def ring_bytes(self) -> int:
        return self._ring_bytes

    @property
    def gop(self) -> list[Frame]:
        """The frames from the latest keyframe to now (what a new viewer starts with)."""
        key = self.last_keyframe_index
        if key is None or not self._ring:
            return []
        first = self._ring[0].index
        return list(self._ring)[key - first :]

    def on_idle(self, callback: Callable[[StreamHub], None]) -> None:
        """Call `callback(hub)` whenever the last subscriber leaves."""
        self._on_idle.append(callback)

    # --- internals -----------------------------------------------------------------------------

    def _trim_to(self, index: int | None) -> None:
        if index is None:
            return
        ring = self._ring
        while ring and ring[0].index < index:
            self._ring_bytes -= ring.popleft().size
        if ring and self._subscribers:
            self._find_stuck(ring[0].index)

    def _find_stuck(self, first: int) -> None:
        """Close subscribers the ring has passed twice while they took nothing.

        A subscriber that is merely slow comes back, finds itself behind and skips to the newest
        keyframe. One that never comes back is stuck (its viewer's connection does not drain):
        it is closed, which its owner hears through `on_closed`."""
        for sub in list(self._subscribers):
            if sub._cursor < first:
                sub._overruns += 1
                if sub._overruns >= 2:
                    self.stats.subscribers_dropped += 1
                    sub.close("too slow: the viewer's connection stopped taking video")

    def _trim_to_limits(self) -> None:
        ring = self._ring
        while len(ring) > 1 and (len(ring) > self.max_frames or self._ring_bytes > self.max_bytes):
            self._ring_bytes -= ring.popleft().size
        key = self.last_keyframe_index
        if ring and key is not None and key < ring[0].index:
            # a GOP longer than the ring: the cache can no longer start a viewer at once
            self.last_keyframe_index = None
            self._previous_keyframe_index = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def _wait(self) -> None:
        if self.closed_reason is not None:
            raise SubscriberClosed(self.closed_reason)
        waiter = self._waiter
        if waiter is None:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(waiter)

    def _remove(self, sub: Subscriber) -> None:
        if sub in self._subscribers:
            self._subscribers.discard(sub)
            self._wake()  # so that a closed subscriber's pending wait notices
            if not self._subscribers:
                for callback in list(self._on_idle):
                    callback(self)
