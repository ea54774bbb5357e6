"""Fixtures shared by the sharing tests: a small Gwangju, a clock at night, the change hook."""

from __future__ import annotations

import pytest

from argus.registry.service import Registry
from tests.sharing.world import NIGHT, Changes, FakeClock, World, build_world


@pytest.fixture
def world(registry: Registry) -> World:
    return build_world(registry)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NIGHT)


@pytest.fixture
def changes() -> Changes:
    return Changes()
