"""Redundancy: cameras of different owners watching the same ground, and which may move.

Clusters
--------
Two cameras are *redundant with each other* when they have different owners, stand at most
``distance_m`` apart (30 m by default) and their footprints overlap by more than
``min_overlap``: the area of the intersection over the area of the smaller footprint
("intersection over smaller", 0.5 by default; areas of the sector polygons of
:mod:`argus.planning.sectors`, in a local plane about the first camera). A *cluster* is a
connected group of cameras under that relation; cameras of the same owner join a cluster only
through another owner's camera, so every cluster has at least two owners.

Keep and move
-------------
Within a cluster the cameras are ranked by a deterministic rule, the criteria of ``keep_order``
in turn (default: legal purpose, PTZ, resolution, age), then the smaller camera id:

* ``purpose``: the purpose whose law lets the centre use the camera most widely ranks first
  (``purpose_rank``: 생활방범 and 다목적 0 — crime prevention is the centre's purpose; 어린이보호
  and 차량방범 1; 재난재해 2; 교통단속 and 교통정보수집 3 — road-traffic-law cameras serve crime
  prevention only at night or in an incident; 시설물관리 and 쓰레기단속 4; 기타 and unknown 5);
* ``ptz``: a PTZ camera before a fixed one (it can be turned to where it is needed);
* ``resolution``: more megapixels first (unknown counts as none);
* ``age``: the more recent installation year first (unknown counts as oldest).

The best camera is *kept*, and with it every camera of its owner in the cluster (an owner's own
arrangement of cameras at a pole is not cross-agency duplication). The other owners' cameras are
then taken best first: one whose footprint lies inside the union of the kept footprints by more
than ``min_overlap`` (covered area over its own area) *can move*; otherwise it watches ground the
kept ones do not and is kept too. Each movable camera carries the reason: the first criterion on
which the best kept camera ranks before it, and the overlap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

import shapely
from shapely.geometry import Polygon

from argus.planning.cameras import PlanCamera
from argus.planning.coverage import CoverageParams, Footprint, footprint
from argus.planning.sectors import local_offset_m, sector_polygon
from argus.registry.spatial import SpatialIndex
from argus.registry.vocab import PURPOSE_ENGLISH, Purpose

CRITERIA: Final = ("purpose", "ptz", "resolution", "age")
DEFAULT_PURPOSE_RANK: Final[Mapping[str, int]] = MappingProxyType(
    {
        Purpose.CRIME_PREVENTION.value: 0,
        Purpose.MULTI.value: 0,
        Purpose.CHILD_PROTECTION.value: 1,
        Purpose.VEHICLE_CRIME.value: 1,
        Purpose.DISASTER.value: 2,
        Purpose.TRAFFIC_ENFORCEMENT.value: 3,
        Purpose.TRAFFIC_INFO.value: 3,
        Purpose.FACILITY.value: 4,
        Purpose.LITTERING.value: 4,
        Purpose.OTHER.value: 5,
    }
)
UNKNOWN_PURPOSE_RANK: Final = 5

__all__ = [
    "CRITERIA",
    "DEFAULT_PURPOSE_RANK",
    "Cluster",
    "MovableCamera",
    "Redundancy",
    "RedundancyParams",
    "find_redundancy",
]


@dataclass(frozen=True)
class RedundancyParams:
    distance_m: float = 30.0
    min_overlap: float = 0.5
    keep_order: tuple[str, ...] = CRITERIA
    purpose_rank: Mapping[str, int] = field(default_factory=lambda: DEFAULT_PURPOSE_RANK)

    def __post_init__(self) -> None:
        if not self.distance_m >= 0:
            raise ValueError(f"distance_m must be >= 0, got {self.distance_m}")
        if not 0 <= self.min_overlap < 1:
            raise ValueError(f"min_overlap must be in [0, 1), got {self.min_overlap}")
        unknown = [c for c in self.keep_order if c not in CRITERIA]
        if unknown or len(set(self.keep_order)) != len(self.keep_order):
            raise ValueError(f"keep_order takes distinct criteria of {CRITERIA}, got {unknown}")


@dataclass(frozen=True)
class MovableCamera:
    camera_id: int
    owner_id: int
    criterion: str  # the criterion that decided, or "id" when all tied
    reason: str
    overlap: float  # share of its footprint inside the kept footprints


@dataclass(frozen=True)
class Cluster:
    id: int  # 1, 2, … in order of the clusters' smallest camera id
    camera_ids: tuple[int, ...]
    owner_ids: tuple[int, ...]
    keep: int  # the best camera
    kept: tuple[int, ...]  # every kept camera (the best first, then by rank)
    movable: tuple[MovableCamera, ...]
    lat: float  # mean position of the cluster's cameras
    lon: float


@dataclass(frozen=True)
class Redundancy:
    clusters: tuple[Cluster, ...]
    params: RedundancyParams

    @property
    def movable_ids(self) -> tuple[int, ...]:
        return tuple(sorted(m.camera_id for c in self.clusters for m in c.movable))

    @property
    def reasons(self) -> dict[int, str]:
        return {m.camera_id: m.reason for c in self.clusters for m in c.movable}


def find_redundancy(
    cameras: Sequence[PlanCamera],
    params: RedundancyParams | None = None,
    coverage: CoverageParams | None = None,
) -> Redundancy:
    """The clusters of redundant cameras of different owners, with what to keep and move."""
    params = params or RedundancyParams()
    coverage = coverage or CoverageParams()
    cams = sorted(cameras, key=lambda c: c.id)
    if not cams:
        return Redundancy((), params)
    by_id = {c.id: c for c in cams}
    fps = {c.id: footprint(c, coverage) for c in cams}
    index = SpatialIndex.build([c.id for c in cams], [c.lat for c in cams], [c.lon for c in cams])
    parent = {c.id: c.id for c in cams}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a in cams:
        own = None
        for b_id, _ in index.within(a.lat, a.lon, params.distance_m):
            b = by_id[b_id]
            if b_id <= a.id or b.owner_id == a.owner_id:
                continue
            if own is None:
                own = _polygon(fps[a.id], a.lat, a.lon)
            other = _polygon(fps[b_id], a.lat, a.lon)
            smaller = min(own.area, other.area)
            if smaller > 0 and own.intersection(other).area / smaller > params.min_overlap:
                ra, rb = find(a.id), find(b_id)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)

    groups: dict[int, list[int]] = {}
    for c in cams:
        groups.setdefault(find(c.id), []).append(c.id)
    clusters: list[Cluster] = []
    for members in sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0]):
        clusters.append(_settle(len(clusters) + 1, [by_id[i] for i in members], fps, params))
    return Redundancy(tuple(clusters), params)


def _polygon(fp: Footprint, lat0: float, lon0: float) -> Polygon:
    x, y = local_offset_m(lat0, lon0, fp.lat, fp.lon)
    return sector_polygon(x, y, fp.radius_m, fp.azimuth_deg, fp.fov_deg)


def _key(camera: PlanCamera, criterion: str, params: RedundancyParams) -> float:
    """Smaller is better."""
    if criterion == "purpose":
        return float(params.purpose_rank.get(camera.purpose, UNKNOWN_PURPOSE_RANK))
    if criterion == "ptz":
        return 0.0 if camera.is_ptz else 1.0
    if criterion == "resolution":
        return -(camera.resolution_mp or 0.0)
    if criterion == "age":
        return -float(camera.installed_year) if camera.installed_year is not None else 0.0
    raise ValueError(criterion)


def _rank_key(camera: PlanCamera, params: RedundancyParams) -> tuple[float, ...]:
    return (*(_key(camera, c, params) for c in params.keep_order), float(camera.id))


def _why(best: PlanCamera, other: PlanCamera, params: RedundancyParams) -> tuple[str, str]:
    for criterion in params.keep_order:
        if _key(best, criterion, params) < _key(other, criterion, params):
            return criterion, _describe(criterion, best, other)
    return "id", "ties on every criterion; the camera with the smaller id is kept"


def _purpose_name(purpose: str) -> str:
    try:
        return f"{purpose} ({PURPOSE_ENGLISH[Purpose(purpose)]})"
    except ValueError:
        return purpose


def _describe(criterion: str, best: PlanCamera, other: PlanCamera) -> str:
    if criterion == "purpose":
        return (
            f"legal purpose: {_purpose_name(best.purpose)} serves the centre more widely than "
            f"{_purpose_name(other.purpose)}"
        )
    if criterion == "ptz":
        return "PTZ: the kept camera can be turned, this one is fixed"
    if criterion == "resolution":
        theirs = f"{other.resolution_mp:g} MP" if other.resolution_mp else "unknown"
        return f"resolution: {best.resolution_mp:g} MP against {theirs}"
    return (
        f"age: installed {best.installed_year} against "
        f"{other.installed_year if other.installed_year is not None else 'an unknown year'}"
    )


def _settle(
    number: int,
    members: list[PlanCamera],
    fps: Mapping[int, Footprint],
    params: RedundancyParams,
) -> Cluster:
    ranked = sorted(members, key=lambda c: _rank_key(c, params))
    best = ranked[0]
    lat0 = sum(c.lat for c in members) / len(members)
    lon0 = sum(c.lon for c in members) / len(members)
    kept = [c for c in ranked if c.owner_id == best.owner_id]
    union = shapely.union_all([_polygon(fps[c.id], lat0, lon0) for c in kept])
    movable: list[MovableCamera] = []
    for camera in ranked:
        if camera.owner_id == best.owner_id:
            continue
        own = _polygon(fps[camera.id], lat0, lon0)
        share = own.intersection(union).area / own.area if own.area > 0 else 1.0
        if share > params.min_overlap:
            criterion, why = _why(best, camera, params)
            movable.append(
                MovableCamera(
                    camera.id,
                    camera.owner_id,
                    criterion,
                    f"kept camera {best.id} covers {share:.0%} of its ground; {why}",
                    share,
                )
            )
        else:
            kept.append(camera)
            union = union.union(own)
    return Cluster(
        id=number,
        camera_ids=tuple(sorted(c.id for c in members)),
        owner_ids=tuple(sorted({c.owner_id for c in members})),
        keep=best.id,
        kept=tuple(c.id for c in kept),
        movable=tuple(movable),
        lat=lat0,
        lon=lon0,
    )
