"""The mode routes over HTTP: the owner's admins set schedules; bad input changes nothing."""

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
from tests.ptz.fakes import FakeAuthorizer, FakeDriver, VirtualTime, person
from tests.ptz.world import World
from tests.sharing.world import audit_entries


@pytest.fixture
async def http(
    sessions: sessionmaker[Session], vt: VirtualTime
) -> AsyncIterator[tuple[httpx.AsyncClient, SignIn]]:
    modes = ModeService(sessions, clock=vt)
    drivers: dict[int, FakeDriver] = {}
    ptz = PtzService(
        sessions,
        lambda c: drivers.setdefault(c, FakeDriver()),
        FakeAuthorizer(),
        tours=modes,
        clock=vt,
        sleep=vt.sleep,
    )
    try:
        async with api_client(ptz, modes) as client:
            yield client
    finally:
        await ptz.close()


async def test_mode_schedules_over_http(
    http: tuple[httpx.AsyncClient, SignIn], world: World, engine: Engine
) -> None:
    client, sign_in = http
    camera = world.parking
    sign_in(person(7, world.buk, Role.OPERATOR))
    empty = (await client.get(f"/api/modes/{camera}")).json()
    assert empty == {"camera_id": camera, "schedule": None, "now": None}
    day = {"windows": [{"start": "07:00", "end": "22:00", "mode": "enforcement"}]}
    assert (await client.put(f"/api/modes/{camera}", json=day)).status_code == 403
    sign_in(person(30, world.city, Role.AGENCY_ADMIN))
    assert (await client.put(f"/api/modes/{camera}", json=day)).status_code == 403
    sign_in(person(31, world.buk, Role.AGENCY_ADMIN))
    late = {"windows": [{"start": "07:00", "end": "24:30", "mode": "enforcement"}]}
    assert field_of(await client.put(f"/api/modes/{camera}", json=late)) == [
        ["body", "windows[0].end"]
    ]
    incident = {"windows": [{"start": "07:00", "end": "22:00", "mode": "incident"}]}
    assert field_of(await client.put(f"/api/modes/{camera}", json=incident)) == [
        ["body", "windows[0].mode"]
    ]
    assert (await client.get(f"/api/modes/{camera}")).json()["schedule"] is None
    stored = await client.put(f"/api/modes/{camera}", json=day)
    assert stored.status_code == 200, stored.text
    now = stored.json()["now"]  # 10:00 in Seoul
    assert now["mode"] == "enforcement" and now["admits"] == ["traffic"]
    assert now["tour"] == "enforcement"
    assert now["until"] == "2026-03-04T13:00:00+00:00"  # 22:00 in Seoul
    assert (await client.get("/api/modes/999999")).status_code == 404
    changes = [e for e in audit_entries(engine) if e["action"] == "mode.schedule"]
    assert len(changes) == 1 and changes[0]["target"] == f"camera:{camera}"
