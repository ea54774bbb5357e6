"""Shared fixtures of the planner tests: the Gwangju scenario, planned once per session."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
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
RADIUS = math.sqrt(2e6 * 16 / 9) / (2 * 25 * math.tan(math.radians(45)))  # 2 MP, 90°, 25 px/m


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


def covered_by_hand(
    cams: Sequence[tuple[float, float, float | None]], lats: np.ndarray, lons: np.ndarray
) -> np.ndarray:
    """Points within RADIUS of some camera (lat, lon, azimuth; None: circle), 90° sectors.

    Written here on purpose, independently of :mod:`argus.planning.coverage`.
    """
    out = np.zeros(lats.shape[0], dtype=bool)
    p2, l2 = np.radians(lats), np.radians(lons)
    for lat, lon, az in cams:
        p1, l1 = math.radians(lat), math.radians(lon)
        a = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
        d = 2 * R * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
        hit = d <= RADIUS
        if az is not None:
            y = np.sin(l2 - l1) * np.cos(p2)
            x = math.cos(p1) * np.sin(p2) - math.sin(p1) * np.cos(p2) * np.cos(l2 - l1)
            bearing = np.degrees(np.arctan2(y, x)) % 360
            off = np.abs((bearing - az + 180) % 360 - 180)
            hit &= (off <= 45) | (d < 1.0)
        out |= hit
    return out
