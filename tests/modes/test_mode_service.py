"""ModeService over the database: the mode of a camera now, and the tour each mode runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from argus.db import transaction
from argus.errors import ForbiddenError, NotFoundError
from argus.identity.principal import Role
from argus.modes.schedule import Mode, build_schedule, enforcement_by_day
from argus.modes.service import ModeService
from argus.ptz.store import put_tour
from argus.ptz.tours import TourKind, build_tour
from argus.sharing.vocab import AccessPurpose
from tests.ptz.fakes import person
from tests.ptz.world import World

NOON = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
NIGHT = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)  # 23:00 in Seoul


def add_tours(sessions: sessionmaker[Session], camera: int) -> None:
    with transaction(sessions) as session:
        put_tour(session, build_tour(camera, "enforcement", [{"preset": "1", "dwell_s": 20}]))
        put_tour(session, build_tour(camera, "patrol", [{"preset": "9", "dwell_s": 30}]))


def test_the_mode_of_a_camera_and_the_rule_for_authorize(
    sessions: sessionmaker[Session], world: World
) -> None:
    listed: set[int] = set()
    modes = ModeService(sessions, incident_cameras=lambda at: listed)
    admin = person(31, world.buk, Role.AGENCY_ADMIN)
    assert modes.camera_mode(world.parking, NOON) is None  # no schedule: no mode
    modes.put_schedule(admin, world.parking, enforcement_by_day())
    day = modes.camera_mode(world.parking, NOON)
    assert day is not None and day.mode is Mode.ENFORCEMENT
    assert day.until == datetime(2026, 3, 4, 13, 0, tzinfo=UTC)  # 22:00 in Seoul
    assert day.admits(AccessPurpose.TRAFFIC) and day.refusal(AccessPurpose.TRAFFIC) is None
    refusal = day.refusal(AccessPurpose.CRIME_PREVENTION)
    assert refusal is not None
    assert f"camera {world.parking} is in enforcement mode, which admits traffic" in refusal
    assert "crime_prevention (범죄예방)" in refusal and "07:00–22:00" in refusal
    night = modes.camera_mode(world.parking, NIGHT)
    assert night is not None and night.mode is Mode.CRIME_PREVENTION
    listed.add(world.parking)
    during = modes.camera_mode(world.parking, NOON)
    assert during is not None and during.mode is Mode.INCIDENT
    assert during.scheduled is Mode.ENFORCEMENT and during.incident
    assert during.admits(AccessPurpose.DISASTER) and not during.admits(AccessPurpose.TRAFFIC)


def test_only_the_owners_admins_set_a_schedule(
    sessions: sessionmaker[Session], world: World
) -> None:
    modes = ModeService(sessions)
    with pytest.raises(ForbiddenError):
        modes.put_schedule(person(30, world.city, Role.AGENCY_ADMIN), world.parking,
                           enforcement_by_day())  # fmt: skip
    with pytest.raises(ForbiddenError):
        modes.put_schedule(person(7, world.buk, Role.OPERATOR), world.parking,
                           enforcement_by_day())  # fmt: skip
    with pytest.raises(NotFoundError):
        modes.put_schedule(person(1, world.buk, Role.SYSTEM_ADMIN), 999999, enforcement_by_day())
    assert modes.schedule(world.parking) is None
    weekend = build_schedule(
        [{"start": "09:00", "end": "18:00", "days": ["sat", "sun"], "mode": "enforcement"}]
    )
    modes.put_schedule(person(1, world.buk, Role.SYSTEM_ADMIN), world.parking, weekend)
    assert modes.schedule(world.parking) == weekend


def test_each_mode_runs_its_tour(sessions: sessionmaker[Session], world: World) -> None:
    listed: set[int] = set()
    modes = ModeService(sessions, incident_cameras=lambda at: listed)
    add_tours(sessions, world.parking)
    add_tours(sessions, world.parking_2)  # no schedule: its enforcement tour always runs
    modes.put_schedule(person(31, world.buk, Role.AGENCY_ADMIN), world.parking,
                       enforcement_by_day())  # fmt: skip
    day = modes.tours_at(NOON)
    assert (day[world.parking].kind, day[world.parking_2].kind) == (
        TourKind.ENFORCEMENT,
        TourKind.ENFORCEMENT,
    )
    night = modes.tours_at(NIGHT)
    assert night[world.parking].kind is TourKind.PATROL
    assert night[world.parking_2].kind is TourKind.ENFORCEMENT
    listed.update({world.parking, world.parking_2})
    assert modes.tours_at(NOON) == {}  # an incident: responders steer, no tour
    listed.clear()
    with transaction(sessions) as session:
        put_tour(session, build_tour(world.parking, "enforcement",
                                     [{"preset": "1", "dwell_s": 20}], enabled=False))  # fmt: skip
    assert world.parking not in modes.tours_at(NOON + timedelta(hours=1))
