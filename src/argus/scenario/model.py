"""What a scenario plan is made of: agencies, sites and cameras to create, with stable keys.

A plan is pure data, computed without a database; ``argus.scenario.writer`` stores it. Keys are
stable strings, so that planning again with the same inputs and seed gives the same keys and a
writer can recognise what it stored before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from argus.registry.vocab import AgencyKind, CameraType, Purpose


@dataclass(frozen=True)
class PlannedAgency:
    name: str
    kind: AgencyKind
    region: str | None
    district: str | None
    parent: str | None  # the parent agency's name; parents come first in a plan


@dataclass(frozen=True)
class PlannedSite:
    key: str
    owner: str  # agency name
    lat: float
    lon: float
    lot_address: str | None
    road_address: str | None
    region: str
    district: str | None
    name: str | None
    synthetic: bool
    provenance: str


@dataclass(frozen=True)
class PlannedCamera:
    key: str
    site_key: str
    owner: str  # agency name
    name: str
    purpose: Purpose
    camera_type: CameraType
    resolution_mp: float | None
    range_m: float | None
    azimuth_deg: float | None  # None: not fixed (a PTZ unit)
    fov_deg: float | None  # the horizontal angle it can observe; 360 for a PTZ unit's pan
    retention_days: int
    installed_year: int | None
    installed_month: int | None
    tags: tuple[str, ...]
    synthetic: bool
    provenance: str


@dataclass(frozen=True)
class Colocation:
    """A site of one agency standing next to another agency's site."""

    site_key: str
    other_site_key: str
    distance_m: float


@dataclass(frozen=True)
class ScenarioPlan:
    agencies: list[PlannedAgency]
    sites: list[PlannedSite]
    cameras: list[PlannedCamera]
    colocated_sites: int
    colocations: list[Colocation] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
