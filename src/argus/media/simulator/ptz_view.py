"""What a simulated PTZ camera's stream shows of where it points.

The RTSP side of the simulator does not move cameras: it reads each camera's position from a
`PtzPositions` source shared by camera id (the ONVIF simulator's state,
`argus.onvif.ptz_state.PtzRegistry`) at every frame it sends. The position goes into the stamp
SEI exactly; the picture shows it coarsely: the pan is rounded to one of `sectors` headings and
each heading has its own clip (the texture shifted, the heading in degrees drawn at the bottom
left), encoded the first time a camera points there and cached like any clip. A stream switches
to the clip of its new heading at the next keyframe of its loop, once that clip is ready; until
then it keeps sending the clip it has, so a pan never delays a frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from argus.media.simulator.clips import ClipKey, ClipStore, PacketizedClip
from argus.ptz.driver import PtzPosition

DEFAULT_SECTORS = 12
"""Headings a PTZ camera's picture can show: every 30 degrees."""


class PtzPositions(Protocol):
    """Where each camera points now, in ONVIF's generic spaces."""

    def position(self, camera_id: int) -> PtzPosition: ...


def heading_degrees(pan: float) -> float:
    """The heading of a generic pan value on a 360° unit: 0 at home, ±1 the opposite (180°)."""
    return (pan * 180.0) % 360.0


def sector_heading(pan: float, sectors: int = DEFAULT_SECTORS) -> int:
    """The heading (whole degrees) of the sector a pan value falls in."""
    if sectors < 1:
        raise ValueError(f"a PTZ picture needs at least one sector, not {sectors}")
    width = 360.0 / sectors
    return round(round(heading_degrees(pan) / width) % sectors * width) % 360


class PtzView:
    """One stream's view of its camera's PTZ state: the position now, the clip to show."""

    def __init__(
        self,
        camera_id: int,
        source: PtzPositions,
        clips: ClipStore,
        key_for: Callable[[int], ClipKey],
        sectors: int = DEFAULT_SECTORS,
    ) -> None:
        self.camera_id = camera_id
        self.source = source
        self.clips = clips
        self.key_for = key_for
        self.sectors = sectors

    def position(self) -> PtzPosition:
        return self.source.position(self.camera_id)

    def heading(self) -> int:
        return sector_heading(self.position().pan, self.sectors)

    def clip(self, current: PacketizedClip, frame_index: int) -> PacketizedClip:
        """The clip to go on with at `frame_index` (a keyframe of `current`).

        The clip of the current heading when it is ready and fits (same length, a keyframe at
        the same index), else `current`; a clip not yet made is started in the background.
        """
        key = self.key_for(self.heading())
        if key == current.key:
            return current
        clip = self.clips.prefetch(key)
        if (
            clip is None
            or len(clip.frames) != len(current.frames)
            or not clip.frames[frame_index].keyframe
        ):
            return current
        return clip
