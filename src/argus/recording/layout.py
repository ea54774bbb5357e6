"""Where segment files live: ``<volume>/<camera>/<UTC date>/<camera>-<UTC start>-<stream>.mp4``.

The start time is in the name, so a file found on disk without an index row (a crash between
creating it and indexing it) can still be placed in time by `argus check --repair`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_NAME = re.compile(r"^(\d+)-(\d{8}T\d{6}\.\d{3})Z-(main|sub)\.mp4$")


@dataclass(frozen=True, slots=True)
class SegmentName:
    camera_id: int
    start: datetime
    stream: str

    @property
    def relative(self) -> str:
        stamp = self.start.astimezone(UTC)
        name = f"{self.camera_id}-{stamp:%Y%m%dT%H%M%S}.{stamp.microsecond // 1000:03d}Z"
        return f"{self.camera_id}/{stamp:%Y-%m-%d}/{name}-{self.stream}.mp4"


def parse_relative(path: str) -> SegmentName | None:
    """The camera, start and stream of a segment file's relative path; None if not ours."""
    parts = Path(path).parts
    if len(parts) != 3:
        return None
    found = _NAME.match(parts[2])
    if found is None or found.group(1) != parts[0]:
        return None
    start = datetime.strptime(found.group(2), "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC)
    return SegmentName(int(found.group(1)), start, found.group(3))


def segment_files(root: Path) -> list[str]:
    """Relative paths of every file that looks like a segment under a volume's root."""
    out: list[str] = []
    if not root.is_dir():
        return out
    for path in root.glob("*/*/*.mp4"):
        relative = path.relative_to(root).as_posix()
        if parse_relative(relative) is not None:
            out.append(relative)
    return sorted(out)
