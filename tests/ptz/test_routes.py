"""The PTZ routes over HTTP: who may call, clear 422s that change nothing, 409s."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from argus.identity.principal import Role
from argus.modes.service import ModeService
from argus.ptz.service import PtzService
from tests.ptz.apps import SignIn, api_client, field_of
from tests.ptz.conftest import Cameras
from tests.ptz.fakes import FakeAuthorizer, Verdict, VirtualTime, person
from tests.ptz.world import World
from tests.sharing.world import audit_entries


@pytest.fixture
async def http(
    sessions: sessionmaker[Session],
    cameras: Cameras,
    authorizer: FakeAuthorizer,
    vt: VirtualTime,
) -> AsyncIterator[tuple[httpx.AsyncClient, SignIn]]:
    """The routes over a PtzService whose tours come from the database (ModeService)."""
    modes = ModeService(sessions, clock=vt)
    ptz = PtzService(sessions, cameras, authorizer, tours=modes, clock=vt, sleep=vt.sleep)
    try:
        async with api_client(ptz, modes) as client:
            yield client
    finally:
        await ptz.close()


async def test_control_moves_and_release_over_http(
    http: tuple[httpx.AsyncClient, SignIn],
    world: World,
    cameras: Cameras,
    authorizer: FakeAuthorizer,
) -> None:
    client, sign_in = http
    camera = world.parking
    kim = person(7, world.buk, Role.OPERATOR, name="kim")
    sign_in(kim)
    took = await client.post(
        f"/api/ptz/{camera}/control",
        json={"purpose": "traffic", "reason": "plate check at the crossing"},
    )
    assert took.status_code == 200, took.text
    assert took.json()["holder"]["name"] == "kim"
    assert took.json()["holder"]["priority_class"] == "operator"

    bad = await client.post(f"/api/ptz/{camera}/move", json={"mode": "absolute", "pan": 2})
    assert field_of(bad) == [["body", "pan"]]
    assert "outside [-1, 1]" in bad.json()["message"]
    sideways = await client.post(f"/api/ptz/{camera}/move", json={"mode": "sideways"})
    assert field_of(sideways) == [["body", "mode"]]
    extra = await client.post(f"/api/ptz/{camera}/move", json={"mode": "relative", "yaw": 1})
    assert extra.status_code == 422
    assert cameras.drivers.get(camera) is None or cameras.drivers[camera].calls == []

    for path, body in [
        ("move", {"mode": "absolute", "pan": 0.5, "tilt": 0.1, "zoom": 0.2}),
        ("move", {"mode": "continuous", "pan": -0.3, "timeout_s": 1.5}),
        ("stop", None),
        ("preset", {"preset": "gate"}),
        ("home", None),
    ]:
        sent = await client.post(f"/api/ptz/{camera}/{path}", json=body)
        assert sent.status_code == 200, sent.text
    assert [c[0] for c in cameras.drivers[camera].calls] == [
        "absolute_move",
        "continuous_move",
        "stop",
        "goto_preset",
        "goto_home",
    ]
    status = await client.get(f"/api/ptz/{camera}")
    assert status.status_code == 200
    assert status.json()["control"]["holder"]["reason"] == "plate check at the crossing"

    lee = person(8, world.city, Role.OPERATOR, name="lee")
    authorizer.verdicts[(8, camera)] = Verdict(True, "agreement 7", 50, "agreement:7")
    sign_in(lee)
    refused = await client.post(
        f"/api/ptz/{camera}/control", json={"purpose": "crime_prevention", "reason": "look"}
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "ptz_controlled"
    assert "kim (광주광역시 북구, centre operator)" in refused.json()["message"]
    assert refused.json()["holder"]["name"] == "kim"
    assert refused.json()["frees_at"] == "2026-03-04T01:00:15+00:00"
    assert refused.json()["frees_by"] == "2026-03-04T01:10:00+00:00"
    not_mine = await client.post(f"/api/ptz/{camera}/release")
    assert not_mine.status_code == 409

    sign_in(kim)
    released = await client.post(f"/api/ptz/{camera}/release")
    assert released.status_code == 200 and released.json()["returns_to"] is None


async def test_who_may_call_and_what_a_refusal_says(
    http: tuple[httpx.AsyncClient, SignIn], world: World, authorizer: FakeAuthorizer
) -> None:
    client, sign_in = http
    camera = world.parking
    sign_in(person(9, world.city, Role.AUDITOR))
    for call in (
        client.get(f"/api/ptz/{camera}"),
        client.post(f"/api/ptz/{camera}/control", json={"purpose": "traffic", "reason": "x"}),
    ):
        assert (await call).status_code == 403
    sign_in(person(8, world.city, Role.OPERATOR))
    authorizer.verdicts[(8, camera)] = Verdict(False, "outside the window 22:00–07:00")
    refused = await client.post(
        f"/api/ptz/{camera}/control", json={"purpose": "crime_prevention", "reason": "x"}
    )
    assert refused.status_code == 403
    assert refused.json() == {"message": "outside the window 22:00–07:00", "code": "ptz_refused"}
    missing = await client.get("/api/ptz/999999")
    assert missing.status_code == 404
    no_reason = await client.post(f"/api/ptz/{camera}/control", json={"purpose": "traffic"})
    assert field_of(no_reason) == [["body", "reason"]]


async def test_owner_admins_set_tours_of_their_own_cameras_only(
    http: tuple[httpx.AsyncClient, SignIn],
    world: World,
    engine: Engine,
    vt: VirtualTime,
    cameras: Cameras,
) -> None:
    client, sign_in = http
    camera = world.parking
    url = f"/api/ptz/{camera}/tours/enforcement"
    tour = {
        "stops": [{"preset": "1", "dwell_s": 20}, {"preset": "2", "dwell_s": 25}],
        "revisit_delay_s": 360,
    }
    sign_in(person(30, world.city, Role.AGENCY_ADMIN))  # the centre's admin: not the owner
    assert (await client.put(url, json=tour)).status_code == 403
    sign_in(person(31, world.buk, Role.AGENCY_ADMIN))
    bad = await client.put(url, json={**tour, "stops": [{"preset": "1", "dwell_s": 0}]})
    assert field_of(bad) == [["body", "stops[0].dwell_s"]]
    early = await client.put(url, json={**tour, "revisit_delay_s": 120})
    assert field_of(early) == [["body", "revisit_delay_s"]]
    wrong_kind = await client.put(f"/api/ptz/{camera}/tours/sightseeing", json=tour)
    assert field_of(wrong_kind) == [["path", "kind"]]
    assert (await client.get(url)).status_code == 404  # nothing was stored

    stored = await client.put(url, json=tour)
    assert stored.status_code == 200, stored.text
    assert stored.json()["revisit_window_s"] == [360, 600]
    await vt.advance(0)
    assert cameras.drivers[camera].presets_visited() == ["1"]  # it runs at once
    sign_in(person(7, world.buk, Role.OPERATOR))
    read = (await client.get(url)).json()
    assert [s["preset"] for s in read["stops"]] == ["1", "2"]
    assert read["state"]["state"] == "running"
    changes = [e for e in audit_entries(engine) if e["action"] == "ptz.tour"]
    assert len(changes) == 1 and changes[0]["actor_user_id"] == 31
    assert changes[0]["details"]["revisit_delay_s"] == 360
