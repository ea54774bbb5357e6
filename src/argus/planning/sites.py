"""Candidate sites: where a relocated or new camera may go.

Three sources, freely mixed: the demand points themselves (:func:`sites_at_demand`, one site per
distinct position), a square grid (:func:`grid_sites`, optionally kept to the districts'
polygons), or a user's list (:func:`load_sites_file`: CSV with ``lat`` and ``lon`` columns and
optional ``id`` and ``label``, or GeoJSON Points). A bad file is refused whole, every bad row
named (:class:`argus.planning.demand.DemandFileError`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from argus.errors import ArgusError
from argus.incidents.geometry import from_local_m, to_local_m
from argus.planning.demand import DemandFileError, DemandPoint, read_json, read_position_rows
from argus.scenario.sources import Districts

__all__ = ["CandidateSite", "grid_sites", "load_sites_file", "merge_sites", "sites_at_demand"]


@dataclass(frozen=True)
class CandidateSite:
    """A place a camera may be put. ``id`` is unique and stable; ``source`` says where from."""

    id: str
    lat: float
    lon: float
    label: str = ""
    source: str = ""


def sites_at_demand(points: Iterable[DemandPoint]) -> list[CandidateSite]:
    """One site at each distinct demand position (the first point by id names it)."""
    out: dict[tuple[float, float], CandidateSite] = {}
    for p in sorted(points, key=lambda q: q.id):
        out.setdefault(
            (p.lat, p.lon), CandidateSite(f"demand:{p.id}", p.lat, p.lon, p.label, p.layer)
        )
    return sorted(out.values(), key=lambda s: s.id)


def grid_sites(
    bbox: tuple[float, float, float, float],
    spacing_m: float,
    *,
    districts: Districts | None = None,
) -> list[CandidateSite]:
    """Sites on a square grid of ``spacing_m`` over bbox (south, west, north, east).

    With ``districts``, only grid points strictly inside some district are kept. Ids are
    ``grid:<spacing>:<row>:<column>`` counted from the south-west corner.
    """
    south, west, north, east = bbox
    if not (south < north and west < east):
        raise ArgusError(f"bbox must be (south, west, north, east), got {bbox}")
    if not (math.isfinite(spacing_m) and spacing_m > 0):
        raise ArgusError(f"spacing_m must be > 0, got {spacing_m}")
    lat0, lon0 = (south + north) / 2.0, (west + east) / 2.0
    xs, ys = to_local_m(lat0, lon0, np.array([south, north]), np.array([west, east]))
    gx = np.arange(float(xs[0]), float(xs[1]) + 1e-9, spacing_m)
    gy = np.arange(float(ys[0]), float(ys[1]) + 1e-9, spacing_m)
    if gx.size * gy.size > 2_000_000:
        raise ArgusError(f"a {spacing_m} m grid over {bbox} has too many points")
    cells = [(r, c) for r in range(gy.size) for c in range(gx.size)]
    where = [from_local_m(lat0, lon0, float(gx[c]), float(gy[r])) for r, c in cells]
    keep = [True] * len(cells)
    if districts is not None:
        located = districts.locate([w[0] for w in where], [w[1] for w in where])
        keep = [d is not None for d in located]
    tag = f"{spacing_m:g}"
    return sorted(
        (
            CandidateSite(f"grid:{tag}:{r:05d}:{c:05d}", lat, lon, "", "grid")
            for (r, c), (lat, lon), k in zip(cells, where, keep, strict=True)
            if k
        ),
        key=lambda s: s.id,
    )


def merge_sites(*groups: Sequence[CandidateSite]) -> list[CandidateSite]:
    """All sites of the groups, sorted by id; two sites with one id are an error."""
    sites = sorted((s for g in groups for s in g), key=lambda s: s.id)
    for a, b in itertools.pairwise(sites):
        if a.id == b.id:
            raise ArgusError(f"two candidate sites have the id {a.id!r}")
    return sites


def load_sites_file(path: Path, *, prefix: str = "user") -> list[CandidateSite]:
    """Candidate sites from CSV (lat, lon; optional id, label) or GeoJSON Points."""
    if not path.is_file():
        raise DemandFileError(path, ["file not found"])
    if path.suffix.lower() == ".csv":
        return _csv_sites(path, prefix)
    if path.suffix.lower() in (".geojson", ".json"):
        return _geojson_sites(path, prefix)
    raise DemandFileError(path, [f"unknown file type {path.suffix!r} (use .csv or .geojson)"])


def _csv_sites(path: Path, prefix: str) -> list[CandidateSite]:
    return sorted(
        (
            CandidateSite(f"{prefix}:{r.key}", r.lat, r.lon, r.label, str(path.name))
            for r in read_position_rows(path)
        ),
        key=lambda s: s.id,
    )


def _geojson_sites(path: Path, prefix: str) -> list[CandidateSite]:
    doc = read_json(path)
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise DemandFileError(path, ["top level: not a GeoJSON FeatureCollection"])
    problems: list[str] = []
    out: list[CandidateSite] = []
    ids: set[str] = set()
    for n, feature in enumerate(features, start=1):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        props = (feature.get("properties") or {}) if isinstance(feature, dict) else {}
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if (
            not isinstance(geometry, dict)
            or geometry.get("type") != "Point"
            or not isinstance(coords, list)
            or len(coords) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in coords)
        ):
            problems.append(f"feature {n}, geometry: not a Point with numeric coordinates")
            continue
        lon, lat = float(coords[0]), float(coords[1])
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90) or not (
            -180 <= lon <= 180
        ):
            problems.append(f"feature {n}, geometry: ({lon}, {lat}) is not a lon, lat position")
            continue
        raw_id = feature.get("id", props.get("id") if isinstance(props, dict) else None)
        key = str(raw_id) if raw_id not in (None, "") else f"f{n}"
        if key in ids:
            problems.append(f"feature {n}: id {key!r} already used")
            continue
        ids.add(key)
        label = (
            str(props.get("label") or props.get("name") or "") if isinstance(props, dict) else ""
        )
        out.append(CandidateSite(f"{prefix}:{key}", lat, lon, label, str(path.name)))
    if problems:
        raise DemandFileError(path, problems)
    return sorted(out, key=lambda s: s.id)
