"""The per-camera puller: one camera's RTSP connection, kept up with backoff, and its counters.

`CameraPuller.start()` runs a loop: connect (`RtspClient`), stream until the session ends, wait
a backoff delay, connect again, until `stop()`. Its state is one of `PullState`; every change
is reported to `on_state(state, error)`. A camera that refuses our credentials is still retried,
on the long `Backoff.auth_delay`. Whatever a camera sends (garbage, an SDP that lies, a frame cut
short, a closed connection) ends only that connection: the error is recorded in `last_error`
and the camera is retried; nothing is raised out of the puller.

Access units go to `on_access_unit(au, media_time, wall_time)` as the client delivers them.
`media_time` restarts with every connection: `on_connected(codec)` is called once per
connection, before its first access unit, so that a consumer (the stream hub) can re-base.
Counters live in `PullStats`; `snapshot()` gives them as a plain dict for the API and metrics.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from argus.media.errors import RtpError
from argus.media.h264 import read_sps
from argus.media.h265 import read_sps as read_h265_sps
from argus.media.nal import AccessUnit
from argus.media.rtsp.client import AccessUnitCallback, RtspAuthError, RtspClient, TransportName
from argus.media.rtsp.errors import RtspError
from argus.media.rtsp.sdp import Codec

log = logging.getLogger(__name__)

ConnectedCallback = Callable[[Codec], None]
Sleep = Callable[[float], Awaitable[None]]


class PullState(StrEnum):
    """Where a camera's pull is; the values are what the API and metrics show."""

    IDLE = "idle"
    """Made, not started."""
    CONNECTING = "connecting"
    """Connecting and negotiating (OPTIONS, DESCRIBE, SETUP, PLAY)."""
    STREAMING = "streaming"
    """PLAY succeeded; the session is up."""
    BACKOFF = "backoff"
    """The last connection failed or ended; waiting before the next attempt."""
    FAILED_AUTH = "failed_auth"
    """The camera refused our credentials (or we had none); retried on a long backoff."""
    STOPPED = "stopped"
    """`stop()` was called."""


StateCallback = Callable[[PullState, str | None], None]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnection delays: exponential, capped, with jitter; reset after a healthy stream.

    Attempt n (0 for the first retry) waits `min(maximum, initial * factor**n)` less a random
    fraction of up to `jitter` of it: 0 is no jitter, 1 "full jitter" (anywhere from 0 up).
    """

    initial: float = 1.0
    maximum: float = 60.0
    factor: float = 2.0
    jitter: float = 0.2
    auth_delay: float = 300.0
    """The delay (jittered too) after the camera refused our credentials."""
    reset_after: float = 10.0
    """A connection that delivered video for this many seconds resets the exponent."""

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum:
            raise ValueError("Backoff needs 0 < initial <= maximum")
        if self.factor < 1:
            raise ValueError("Backoff factor must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("Backoff jitter must be between 0 and 1")
        if self.auth_delay <= 0 or self.reset_after < 0:
            raise ValueError("Backoff auth_delay must be positive and reset_after not negative")

    def base(self, attempt: int) -> float:
        """The delay before jitter for retry number `attempt` (0-based)."""
        return min(self.maximum, self.initial * self.factor ** min(max(attempt, 0), 256))

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The delay before retry number `attempt` (0-based), jittered with `rng`."""
        return self._jittered(self.base(attempt), rng)

    def auth(self, rng: random.Random) -> float:
        """The delay after the camera refused our credentials."""
        return self._jittered(self.auth_delay, rng)

    def _jittered(self, delay: float, rng: random.Random) -> float:
        return delay * (1.0 - self.jitter * rng.random()) if self.jitter else delay


class RateMeter:
    """Events and amounts per second over the last `window` seconds, in one-second buckets.

    `add` costs a comparison and two additions (a bucket roll once a second); `rates` sums at
    most `window + 1` buckets.
    """

    __slots__ = ("_amount", "_count", "_history", "_second", "_started", "window")

    def __init__(self, window: int = 5) -> None:
        if window < 1:
            raise ValueError("RateMeter window must be at least one second")
        self.window = window
        self._history: deque[tuple[int, int, int]] = deque(maxlen=window + 1)
        self._second: int | None = None
        self._amount = 0
        self._count = 0
        self._started: float | None = None

    def add(self, now: float, amount: int) -> None:
        """Record one event (an access unit) of `amount` (bytes) at time `now` (seconds)."""
        second = int(now)
        if second != self._second:
            if self._second is None:
                self._started = now
            elif self._count:
                self._history.append((self._second, self._amount, self._count))
            self._second = second
            self._amount = 0
            self._count = 0
        self._amount += amount
        self._count += 1

    def rates(self, now: float) -> tuple[float, float]:
        """(amount per second, events per second) over the window ending at `now`."""
        if self._started is None:
            return 0.0, 0.0
        start = max(self._started, now - self.window)
        span = now - start
        if span <= 0:
            return 0.0, 0.0
        first = int(start)
        amount = 0
        count = 0
        for second, bucket_amount, bucket_count in self._history:
            if second >= first:
                amount += bucket_amount
                count += bucket_count
        if self._second is not None and self._second >= first:
            amount += self._amount
            count += self._count
        return amount / span, count / span


