"""The sharing flow end to end over the real API, with real sign-in (issue #3, "done when"):

a district admin proposes, accepts and revokes an agreement; a city operator is allowed and
refused exactly as it says, at the right hours; a revocation reaches the live stream token at
once, with one event naming it; the audit log shows every step.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from argus.audit.models import AuditEntry
from argus.db import make_sessionmaker
from argus.identity.access import Console
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose
from argus.sharing.live_grants import GrantsRevoked

PASSWORD = "Gwangju-2026!"
NIGHT = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 23:00 in Seoul
NOON = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 12:00 in Seoul, the next day


class Clock:
    def __init__(self) -> None:
        self.now = NIGHT

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(client: TestClient, registry: Registry) -> dict[str, Any]:
    app: Any = client.app
    clock = Clock()
    app.state.sharing.clock = clock
    app.state.access.clock = clock
    city = registry.create_agency(AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)).id
    buk = registry.create_agency(
        AgencyCreate(
            name="광주광역시 북구", kind=AgencyKind.DISTRICT, parent_id=city, district="북구"
        )
    ).id
    site = registry.create_site(
        SiteCreate(owner_id=buk, lat=35.174, lon=126.912, region="광주광역시", district="북구")
    )
    parking = registry.create_camera(
        CameraCreate(site_id=site.id, purpose=Purpose.TRAFFIC_ENFORCEMENT)
    ).id
    crime = registry.create_camera(
        CameraCreate(site_id=site.id, purpose=Purpose.CRIME_PREVENTION)
    ).id
    users = app.state.identity.users
    for name, agency, role in [
        ("buk-admin", buk, Role.AGENCY_ADMIN),
        ("city-operator", city, Role.OPERATOR),
        ("auditor", city, Role.AUDITOR),
    ]:
        users.create_user(
            Console("test"),
            UserCreate(username=name, agency_id=agency, roles=[role], password=PASSWORD),
        )
    return {"clock": clock, "city": city, "buk": buk, "parking": parking, "crime": crime}


def bearer(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_agreement_lifecycle_governs_access(
    client: TestClient, world: dict[str, Any], engine: Engine
) -> None:
    app: Any = client.app
    admin, operator = bearer(client, "buk-admin"), bearer(client, "city-operator")
    want = {"camera_id": world["parking"], "capability": "live", "purpose": "crime_prevention"}

    refused = client.post("/api/access/token", json=want, headers=operator)
    assert refused.status_code == 403
    assert refused.json()["code"] == "no_agreement"
    assert "광주광역시 북구" in refused.json()["message"]
    no_purpose = client.post("/api/access/token", json={**want, "purpose": None}, headers=operator)
    assert no_purpose.status_code == 403 and no_purpose.json()["code"] == "missing_purpose"

    draft = client.post(
        "/api/agreements",
        headers=admin,
        json={
            "owner_agency_id": world["buk"],
            "consumer_agency_id": world["city"],
            "selector": {"purposes": ["교통단속"]},
            "purposes": ["crime_prevention"],
            "capabilities": ["live"],
            "windows": [{"start": "22:00", "end": "07:00"}],
            "legal_basis": "개인정보 보호법 제25조, 광주광역시-북구 CCTV 연계 협약",
        },
    )
    assert draft.status_code == 201, draft.text
    agreement = draft.json()["id"]
    # the consumer cannot accept the owner's cameras for itself
    assert client.post(f"/api/agreements/{agreement}/propose", headers=admin).status_code == 200
    assert client.post(f"/api/agreements/{agreement}/accept", headers=operator).status_code in (
        403,
        404,
    )
    accepted = client.post(f"/api/agreements/{agreement}/accept", headers=admin)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"

    granted = client.post("/api/access/token", json=want, headers=operator)
    assert granted.status_code == 200, granted.text
    token = granted.json()["token"]
    assert granted.json()["grant"] == f"agreement:{agreement}"
    # the token ends with the window (07:00 Seoul = 22:00 UTC), here after the 10-minute cap
    assert granted.json()["expires_at"].startswith("2026-11-25T14:10")
    other = client.post(
        "/api/access/token", json={**want, "camera_id": world["crime"]}, headers=operator
    )
    assert other.status_code == 403  # the agreement covers parking cameras only
    playback = client.post(
        "/api/access/token", json={**want, "capability": "playback"}, headers=operator
    )
    assert playback.status_code == 403 and playback.json()["code"] == "capability_not_granted"

    world["clock"].now = NOON
    by_day = client.post("/api/access/token", json=want, headers=operator)
    assert by_day.status_code == 403 and by_day.json()["code"] == "outside_window"
    assert "22:00" in by_day.json()["message"]
    world["clock"].now = NIGHT

    events: list[object] = []
    app.state.bus.subscribe(events.append)
    revoked = client.post(
        f"/api/agreements/{agreement}/revoke", headers=admin, json={"note": "협약 종료"}
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    grants = [e for e in events if isinstance(e, GrantsRevoked)]
    assert len(grants) == 1
    checked = client.post("/api/access/token/check", json={"token": token}, headers=operator)
    assert checked.status_code == 401 and checked.json()["code"] == "revoked"
    assert grants[0].cameras == (world["parking"],)
    again = client.post("/api/access/token", json=want, headers=operator)
    assert again.status_code == 403 and again.json()["code"] == "agreement_revoked"

    with make_sessionmaker(engine)() as session:
        actions = [
            (e.action, e.outcome)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        ]
    auditor = bearer(client, "auditor")
    ledger = client.get("/api/ledger.csv", params={"agency": world["buk"]}, headers=auditor)
    assert ledger.status_code == 200, ledger.text
    assert ledger.content.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with a BOM
    rows = [line for line in ledger.text.splitlines() if line.startswith("제공,")]
    assert len(rows) == 1, ledger.text  # the one provision: the city operator's live view
    assert "광주광역시" in rows[0] and "개인정보 보호법 제25조" in rows[0]
    for step in [
        ("agreement.create", "ok"),
        ("agreement.propose", "ok"),
        ("agreement.accept", "ok"),
        ("access.live", "allow"),
        ("access.live", "deny"),
        ("agreement.revoke", "ok"),
        ("access.token", "deny"),
    ]:
        assert step in actions, step


def test_disabling_a_user_revokes_their_tokens(
    client: TestClient, world: dict[str, Any], registry: Registry
) -> None:
    app: Any = client.app
    buk_operator = app.state.identity.users.create_user(
        Console("test"),
        UserCreate(
            username="buk-operator",
            agency_id=world["buk"],
            roles=[Role.OPERATOR],
            password=PASSWORD,
        ),
    )
    headers = bearer(client, "buk-operator")
    own = client.post(
        "/api/access/token",
        json={"camera_id": world["parking"], "capability": "live", "purpose": "traffic"},
        headers=headers,
    )
    assert own.status_code == 200 and own.json()["basis"] == "ownership"
    events: list[object] = []
    app.state.bus.subscribe(events.append)
    app.state.identity.users.disable_user(Console("test"), buk_operator.id)
    assert [type(e) for e in events] == [GrantsRevoked]
    assert isinstance(events[0], GrantsRevoked) and events[0].cause == "user.disable"
    admin = bearer(client, "buk-admin")
    checked = client.post(
        "/api/access/token/check", json={"token": own.json()["token"]}, headers=admin
    )
    assert checked.status_code == 401 and checked.json()["code"] == "revoked"


@pytest.mark.parametrize(
    ("mangle", "code"),
    [
        (lambda t: t[:-4] + "AAAA", "bad_signature"),
        (lambda t: "not-a-token", "malformed"),
        (lambda t: t.split(".")[0], "malformed"),
    ],
)
def test_bad_tokens_are_refused_with_a_code_and_audited(
    client: TestClient, world: dict[str, Any], engine: Engine, mangle: Any, code: str
) -> None:
    headers = bearer(client, "buk-admin")
    issued = client.post(
        "/api/access/token",
        json={"camera_id": world["parking"], "capability": "live", "purpose": "traffic"},
        headers=headers,
    ).json()["token"]
    wrong_camera = client.post(
        "/api/access/token/check",
        json={"token": issued, "camera_id": world["crime"]},
        headers=headers,
    )
    assert wrong_camera.status_code == 401 and wrong_camera.json()["code"] == "wrong_camera"
    response = client.post(
        "/api/access/token/check", json={"token": mangle(issued)}, headers=headers
    )
    assert response.status_code == 401 and response.json()["code"] == code
    with make_sessionmaker(engine)() as session:
        denials = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "access.token")
        ).all()
    assert {json.loads(d.details).get("code") for d in denials} >= {"wrong_camera", code}
    assert all(d.outcome == "deny" for d in denials)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"windows": [{"start": "22:00", "end": "02:00"}, {"start": "01:00", "end": "05:00"}]},
            "windows",
        ),
        (
            {"valid_from": "2027-01-01T00:00:00+09:00", "valid_until": "2026-12-01T00:00:00+09:00"},
            "valid_until",
        ),
        ({"purposes": ["sightseeing"]}, "purposes"),
    ],
)
def test_bad_agreements_get_a_code_are_audited_and_change_nothing(
    client: TestClient, world: dict[str, Any], engine: Engine, change: dict[str, Any], field: str
) -> None:
    admin = bearer(client, "buk-admin")
    body = {
        "owner_agency_id": world["buk"],
        "consumer_agency_id": world["city"],
        "selector": {"purposes": ["교통단속"]},
        "purposes": ["crime_prevention"],
        "capabilities": ["live"],
        "legal_basis": "개인정보 보호법 제25조",
        **change,
    }
    response = client.post("/api/agreements", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_field" and field in response.json()["message"]
    assert client.get("/api/agreements", headers=admin).json() == []
    with make_sessionmaker(engine)() as session:
        refused = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "agreement.create")
        ).all()
    assert [(e.outcome, field in (e.reason or "")) for e in refused] == [("deny", True)]


def test_narrowing_revokes_only_the_views_it_no_longer_covers(
    client: TestClient, world: dict[str, Any], registry: Registry
) -> None:
    app: Any = client.app
    site = registry.get_camera(world["parking"]).site_id
    second = registry.create_camera(
        CameraCreate(site_id=site, purpose=Purpose.TRAFFIC_ENFORCEMENT)
    ).id
    admin, operator = bearer(client, "buk-admin"), bearer(client, "city-operator")
    created = client.post(
        "/api/agreements",
        headers=admin,
        json={
            "owner_agency_id": world["buk"],
            "consumer_agency_id": world["city"],
            "selector": {"camera_ids": [world["parking"], second]},
            "purposes": ["crime_prevention"],
            "capabilities": ["live", "playback"],
            "legal_basis": "개인정보 보호법 제25조",
        },
    ).json()["id"]
    for verb in ("propose", "accept"):
        assert client.post(f"/api/agreements/{created}/{verb}", headers=admin).status_code == 200
    tokens = {}
    for camera in (world["parking"], second):
        for capability in ("live", "playback"):
            issued = client.post(
                "/api/access/token",
                headers=operator,
                json={"camera_id": camera, "capability": capability, "purpose": "crime_prevention"},
            )
            assert issued.status_code == 200, issued.text
            tokens[(camera, capability)] = issued.json()["token"]
    events: list[object] = []
    app.state.bus.subscribe(events.append)
    narrowed = client.patch(
        f"/api/agreements/{created}",
        headers=admin,
        json={"selector": {"camera_ids": [world["parking"]]}, "capabilities": ["live"]},
    )
    assert narrowed.status_code == 200, narrowed.text
    assert [type(e) for e in events] == [GrantsRevoked]
    event = events[0]
    assert isinstance(event, GrantsRevoked) and event.cause == "agreement.narrowed"

    def state(key: tuple[int, str]) -> int:
        return client.post(
            "/api/access/token/check", json={"token": tokens[key]}, headers=operator
        ).status_code

    # only the parking camera's live view is still covered; the other three close
    assert state((world["parking"], "live")) == 200
    assert [
        state(k) for k in [(world["parking"], "playback"), (second, "live"), (second, "playback")]
    ] == [401, 401, 401]
    assert len(event.jtis) == 3
    suspended = client.post(f"/api/agreements/{created}/suspend", headers=admin)
    assert suspended.status_code == 200
    assert len(events) == 2 and state((world["parking"], "live")) == 401
