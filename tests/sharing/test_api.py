"""The sharing REST API as a district admin and a city operator use it (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from argus.db import make_sessionmaker
from argus.identity.deps import current_principal
from argus.identity.principal import Principal, Role
from argus.sharing.service import SharingService
from tests.sharing.world import NIGHT, NOON, Changes, FakeClock, World, audit_entries


class Caller:
    """Who the next request comes from."""

    def __init__(self) -> None:
        self.principal: Principal | None = None

    def __call__(self) -> Principal:
        assert self.principal is not None
        return self.principal


@pytest.fixture
def api(
    client: TestClient, engine: Engine, clock: FakeClock, changes: Changes
) -> Iterator[tuple[TestClient, Caller]]:
    caller = Caller()
    client.app.dependency_overrides[current_principal] = caller  # type: ignore[attr-defined]
    client.app.state.sharing = SharingService(  # type: ignore[attr-defined]
        make_sessionmaker(engine), on_change=changes, clock=clock
    )
    yield client, caller
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]


def body(world: World, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "북구 주정차 단속 CCTV 야간 방범 활용",
        "owner_agency_id": world.buk,
        "consumer_agency_id": world.city,
        "selector": {"districts": ["북구"], "purposes": ["교통단속"]},
        "purposes": ["crime_prevention"],
        "capabilities": ["live", "playback"],
        "windows": [{"start": "22:00", "end": "07:00"}],
        "valid_from": "2026-01-01T00:00:00+09:00",
        "legal_basis": "개인정보 보호법 제18조제2항, 협약서 제4조",
    }
    data.update(extra)
    return data


def check(client: TestClient, camera: int, capability: str, purpose: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"camera": camera, "capability": capability}
    if purpose is not None:
        params["purpose"] = purpose
    response = client.get("/api/access/check", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_district_admin_proposes_accepts_and_revokes(
    api: tuple[TestClient, Caller], world: World, clock: FakeClock, changes: Changes, engine: Engine
) -> None:
    client, caller = api
    buk_admin = world.person(world.buk, Role.AGENCY_ADMIN)
    city_operator = world.person(world.city, Role.OPERATOR)

    caller.principal = buk_admin
    created = client.post("/api/agreements", json=body(world))
    assert created.status_code == 201, created.text
    agreement = created.json()
    assert agreement["status"] == "draft" and agreement["owner_name"] == "광주광역시 북구"
    number = agreement["id"]
    assert client.post(f"/api/agreements/{number}/propose").json()["status"] == "proposed"

    caller.principal = city_operator
    before = check(client, world.buk_parking, "live", "crime_prevention")
    assert before["allowed"] is False and before["code"] == "no_agreement"
    assert before["reason"] == "no agreement covers 광주광역시 북구 교통단속 cameras for live"

    caller.principal = buk_admin
    assert client.post(f"/api/agreements/{number}/accept").json()["status"] == "accepted"

    caller.principal = city_operator
    night = check(client, world.buk_parking, "live", "crime_prevention")
    assert night["allowed"] is True and night["basis"] == "agreement"
    assert night["grant"] == f"agreement:{number}"
    assert night["until"].startswith("2026-03-03T22:00:00")  # 07:00 in Seoul
    clock.now = NOON
    noon = check(client, world.buk_parking, "live", "crime_prevention")
    assert noon["allowed"] is False and noon["code"] == "outside_window"
    assert noon["reason"] == f"outside the window 22:00–07:00 (Asia/Seoul) of agreement {number}"
    clock.now = NIGHT
    wrong = check(client, world.buk_parking, "export", "crime_prevention")
    assert wrong["code"] == "role_not_allowed"

    caller.principal = buk_admin
    revoked = client.post(f"/api/agreements/{number}/revoke", json={"note": "협약 종료"})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert revoked.json()["status_note"] == "협약 종료"
    assert changes.seen == [(number, "revoked")]
    caller.principal = city_operator
    after = check(client, world.buk_parking, "live", "crime_prevention")
    assert (
        after["code"] == "agreement_revoked"
        and after["reason"] == f"agreement {number} was revoked"
    )

    actions = [(e["action"], e["outcome"]) for e in audit_entries(engine)]
    assert ("agreement.accept", "ok") in actions and ("agreement.revoke", "ok") in actions
    assert actions.count(("access.check", "allow")) == 1


def test_refusals_are_4xx_with_a_message_and_change_nothing(
    api: tuple[TestClient, Caller], world: World, engine: Engine
) -> None:
    client, caller = api
    caller.principal = world.person(world.city, Role.AGENCY_ADMIN)
    request = client.post("/api/agreements", json=body(world)).json()
    client.post(f"/api/agreements/{request['id']}/propose")
    refused = client.post(f"/api/agreements/{request['id']}/accept")
    assert refused.status_code == 403
    assert "only an agency admin of the owner (광주광역시 북구)" in refused.json()["message"]

    caller.principal = world.person(world.buk, Role.AGENCY_ADMIN)
    overlapping = body(
        world,
        windows=[{"start": "22:00", "end": "07:00"}, {"start": "06:00", "end": "09:00"}],
    )
    invalid = client.post("/api/agreements", json=overlapping)
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "windows"]
    assert "overlap" in invalid.json()["message"]
    unknown = client.post("/api/agreements", json=body(world, purposes=["marketing"]))
    assert unknown.status_code == 422 and "crime_prevention (범죄예방)" in unknown.json()["message"]
    inverted = client.post(
        "/api/agreements", json=body(world, valid_until="2025-12-31T00:00:00+09:00")
    )
    assert inverted.status_code == 422 and inverted.json()["detail"][0]["loc"][-1] == "valid_until"
    assert client.post(f"/api/agreements/{request['id']}/revoke").status_code == 200
    assert client.post(f"/api/agreements/{request['id']}/accept").status_code == 409

    caller.principal = world.person(world.dong, Role.AGENCY_ADMIN)
    assert client.get(f"/api/agreements/{request['id']}").status_code == 404
    assert client.get("/api/agreements").json() == []

    denials = [e for e in audit_entries(engine) if e["outcome"] == "deny"]
    assert [e["action"] for e in denials] == [
        "agreement.accept",
        "agreement.create",
        "agreement.create",
        "agreement.create",
        "agreement.accept",
    ]
    caller.principal = world.person(world.buk, Role.AGENCY_ADMIN)
    assert [a["status"] for a in client.get("/api/agreements").json()] == ["revoked"]


def test_narrowing_through_patch(
    api: tuple[TestClient, Caller], world: World, changes: Changes
) -> None:
    client, caller = api
    caller.principal = world.person(world.buk, Role.AGENCY_ADMIN)
    number = client.post("/api/agreements", json=body(world)).json()["id"]
    client.post(f"/api/agreements/{number}/propose")
    client.post(f"/api/agreements/{number}/accept")
    narrowed = client.patch(
        f"/api/agreements/{number}", json={"windows": [{"start": "23:00", "end": "05:00"}]}
    )
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["windows"] == [{"start": "23:00", "end": "05:00", "days": None}]
    assert changes.seen == [(number, "narrowed")]
    swapped = client.patch(f"/api/agreements/{number}", json={"purposes": ["traffic"]})
    assert swapped.status_code == 422  # another purpose instead of the old one adds a purpose
    assert swapped.json()["detail"][0]["loc"] == ["body", "purposes"]
    assert changes.seen == [(number, "narrowed")]


def test_widening_through_patch_is_refused(api: tuple[TestClient, Caller], world: World) -> None:
    client, caller = api
    caller.principal = world.person(world.buk, Role.AGENCY_ADMIN)
    number = client.post("/api/agreements", json=body(world)).json()["id"]
    client.post(f"/api/agreements/{number}/propose")
    client.post(f"/api/agreements/{number}/accept")
    for patch, field in [
        ({"purposes": ["crime_prevention", "traffic"]}, "purposes"),
        ({"windows": [{"start": "21:00", "end": "07:00"}]}, "windows"),
        (
            {"selector": {"districts": ["북구", "동구"], "purposes": ["교통단속"]}},
            "selector.districts",
        ),
    ]:
        response = client.patch(f"/api/agreements/{number}", json=patch)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", field]
        assert "widening needs a new agreement" in response.json()["message"]
    unchanged = client.get(f"/api/agreements/{number}").json()
    assert unchanged["version"] == 3 and unchanged["windows"][0]["start"] == "22:00"


def test_access_check_inputs(api: tuple[TestClient, Caller], world: World) -> None:
    client, caller = api
    caller.principal = world.person(world.buk, Role.OPERATOR)
    missing = check(client, world.buk_parking, "live", None)
    assert missing["code"] == "missing_purpose" and "must declare its purpose" in missing["reason"]
    case = check(client, world.buk_parking, "live", "investigation")
    assert case["reason"] == "purpose investigation needs a case number"
    with_case = client.get(
        "/api/access/check",
        params={
            "camera": world.buk_parking,
            "capability": "playback",
            "purpose": "investigation",
            "case_number": "2026-광주북부-0042",
        },
    ).json()
    assert with_case["allowed"] and with_case["basis"] == "ownership"
    bad_capability = client.get(
        "/api/access/check",
        params={"camera": world.buk_parking, "capability": "zoom", "purpose": "traffic"},
    )
    assert bad_capability.status_code == 422 and "capability" in bad_capability.json()["message"]
    unknown_camera = client.get(
        "/api/access/check", params={"camera": 999999, "capability": "live", "purpose": "traffic"}
    )
    assert unknown_camera.status_code == 404
    caller.principal = world.person(world.buk, Role.AUDITOR)
    auditor = check(client, world.buk_parking, "live", "traffic")
    assert auditor["code"] == "role_not_allowed"


def test_suspend_and_resume_through_the_api(
    api: tuple[TestClient, Caller], world: World, changes: Changes
) -> None:
    client, caller = api
    caller.principal = world.person(world.buk, Role.AGENCY_ADMIN)
    number = client.post("/api/agreements", json=body(world)).json()["id"]
    client.post(f"/api/agreements/{number}/propose")
    client.post(f"/api/agreements/{number}/accept")
    assert client.post(f"/api/agreements/{number}/suspend").json()["status"] == "suspended"
    caller.principal = world.person(world.city, Role.OPERATOR)
    assert check(client, world.buk_parking, "live", "crime_prevention")["code"] == (
        "agreement_suspended"
    )
    caller.principal = world.person(world.buk, Role.AGENCY_ADMIN)
    assert client.post(f"/api/agreements/{number}/resume").json()["status"] == "accepted"
    listed = client.get("/api/agreements", params={"status": "accepted"}).json()
    assert [a["id"] for a in listed] == [number]
    assert changes.seen == [(number, "suspended")]
