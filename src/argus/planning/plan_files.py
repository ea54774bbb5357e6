"""A plan as files: GeoJSON (moves as LineStrings from → to, new cameras as Points) and CSV.

The CLI writes both beside ``report.html``; the API returns either on request. One row or
feature per action, in the plan's order: moves first, then new installations.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Final

from argus.planning.relocate import Plan

__all__ = ["CSV_FIELDS", "plan_csv", "plan_geojson", "write_plan_files"]

CSV_FIELDS: Final = (
    "kind",
    "camera_id",
    "site_id",
    "from_lat",
    "from_lon",
    "to_lat",
    "to_lon",
    "azimuth_deg",
    "distance_m",
    "cost_krw",
)


def plan_geojson(plan: Plan) -> dict[str, Any]:
    """The plan as a GeoJSON FeatureCollection (lon, lat order)."""
    features: list[dict[str, Any]] = []
    for m in plan.moves:
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[m.from_lon, m.from_lat], [m.to_lon, m.to_lat]],
                },
                "properties": {
                    "kind": "move",
                    "camera_id": m.camera_id,
                    "owner_id": m.owner_id,
                    "site_id": m.site_id,
                    "azimuth_deg": m.azimuth_deg,
                    "distance_m": round(m.distance_m, 1),
                    "cost_krw": m.cost_krw,
                },
            }
        )
    for n in plan.new_installs:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [n.lon, n.lat]},
                "properties": {
                    "kind": "new",
                    "site_id": n.site_id,
                    "azimuth_deg": n.azimuth_deg,
                    "cost_krw": n.cost_krw,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _blank(value: float | None) -> float | str:
    return "" if value is None else value


def plan_rows(plan: Plan) -> list[dict[str, Any]]:
    """One dict per action with the CSV's columns ("" where a column does not apply)."""
    rows: list[dict[str, Any]] = [
        {
            "kind": "move",
            "camera_id": m.camera_id,
            "site_id": m.site_id,
            "from_lat": m.from_lat,
            "from_lon": m.from_lon,
            "to_lat": m.to_lat,
            "to_lon": m.to_lon,
            "azimuth_deg": _blank(m.azimuth_deg),
            "distance_m": round(m.distance_m, 1),
            "cost_krw": m.cost_krw,
        }
        for m in plan.moves
    ]
    rows += [
        {
            "kind": "new",
            "camera_id": "",
            "site_id": n.site_id,
            "from_lat": "",
            "from_lon": "",
            "to_lat": n.lat,
            "to_lon": n.lon,
            "azimuth_deg": _blank(n.azimuth_deg),
            "distance_m": "",
            "cost_krw": n.cost_krw,
        }
        for n in plan.new_installs
    ]
    return rows


def plan_csv(plan: Plan) -> str:
    """The plan as CSV text with a header row (:data:`CSV_FIELDS`)."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(plan_rows(plan))
    return buffer.getvalue()


def write_plan_files(out: Path, plan: Plan) -> None:
    """``out/plan.geojson`` and ``out/plan.csv`` (the folder is made if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(plan_geojson(plan), ensure_ascii=False)
    (out / "plan.geojson").write_text(text, encoding="utf-8")
    with (out / "plan.csv").open("w", encoding="utf-8", newline="") as fh:
        fh.write(plan_csv(plan))
