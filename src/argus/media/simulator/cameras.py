"""Simulated camera streams: one shared frame clock per frame rate, one cheap sender per viewer.

Nothing exists for a camera nobody pulls. A `CameraStream` is made per RTSP session; on PLAY
it joins the `FrameClock` of its frame rate (one timer for every stream at that rate, running
only while some stream plays) and on each tick sends the next frame of its looped clip: the
12-byte RTP headers are written afresh (its own SSRC, sequence and timestamps), and a stamp SEI
with the camera id, the send time and the frame number goes before each picture. A PTZ camera's
stream (one given a `PtzView`) adds the position to the stamp and, at keyframes, moves on to the
clip of its current heading.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from argus.media.rtsp.server import Credentials, Sink, Track, TrackStart, video_sdp
from argus.media.sei import build_stamp_nal
from argus.media.simulator.clips import ClipFrame, PacketizedClip
from argus.media.simulator.faults import Fault
from argus.media.simulator.ptz_view import PtzView

log = logging.getLogger(__name__)

_RTP = struct.Struct("!BBHII")
TRACK = Track("trackID=0", 90000)


class Ticking(Protocol):
    def tick(self, number: int) -> None: ...


class FrameClock:
    """Ticks at `fps` for every subscribed stream; it has no timer while nobody subscribes.

    Tick times are drift-free (origin + n / fps); when the loop falls behind by more than a
    frame the missed ticks are skipped, not sent in a burst.
    """

    def __init__(self, fps: float) -> None:
        self.fps = fps
        self.period = 1.0 / fps
        self.number = 0
        self._subscribers: dict[Ticking, None] = {}
        self._origin = 0.0
        self._handle: asyncio.TimerHandle | None = None

    @property
    def running(self) -> bool:
        return self._handle is not None

    def __len__(self) -> int:
        return len(self._subscribers)

    def add(self, stream: Ticking) -> int:
        """Subscribe; the number of the tick that will bring the stream's first frame."""
        self._subscribers[stream] = None
        if self._handle is None:
            loop = asyncio.get_running_loop()
            self._origin = loop.time()
            self.number = 0
            self._handle = loop.call_at(self._origin + self.period, self._tick)
        return self.number + 1

    def remove(self, stream: Ticking) -> None:
        self._subscribers.pop(stream, None)
        if not self._subscribers and self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        self.number += 1
        for stream in list(self._subscribers):
            try:
                stream.tick(self.number)
            except Exception:
                log.exception("a simulated stream failed; it is stopped")
                self.remove(stream)
        if not self._subscribers:
            self._handle = None
            return
        deadline = self._origin + (self.number + 1) * self.period
        now = loop.time()
        if deadline < now - self.period:  # fell behind: skip ticks rather than burst
            self.number = int((now - self._origin) / self.period)
            deadline = self._origin + (self.number + 1) * self.period
        self._handle = loop.call_at(deadline, self._tick)


