"""Incident intake at the API: the policy per source, the signed webhook, bad input changing
nothing, one incident per report, who may see and work an incident, and the CLI against the
running server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from argus.api.app import create_app
from argus.audit.models import AuditEntry
from argus.audit.query import as_utc
from argus.config import Settings
from argus.db import make_sessionmaker
from argus.errors import FieldError
from argus.incidents.models import Incident
from argus.incidents.webhook import load_key, sign
from argus.recording.models import RecordingTrigger
from argus.recording.playback_ws import PlaybackServer
from argus.registry.service import Registry
from argus.sharing.tokens import StreamClaims
from tests.incidents.world import PASSWORD, POINT, World, build_world
from tests.media.live_server import serve


@pytest.fixture
def app_world(
    settings: Settings, engine: Engine, registry: Registry
) -> Iterator[tuple[TestClient, World]]:
    app = create_app(settings, engine)
    world = build_world(registry, app)
    with TestClient(app) as client:
        yield client, world


def login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def signed(client: TestClient, settings: Settings, message: dict[str, Any]) -> Any:
    body = json.dumps(message).encode()
    headers = {"Content-Type": "application/json", **sign(load_key(settings.data_dir), body)}
    return client.post("/api/incidents/webhook", content=body, headers=headers)


def report(kind: str, source: str = "112", **extra: Any) -> dict[str, Any]:
    incident = {"source": source, "type": kind, "at": {"lat": POINT[0], "lon": POINT[1]}}
    return {"action": "raise", "incident": {**incident, **extra}}


def count(engine: Engine, model: Any) -> int:
    with make_sessionmaker(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_112_report_of_an_unlisted_type_grants_nothing_and_says_why(
    app_world: tuple[TestClient, World], settings: Settings
) -> None:
    client, w = app_world
    raised = signed(client, settings, report("fraud", external_id="112-77"))
    assert raised.status_code == 201, raised.text
    incident = raised.json()
    assert incident["provides"] is False
    assert "only for the listed serious crimes" in incident["provision_reason"]
    assert "fraud" in incident["provision_reason"]
    assert incident["cameras"] == [] and incident["capabilities"] == []
    token = client.post(
        "/api/access/token",
        headers=login(client, "police-112"),
        json={"camera_id": w.facing, "capability": "live", "purpose": "crime_prevention"},
    )
    assert token.status_code == 403


def test_the_listed_112_types_are_a_setting(
    settings: Settings, engine: Engine, registry: Registry
) -> None:
    app = create_app(settings.model_copy(update={"incident_112_video_types": ["fraud"]}), engine)
    build_world(registry, app)
    with TestClient(app) as client:
        fraud = signed(client, settings, report("fraud", external_id="a")).json()
        assault = signed(client, settings, report("assault", external_id="b")).json()
    assert fraud["provides"] is True
    assert assault["provides"] is False


def test_119_and_the_disaster_room_get_their_own_responders(
    app_world: tuple[TestClient, World], settings: Settings
) -> None:
    client, w = app_world
    fire = signed(client, settings, report("fire", source="119", external_id="119-1")).json()
    assert fire["provides"] is True and fire["responding_agency_id"] == w.fire
    assert set(fire["purposes"]) == {"disaster", "accident"}
    # 119 does not answer a crime report, and nothing is provided for it
    odd = signed(client, settings, report("robbery", source="119", external_id="119-2")).json()
    assert odd["provides"] is False and "119 does not respond" in odd["provision_reason"]
    token = client.post(
        "/api/access/token",
        headers=login(client, "fire-119"),
        json={"camera_id": w.facing, "capability": "live", "purpose": "disaster"},
    )
    assert token.status_code == 200, token.text
    wrong_purpose = client.post(
        "/api/access/token",
        headers=login(client, "fire-119"),
        json={"camera_id": w.facing, "capability": "live", "purpose": "crime_prevention"},
    )
    assert wrong_purpose.status_code == 403
    assert "allows the purposes" in wrong_purpose.json()["message"]


def test_the_same_report_twice_raises_one_incident(
    app_world: tuple[TestClient, World], settings: Settings, engine: Engine
) -> None:
    client, _ = app_world
    first = signed(client, settings, report("assault", external_id="112-5"))
    second = signed(client, settings, report("assault", external_id="112-5"))
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert count(engine, Incident) == 1


@pytest.mark.parametrize(
    ("message", "needle"),
    [
        ({"action": "raise", "incident": {"source": "112", "type": "assault"}}, "say where"),
        (report("brawl"), "unknown incident type"),
        (report("assault", source="113"), "unknown source"),
        (report("assault", radius_m=-5), "radius_m"),
        (report("assault", at={"lat": 95, "lon": 126.9}), "lat"),
        (
            report(
                "flood",
                source="disaster_room",
                at=None,
                area=[{"lat": 35.1, "lon": 126.9}, {"lat": 35.2, "lon": 126.9}],
            ),
            "at least 4 points",
        ),
        ({"action": "close"}, "incident_id"),
        ({"action": "raise", "incident": {"source": "112"}, "extra": 1}, "extra"),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(
    app_world: tuple[TestClient, World],
    settings: Settings,
    engine: Engine,
    message: dict[str, Any],
    needle: str,
) -> None:
    client, _ = app_world
    before = (count(engine, Incident), count(engine, AuditEntry), count(engine, RecordingTrigger))
    response = signed(client, settings, message)
    assert response.status_code == 422, response.text
    assert needle in response.text
    after = (count(engine, Incident), count(engine, AuditEntry), count(engine, RecordingTrigger))
    assert after == before


def test_unsigned_stale_and_forged_webhooks_are_refused(
    app_world: tuple[TestClient, World], settings: Settings, engine: Engine
) -> None:
    client, _ = app_world
    body = json.dumps(report("assault", external_id="x")).encode()
    key = load_key(settings.data_dir)
    cases = [
        (body, {}),
        (body, sign(key, body, timestamp=int(time.time()) - 3600)),
        (body, sign(b"another deployment's key", body)),
        (body.replace(b"assault", b"murder"), sign(key, body)),  # altered after signing
    ]
    for sent, headers in cases:
        r = client.post("/api/incidents/webhook", content=sent, headers=headers)
        assert r.status_code == 401, r.text
        assert r.json()["code"] == "bad_signature"
    assert count(engine, Incident) == 0


def test_raising_records_the_cameras_and_closing_stops_the_recording(
    app_world: tuple[TestClient, World], settings: Settings, engine: Engine
) -> None:
    client, _ = app_world
    incident = signed(client, settings, report("robbery", external_id="112-9")).json()
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        triggers = list(
            session.scalars(
                select(RecordingTrigger).where(RecordingTrigger.incident_id == incident["id"])
            )
        )
    assert {t.camera_id for t in triggers} == {c["camera_id"] for c in incident["cameras"]}
    closed = client.post(
        f"/api/incidents/{incident['id']}/close",
        headers=login(client, "city-supervisor"),
        json={"reason": "오인 신고"},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["close_reason"] == "오인 신고"
    closed_at = datetime.fromisoformat(closed.json()["closed_at"])
    with sessions() as session:
        ended = list(
            session.scalars(
                select(RecordingTrigger.end_time).where(
                    RecordingTrigger.incident_id == incident["id"]
                )
            )
        )
    # every trigger ended at the close, not at its planned end two hours later
    assert ended and all(as_utc(e) <= closed_at for e in ended)
    again = client.post(
        f"/api/incidents/{incident['id']}/close", headers=login(client, "city-supervisor"), json={}
    )
    assert again.status_code == 409


def test_who_may_see_and_work_an_incident(
    app_world: tuple[TestClient, World], settings: Settings
) -> None:
    client, _ = app_world
    incident = signed(client, settings, report("assault", external_id="112-11")).json()
    path = f"/api/incidents/{incident['id']}"
    assert client.get(path, headers=login(client, "fire-119")).status_code == 404
    assert client.get(path, headers=login(client, "buk-admin")).status_code == 200  # owner
    assert client.get(path, headers=login(client, "city-operator")).status_code == 200  # centre
    refused = client.post(f"{path}/activate", headers=login(client, "fire-119"))
    assert refused.status_code == 404
    active = client.post(f"{path}/activate", headers=login(client, "police-112"))
    assert active.status_code == 200 and active.json()["status"] == "active"


def test_a_signed_in_operator_raises_as_an_operator_and_not_as_112(
    app_world: tuple[TestClient, World],
) -> None:
    client, w = app_world
    operator = login(client, "city-operator")
    body = {"type": "assault", "at": {"lat": POINT[0], "lon": POINT[1]}}
    raised = client.post("/api/incidents", headers=operator, json=body)
    assert raised.status_code == 201, raised.text
    assert raised.json()["source"] == "operator"
    assert raised.json()["responding_agency_id"] == w.city
    posing = client.post("/api/incidents", headers=operator, json={**body, "source": "112"})
    assert posing.status_code == 403
    police = client.post("/api/incidents", headers=login(client, "police-112"), json=body)
    assert police.json()["source"] == "112" and police.json()["responding_agency_id"] == w.police


def test_the_cli_raises_on_the_running_server(
    settings: Settings, engine: Engine, registry: Registry, cli_env: dict[str, str]
) -> None:
    app = create_app(settings, engine)
    build_world(registry, app)
    with serve(app) as base:
        argus = [sys.executable, "-m", "argus.cli", "incident"]
        done = subprocess.run(
            [*argus, "raise", "--type", "assault", "--at", f"{POINT[0]},{POINT[1]}",
             "--server", base, "--json"],
            env=cli_env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        incident = json.loads(done.stdout)
        assert incident["source"] == "112" and incident["provides"] is True
        listed = subprocess.run(
            [*argus, "list", "--status", "live"],
            env=cli_env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert f"incident {incident['id']}: 112 assault" in listed.stdout
        bad = subprocess.run(
            [*argus, "raise", "--type", "brawl", "--at", "35.1,126.9", "--server", base],
            env=cli_env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert bad.returncode == 2 and "unknown incident type" in bad.stderr
    gone = subprocess.run(
        [*argus, "raise", "--type", "assault", "--at", "35.1,126.9", "--server", base],
        env=cli_env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert gone.returncode == 2 and "no Argus server answers" in gone.stderr


def test_a_parking_camera_in_enforcement_mode_opens_to_an_incident_only(
    app_world: tuple[TestClient, World], settings: Settings
) -> None:
    client, w = app_world
    admin = login(client, "buk-admin")
    # 북구 shares its parking cameras with the city for crime prevention …
    made = client.post(
        "/api/agreements",
        headers=admin,
        json={
            "owner_agency_id": w.buk,
            "consumer_agency_id": w.city,
            "selector": {"purposes": ["교통단속"]},
            "purposes": ["crime_prevention"],
            "capabilities": ["live"],
            "legal_basis": "광주광역시-북구 CCTV 연계 협약",
        },
    )
    assert made.status_code == 201, made.text
    for step in ("propose", "accept"):
        done = client.post(f"/api/agreements/{made.json()['id']}/{step}", headers=admin)
        assert done.status_code == 200, done.text
    # … but this one is in enforcement mode all day
    schedule = client.put(
        f"/api/modes/{w.facing}", headers=admin, json={"otherwise": "enforcement"}
    )
    assert schedule.status_code == 200, schedule.text
    assert schedule.json()["now"]["mode"] == "enforcement"

    def token(username: str) -> Any:
        return client.post(
            "/api/access/token",
            headers=login(client, username),
            json={"camera_id": w.facing, "capability": "live", "purpose": "crime_prevention"},
        )

    refused = token("city-operator")
    assert refused.status_code == 403 and refused.json()["code"] == "outside_mode"
    assert "enforcement mode" in refused.json()["message"]
    assert token("police-112").status_code == 403
    signed(client, settings, report("assault", external_id="112-mode"))
    # the incident puts the camera in incident mode: the police may watch it now
    now = client.get(f"/api/modes/{w.facing}", headers=admin).json()["now"]
    assert now["mode"] == "incident"
    allowed = token("police-112")
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["grant"].startswith("incident:")


def test_an_incident_lets_its_responders_play_back_only_its_own_stretch(
    app_world: tuple[TestClient, World], settings: Settings
) -> None:
    client, w = app_world
    incident = signed(client, settings, report("robbery", external_id="112-pb")).json()
    issued = client.post(
        "/api/access/token",
        headers=login(client, "police-112"),
        json={"camera_id": w.facing, "capability": "playback", "purpose": "crime_prevention"},
    )
    assert issued.status_code == 200, issued.text
    token = issued.json()["token"]
    now = datetime.now(UTC)

    def timeline(minutes_back: float) -> Any:
        params = {
            "token": token,
            "from": (now - timedelta(minutes=minutes_back)).isoformat(),
            "until": now.isoformat(),
        }
        return client.get(f"/api/playback/{w.facing}/timeline", params=params)

    # 30 minutes before it opened (ARGUS_INCIDENT_PLAYBACK_MINUTES) and no earlier
    assert timeline(20).status_code == 200
    refused = timeline(120)
    assert refused.status_code == 422
    assert f"incident {incident['id']} lets you play back from" in refused.json()["message"]


def test_the_footage_window_of_a_token_bounds_ranges_and_files() -> None:
    opened = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    closed = opened + timedelta(hours=1)
    claims = StreamClaims(
        jti="j", grant="incident:4", camera_id=1, capability="playback",
        purpose="crime_prevention", case_number=None, user_id=1, agency_id=1,
        issued_at=int(closed.timestamp()), expires_at=int(closed.timestamp()) + 600,
        footage_from=int(opened.timestamp()), footage_until=int(closed.timestamp()),
    )  # fmt: skip
    check = PlaybackServer.check_window
    minute = timedelta(minutes=1)
    check(claims, opened, closed)  # the whole stretch
    with pytest.raises(FieldError, match="incident 4 lets you play back from"):
        check(claims, opened - minute, closed)
    with pytest.raises(FieldError):
        check(claims, opened, closed + 10 * minute)
    # a recorded file that straddles an edge may be read; one wholly outside may not
    check(claims, opened - minute, opened + minute, overlap=True)
    with pytest.raises(FieldError):
        check(claims, opened - 2 * minute, opened, overlap=True)
    with pytest.raises(FieldError):
        check(claims, closed + 10 * minute, closed + 11 * minute, overlap=True)
    # a token that is not bound to a stretch (ownership, an agreement) is not limited here
    check(replace(claims, footage_from=None, footage_until=None), opened - 60 * minute, closed)
