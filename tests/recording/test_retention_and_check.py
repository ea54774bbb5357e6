"""Invariant 5 (retention, legal holds, the storage floor, 파기 in the PIPA ledger) and
`argus check` on damage a crash or an operator can leave behind."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from argus.audit.ledger import LedgerQuery
from argus.audit.models import AuditEntry
from argus.audit.service import AuditService
from argus.db import make_sessionmaker
from argus.errors import FieldError
from argus.recording.check import check
from argus.recording.holds import place_hold, release_hold
from argus.recording.models import Segment
from argus.recording.retention import enforce_floor, sweep
from argus.recording.volumes import Volume, volumes_of
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.vocab import AgencyKind, Purpose
from tests.recording.frames import record_frames

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _camera(registry, retention_days: int) -> int:
    agency = registry.create_agency(AgencyCreate(name="광주광역시 남구", kind=AgencyKind.DISTRICT))
    site = registry.create_site(SiteCreate(owner_id=agency.id, lat=35.13, lon=126.90))
    camera = registry.create_camera(
        CameraCreate(
            site_id=site.id, purpose=Purpose.TRAFFIC_ENFORCEMENT, retention_days=retention_days
        )
    )
    return camera.id


async def test_retention_destroys_what_is_older_keeps_holds_and_writes_the_ledger(
    settings, engine, registry
):
    camera = _camera(registry, retention_days=7)
    old = (NOW - timedelta(days=8)).timestamp()
    recent = (NOW - timedelta(days=6)).timestamp()
    held_day = (NOW - timedelta(days=10)).timestamp()
    old_segments = await record_frames(settings, engine, camera, 60, old)
    seen = {s.id for s in old_segments}
    recent_segments = [
        s for s in await record_frames(settings, engine, camera, 60, recent) if s.id not in seen
    ]
    seen |= {s.id for s in recent_segments}
    held_segments = [
        s for s in await record_frames(settings, engine, camera, 60, held_day) if s.id not in seen
    ]
    assert len(old_segments) == len(recent_segments) == len(held_segments) == 2
    sessions = make_sessionmaker(engine)
    hold = place_hold(
        sessions,
        camera,
        held_segments[0].start,
        held_segments[0].start + timedelta(seconds=1),
        "hit-and-run at the school gate",
        case_number="2026-광주남부-0042",
    )
    volumes = volumes_of(settings)
    root = volumes[0].root
    report = sweep(sessions, volumes, NOW)
    # the old recording is gone, file by file; the recent one and the held segment stay
    assert report.destroyed == len(old_segments) + len(held_segments) - 1
    assert report.held == 1
    with sessions() as session:
        left = {r.id for r in session.scalars(select(Segment))}
    assert left == {s.id for s in recent_segments} | {held_segments[0].id}
    assert not any((root / s.path).exists() for s in old_segments)
    assert all((root / s.path).exists() for s in recent_segments)
    # 파기 in the ledger: one row per camera and sweep, naming the files and the period
    audit = AuditService(engine, settings)
    rows = [r for r in audit.ledger_rows(LedgerQuery()) if r.kind.value == "파기"]
    assert len(rows) == 1
    assert Path(old_segments[0].path).name in rows[0].file
    assert "보존기간" in rows[0].destroyed_by
    assert audit.verify().intact
    # a second sweep finds nothing more; releasing the hold lets retention take the segment
    assert sweep(sessions, volumes, NOW).destroyed == 0
    release_hold(sessions, hold, "case closed by the court")
    assert sweep(sessions, volumes, NOW).destroyed == 1
    with sessions() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    assert actions.count("recording.destroy") == 2
    assert "recording.hold" in actions and "recording.release" in actions


def test_bad_holds_are_refused_and_change_nothing(settings, engine, registry):
    camera = _camera(registry, 30)
    sessions = make_sessionmaker(engine)
    with pytest.raises(FieldError, match="end after"):
        place_hold(sessions, camera, NOW, NOW, "x", case_number="1")
    with pytest.raises(FieldError, match="case number"):
        place_hold(sessions, camera, NOW, NOW + timedelta(hours=1), "no case")
    with sessions() as session:
        assert (
            session.scalars(select(AuditEntry).where(AuditEntry.action == "recording.hold")).all()
            == []
        )


async def test_check_finds_and_repairs_what_a_crash_leaves(settings, engine, registry):
    camera = _camera(registry, 30)
    segments = await record_frames(settings, engine, camera, 90, NOW.timestamp() - 3600)
    sessions = make_sessionmaker(engine)
    volumes = volumes_of(settings)
    root = volumes[0].root
    assert check(sessions, volumes, deep=True).ok
    # 1. a segment left open with a complete part and a torn one past its index
    first = segments[0]
    data = (root / first.path).read_bytes()
    half = first.bytes // 2
    with sessions() as session:
        row = session.get(Segment, first.id)
        assert row is not None
        keep = [k for k in row.keyframes if k[1] < half]
        # the index as it was before the last parts were indexed: only the first keyframe's GOP
        cut = row.keyframes[1][1]
        row.bytes, row.state, row.sha256, row.keyframes = cut, "open", None, keep[:1]
        session.commit()
    with open(root / first.path, "ab") as handle:
        handle.write(data[first.bytes - 100 :][:60])  # a torn tail
    # 2. a file that lost its data behind the index's back
    (root / segments[1].path).unlink()
    # 3. a file that never got its row
    orphan = root / segments[2].path.replace(segments[2].path.rsplit("/", 1)[1], "")
    stray = orphan / f"{camera}-20261202T103000.000Z-main.mp4"
    stray.write_bytes(data)
    report = check(sessions, volumes)
    kinds = sorted(p.kind for p in report.problems)
    assert kinds == ["missing", "open", "unindexed"] and not report.ok
    repaired = check(sessions, volumes, repair=True)
    assert repaired.ok
    with sessions() as session:
        row = session.get(Segment, first.id)
        assert row is not None and row.state == "recovered"
        assert row.bytes == first.bytes and row.frames == first.frames  # every part recovered
        assert (root / first.path).stat().st_size == first.bytes  # the torn tail is cut off
        assert session.get(Segment, segments[1].id) is None
        adopted = session.scalars(select(Segment).where(Segment.path.like("%T103000%"))).one()
        assert adopted.frames == first.frames
        lost = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "recording.lost")
        ).all()
        assert len(lost) == 1
    assert check(sessions, volumes, deep=True).ok
    # an edit on disk of a closed segment is caught by the deep check
    victim = root / segments[2].path
    raw = bytearray(victim.read_bytes())
    raw[-10] ^= 0xFF
    victim.write_bytes(bytes(raw))
    deep = check(sessions, volumes, deep=True)
    assert [p.kind for p in deep.problems] == ["hash"]


def test_the_cli_reports_and_refuses_repair_while_recorders_run(settings, cli_env, engine):
    from argus.recording.lock import RecordingLock

    result = subprocess.run(
        [".venv/bin/argus", "check"], env=cli_env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("ok: 0 indexed segments")
    lock = RecordingLock(settings.data_dir)
    lock.acquire_shared()
    try:
        result = subprocess.run(
            [".venv/bin/argus", "check", "--repair"], env=cli_env, capture_output=True, text=True
        )
    finally:
        lock.release()
    assert result.returncode == 2
    assert "stop 'argus serve'" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def small_volume(tmp_path: Path):
    """A real 1 MiB filesystem (tmpfs), so that a full disk is a real ENOSPC."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_a_full_disk_never_corrupts_the_index_and_the_floor_frees_room(
    settings, engine, registry, small_volume
):
    camera = _camera(registry, 30)
    tiny = settings.model_copy(update={"recording_volumes": [small_volume]})
    # ~1.3 kB a frame: 1 MiB fills after some 800 frames; record 1,500
    segments = await record_frames(tiny, engine, camera, 1500, NOW.timestamp() - 600)
    sessions = make_sessionmaker(engine)
    volume = Volume("v0", small_volume, 256 * 1024)
    assert volume.free() < 64 * 1024  # it really filled up
    assert segments, "what fit before the disk filled is indexed"
    assert check(sessions, [volume], deep=True).ok  # the index names only bytes on disk
    report = enforce_floor(sessions, volume)
    assert report.destroyed > 0 and volume.free() >= volume.min_free
    assert report.alarm is not None and "floor" in report.alarm
    with sessions() as session:
        alarms = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "recording.storage_alarm")
        ).all()
        assert len(alarms) == 1
        kinds = session.scalars(
            select(AuditEntry.details).where(AuditEntry.action == "recording.destroy")
        ).all()
        assert kinds and all(json.loads(d)["cause"] == "storage" for d in kinds)
    assert check(sessions, [volume], deep=True).ok


