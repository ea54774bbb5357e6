"""The recording lock: recorders hold it shared, `argus check --repair` needs it alone.

Repairing an open segment while a recorder still appends to it would cut off live footage, so
the repair refuses to run while any media process of this data directory records.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from argus.errors import ConflictError

LOCK_FILE = "recording.lock"


class RecordingLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire_shared(self) -> None:
        self._take(fcntl.LOCK_SH)

    def acquire_exclusive(self) -> None:
        try:
            self._take(fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConflictError(
                "recorders are running on this data directory: stop 'argus serve' before "
                "repairing (checking without --repair is safe while it runs)"
            ) from None

    def held_by_others(self) -> bool:
        """Whether a recorder holds the lock now (probed without keeping it)."""
        try:
            self.acquire_exclusive()
        except ConflictError:
            return True
        self.release()
        return False

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _take(self, mode: int) -> None:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._fd, mode)
        except BaseException:
            self.release()
            raise
