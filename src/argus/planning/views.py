"""The JSON shapes of planning results, the same for ``argus plan … --json`` and ``/api/plan``."""

from __future__ import annotations

from typing import Any

from argus.planning.analysis import CoverageReport
from argus.planning.redundancy import Redundancy

__all__ = ["coverage_json", "redundancy_json"]


def coverage_json(report: CoverageReport) -> dict[str, Any]:
    return {
        "total_weight": report.total_weight,
        "covered_weight": report.covered_weight,
        "share": report.share,
        "blind_spots": len(report.blind_spots),
        "unknown": len(report.unknown),
        "layers": [
            {
                "layer": x.layer,
                "points": x.points,
                "total_weight": x.total_weight,
                "covered_weight": x.covered_weight,
                "share": x.share,
            }
            for x in report.layers
        ],
        "districts": [
            {
                "district": d.district,
                "status": d.status,
                "cameras": d.cameras,
                "demand_points": d.demand_points,
                "demand_weight": d.demand_weight,
                "covered_weight": d.covered_weight,
                "share": d.share,
            }
            for d in report.districts
        ],
    }


def redundancy_json(red: Redundancy, owners: dict[int, str]) -> dict[str, Any]:
    return {
        "clusters": [
            {
                "id": c.id,
                "lat": c.lat,
                "lon": c.lon,
                "camera_ids": list(c.camera_ids),
                "kept": list(c.kept),
                "movable": [
                    {
                        "camera_id": m.camera_id,
                        "owner": owners.get(m.owner_id, str(m.owner_id)),
                        "criterion": m.criterion,
                        "reason": m.reason,
                        "overlap": m.overlap,
                    }
                    for m in c.movable
                ],
            }
            for c in red.clusters
        ],
        "movable": len(red.movable_ids),
    }