class CameraStream:
    """One viewer's stream of a simulated camera: the RTSP `Mount` the simulator hands out."""

    tracks: Sequence[Track] = (TRACK,)
    sender_reports = True

    def __init__(
        self,
        *,
        camera_id: int,
        kind: str,
        clip: PacketizedClip,
        clock: FrameClock,
        fault: Callable[[], Fault | None],
        credentials: Credentials | None = None,
        host: str = "127.0.0.1",
        view: PtzView | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.kind = kind
        self.clip = clip
        self.clock = clock
        self.fault = fault
        self.credentials = credentials
        self.host = host
        self.view = view
        self.frames_sent = 0
        self.packets_sent = 0
        self.packets_lost = 0
        self.packets_malformed = 0
        self._frames: tuple[ClipFrame, ...] = clip.frames
        self._codec = clip.codec
        self._pt = clip.payload_type
        self._step = 90000 / clip.settings.fps
        self._sink: Sink | None = None
        self._rng: random.Random | None = None  # made for the first fault that needs one
        self._position = 0
        self._sequence = random.getrandbits(16)
        self._ssrc = random.getrandbits(32)
        self._ts0 = random.getrandbits(32)
        self._first_tick = 0
        self._started = 0.0
        self._last_timestamp: int | None = None
        self._last_sent = 0.0

    def sdp(self, base_url: str) -> str:
        return video_sdp(
            codec=self._codec,
            fmtp=self.clip.fmtp,
            payload_type=self._pt,
            control=TRACK.control,
            session_name=f"Argus simulated camera {self.camera_id} {self.kind}",
            framerate=self.clip.settings.fps,
            origin_host=self.host,
        )

    async def start(self, sink: Sink) -> Sequence[TrackStart | None]:
        """Play from the clip's first frame; after a PAUSE, SSRC, sequence and time go on."""
        self._sink = sink
        now = time.monotonic()
        if self._last_timestamp is not None:
            elapsed = round((now - self._last_sent) * 90000 + self._step)
            self._ts0 = (self._last_timestamp + elapsed) & 0xFFFFFFFF
        self._position = 0
        self._started = now
        self._first_tick = self.clock.add(self)
        return [TrackStart(self._sequence, self._ts0)]

    def stop(self) -> None:
        self.clock.remove(self)
        self._sink = None

    @property
    def playing(self) -> bool:
        return self._sink is not None

    def tick(self, number: int) -> None:
        """Send the next frame (the clock calls this once per frame period)."""
        sink = self._sink
        if sink is None or sink.closed:
            self.stop()
            return
        fault = self.fault()
        if fault is not None and fault.affects_timing and not self._on_air(fault, sink):
            return
        timestamp = (self._ts0 + round((number - self._first_tick) * self._step)) & 0xFFFFFFFF
        self._last_timestamp = timestamp
        self._last_sent = time.monotonic()
        view = self.view
        frame = self._frames[self._position]
        if view is not None and frame.keyframe:
            clip = view.clip(self.clip, self._position)
            if clip is not self.clip:
                self.clip = clip
                self._frames = clip.frames
                frame = self._frames[self._position]
        self._position = (self._position + 1) % len(self._frames)
        position = view.position() if view is not None else None
        stamp = build_stamp_nal(
            self._codec, self.camera_id, time.time_ns(), self.frames_sent, position
        )
        self.frames_sent += 1
        payloads = (*frame.head, (self._pt, stamp), *frame.body)
        if fault is not None and fault.affects_packets:
            self._send_faulty(sink, fault, payloads, timestamp, frame.keyframe)
            return
        pack = _RTP.pack
        send = sink.send_rtp
        seq = self._sequence
        ssrc = self._ssrc
        resume = frame.keyframe
        for second, payload in payloads:
            send(0, pack(0x80, second, seq, timestamp, ssrc) + payload, resume_point=resume)
            resume = False
            seq = (seq + 1) & 0xFFFF
        self.packets_sent += len(payloads)
        self._sequence = seq

    def _on_air(self, fault: Fault, sink: Sink) -> bool:
        """False while stalled; closes the session when the disconnect time has come."""
        elapsed = time.monotonic() - self._started
        if fault.disconnect_after is not None and elapsed >= fault.disconnect_after:
            self.stop()
            sink.close(f"simulated disconnect after {fault.disconnect_after:g} s")
            return False
        if fault.stall_seconds > 0:
            phase = elapsed % fault.stall_every
            if phase >= fault.stall_every - fault.stall_seconds:
                return False
        return True

    def _send_faulty(
        self,
        sink: Sink,
        fault: Fault,
        payloads: tuple[tuple[int, bytes], ...],
        timestamp: int,
        keyframe: bool,
    ) -> None:
        rng = self._rng
        if rng is None:
            rng = self._rng = random.Random()
        seq = self._sequence
        resume = keyframe
        for second, payload in payloads:
            if fault.malformed and rng.random() < fault.malformed:
                kind = rng.randrange(3)
                if kind == 0:  # shorter than an RTP header
                    bad = rng.randbytes(rng.randrange(1, 12))
                elif kind == 1:  # RTP version 1
                    bad = _RTP.pack(0x40, self._pt, seq, timestamp, self._ssrc) + rng.randbytes(20)
                else:  # a valid header, a payload whose NAL header has the forbidden bit set
                    bad = _RTP.pack(0x80, self._pt, seq, timestamp, self._ssrc)
                    bad += bytes((0x80 | rng.getrandbits(7),)) + rng.randbytes(30)
                    seq = (seq + 1) & 0xFFFF
                sink.send_rtp(0, bad)
                self.packets_malformed += 1
            if fault.loss and rng.random() < fault.loss:
                self.packets_lost += 1
            else:
                packet = _RTP.pack(0x80, second, seq, timestamp, self._ssrc) + payload
                sink.send_rtp(0, packet, resume_point=resume)
                self.packets_sent += 1
            resume = False
            seq = (seq + 1) & 0xFFFF
        self._sequence = seq
