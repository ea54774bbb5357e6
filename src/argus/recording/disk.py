"""The disk side of recording: one thread per process writes segment files and keeps the index.

Recorders (on the event loop) hand over whole parts — fMP4 fragments of at most one second —
and never wait: `DiskWriter.submit` only queues. The thread writes each part at once (so a
killed process loses only what was still in the recorder's hands), and every `sync_interval`
it makes everything written durable — one ``syncfs`` per volume, or an fsync per file where
that call is missing — and only then commits the index rows for those bytes, all in one
transaction. The index therefore never points at bytes that are not on disk (invariant 4).

A volume that fills up (ENOSPC) or fails to write ends that segment at its last complete part:
the file is cut back to what the index may name, the segment is closed, and its recorder is
told (`SegmentHandle.failed`) so that it waits and starts a new segment later. Live view never
notices: it does not pass through here. When the queue holds more than `max_queued` bytes
(the disk cannot keep up) new parts are refused and the recorder starts again at a keyframe,
so memory stays bounded and ingest never waits for the disk (invariant 6).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from argus.db import transaction
from argus.durable import fsync_dir
from argus.recording.models import Segment
from argus.recording.volumes import Volume

log = logging.getLogger(__name__)

_libc_syncfs = None
try:  # Linux: make a whole filesystem durable in one call
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    _libc_syncfs = _libc.syncfs
except (OSError, AttributeError):
    _libc_syncfs = None


@dataclass(eq=False)
class SegmentHandle:
    """One segment file as the recorder and the disk thread share it."""

    camera_id: int
    stream: str
    codec: str
    volume: Volume
    relative: str
    start: datetime
    init: bytes
    # disk-thread side
    segment_id: int | None = None
    fd: int | None = None
    written: int = 0  # bytes written to the file (complete parts only)
    frames_written: int = 0
    end_written: datetime | None = None
    keyframes_written: list[list[int]] = field(default_factory=list)
    hasher: hashlib._Hash = field(default_factory=hashlib.sha256)
    closing: bool = False
    closed: bool = False
    failed: str | None = None  # set by the disk thread: why this segment stopped
    dirty: bool = False  # written since the last index commit

    @property
    def path(self) -> Path:
        return self.volume.root / self.relative


@dataclass(frozen=True, slots=True)
class Part:
    handle: SegmentHandle
    data: bytes
    frames: int
    end: datetime
    keyframes: tuple[tuple[int, int], ...]  # (ms after segment start, byte offset)


@dataclass(slots=True)
class DiskStats:
    parts: int = 0
    bytes: int = 0
    syncs: int = 0
    commits: int = 0
    refused_parts: int = 0
    write_errors: int = 0
    last_error: str | None = None
    queued_bytes: int = 0


_STOP = object()


class DiskWriter:
    """The writing thread of one process and the queue in front of it."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        sync_interval: float = 1.0,
        max_queued: int = 256 * 1024 * 1024,
    ) -> None:
        self._sessions = sessions
        self.sync_interval = sync_interval
        self.max_queued = max_queued
        self.stats = DiskStats()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._queued = 0
        self._lock = threading.Lock()
        self._open: dict[SegmentHandle, None] = {}  # in creation order: rows get ids in it
        self._thread: threading.Thread | None = None

    # -- called from the event loop (never blocks) -------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="recording disk", daemon=True)
            self._thread.start()

    def open(self, handle: SegmentHandle) -> None:
        """Queue the creation of a segment file (its init segment is written first)."""
        self._put(handle, len(handle.init))

    def submit(self, part: Part) -> bool:
        """Queue a part; False (nothing queued) when the disk is too far behind or failed."""
        if part.handle.failed is not None:
            return False
        with self._lock:
            if self._queued + len(part.data) > self.max_queued:
                self.stats.refused_parts += 1
                return False
        self._put(part, len(part.data))
        return True

    def close(self, handle: SegmentHandle) -> None:
        """Queue the segment's close: the last sync, its SHA-256, state closed."""
        self._put(("close", handle), 0)

    def stop(self, timeout: float = 30.0) -> bool:
        """Write and index everything queued, then end the thread. False when the thread is
        still writing after `timeout` (a hung disk): it is logged, and the caller must keep
        the recording lock, so that no repair cuts the segments it still appends to."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("the disk writer is still writing after %.0f s; leaving it", timeout)
                return False
            self._thread = None
        return True

    def _put(self, item: object, size: int) -> None:
        with self._lock:
            self._queued += size
            self.stats.queued_bytes = self._queued
        self._queue.put(item)

    # -- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        deadline = time.monotonic() + self.sync_interval
        stopping = False
        while not stopping:
            timeout = max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is _STOP:
                stopping = True
            elif item is not None:
                self._handle(item)
                # drain what is ready before syncing
                while time.monotonic() < deadline:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        stopping = True
                        break
                    self._handle(more)
            if stopping or time.monotonic() >= deadline:
                self._sync_and_commit()
                deadline = time.monotonic() + self.sync_interval
        self._sync_and_commit()

    def _handle(self, item: object) -> None:
        if isinstance(item, SegmentHandle):
            self._dequeued(len(item.init))
            self._create(item)
        elif isinstance(item, Part):
            self._dequeued(len(item.data))
            self._append(item)
        elif isinstance(item, tuple) and item[0] == "close":
            handle = item[1]
            assert isinstance(handle, SegmentHandle)
            handle.closing = True
            handle.dirty = True

    def _dequeued(self, size: int) -> None:
        with self._lock:
            self._queued -= size
            self.stats.queued_bytes = self._queued

    def _create(self, handle: SegmentHandle) -> None:
        path = handle.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o640)
        except OSError as exc:
            self._failed(handle, f"cannot create {path}: {exc.strerror or exc}")
            return
        handle.fd = fd
        if not self._write(handle, handle.init):
            # not even the init segment fit: leave no file that the index does not know
            os.close(fd)
            handle.fd = None
            path.unlink(missing_ok=True)
            return
        self._open[handle] = None
        handle.end_written = handle.start
        handle.dirty = True

    def _append(self, part: Part) -> None:
        handle = part.handle
        if handle.fd is None or handle.failed is not None or handle.closing:
            return
        offset = handle.written
        if self._write(handle, part.data):
            handle.frames_written += part.frames
            handle.end_written = part.end
            handle.keyframes_written.extend([ms, offset + rel] for ms, rel in part.keyframes)
            handle.dirty = True

    def _write(self, handle: SegmentHandle, data: bytes) -> bool:
        """Write all of ``data`` at the end of the file, or cut the file back and fail it."""
        assert handle.fd is not None
        view = memoryview(data)
        done = 0
        try:
            while done < len(view):
                done += os.write(handle.fd, view[done:])
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(handle.fd, handle.written)
            reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
            self._failed(handle, f"writing {handle.relative} failed: {reason}")
            return False
        handle.written += len(data)
        handle.hasher.update(data)
        self.stats.parts += 1
        self.stats.bytes += len(data)
        return True

    def _failed(self, handle: SegmentHandle, reason: str) -> None:
        log.error("recording camera %s: %s", handle.camera_id, reason)
        self.stats.write_errors += 1
        self.stats.last_error = reason
        handle.failed = reason
        handle.closing = True
        handle.dirty = True

    def _sync_and_commit(self) -> None:
        dirty = [h for h in self._open if h.dirty]
        if dirty:
            self._sync(dirty)
            self._commit(dirty)

    def _sync(self, handles: list[SegmentHandle]) -> None:
        roots = {h.volume.root for h in handles}
        synced: set[Path] = set()
        if _libc_syncfs is not None:
            for root in roots:
                try:
                    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
                except OSError:
                    continue
                try:
                    if _libc_syncfs(fd) == 0:
                        synced.add(root)
                finally:
                    os.close(fd)
        for handle in handles:
            if handle.volume.root in synced or handle.fd is None:
                continue
            try:
                os.fsync(handle.fd)
                fsync_dir(handle.path.parent)
            except OSError as exc:
                self._failed(handle, f"fsync failed: {exc}")
        self.stats.syncs += 1

    def _commit(self, handles: list[SegmentHandle]) -> None:
        try:
            with transaction(self._sessions) as session:
                updates = [u for u in (self._index(session, h) for h in handles) if u is not None]
                if updates:  # one executemany for every segment already indexed
                    session.execute(update(Segment), updates)
        except Exception:  # the database is away: keep the handles dirty, try next round
            log.exception("updating the recording index failed; retrying")
            return
        self.stats.commits += 1
        for handle in handles:
            handle.dirty = False
            if handle.closing and not handle.closed:
                handle.closed = True
                self._open.pop(handle, None)
                if handle.fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(handle.fd)
                    handle.fd = None

    def _index(self, session: Session, handle: SegmentHandle) -> dict[str, object] | None:
        """Insert a new segment's row now; for a known one, the values to update it with."""
        if handle.written == 0:  # the file could not even take its init segment
            return None
        end = handle.end_written or handle.start
        values = {
            "end_time": end,
            "bytes": handle.written,
            "frames": handle.frames_written,
            "keyframes": list(handle.keyframes_written),
        }
        if handle.closing:
            values["sha256"] = handle.hasher.hexdigest()
            values["state"] = "closed"
        if handle.segment_id is None:
            row = Segment(
                camera_id=handle.camera_id,
                stream=handle.stream,
                volume=handle.volume.name,
                path=handle.relative,
                codec=handle.codec,
                start_time=handle.start,
                **{"state": "open", **values},
            )
            session.add(row)
            session.flush()
            handle.segment_id = row.id
            return None
        return {"id": handle.segment_id, **values}
