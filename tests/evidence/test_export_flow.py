"""Evidence export end to end through the API: request → approval → MP4 cut from the recordings
and a signed manifest → an expiring download link → `argus export verify` on what was
downloaded; every step in the audit log and the provision in the owner's PIPA ledger.

The footage: two stretches of 10 s of a real H.264 clip (15 fps, a keyframe every second, 2 s
segments), 10 s apart; the cut MP4s are read back by ffprobe."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from argus.api.app import create_app
from argus.config import Settings
from argus.db import make_sessionmaker
from argus.evidence.links import LinkError, LinkSigner
from argus.evidence.manifest import load_export_key, verify_export
from argus.evidence.models import ExportRequest
from argus.identity.access import Console
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose
from tests.recording.frames import FPS, record_frames

PASSWORD = "Gwangju-2026!"
BASIS = "개인정보 보호법 제18조 제2항 제7호 (범죄의 수사)"


@dataclass
class World:
    client: TestClient
    settings: Settings
    engine: Engine
    city: int
    buk: int
    camera: int
    a0: datetime
    b0: datetime
    headers: dict[str, dict[str, str]]

    def body(self, start: float, end: float, **extra: Any) -> dict[str, Any]:
        item = {
            "camera_id": self.camera,
            "from": (self.a0 + timedelta(seconds=start)).isoformat(),
            "until": (self.a0 + timedelta(seconds=end)).isoformat(),
        }
        return {
            "items": [item],
            "purpose": "investigation",
            "legal_basis": BASIS,
            "recipient": "광주북부경찰서 형사과 경위 김수사",
            "case_number": "2026-광주북부-01234",
            **extra,
        }

    def post(self, who: str, path: str, json: Any = None) -> Any:
        return self.client.post(path, json=json, headers=self.headers[who])

    def exports(self) -> int:
        with make_sessionmaker(self.engine)() as session:
            return int(session.scalar(select(func.count()).select_from(ExportRequest)) or 0)


@pytest.fixture
def world(settings: Settings, engine: Engine, registry: Registry) -> Iterator[World]:
    city = registry.create_agency(AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)).id
    buk = registry.create_agency(
        AgencyCreate(
            name="광주광역시 북구", kind=AgencyKind.DISTRICT, parent_id=city, district="북구"
        )
    ).id
    site = registry.create_site(SiteCreate(owner_id=buk, lat=35.174, lon=126.912, district="북구"))
    camera = registry.create_camera(
        CameraCreate(
            site_id=site.id,
            name="북구청 앞",
            purpose=Purpose.TRAFFIC_ENFORCEMENT,
            main_stream_url="rtsp://127.0.0.1:8554/cameras/1/main",
        )
    ).id
    start = float(int(time.time()) - 300)
    asyncio.run(record_frames(settings, engine, camera, 10 * FPS, start))
    asyncio.run(record_frames(settings, engine, camera, 10 * FPS, start + 20))
    app = create_app(settings, engine)
    users = [
        ("buk-admin", buk, Role.AGENCY_ADMIN),
        ("buk-supervisor", buk, Role.SUPERVISOR),
        ("buk-operator", buk, Role.OPERATOR),
        ("buk-auditor", buk, Role.AUDITOR),
        ("city-supervisor", city, Role.SUPERVISOR),
        ("city-admin", city, Role.AGENCY_ADMIN),
    ]
    for name, agency, role in users:
        app.state.identity.users.create_user(
            Console("test"),
            UserCreate(username=name, agency_id=agency, roles=[role], password=PASSWORD),
        )
    a0 = datetime.fromtimestamp(start, UTC)
    with TestClient(app) as client:
        headers = {}
        for name, _, _ in users:
            r = client.post("/api/auth/token", json={"username": name, "password": PASSWORD})
            assert r.status_code == 200, r.text
            headers[name] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        yield World(
            client, settings, engine, city, buk, camera, a0, a0 + timedelta(seconds=20), headers
        )


def ffprobe_frames(path: Path) -> tuple[int, float]:
    entries = "stream=nb_read_frames:format=duration"
    probe = ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v"]
    out = subprocess.run(
        [*probe, "-show_entries", entries, "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out)
    return int(data["streams"][0]["nb_read_frames"]), float(data["format"]["duration"])


def download(world: World, who: str, export_id: int, tmp_path: Path) -> Path:
    link = world.post(who, f"/api/exports/{export_id}/link")
    assert link.status_code == 200, link.text
    got = world.client.get(link.json()["url"])  # no sign-in: the link is the capability
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    path = tmp_path / f"export-{export_id}.zip"
    path.write_bytes(got.content)
    return path


def test_own_cameras_export_is_approved_at_once_and_verifies(world: World, tmp_path: Path) -> None:
    made = world.post("buk-supervisor", "/api/exports", world.body(1.5, 9))
    assert made.status_code == 201, made.text
    export = made.json()
    assert [a["automatic"] for a in export["approvals"]] == [True]
    ready = world.client.get(
        f"/api/exports/{export['id']}", headers=world.headers["buk-supervisor"]
    )
    assert ready.json()["state"] == "ready", ready.text
    archive = download(world, "buk-supervisor", export["id"], tmp_path)
    key = load_export_key(world.settings).public_key()
    result = verify_export(archive, key)
    assert result.ok and result.trusted_key and result.files_checked == 1, result.lines()
    manifest = result.manifest
    assert manifest is not None
    assert manifest["requester"]["user"] == "buk-supervisor"
    assert manifest["approvers"][0]["automatic"] is True
    assert manifest["purpose"] == "investigation" and manifest["legal_basis"] == BASIS
    assert manifest["case_number"] == "2026-광주북부-01234"
    assert manifest["cameras"][0]["name"] == "북구청 앞" and manifest["masked"] is False
    # cut from the keyframe at 1 s (before 1.5 s) to the last frame before 9 s, not re-encoded
    clip = manifest["clips"][0]
    assert clip["frames"] == 8 * FPS
    assert datetime.fromisoformat(clip["from"]) == world.a0 + timedelta(seconds=1)
    # the copy carries the provider's retention: destroy it when the original would be
    retention = manifest["cameras"][0]["retention_days"]
    assert retention == 30
    assert datetime.fromisoformat(clip["delete_by"]) == datetime.fromisoformat(
        clip["until"]
    ) + timedelta(days=retention)
    with zipfile.ZipFile(archive) as z:
        name = f"export-{export['id']}/{clip['name']}"
        (tmp_path / "clip.mp4").write_bytes(z.read(name))
    frames, duration = ffprobe_frames(tmp_path / "clip.mp4")
    assert frames == 8 * FPS and duration == pytest.approx(8.0, abs=0.01)
    # every step audited; the provision is in the owner's ledger as 제공
    audit = world.client.get(
        "/api/audit", params={"limit": 200}, headers=world.headers["buk-auditor"]
    )
    assert audit.status_code == 200, audit.text
    actions = [e["action"] for e in audit.json()["items"]]
    for step in ("export.request", "export.approve", "export.ready", "export.link"):
        assert step in actions, (step, actions)
    assert "access.export" in actions
    ledger = world.client.get(
        "/api/ledger.csv", params={"agency": world.buk}, headers=world.headers["buk-auditor"]
    )
    assert ledger.status_code == 200
    rows = [line for line in ledger.text.splitlines() if line.startswith("제공,")]
    assert len(rows) == 1 and "광주북부경찰서" in rows[0] and clip["name"] in rows[0]
    table = world.client.get(
        "/api/ledger", params={"agency": world.buk}, headers=world.headers["buk-auditor"]
    ).json()
    provided = [r for r in table["rows"] if r["kind"] == "제공"]
    assert len(provided) == 1 and provided[0]["recipient"].startswith("광주북부경찰서")
    assert clip["name"] in provided[0]["file"] and table["truncated"] is False


def test_another_agencys_export_waits_for_the_owner_and_a_refusal_ends_it(
    world: World, tmp_path: Path
) -> None:
    draft = world.post(
        "buk-admin",
        "/api/agreements",
        {
            "owner_agency_id": world.buk,
            "consumer_agency_id": world.city,
            "selector": {"purposes": ["교통단속"]},
            "purposes": ["investigation"],
            "capabilities": ["playback", "export"],
            "legal_basis": "광주광역시-북구 CCTV 연계 협약",
        },
    )
    assert draft.status_code == 201, draft.text
    for step in ("propose", "accept"):
        assert world.post("buk-admin", f"/api/agreements/{draft.json()['id']}/{step}").is_success
    made = world.post("city-supervisor", "/api/exports", world.body(0, 4))
    assert made.status_code == 201, made.text
    export = made.json()
    assert export["state"] == "pending" and export["approvals"][0]["automatic"] is False
    # not ready: no link; the consumer's admin cannot approve for the owner
    assert world.post("city-supervisor", f"/api/exports/{export['id']}/link").status_code == 409
    assert world.post("city-admin", f"/api/exports/{export['id']}/approve").status_code == 403
    assert world.post("buk-supervisor", f"/api/exports/{export['id']}/approve").status_code == 403
    waiting = world.client.get("/api/exports", headers=world.headers["buk-admin"]).json()
    assert [e["id"] for e in waiting] == [export["id"]]
    approved = world.post("buk-admin", f"/api/exports/{export['id']}/approve", {})
    assert approved.status_code == 200, approved.text
    archive = download(world, "city-supervisor", export["id"], tmp_path)
    result = verify_export(archive, load_export_key(world.settings).public_key())
    assert result.ok and result.manifest is not None
    assert result.manifest["approvers"][0]["user"] == "buk-admin"
    # the owner's admin may also say no, with a reason
    second = world.post("city-supervisor", "/api/exports", world.body(20, 24)).json()
    assert world.post("buk-admin", f"/api/exports/{second['id']}/refuse", {}).status_code == 422
    refused = world.post(
        "buk-admin", f"/api/exports/{second['id']}/refuse", {"reason": "수사 범위 밖"}
    )
    assert refused.status_code == 200 and refused.json()["state"] == "refused"
    assert world.post("city-supervisor", f"/api/exports/{second['id']}/link").status_code == 409


def test_bad_requests_get_a_clear_error_and_change_nothing(world: World) -> None:
    now = datetime.now(UTC)
    future = {
        "camera_id": world.camera,
        "from": (now - timedelta(minutes=1)).isoformat(),
        "until": (now + timedelta(hours=1)).isoformat(),
    }
    old = {
        "camera_id": world.camera,
        "from": (now - timedelta(days=60)).isoformat(),
        "until": (now - timedelta(days=59)).isoformat(),
    }
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("buk-supervisor", world.body(0, 5, purpose=None), 422, "purpose"),
        ("buk-supervisor", world.body(0, 5, legal_basis=" "), 422, "legal basis"),
        ("buk-supervisor", world.body(0, 5, recipient=""), 422, "recipient"),
        ("buk-supervisor", world.body(0, 5, case_number=None), 422, "case number"),
        ("buk-supervisor", world.body(5, 25), 422, "without recordings"),
        ("buk-supervisor", world.body(5, 25) | {"items": [future]}, 422, "future"),
        ("buk-supervisor", world.body(5, 25) | {"items": [old]}, 422, "retention"),
        ("buk-supervisor", world.body(45, 50), 422, "recorded nothing"),
        (
            "buk-supervisor",
            world.body(0, 5) | {"items": [{**future, "camera_id": 999}]},
            404,
            "camera 999",
        ),
        ("buk-operator", world.body(0, 5), 403, "supervisor"),  # an operator may not export
        ("city-supervisor", world.body(0, 5), 403, "agreement"),
    ]
    for who, body, status, words in cases:
        r = world.post(who, "/api/exports", body)
        assert r.status_code == status, (words, r.text)
        assert words in r.json()["message"], (words, r.text)
    assert world.exports() == 0


def test_a_tampered_download_is_caught_by_argus_export_verify(
    world: World, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    made = world.post("buk-supervisor", "/api/exports", world.body(20, 26)).json()
    archive = download(world, "buk-supervisor", made["id"], tmp_path)
    run = [str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "argus")]
    good = subprocess.run(
        [*run, "export", "verify", str(archive)], env=cli_env, capture_output=True, text=True
    )
    assert good.returncode == 0, good.stdout + good.stderr
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(archive) as z:
        z.extractall(folder)
    export_dir = folder / f"export-{made['id']}"
    clip = next(export_dir.glob("*.mp4"))
    data = bytearray(clip.read_bytes())
    data[len(data) // 2] ^= 0x01
    clip.write_bytes(bytes(data))
    bad = subprocess.run(
        [*run, "export", "verify", str(export_dir)], env=cli_env, capture_output=True, text=True
    )
    assert bad.returncode != 0
    assert clip.name in bad.stdout and "altered" in bad.stdout.lower(), bad.stdout


def test_links_expire_and_forged_links_are_refused(world: World, tmp_path: Path) -> None:
    made = world.post("buk-supervisor", "/api/exports", world.body(0, 3)).json()
    link = world.post("buk-supervisor", f"/api/exports/{made['id']}/link").json()
    token = link["url"].rsplit("/", 1)[1]
    signer = LinkSigner.of(world.settings)
    expires = datetime.fromisoformat(link["expires_at"])
    assert expires - datetime.now(UTC) == pytest.approx(timedelta(hours=24), abs=timedelta(1))
    assert signer.read(token, datetime.now(UTC)) == made["id"]
    with pytest.raises(LinkError, match="expired"):
        signer.read(token, expires + timedelta(seconds=1))
    forged = LinkSigner(b"k" * 32).sign(made["id"], expires)
    for bad in (forged, token[:-2] + "AA", "nonsense"):
        r = world.client.get(f"/api/exports/download/{bad}")
        assert r.status_code == 410, r.text
    # someone else cannot mint a link for it
    assert world.post("city-supervisor", f"/api/exports/{made['id']}/link").status_code in (
        403,
        404,
    )
    # past its expiry the export's files are removed and it can no longer be fetched
    exports = world.client.app.state.exports  # type: ignore[attr-defined]
    later = datetime.now(UTC) + timedelta(days=8)
    exports.clock = lambda: later
    assert exports.expire() == 1
    exports.clock = lambda: datetime.now(UTC)
    assert world.client.get(link["url"]).status_code == 409
    assert not list(world.settings.exports_path.glob(f"export-{made['id']}*"))


def test_an_export_whose_footage_is_gone_fails_with_the_reason(world: World) -> None:
    exports = world.client.app.state.exports  # type: ignore[attr-defined]
    exports.settings = world.settings.model_copy(update={"export_auto_approve_own": False})
    made = world.post("buk-supervisor", "/api/exports", world.body(0, 4)).json()
    assert made["state"] == "pending"
    for path in (world.settings.data_dir / "recordings").rglob("*.mp4"):
        path.unlink()  # the disk lost them after the request
    decided = world.post("buk-admin", f"/api/exports/{made['id']}/approve", {})
    assert decided.status_code == 200, decided.text
    failed = world.client.get(
        f"/api/exports/{made['id']}", headers=world.headers["buk-supervisor"]
    ).json()
    assert failed["state"] == "failed" and "cannot be read" in failed["reason"]
    assert world.post("buk-supervisor", f"/api/exports/{made['id']}/link").status_code == 409
    assert not list(world.settings.exports_path.glob("*"))  # nothing half-built is left