@dataclass(slots=True)
class PullStats:
    """One camera's pull: state and counters since the puller was made (all connections)."""

    camera_id: int
    state: PullState = PullState.IDLE
    since: float = 0.0
    """Wall-clock time (Unix seconds) of the last state change."""
    connects: int = 0
    """Connections that reached PLAY."""
    reconnects: int = 0
    """Connection attempts after a previous one failed or ended."""
    last_error: str | None = None
    last_error_at: float | None = None
    bytes: int = 0
    packets: int = 0
    access_units: int = 0
    keyframes: int = 0
    lost_packets: int = 0
    """RTP sequence gaps."""
    malformed_packets: int = 0
    last_keyframe_at: float | None = None
    """Wall-clock time (Unix seconds) the last keyframe arrived."""
    bitrate_bps: float = 0.0
    """Video payload bits per second over the last few seconds."""
    fps: float = 0.0
    """Access units per second over the last few seconds."""
    codec: Codec | None = None
    width: int | None = None
    height: int | None = None
    transport: TransportName = "tcp"
    keepalives: int = 0
    callback_errors: int = 0
    """Exceptions raised by on_access_unit / on_connected / on_state (logged, not fatal)."""


@dataclass(slots=True)
class _Totals:
    bytes: int = 0
    packets: int = 0
    lost_packets: int = 0
    malformed_packets: int = 0
    keepalives: int = 0


