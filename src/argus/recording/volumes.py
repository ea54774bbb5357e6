"""Recording volumes: folders with a free-space floor, and the choice of one for a new segment."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from argus.config import Settings


@dataclass(frozen=True, slots=True)
class Volume:
    name: str
    root: Path
    min_free: int  # bytes

    def free(self) -> int:
        try:
            return shutil.disk_usage(self.root).free
        except OSError:
            return 0

    def below_floor(self) -> bool:
        return self.free() < self.min_free


def volumes_of(settings: Settings) -> list[Volume]:
    """The configured volumes, named v0, v1, … in order (the name is stored in the index)."""
    out = []
    for index, root in enumerate(settings.volumes):
        out.append(Volume(f"v{index}", Path(root), settings.recording_min_free_mb * 1024 * 1024))
    return out


def pick(volumes: list[Volume]) -> Volume:
    """The volume with the most room above its floor (the first one if all are below it)."""
    return max(volumes, key=lambda v: v.free() - v.min_free)


def by_name(volumes: list[Volume]) -> dict[str, Volume]:
    return {v.name: v for v in volumes}