async def test_deep_repair_keeps_the_whole_fragments_before_damage(settings, engine, registry):
    camera = _camera(registry, 30)
    segments = await record_frames(settings, engine, camera, 30, NOW.timestamp() - 60)
    sessions = make_sessionmaker(engine)
    volumes = volumes_of(settings)
    seg = segments[0]
    path = volumes[0].root / seg.path
    raw = bytearray(path.read_bytes())
    second_gop = seg.keyframes[1][1]
    raw[second_gop + 4 : second_gop + 8] = b"\x00\x00\x00\x00"  # the moof's type is gone
    path.write_bytes(bytes(raw))
    assert [p.kind for p in check(sessions, volumes, deep=True).problems] == ["unreadable"]
    assert check(sessions, volumes, deep=True, repair=True).ok
    with sessions() as session:
        row = session.get(Segment, seg.id)
        assert row is not None and row.state == "recovered"
        assert row.bytes == second_gop == path.stat().st_size
        assert row.frames == 15 and row.keyframes == [[0, seg.keyframes[0][1]]]
    assert check(sessions, volumes, deep=True).ok


async def test_check_while_recorders_run_tells_recording_from_left_open(
    settings, engine, registry, cli_env
):
    from argus.recording.lock import RecordingLock

    camera = _camera(registry, 30)
    wall = datetime.now(UTC).timestamp() - 60
    segments = await record_frames(settings, engine, camera, 45, wall)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:  # the newest segment is still being recorded
        row = session.get(Segment, segments[-1].id)
        assert row is not None
        row.state = "open"
    root = volumes_of(settings)[0].root
    new_file = (root / segments[0].path).parent / f"{camera}-20991231T000000.000Z-main.mp4"
    new_file.write_bytes(b"")  # created a moment ago, not indexed yet
    live = check(sessions, volumes_of(settings), live=True)
    assert live.ok and live.recording == 2, live.as_json()
    stopped = check(sessions, volumes_of(settings))
    assert {p.kind for p in stopped.problems} == {"open", "unindexed"}
    os.utime(new_file, (wall, wall))  # an old file without a row is a problem even while live
    assert [p.kind for p in check(sessions, volumes_of(settings), live=True).problems] == [
        "unindexed"
    ]
    new_file.unlink()
    lock = RecordingLock(settings.data_dir)
    lock.acquire_shared()
    try:
        result = subprocess.run(
            [".venv/bin/argus", "check"], env=cli_env, capture_output=True, text=True
        )
    finally:
        lock.release()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 being recorded" in result.stdout


async def test_argus_serve_sweeps_retention_on_its_own(settings, engine, registry):
    from argus.api.app import create_app
    from tests.media.live_server import serve

    camera = _camera(registry, retention_days=1)
    old = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    recent = (datetime.now(UTC) - timedelta(minutes=5)).timestamp()
    old_segments = await record_frames(settings, engine, camera, 30, old)
    await record_frames(settings, engine, camera, 30, recent)
    app = create_app(
        settings.model_copy(update={"recording_sweep_seconds": 0.2}), engine, upkeep=True
    )
    sessions = make_sessionmaker(engine)
    with serve(app):
        for _ in range(100):
            with sessions() as session:
                left = {r.id for r in session.scalars(select(Segment))}
            if not left & {s.id for s in old_segments}:
                break
            await asyncio.sleep(0.05)
    assert left and not left & {s.id for s in old_segments}
    with sessions() as session:
        actions = list(session.scalars(select(AuditEntry.action)))
    assert actions.count("recording.destroy") == 1
