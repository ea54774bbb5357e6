"""`argus check`: does the segment index match the files on disk? With repair, make it so.

What is checked, for every volume:
- every indexed segment's file exists and holds at least the bytes the index names (the
  invariant: the index never points at bytes that are not on disk);
- a segment left ``open`` by a crash: the file past the indexed length may hold complete parts
  written before the crash; repair scans them, keeps every complete fragment, cuts the torn
  tail, hashes the file and closes the segment as ``recovered``;
- with ``deep``, every segment's fragments parse up to its indexed length and a closed
  segment's SHA-256 matches its file;
- files that look like segments but have no row (a crash between creating and indexing):
  repair indexes the complete fragments they hold, or removes them when they hold no video;
- rows marked ``destroying``: repair finishes the destruction (and its ledger entry).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record
from argus.db import transaction
from argus.recording.destroy import destroy_segments
from argus.recording.fmp4_read import Mp4ReadError, parse_init, scan_fragments
from argus.recording.index import SegmentInfo
from argus.recording.layout import parse_relative, segment_files
from argus.recording.models import Segment
from argus.recording.volumes import Volume


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # missing, short, open, unindexed, destroying, unreadable, hash, extra, volume
    volume: str
    path: str
    message: str
    repaired: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "volume": self.volume,
            "path": self.path,
            "message": self.message,
            "repaired": self.repaired,
        }


@dataclass
class CheckReport:
    segments: int = 0
    files: int = 0
    problems: list[Problem] = field(default_factory=list)
    repaired: bool = False
    recording: int = 0
    """Segments being recorded now (checked while recorders run): open, not a problem."""

    @property
    def ok(self) -> bool:
        """Nothing wrong (or, after repair, nothing left that repair could not fix)."""
        if self.repaired:
            return all(p.repaired for p in self.problems)
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "segments": self.segments,
            "files": self.files,
            "recording": self.recording,
            "repaired": self.repaired,
            "problems": [p.as_json() for p in self.problems],
        }


@dataclass(frozen=True, slots=True)
class Recovered:
    bytes: int
    frames: int
    end_offset_ms: int
    keyframes: list[list[int]]
    sha256: str


def recover_file(path: Path, end: int | None = None) -> Recovered | None:
    """What a segment file holds (up to ``end``): its complete fragments, or None if no video."""
    data = path.read_bytes()[:end]
    try:
        init = parse_init(data)
    except Mp4ReadError:
        return None
    scan = scan_fragments(data, init.size)
    if not scan.fragments:
        return None
    frames = sum(len(f.samples) for f in scan.fragments)
    last = scan.fragments[-1]
    end_ticks = last.base_decode_time + last.duration
    keyframes = [
        [f.base_decode_time * 1000 // init.timescale, f.offset]
        for f in scan.fragments
        if f.starts_with_sync
    ]
    digest = hashlib.sha256(memoryview(data)[: scan.complete_end]).hexdigest()
    return Recovered(
        scan.complete_end, frames, end_ticks * 1000 // init.timescale, keyframes, digest
    )


def check(
    sessions: sessionmaker[Session],
    volumes: list[Volume],
    *,
    repair: bool = False,
    deep: bool = False,
    live: bool = False,
) -> CheckReport:
    """Compare the index with the files; with ``repair``, fix what can be fixed.

    ``live`` says recorders are running (they hold the recording lock): an open segment whose
    file holds at least its indexed bytes is then being recorded, not left open, and a file
    younger than `LIVE_GRACE` may not be indexed yet (its first index commit is ≤ 1 s away)."""
    if live and repair:
        raise ValueError("repair needs the recorders stopped")
    report = CheckReport(repaired=repair)
    named = {v.name: v for v in volumes}
    with sessions() as session:
        rows = [SegmentInfo.of(r) for r in session.scalars(select(Segment).order_by(Segment.id))]
    report.segments = len(rows)
    indexed: set[tuple[str, str]] = set()
    destroying: list[SegmentInfo] = []
    for seg in rows:
        indexed.add((seg.volume, seg.path))
        volume = named.get(seg.volume)
        if volume is None:
            report.problems.append(
                Problem("volume", seg.volume, seg.path, f"volume {seg.volume} is not configured")
            )
            continue
        if seg.state == "destroying":
            destroying.append(seg)
            continue
        if live and seg.state == "open" and _holds_indexed_bytes(volume, seg):
            report.recording += 1
            continue
        problem = _check_segment(sessions, volume, seg, repair=repair, deep=deep)
        if problem is not None:
            report.problems.append(problem)
    if destroying:
        report.problems.append(
            Problem(
                "destroying",
                destroying[0].volume,
                destroying[0].path,
                f"{len(destroying)} segments were being destroyed when the process stopped",
                "destruction finished and written to the ledger" if repair else None,
            )
        )
        if repair:
            destroy_segments(
                sessions,
                named,
                destroying,
                cause="check",
                destroyed_by="argus check --repair",
                reason="finishing a destruction interrupted by a crash",
            )
    for volume in volumes:
        for relative in segment_files(volume.root):
            report.files += 1
            if (volume.name, relative) in indexed:
                continue
            if live and _new_or_indexed_since(sessions, volume, relative):
                report.recording += 1
                continue
            report.problems.append(_unindexed(sessions, volume, relative, repair=repair))
    if repair and report.problems:
        with transaction(sessions) as session:
            record(
                session,
                AuditEvent(
                    action="recording.check",
                    outcome=Outcome.OK,
                    reason=f"argus check --repair fixed {len(report.problems)} problems",
                    details={"problems": [p.as_json() for p in report.problems[:100]]},
                ),
            )
    return report


LIVE_GRACE = 10.0
"""Seconds a new file may go unindexed while recorders run."""


def _holds_indexed_bytes(volume: Volume, seg: SegmentInfo) -> bool:
    try:
        return (volume.root / seg.path).stat().st_size >= seg.bytes
    except OSError:
        return False


def _new_or_indexed_since(sessions: sessionmaker[Session], volume: Volume, relative: str) -> bool:
    """A file found unindexed while recorders run: indexed since the index was read, or new."""
    with sessions() as session:
        found = session.scalar(
            select(Segment.id).where(Segment.volume == volume.name, Segment.path == relative)
        )
    if found is not None:
        return True
    try:
        age = time.time() - (volume.root / relative).stat().st_mtime
    except OSError:
        return True  # gone already: destroyed or renamed while we looked
    return age < LIVE_GRACE


def _check_segment(
    sessions: sessionmaker[Session], volume: Volume, seg: SegmentInfo, *, repair: bool, deep: bool
) -> Problem | None:
    path = volume.root / seg.path
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        if repair:
            _drop_lost(sessions, seg, "its file is missing")
        return Problem(
            "missing",
            volume.name,
            seg.path,
            f"segment {seg.id} of camera {seg.camera_id}: the file is missing",
            "row removed and the loss audited" if repair else None,
        )
    if size < seg.bytes:
        message = f"segment {seg.id}: the index names {seg.bytes} bytes, the file holds only {size}"
        return _rescan(sessions, volume, seg, "short", message, repair)
    if seg.state == "open":
        message = f"segment {seg.id} of camera {seg.camera_id} was left open"
        if size > seg.bytes:
            message += f" with {size - seg.bytes} bytes written after its last index update"
        return _rescan(sessions, volume, seg, "open", message, repair)
    if size > seg.bytes:
        message = f"segment {seg.id}: {size - seg.bytes} bytes past its closed end"
        if repair:
            os.truncate(path, seg.bytes)
        return Problem("extra", volume.name, seg.path, message, "cut back" if repair else None)
    if deep:
        return _deep(sessions, volume, seg, repair)
    return None


def _deep(
    sessions: sessionmaker[Session], volume: Volume, seg: SegmentInfo, repair: bool
) -> Problem | None:
    path = volume.root / seg.path
    data = path.read_bytes()[: seg.bytes]
    try:
        init = parse_init(data)
    except Mp4ReadError as exc:
        return Problem("unreadable", volume.name, seg.path, f"segment {seg.id}: {exc}")
    scan = scan_fragments(data, init.size)
    if scan.error or scan.trailing:
        why = scan.error or f"{scan.trailing} bytes of a torn fragment"
        return _rescan(
            sessions,
            volume,
            seg,
            "unreadable",
            f"segment {seg.id}: {why}",
            repair,
            within_index=True,
        )
    if seg.sha256 and hashlib.sha256(data).hexdigest() != seg.sha256:
        return Problem(
            "hash",
            volume.name,
            seg.path,
            f"segment {seg.id}: the file's SHA-256 no longer matches the one recorded when it "
            "closed (altered on disk)",
        )
    return None


def _rescan(
    sessions: sessionmaker[Session],
    volume: Volume,
    seg: SegmentInfo,
    kind: str,
    message: str,
    repair: bool,
    *,
    within_index: bool = False,
) -> Problem:
    if not repair:
        return Problem(kind, volume.name, seg.path, message)
    path = volume.root / seg.path
    recovered = recover_file(path, seg.bytes if within_index else None)
    if recovered is None:
        _drop_lost(sessions, seg, "its file holds no complete video")
        path.unlink(missing_ok=True)
        return Problem(kind, volume.name, seg.path, message, "no video in it: removed")
    os.truncate(path, recovered.bytes)
    with transaction(sessions) as session:
        session.execute(
            update(Segment)
            .where(Segment.id == seg.id)
            .values(
                bytes=recovered.bytes,
                frames=recovered.frames,
                end_time=seg.start + timedelta(milliseconds=recovered.end_offset_ms),
                keyframes=recovered.keyframes,
                sha256=recovered.sha256,
                state="recovered",
            )
        )
    gained = recovered.bytes - seg.bytes
    note = f"kept {recovered.frames} frames ({recovered.bytes} bytes"
    note += f", {gained} recovered past the index)" if gained > 0 else ")"
    return Problem(kind, volume.name, seg.path, message, note)


def _unindexed(
    sessions: sessionmaker[Session], volume: Volume, relative: str, *, repair: bool
) -> Problem:
    message = f"{relative} is on disk but not in the index"
    if not repair:
        return Problem("unindexed", volume.name, relative, message)
    name = parse_relative(relative)
    assert name is not None
    path = volume.root / relative
    recovered = recover_file(path)
    if recovered is None:
        path.unlink(missing_ok=True)
        return Problem("unindexed", volume.name, relative, message, "held no video: removed")
    os.truncate(path, recovered.bytes)
    data = path.read_bytes()
    codec = parse_init(data).codec
    with transaction(sessions) as session:
        session.add(
            Segment(
                camera_id=name.camera_id,
                stream=name.stream,
                volume=volume.name,
                path=relative,
                codec=codec,
                start_time=name.start,
                end_time=name.start + timedelta(milliseconds=recovered.end_offset_ms),
                bytes=recovered.bytes,
                frames=recovered.frames,
                keyframes=recovered.keyframes,
                sha256=recovered.sha256,
                state="recovered",
            )
        )
    return Problem(
        "unindexed", volume.name, relative, message, f"indexed {recovered.frames} frames"
    )


def _drop_lost(sessions: sessionmaker[Session], seg: SegmentInfo, why: str) -> None:
    with transaction(sessions) as session:
        session.execute(delete(Segment).where(Segment.id == seg.id))
        record(
            session,
            AuditEvent(
                action="recording.lost",
                outcome=Outcome.ERROR,
                target=f"camera:{seg.camera_id}",
                reason=f"segment {seg.path} was dropped from the index: {why}",
                details={
                    "file": Path(seg.path).name,
                    "footage_from": seg.start.isoformat(),
                    "footage_until": seg.end.isoformat(),
                    "bytes": seg.bytes,
                },
            ),
        )
