"""Fixtures of the PTZ tests: the world, a virtual clock, fake cameras, the service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from argus.db import make_sessionmaker
from argus.ptz.service import PtzService
from argus.ptz.tours import Tour
from argus.registry.service import Registry
from tests.ptz.fakes import START, FakeAuthorizer, FakeDriver, VirtualTime
from tests.ptz.world import World, build_world


@dataclass
class FakeTours:
    """A tour source whose answer the test sets."""

    tours: dict[int, Tour] = field(default_factory=dict)

    def tours_at(self, at: datetime) -> Mapping[int, Tour]:
        return dict(self.tours)


@dataclass
class Cameras:
    drivers: dict[int, FakeDriver] = field(default_factory=dict)
    made: list[int] = field(default_factory=list)

    def __call__(self, camera_id: int) -> FakeDriver:
        self.made.append(camera_id)
        return self.drivers.setdefault(camera_id, FakeDriver())


@pytest.fixture
def world(registry: Registry) -> World:
    return build_world(registry)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime(START)


@pytest.fixture
def cameras() -> Cameras:
    return Cameras()


@pytest.fixture
def authorizer() -> FakeAuthorizer:
    return FakeAuthorizer()


@pytest.fixture
def tours() -> FakeTours:
    return FakeTours()


@pytest.fixture
def notices() -> list[object]:
    return []


@pytest.fixture
async def ptz(
    sessions: sessionmaker[Session],
    cameras: Cameras,
    authorizer: FakeAuthorizer,
    tours: FakeTours,
    vt: VirtualTime,
    notices: list[object],
) -> AsyncIterator[PtzService]:
    service = PtzService(
        sessions,
        cameras,
        authorizer,
        tours=tours,
        idle_release=timedelta(seconds=15),
        max_hold=timedelta(minutes=10),
        notify=notices.append,
        clock=vt,
        sleep=vt.sleep,
    )
    yield service
    await service.close()
