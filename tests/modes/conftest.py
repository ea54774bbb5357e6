"""Fixtures of the mode tests: the PTZ tests' small Gwangju and a clock at 10:00 in Seoul."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from argus.db import make_sessionmaker
from argus.registry.service import Registry
from tests.ptz.fakes import START, VirtualTime
from tests.ptz.world import World, build_world


@pytest.fixture
def world(registry: Registry) -> World:
    return build_world(registry)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime(START)
