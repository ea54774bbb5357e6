"""The recorder of one camera stream: hub frames in, segment parts out to the disk thread.

It is one more subscriber on the camera's hub, so a recorder that falls behind skips to the
next keyframe like any viewer and never slows ingest or the viewers (invariant 6).

A segment starts at a keyframe and closes at the first keyframe after `segment_seconds`, or
when the stream changes format (new parameter sets or codec), or when its clock breaks (the
camera reconnected after a pause: the gap stays a gap). Frames are gathered into parts of at
most `part_seconds` of video, each one fMP4 fragment that starts a new fragment at every
keyframe; a part is handed to the disk thread when the next frame arrives (which fixes the last
frame's duration). So the recorder holds at most one part — what a crash may lose.

Segment times are wall-clock: the first frame's time (the camera's RTCP clock when known, else
the moment it arrived), then the media clock from there. Decode times inside a file start at 0.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argus.media.fmp4 import Fmp4Error, Sample, VideoFormat, media_segment
from argus.media.hub import Frame, StreamHub, SubscriberClosed
from argus.media.live_fmp4 import format_of, init_of, sample_of
from argus.recording.disk import DiskWriter, Part, SegmentHandle
from argus.recording.layout import SegmentName
from argus.recording.volumes import Volume, pick

log = logging.getLogger(__name__)

CLOCK = 90000
MAX_CLOCK_SLIP = 2.0  # seconds between media clock and arrival before it counts as a break
RETRY_AFTER_FAILURE = 5.0


@dataclass(slots=True)
class RecorderStats:
    segments: int = 0
    parts: int = 0
    frames: int = 0
    bytes: int = 0
    dropped_parts: int = 0
    breaks: int = 0
    failures: int = 0
    state: str = "starting"
    last_error: str | None = None


class _Open:
    """The segment being written and the part being gathered."""

    __slots__ = ("fmt", "handle", "media_start", "part", "received_start", "sequence")

    def __init__(self, handle: SegmentHandle, fmt: VideoFormat, first: Frame) -> None:
        self.handle = handle
        self.fmt = fmt
        self.media_start = first.media_time
        self.received_start = first.received
        self.part: list[Frame] = []
        self.sequence = 0


def frame_wall_time(frame: Frame) -> float:
    """Unix seconds of a frame: the camera's clock if known, else when it arrived."""
    if frame.wall_time is not None:
        return frame.wall_time
    return time.time() - (time.monotonic() - frame.received)