class CameraPuller:
    """Keeps one camera's RTSP stream pulled: connect, stream, back off, retry, until stopped."""

    def __init__(
        self,
        camera_id: int,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        transport: TransportName = "tcp",
        on_access_unit: AccessUnitCallback | None = None,
        on_state: StateCallback | None = None,
        on_connected: ConnectedCallback | None = None,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        connect_timeout: float = 5.0,
        response_timeout: float = 10.0,
        stall_timeout: float | None = 10.0,
        rate_window: int = 5,
    ) -> None:
        self.camera_id = camera_id
        self.url = url
        self.username = username
        self.password = password
        self.transport: TransportName = transport
        self.on_access_unit = on_access_unit
        self.on_state = on_state
        self.on_connected = on_connected
        self.backoff = backoff if backoff is not None else Backoff()
        self.clock = clock
        self.wall_clock = wall_clock
        self.sleep = sleep
        self.rng = rng if rng is not None else random.Random()
        self.connect_timeout = connect_timeout
        self.response_timeout = response_timeout
        self.stall_timeout = stall_timeout
        self._stats = PullStats(camera_id, since=wall_clock(), transport=transport)
        self._totals = _Totals()
        self._meter = RateMeter(rate_window)
        self._client: RtspClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self._announced = False
        self._connection_units = 0
        self._callback_error_logged = False

    # --- public ------------------------------------------------------------------------------

    @property
    def state(self) -> PullState:
        return self._stats.state

    @property
    def stats(self) -> PullStats:
        """The counters, brought up to date (the live connection's included)."""
        self._refresh()
        return self._stats

    def snapshot(self) -> dict[str, Any]:
        """The counters as a plain dict (state as its string value) for the API and metrics."""
        data = dataclasses.asdict(self.stats)
        data["state"] = self._stats.state.value
        return data

    def start(self) -> None:
        """Start pulling (in a task of the running loop); a second call does nothing."""
        if self._stopped:
            raise RuntimeError("a stopped CameraPuller cannot be started again")
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"camera {self.camera_id} pull"
            )

    async def stop(self) -> None:
        """Stop pulling: the connection is torn down (best effort) and the task ends."""
        self._stopped = True
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # stop() itself was cancelled
        if self._stats.state is not PullState.STOPPED:
            self._set_state(PullState.STOPPED, None)

    # --- the loop ----------------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        first = True
        while True:
            if not first:
                self._stats.reconnects += 1
            first = False
            self._set_state(PullState.CONNECTING, None)
            started, error, auth_failed = await self._connection()
            if self._stopped:
                return
            healthy = (
                started is not None
                and self._connection_units > 0
                and self.clock() - started >= self.backoff.reset_after
            )
            if healthy:
                attempt = 0
            if auth_failed:
                delay = self.backoff.auth(self.rng)
                state = PullState.FAILED_AUTH
            else:
                delay = self.backoff.delay(attempt, self.rng)
                attempt += 1
                state = PullState.BACKOFF
            self._stats.last_error = error
            self._stats.last_error_at = self.wall_clock()
            log.info("camera %s: %s; retrying in %.1f s", self.camera_id, error, delay)
            self._set_state(state, error)
            await self.sleep(delay)

    async def _connection(self) -> tuple[float | None, str, bool]:
        """One connection, start to end: (when it started streaming, why it ended, auth?)."""
        client = RtspClient(
            self.url,
            username=self.username,
            password=self.password,
            transport=self.transport,
            on_access_unit=self._on_access_unit,
            connect_timeout=self.connect_timeout,
            response_timeout=self.response_timeout,
            stall_timeout=self.stall_timeout,
        )
        self._client = client
        self._announced = False
        self._connection_units = 0
        started: float | None = None
        try:
            try:
                await client.connect()
                started = self.clock()
                self._stats.connects += 1
                self._connected(client)
                self._set_state(PullState.STREAMING, None)
                await client.wait()
                return started, "the session ended", False
            finally:
                await client.close()
                self._absorb(client)
        except RtspAuthError as exc:
            return started, str(exc), True
        except RtspError as exc:
            return started, str(exc), False
        except OSError as exc:
            return started, f"network error: {exc}", False
        except Exception as exc:  # a bug of ours, not the camera's: keep the camera going
            log.exception("camera %s: unexpected error in its pull", self.camera_id)
            return started, f"internal error: {type(exc).__name__}: {exc}", False

    def _connected(self, client: RtspClient) -> None:
        """The session is up: codec and picture size from the SDP, then tell the consumer."""
        stats = self._stats
        stats.codec = client.codec
        track = client.track
        if track is not None and track.h264 is not None and track.h264.sps:
            self._read_size(track.h264.sps[0])
        self._announce()

    def _announce(self) -> None:
        if self._announced:
            return
        self._announced = True
        codec = self._client.codec if self._client is not None else None
        if self.on_connected is not None and codec is not None:
            try:
                self.on_connected(codec)
            except Exception:
                self._callback_failed("on_connected")

    def _absorb(self, client: RtspClient) -> None:
        """Add a finished connection's counters to the totals."""
        if self._client is client:
            self._client = None
        totals = self._totals
        totals.bytes += client.stats.bytes
        totals.packets += client.stats.packets
        totals.keepalives += client.stats.keepalives
        depacketizer = client.depacketizer_stats
        totals.lost_packets += depacketizer.lost_packets
        totals.malformed_packets += depacketizer.malformed_packets + client.stats.malformed_packets
        self._refresh()

    # --- per access unit (hot path) ----------------------------------------------------------

    def _on_access_unit(self, au: AccessUnit, media_time: int, wall_time: float | None) -> None:
        if not self._announced:
            self._announce()
        stats = self._stats
        stats.access_units += 1
        self._connection_units += 1
        self._meter.add(self.clock(), au.size)
        if au.is_keyframe:
            stats.keyframes += 1
            stats.last_keyframe_at = self.wall_clock()
        if au.parameter_sets_changed:
            sps = au.parameter_sets.sps
            if sps is not None:
                self._read_size(sps)
        callback = self.on_access_unit
        if callback is not None:
            try:
                callback(au, media_time, wall_time)
            except Exception:
                self._callback_failed("on_access_unit")

    # --- helpers -----------------------------------------------------------------------------

    def _read_size(self, sps: bytes) -> None:
        reader = read_h265_sps if self._stats.codec == "h265" else read_sps
        try:
            info = reader(sps)
        except (RtpError, IndexError, ValueError):
            return
        self._stats.width = info.width
        self._stats.height = info.height

    def _refresh(self) -> None:
        stats = self._stats
        totals = self._totals
        client = self._client
        stats.bytes = totals.bytes
        stats.packets = totals.packets
        stats.lost_packets = totals.lost_packets
        stats.malformed_packets = totals.malformed_packets
        stats.keepalives = totals.keepalives
        if client is not None:
            live = client.stats
            depacketizer = client.depacketizer_stats
            stats.bytes += live.bytes
            stats.packets += live.packets
            stats.keepalives += live.keepalives
            stats.lost_packets += depacketizer.lost_packets
            stats.malformed_packets += depacketizer.malformed_packets + live.malformed_packets
        bytes_per_second, fps = self._meter.rates(self.clock())
        stats.bitrate_bps = bytes_per_second * 8
        stats.fps = fps

    def _set_state(self, state: PullState, error: str | None) -> None:
        stats = self._stats
        if stats.state is state:
            return
        stats.state = state
        stats.since = self.wall_clock()
        if self.on_state is not None:
            try:
                self.on_state(state, error)
            except Exception:
                self._callback_failed("on_state")

    def _callback_failed(self, name: str) -> None:
        self._stats.callback_errors += 1
        if not self._callback_error_logged:
            self._callback_error_logged = True
            log.exception("camera %s: %s raised (logged once)", self.camera_id, name)
