"""Coverage of demand: which points some camera watches, blind spots, shares per district.

A demand point is *covered* when at least one camera's footprint
(:func:`argus.planning.coverage.footprint`) holds it. Shares are of weight, not of points.

Districts without inventory
---------------------------
A camera belongs to the district its site is registered in (``PlanCamera.district``, the
registry's ``Site.district``), or, if none is recorded, to the district polygon that contains
it; a camera near a border still covers demand across it. A district where the analysed
cameras include none is reported with status ``no_inventory``
and no share at all (``share`` None), never as 0 %: absence of data is not absence of cameras.
The same holds per owner: ``DistrictCoverage.owners`` gives, for every owner with cameras in the
analysis, its own share in the district, or ``no_inventory`` where it has no camera there. In
the Gwangju scenario the city's cameras of 남구 and 광산구 are not in the public data, so the
city shows ``no_inventory`` there while the districts' parking cameras are measured.
Uncovered points of a ``no_inventory`` district are listed apart (:attr:`CoverageReport.unknown`)
rather than as blind spots.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from argus.planning.cameras import PlanCamera
from argus.planning.coverage import CoverageParams, PointSet, footprint
from argus.planning.demand import DemandPoint
from argus.scenario.sources import Districts

InventoryStatus = Literal["measured", "no_inventory"]

__all__ = [
    "CoverageReport",
    "DistrictCoverage",
    "InventoryStatus",
    "LayerCoverage",
    "OwnerInDistrict",
    "PointCoverage",
    "analyse_coverage",
]


@dataclass(frozen=True)
class PointCoverage:
    """One demand point, how many cameras cover it, its district and that district's status."""

    point: DemandPoint
    cameras: int
    district: str | None
    district_status: InventoryStatus | None

    @property
    def covered(self) -> bool:
        return self.cameras > 0


@dataclass(frozen=True)
class LayerCoverage:
    layer: str
    points: int
    total_weight: float
    covered_weight: float

    @property
    def share(self) -> float | None:
        return self.covered_weight / self.total_weight if self.total_weight > 0 else None


@dataclass(frozen=True)
class OwnerInDistrict:
    owner_id: int
    status: InventoryStatus
    cameras: int
    covered_weight: float | None
    share: float | None


@dataclass(frozen=True)
class DistrictCoverage:
    district: str
    status: InventoryStatus
    cameras: int
    demand_points: int
    demand_weight: float
    covered_weight: float | None
    share: float | None
    owners: tuple[OwnerInDistrict, ...]


@dataclass(frozen=True)
class CoverageReport:
    points: tuple[PointCoverage, ...]
    total_weight: float
    covered_weight: float
    layers: tuple[LayerCoverage, ...]
    districts: tuple[DistrictCoverage, ...]

    @property
    def share(self) -> float | None:
        return self.covered_weight / self.total_weight if self.total_weight > 0 else None

    @property
    def blind_spots(self) -> tuple[PointCoverage, ...]:
        """Uncovered points, except those in a district without inventory."""
        return tuple(
            p for p in self.points if not p.covered and p.district_status != "no_inventory"
        )

    @property
    def unknown(self) -> tuple[PointCoverage, ...]:
        """Uncovered points in districts without inventory: nobody knows."""
        return tuple(
            p for p in self.points if not p.covered and p.district_status == "no_inventory"
        )


def analyse_coverage(
    cameras: Sequence[PlanCamera],
    demand: Sequence[DemandPoint],
    params: CoverageParams | None = None,
    *,
    districts: Districts | None = None,
) -> CoverageReport:
    """Coverage of ``demand`` by ``cameras`` (points in id order; districts in their order)."""
    params = params or CoverageParams()
    cams = sorted(cameras, key=lambda c: c.id)
    pts = sorted(demand, key=lambda p: p.id)
    where = PointSet([p.lat for p in pts], [p.lon for p in pts], params)
    counts = [0] * len(pts)
    by_owner: dict[int, set[int]] = defaultdict(set)
    for camera in cams:
        hit = where.covered_by(footprint(camera, params)).tolist()
        for k in hit:
            counts[k] += 1
        by_owner[camera.owner_id].update(hit)

    point_district: list[str | None] = [None] * len(pts)
    district_rows: list[DistrictCoverage] = []
    status: dict[str, InventoryStatus] = {}
    if districts is not None:
        point_district = districts.locate([p.lat for p in pts], [p.lon for p in pts])
        located = districts.locate([c.lat for c in cams], [c.lon for c in cams])
        camera_district = [c.district or d for c, d in zip(cams, located, strict=True)]
        owners = sorted(by_owner)
        for name in districts.names:
            inside = [k for k, d in enumerate(point_district) if d == name]
            weight = float(sum(pts[k].weight for k in inside))
            here = [c for c, d in zip(cams, camera_district, strict=True) if d == name]
            owner_rows: list[OwnerInDistrict] = []
            for owner in owners:
                n_cams = sum(1 for c in here if c.owner_id == owner)
                if n_cams == 0:
                    owner_rows.append(OwnerInDistrict(owner, "no_inventory", 0, None, None))
                    continue
                got = float(sum(pts[k].weight for k in inside if k in by_owner[owner]))
                owner_rows.append(
                    OwnerInDistrict(
                        owner, "measured", n_cams, got, got / weight if weight > 0 else None
                    )
                )
            if not here:
                status[name] = "no_inventory"
                district_rows.append(
                    DistrictCoverage(
                        name, "no_inventory", 0, len(inside), weight, None, None, tuple(owner_rows)
                    )
                )
                continue
            status[name] = "measured"
            got = float(sum(pts[k].weight for k in inside if counts[k] > 0))
            district_rows.append(
                DistrictCoverage(
                    name,
                    "measured",
                    len(here),
                    len(inside),
                    weight,
                    got,
                    got / weight if weight > 0 else None,
                    tuple(owner_rows),
                )
            )

    rows = tuple(
        PointCoverage(p, counts[k], point_district[k], status.get(point_district[k] or ""))
        for k, p in enumerate(pts)
    )
    layer_totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for r in rows:
        acc = layer_totals[r.point.layer]
        acc[0] += 1
        acc[1] += r.point.weight
        acc[2] += r.point.weight if r.covered else 0.0
    layers = tuple(
        LayerCoverage(name, int(v[0]), v[1], v[2]) for name, v in sorted(layer_totals.items())
    )
    return CoverageReport(
        points=rows,
        total_weight=float(sum(p.weight for p in pts)),
        covered_weight=float(sum(r.point.weight for r in rows if r.covered)),
        layers=layers,
        districts=tuple(district_rows),
    )