class CameraRecorder:
    """Records one hub; `run()` is its task, cancelled to stop (the open segment is closed)."""

    def __init__(
        self,
        camera_id: int,
        stream: str,
        hub: StreamHub,
        disk: DiskWriter,
        volumes: list[Volume],
        *,
        segment_seconds: float = 60.0,
        part_seconds: float = 1.0,
    ) -> None:
        self.camera_id = camera_id
        self.stream = stream
        self.hub = hub
        self.disk = disk
        self.volumes = volumes
        self.segment_ticks = int(segment_seconds * CLOCK)
        self.part_ticks = int(part_seconds * CLOCK)
        self.stats = RecorderStats()
        self._open: _Open | None = None
        self._retry_at = 0.0

    async def run(self) -> None:
        sub = self.hub.subscribe(f"recorder:{self.camera_id}", "keyframe")
        self.stats.state = "waiting"
        try:
            while True:
                try:
                    frames = await sub.next_batch(256)
                except SubscriberClosed as exc:
                    self.stats.state = "stopped"
                    self.stats.last_error = exc.reason
                    break
                for frame in frames:
                    self._frame(frame)
        finally:
            sub.close("recorder stopped")
            self._finish()

    # -- frames ------------------------------------------------------------------------------

    def _frame(self, frame: Frame) -> None:
        codec = self.hub.codec
        if codec is None:
            return
        current = self._open
        if current is not None and current.handle.failed is not None:
            self._failed(current.handle.failed)
            current = None
        try:
            fmt = format_of(codec, frame.au.parameter_sets)
        except Fmp4Error as exc:
            self.stats.last_error = str(exc)
            return
        if current is not None:
            if fmt != current.fmt or self._clock_broke(current, frame):
                if fmt == current.fmt:
                    self.stats.breaks += 1
                self._close(frame)
                current = None
            elif frame.is_keyframe and frame.media_time - current.media_start >= self.segment_ticks:
                self._close(frame)
                current = None
        if current is None:
            if not frame.is_keyframe or time.monotonic() < self._retry_at:
                return
            current = self._start(frame, fmt)
            if current is None:
                return
        part = current.part
        fits = (
            frame.media_time + frame.duration - part[0].media_time <= self.part_ticks
            if part
            else True
        )
        if part and (frame.is_keyframe or not fits):
            self._hand_over(current, frame.media_time)
        current.part.append(frame)

    def _clock_broke(self, current: _Open, frame: Frame) -> bool:
        media = (frame.media_time - current.media_start) / CLOCK
        arrived = frame.received - current.received_start
        return abs(arrived - media) > MAX_CLOCK_SLIP

    def _start(self, frame: Frame, fmt: VideoFormat) -> _Open | None:
        start = datetime.fromtimestamp(frame_wall_time(frame), UTC)
        start = start.replace(microsecond=start.microsecond // 1000 * 1000)
        volume = pick(self.volumes)
        name = SegmentName(self.camera_id, start, self.stream)
        handle = SegmentHandle(
            camera_id=self.camera_id,
            stream=self.stream,
            codec=fmt.codec,
            volume=volume,
            relative=name.relative,
            start=start,
            init=init_of(fmt),
        )
        self.disk.open(handle)
        self.stats.segments += 1
        self.stats.state = "recording"
        self._open = _Open(handle, fmt, frame)
        return self._open

    def _hand_over(self, current: _Open, next_media_time: int | None) -> None:
        frames = current.part
        if not frames:
            return
        current.part = []
        samples = []
        for i, frame in enumerate(frames):
            if i + 1 < len(frames):
                duration = frames[i + 1].media_time - frame.media_time
            elif next_media_time is not None:
                duration = next_media_time - frame.media_time
            else:
                duration = frame.duration
            duration = max(1, min(duration, 5 * CLOCK))
            samples.append(Sample(sample_of(frame), duration, frame.is_keyframe))
        current.sequence += 1
        base = frames[0].media_time - current.media_start
        try:
            data = media_segment(current.sequence, base, samples)
        except Fmp4Error as exc:
            self.stats.last_error = str(exc)
            return
        end_ticks = base + sum(s.duration for s in samples)
        handle = current.handle
        end = handle.start + timedelta(seconds=end_ticks / CLOCK)
        keyframes: tuple[tuple[int, int], ...] = ()
        if frames[0].is_keyframe:
            keyframes = ((int(base * 1000 // CLOCK), 0),)
        if self.disk.submit(Part(handle, data, len(frames), end, keyframes)):
            self.stats.parts += 1
            self.stats.frames += len(frames)
            self.stats.bytes += len(data)
        else:
            # the disk is behind or failed: end this segment here, start again at a keyframe
            self.stats.dropped_parts += 1
            reason = handle.failed or "the disk cannot keep up"
            self._failed(reason)

    def _close(self, next_frame: Frame | None) -> None:
        current = self._open
        if current is None:
            return
        self._open = None
        self._hand_over(current, None if next_frame is None else next_frame.media_time)
        self.disk.close(current.handle)

    def _failed(self, reason: str) -> None:
        current = self._open
        self._open = None
        if current is not None:
            self.disk.close(current.handle)
        self.stats.failures += 1
        self.stats.last_error = reason
        self.stats.state = "failed"
        self._retry_at = time.monotonic() + RETRY_AFTER_FAILURE

    def _finish(self) -> None:
        if self._open is not None:
            self._close(None)
        if self.stats.state == "recording":
            self.stats.state = "stopped"
