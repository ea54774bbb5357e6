"""Live fMP4 from hub frames: one fragment per frame, built once and shared by every viewer.

Times are the hub's (90 kHz, increasing across reconnections), so a fragment is the same bytes
for every viewer and is cached on the frame. A viewer who joins starts with the GOP cache: the
frames from the latest keyframe up to now. Played at their own pace they would leave the viewer
up to a GOP behind live; `catch_up_segment` instead gives every frame before the newest one a
duration of one tick, so the player decodes them all at once and presents the newest frame at
its own time: the picture is live from the first paint.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from argus.media.fmp4 import (
    Sample,
    VideoFormat,
    init_segment,
    media_segment,
    sample_data,
    video_format,
)
from argus.media.hub import Codec, Frame
from argus.media.nal import ParameterSets

FRAGMENT_KEY = "fmp4"


@lru_cache(maxsize=8192)
def format_of(codec: Codec, parameter_sets: ParameterSets) -> VideoFormat:
    """The video format for these parameter sets (raises the fMP4 error if unreadable)."""
    return video_format(codec, parameter_sets)


@lru_cache(maxsize=8192)
def init_of(fmt: VideoFormat) -> bytes:
    return init_segment(fmt)


def sample_of(frame: Frame) -> bytes:
    """The frame's NAL units, length-prefixed for MP4 (built once, shared by live and recording)."""
    data = frame.cache.get("sample")
    if data is None:
        data = frame.cache["sample"] = sample_data(frame.au.nal_units)
    return data


def _sample(frame: Frame, duration: int) -> Sample:
    return Sample(sample_of(frame), duration, frame.is_keyframe)


def fragment(frame: Frame) -> bytes:
    """The frame as one moof+mdat, at its own time (built on first use, then shared)."""
    cached = frame.cache.get(FRAGMENT_KEY)
    if cached is None:
        cached = media_segment(frame.index + 1, frame.media_time, [_sample(frame, frame.duration)])
        frame.cache[FRAGMENT_KEY] = cached
    return cached


def catch_up_segment(frames: Sequence[Frame]) -> bytes:
    """The frames as one fragment that ends at the last frame's own time.

    Every frame but the last lasts one tick, so the fragment starts `len(frames) - 1` ticks
    before the last frame; the frames after it follow with their shared fragments."""
    if len(frames) == 1:
        return fragment(frames[0])
    last = frames[-1]
    samples = [_sample(f, 1) for f in frames[:-1]]
    samples.append(_sample(last, last.duration))
    return media_segment(frames[0].index + 1, last.media_time - (len(frames) - 1), samples)
