"""Who may change the registry: the owning agency's admins and system admins; nobody else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from argus.identity.deps import current_principal
from argus.identity.principal import Principal, Role

As = Callable[[Principal | None], None]


@pytest.fixture
def act_as(client: TestClient) -> As:
    def switch(principal: Principal | None) -> None:
        overrides = client.app.dependency_overrides  # type: ignore[attr-defined]
        if principal is None:
            overrides.pop(current_principal, None)
        else:
            overrides[current_principal] = lambda: principal

    return switch


def who(agency_id: int, *roles: Role) -> Principal:
    return Principal(
        user_id=100 + agency_id,
        username=f"u{agency_id}",
        agency_id=agency_id,
        roles=frozenset(roles),
    )


@pytest.fixture
def world(client: TestClient, act_as: As) -> dict[str, Any]:
    act_as(who(0, Role.SYSTEM_ADMIN))
    city = client.post("/api/agencies", json={"name": "광주광역시", "kind": "city"}).json()
    dong = client.post(
        "/api/agencies",
        json={"name": "광주광역시 동구", "kind": "district", "parent_id": city["id"]},
    ).json()
    buk = client.post(
        "/api/agencies",
        json={"name": "광주광역시 북구", "kind": "district", "parent_id": city["id"]},
    ).json()
    site = client.post(
        "/api/sites", json={"owner_id": dong["id"], "lat": 35.146, "lon": 126.923}
    ).json()
    camera = client.post("/api/cameras", json={"site_id": site["id"], "purpose": "교통단속"}).json()
    act_as(None)
    return {"city": city, "dong": dong, "buk": buk, "site": site, "camera": camera}


def test_signed_out_callers_get_401(client: TestClient, world: dict[str, Any]) -> None:
    assert client.get("/api/cameras").status_code == 401
    assert (
        client.post(
            "/api/sites", json={"owner_id": world["dong"]["id"], "lat": 35.1, "lon": 126.9}
        ).status_code
        == 401
    )


@pytest.mark.parametrize("role", list(Role))
def test_every_signed_in_role_may_read_the_registry(
    client: TestClient, world: dict[str, Any], act_as: As, role: Role
) -> None:
    act_as(who(world["buk"]["id"], role))
    assert client.get("/api/cameras").json()["total"] == 1
    assert client.get(f"/api/cameras/{world['camera']['id']}").status_code == 200


def test_only_the_owners_admin_changes_its_cameras(
    client: TestClient, world: dict[str, Any], act_as: As
) -> None:
    camera_id, site_id = world["camera"]["id"], world["site"]["id"]
    for outsider in (
        who(world["buk"]["id"], Role.AGENCY_ADMIN),
        who(world["dong"]["id"], Role.OPERATOR, Role.SUPERVISOR),
    ):
        act_as(outsider)
        refused = [
            client.patch(f"/api/cameras/{camera_id}", json={"name": "x"}),
            client.delete(f"/api/cameras/{camera_id}"),
            client.post("/api/cameras", json={"site_id": site_id, "purpose": "교통단속"}),
            client.patch(f"/api/sites/{site_id}", json={"name": "x"}),
        ]
        assert [r.status_code for r in refused] == [403] * 4
        assert "agency admin" in refused[0].json()["message"]
    act_as(who(world["dong"]["id"], Role.AGENCY_ADMIN))
    assert client.patch(f"/api/cameras/{camera_id}", json={"name": "동구 1"}).status_code == 200
    handed = client.patch(f"/api/cameras/{camera_id}", json={"owner_id": world["buk"]["id"]})
    assert handed.status_code == 403 and "system admin" in handed.json()["message"]
    assert client.post("/api/agencies", json={"name": "x", "kind": "other"}).status_code == 403
    assert client.delete(f"/api/agencies/{world['buk']['id']}").status_code == 403
    act_as(who(0, Role.SYSTEM_ADMIN))
    camera = client.get(f"/api/cameras/{camera_id}").json()
    assert camera["name"] == "동구 1" and camera["owner_id"] == world["dong"]["id"]
    assert client.get("/api/cameras").json()["total"] == 1
