"""Shared fixtures of the planner tests: the Gwangju scenario, planned once per session."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from argus.planning import (
    DemandPoint,
    PlanCamera,
    cameras_from_plan,
    combine_layers,
    fatal_crash_layer,
    school_zone_layer,
)
from argus.scenario import ScenarioPlan, plan_gwangju

R = 6_371_008.8


@dataclass(frozen=True)
class Gwangju:
    plan: ScenarioPlan
    cameras: list[PlanCamera]
    owners: dict[str, int]


@pytest.fixture(scope="session")
def gwangju(shared_data: Path) -> Gwangju:
    plan = plan_gwangju(shared_data, seed=2026)
    cameras, owners = cameras_from_plan(plan)
    return Gwangju(plan, cameras, owners)


@pytest.fixture(scope="session")
def gwangju_demand(shared_data: Path) -> list[DemandPoint]:
    """Gwangju's school zones and fatal crashes, weight 1 each."""
    return combine_layers([school_zone_layer(shared_data), fatal_crash_layer(shared_data)])


def offset(lat: float, lon: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """The point ``distance_m`` from (lat, lon) along ``bearing_deg``; written here on purpose."""
    d = distance_m / R
    t = math.radians(bearing_deg)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(t))
    l2 = l1 + math.atan2(
        math.sin(t) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), math.degrees(l2)
