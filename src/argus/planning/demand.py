"""Demand layers: the places cameras should watch, as weighted points.

Three kinds of layer:

* **School zones** (어린이보호구역) of 행정안전부 전국어린이보호구역표준데이터 (2020), read by
  :func:`argus.scenario.sources.read_school_zones` (rows naming 광주광역시, with coordinates).
  One point per zone, weight ``weight`` (1 by default).
* **Fatal road crashes** of 도로교통공단 교통사망사고정보 2012–2019, read by
  :func:`argus.scenario.sources.read_fatal_crashes` (rows whose 발생지시도 is 광주). One point
  per crash, weight ``weight``: the reader keeps no casualty counts, so every crash weighs the
  same.
* **A user's file**: CSV with ``lat``, ``lon`` and ``weight`` columns (UTF-8 or CP949; optional
  ``id`` and ``label``/``name``), or GeoJSON whose features are Points, MultiPoints, Polygons or
  MultiPolygons with a numeric ``weight`` property (e.g. crime counts, emergency-bell calls).
  An area is sampled into points on a grid of ``area_spacing_m`` (25 m) inside it, each carrying
  an equal share of the area's weight, so "covered" for an area is the covered share of its
  ground; an area too small for a grid point gets one point at a representative point inside
  it; a grid of more than ``max_points_per_area`` points is thinned by widening the spacing. A
  MultiPoint's weight is split equally over its points.

A bad user file is refused whole with :class:`DemandFileError`, which lists every problem with
its row (data rows count from 1; the file line is given too) or feature and its column or
property; nothing of a refused file is returned.

Point ids are stable strings (``school_zone:r123`` with the CSV row, ``fatal_crash:2015:r88``,
``<layer>:<id>``), so plans from the same inputs name the same points.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from argus.errors import ArgusError
from argus.incidents.geometry import from_local_m, to_local_m
from argus.scenario.sources import (
    FATAL_CRASHES_DIR,
    GWANGJU,
    SCHOOL_ZONES_CSV,
    read_fatal_crashes,
    read_school_zones,
)
from argus.scenario.writer import find_data_dir

SCHOOL_ZONE_SOURCE: Final = "행정안전부 전국어린이보호구역표준데이터 (2020)"
FATAL_CRASH_SOURCE: Final = "도로교통공단 교통사망사고정보 2012–2019"
MAX_PROBLEMS: Final = 20
"""How many problems of a refused file the error message lists."""

__all__ = [
    "FATAL_CRASH_SOURCE",
    "SCHOOL_ZONE_SOURCE",
    "DemandArea",
    "DemandFileError",
    "DemandLayer",
    "DemandPoint",
    "combine_layers",
    "fatal_crash_layer",
    "load_demand_file",
    "school_zone_layer",
]


class DemandFileError(ArgusError):
    """A demand (or site) file cannot be used; ``problems`` names each bad row or feature."""

    status_code = 422
    code = "invalid_file"

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        shown = "; ".join(self.problems[:MAX_PROBLEMS])
        more = len(self.problems) - MAX_PROBLEMS
        tail = f"; and {more} more" if more > 0 else ""
        count = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        super().__init__(f"{path}: {count}, nothing loaded: {shown}{tail}")


@dataclass(frozen=True)
class DemandPoint:
    """One weighted place to watch. ``area_id`` names the area it was sampled from, if any."""

    id: str
    layer: str
    lat: float
    lon: float
    weight: float
    label: str = ""
    area_id: str | None = None


@dataclass(frozen=True)
class DemandArea:
    """A polygon of a user layer (lon/lat geometry) and how many points stand for it."""

    id: str
    layer: str
    weight: float
    geometry: BaseGeometry
    points: int
    label: str = ""


@dataclass(frozen=True)
class DemandLayer:
    name: str
    points: tuple[DemandPoint, ...]
    areas: tuple[DemandArea, ...] = ()
    source: str = ""

    @property
    def total_weight(self) -> float:
        return float(sum(p.weight for p in self.points))


def school_zone_layer(
    data_dir: Path | None = None, *, weight: float = 1.0, region: str = GWANGJU
) -> DemandLayer:
    """The school zones of ``region`` (행정안전부), one point each."""
    _check_weight(weight)
    base = find_data_dir(data_dir)
    zones = read_school_zones(base / SCHOOL_ZONES_CSV, region)
    points = tuple(
        DemandPoint(
            id=f"school_zone:r{z.row - 1}",
            layer="school_zone",
            lat=z.lat,
            lon=z.lon,
            weight=weight,
            label=z.name or (z.road_address or z.lot_address or ""),
        )
        for z in zones
    )
    return DemandLayer("school_zone", points, source=SCHOOL_ZONE_SOURCE)


def fatal_crash_layer(
    data_dir: Path | None = None, *, weight: float = 1.0, sido: str = "광주"
) -> DemandLayer:
    """The fatal road crashes of ``sido`` (도로교통공단, short 발생지시도), one point each."""
    _check_weight(weight)
    base = find_data_dir(data_dir)
    crashes = read_fatal_crashes(base / FATAL_CRASHES_DIR, sido)
    points = tuple(
        DemandPoint(
            id=f"fatal_crash:{c.year}:r{c.row - 1}",
            layer="fatal_crash",
            lat=c.lat,
            lon=c.lon,
            weight=weight,
            label=f"{c.year} {c.sigungu}".strip(),
        )
        for c in crashes
    )
    return DemandLayer("fatal_crash", points, source=FATAL_CRASH_SOURCE)


def combine_layers(layers: Iterable[DemandLayer]) -> list[DemandPoint]:
    """The points of all layers, sorted by id; two points with one id are an error."""
    points = sorted((p for layer in layers for p in layer.points), key=lambda p: p.id)
    for a, b in itertools.pairwise(points):
        if a.id == b.id:
            raise ArgusError(f"two demand points have the id {a.id!r}")
    return points


def _check_weight(weight: float) -> None:
    if not (math.isfinite(weight) and weight >= 0):
        raise ArgusError(f"a layer weight must be a number >= 0, got {weight}")


# -- user files ------------------------------------------------------------------------------


def load_demand_file(
    path: Path,
    *,
    layer: str | None = None,
    area_spacing_m: float = 25.0,
    max_points_per_area: int = 2_000,
    source: str | None = None,
) -> DemandLayer:
    """A user's demand layer from CSV or GeoJSON (by suffix: .csv, .geojson or .json).

    ``source`` is what reports cite for the layer (default: the path).
    """
    name = layer or path.stem
    cited = str(path) if source is None else source
    if not path.is_file():
        raise DemandFileError(path, ["file not found"])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        points = _csv_points(path, name)
        return DemandLayer(name, tuple(points), source=cited)
    if suffix in (".geojson", ".json"):
        if not (math.isfinite(area_spacing_m) and area_spacing_m > 0):
            raise ArgusError(f"area_spacing_m must be > 0, got {area_spacing_m}")
        pts, areas = _geojson_points(path, name, area_spacing_m, max_points_per_area)
        return DemandLayer(name, tuple(pts), tuple(areas), source=cited)
    raise DemandFileError(path, [f"unknown file type {path.suffix!r} (use .csv or .geojson)"])


def decode_text(path: Path) -> str:
    """A text file's content in UTF-8 (with or without BOM) or CP949."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DemandFileError(path, ["the file is neither UTF-8 nor CP949 text"])


def read_table(
    path: Path, required: Sequence[str], optional: Sequence[str]
) -> tuple[list[tuple[int, int, dict[str, str]]], list[str]]:
    """CSV records as (row, line, {column: value}) for the known columns, and header problems.

    Column names match case-insensitively after trimming. Blank lines are skipped; a record with
    more or fewer cells than the header is a problem of its row.
    """
    text = decode_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[str] = []
    try:
        header = next(reader)
    except StopIteration:
        return [], ["the file is empty (no header row)"]
    except csv.Error as exc:
        return [], [f"line 1: {exc}"]
    names = [h.strip().lower() for h in header]
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        if n in seen and n in (*required, *optional):
            problems.append(f"header: column {n!r} appears twice")
        seen.setdefault(n, i)
    for column in required:
        if column not in seen:
            problems.append(f"header: no {column!r} column (found {', '.join(names) or 'none'})")
    if problems:
        return [], problems
    rows: list[tuple[int, int, dict[str, str]]] = []
    row_no = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"line {reader.line_num}: {exc}")
            break
        if not cells or all(not c.strip() for c in cells):
            continue
        row_no += 1
        if len(cells) != len(header):
            problems.append(
                f"row {row_no} (line {reader.line_num}): {len(cells)} cells, the header has "
                f"{len(header)}"
            )
            continue
        values = {c: cells[seen[c]].strip() for c in (*required, *optional) if c in seen}
        rows.append((row_no, reader.line_num, values))
    return rows, problems


def parse_number(
    value: str, column: str, where: str, low: float | None = None, high: float | None = None
) -> tuple[float | None, str | None]:
    """(number, None) or (None, the problem naming ``where`` and ``column``)."""
    if value == "":
        return None, f"{where}, column {column!r}: empty"
    try:
        number = float(value)
    except ValueError:
        return None, f"{where}, column {column!r}: {value[:40]!r} is not a number"
    if not math.isfinite(number):
        return None, f"{where}, column {column!r}: {value[:40]!r} is not a finite number"
    if (low is not None and number < low) or (high is not None and number > high):
        span = f"[{low}, {high}]" if high is not None else f">= {low}"
        return None, f"{where}, column {column!r}: {value[:40]!r} is outside {span}"
    return number, None


@dataclass(frozen=True)
class PositionRow:
    """A good row of a CSV of positions: its key (``id``, or ``r<row>``), place, label, and the
    values of the extra numeric columns, in the order asked for."""

    key: str
    lat: float
    lon: float
    label: str
    numbers: tuple[float, ...]


def read_position_rows(
    path: Path, extra: Sequence[tuple[str, float | None, float | None]] = ()
) -> list[PositionRow]:
    """The rows of a CSV with ``lat``, ``lon``, optional ``id`` and ``label``/``name``, and the
    ``extra`` numeric columns (name, low, high); every problem refuses the file whole."""
    columns = ("lat", "lon", *(name for name, _, _ in extra))
    rows, problems = read_table(path, columns, ("id", "label", "name"))
    out: list[PositionRow] = []
    ids: dict[str, int] = {}
    for row_no, line, values in rows:
        where = f"row {row_no} (line {line})"
        lat, p1 = parse_number(values["lat"], "lat", where, -90.0, 90.0)
        lon, p2 = parse_number(values["lon"], "lon", where, -180.0, 180.0)
        parsed = [parse_number(values[name], name, where, low, high) for name, low, high in extra]
        bad = [p for p in (p1, p2, *(q for _, q in parsed)) if p]
        key = values.get("id") or f"r{row_no}"
        if key in ids:
            bad.append(f"{where}, column 'id': {key!r} was already used in row {ids[key]}")
        ids.setdefault(key, row_no)
        numbers = tuple(v for v, _ in parsed if v is not None)
        if bad or lat is None or lon is None or len(numbers) != len(extra):
            problems += bad
            continue
        label = values.get("label") or values.get("name") or ""
        out.append(PositionRow(key, lat, lon, label, numbers))
    if problems:
        raise DemandFileError(path, problems)
    return out


def read_json(path: Path) -> Any:
    """A JSON file's document (UTF-8 or CP949); not JSON refuses the file."""
    try:
        return json.loads(decode_text(path))
    except json.JSONDecodeError as exc:
        raise DemandFileError(
            path, [f"line {exc.lineno}, column {exc.colno}: not JSON ({exc.msg})"]
        ) from None


def _csv_points(path: Path, layer: str) -> list[DemandPoint]:
    return [
        DemandPoint(f"{layer}:{r.key}", layer, r.lat, r.lon, r.numbers[0], r.label)
        for r in read_position_rows(path, (("weight", 0.0, None),))
    ]


def _geojson_points(
    path: Path, layer: str, spacing_m: float, max_points: int
) -> tuple[list[DemandPoint], list[DemandArea]]:
    doc = read_json(path)
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        features: Any = [doc]
    elif isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features")
    else:
        raise DemandFileError(path, ["top level: not a GeoJSON FeatureCollection or Feature"])
    if not isinstance(features, list):
        raise DemandFileError(path, ["top level: 'features' is not a list"])
    problems: list[str] = []
    points: list[DemandPoint] = []
    areas: list[DemandArea] = []
    ids: dict[str, int] = {}
    for n, feature in enumerate(features, start=1):
        where = f"feature {n}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(f"{where}: not a GeoJSON Feature")
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            problems.append(f"{where}: 'properties' is not an object")
            continue
        raw_id = feature.get("id", props.get("id"))
        key = str(raw_id) if raw_id is not None and str(raw_id) != "" else f"f{n}"
        if raw_id is not None:
            where = f"feature {n} (id {key!r})"
        if key in ids:
            problems.append(f"{where}: id already used by feature {ids[key]}")
            continue
        ids[key] = n
        weight = props.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            problems.append(f"{where}, property 'weight': missing or not a number ({weight!r})")
            continue
        if not (math.isfinite(weight) and weight >= 0):
            problems.append(f"{where}, property 'weight': {weight!r} is not a number >= 0")
            continue
        label = str(props.get("label") or props.get("name") or "")
        geometry = feature.get("geometry")
        try:
            geom = shapely.geometry.shape(geometry)
        except Exception as exc:  # shapely raises several kinds for bad geometry
            problems.append(f"{where}, geometry: cannot be read ({str(exc)[:80]})")
            continue
        bad = _geometry_problem(geom)
        if bad:
            problems.append(f"{where}, geometry: {bad}")
            continue
        fid = f"{layer}:{key}"
        if geom.geom_type == "Point":
            points.append(DemandPoint(fid, layer, geom.y, geom.x, float(weight), label))
        elif geom.geom_type == "MultiPoint":
            parts = list(geom.geoms)
            for k, part in enumerate(parts, start=1):
                share = float(weight) / len(parts)
                points.append(
                    DemandPoint(f"{fid}:{k}", layer, part.y, part.x, share, label, area_id=fid)
                )
        else:
            samples = _sample_area(geom, spacing_m, max_points)
            share = float(weight) / len(samples)
            for k, (lat, lon) in enumerate(samples, start=1):
                points.append(DemandPoint(f"{fid}:{k}", layer, lat, lon, share, label, area_id=fid))
            areas.append(DemandArea(fid, layer, float(weight), geom, len(samples), label))
    if problems:
        raise DemandFileError(path, problems)
    return points, areas


def _geometry_problem(geom: BaseGeometry) -> str | None:
    kinds = ("Point", "MultiPoint", "Polygon", "MultiPolygon")
    if geom.geom_type not in kinds:
        return f"{geom.geom_type} is not one of {', '.join(kinds)}"
    if geom.is_empty:
        return "empty"
    minx, miny, maxx, maxy = geom.bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        return "coordinates are not finite numbers"
    if not (minx >= -180.0 and maxx <= 180.0 and miny >= -90.0 and maxy <= 90.0):
        return "coordinates are outside lon [-180, 180] / lat [-90, 90] (GeoJSON is lon, lat)"
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        if not geom.is_valid:
            return f"invalid polygon ({shapely.is_valid_reason(geom)})"
        if geom.area <= 0:
            return "a polygon of zero area"
    return None


def _sample_area(
    geom: BaseGeometry, spacing_m: float, max_points: int
) -> list[tuple[float, float]]:
    """Grid points (lat, lon) inside the lon/lat polygon, in row order; at least one."""
    rep = geom.representative_point()
    lat0, lon0 = float(rep.y), float(rep.x)
    minx, miny, maxx, maxy = geom.bounds
    xs, ys = to_local_m(lat0, lon0, np.array([miny, maxy]), np.array([minx, maxx]))
    width, height = float(xs[1] - xs[0]), float(ys[1] - ys[0])
    spacing = spacing_m
    if width * height / spacing**2 > 4 * max_points:
        spacing = math.sqrt(width * height / (4 * max_points))
    while True:
        gx = np.arange(float(xs[0]) + spacing / 2, float(xs[1]), spacing)
        gy = np.arange(float(ys[0]) + spacing / 2, float(ys[1]), spacing)
        samples: list[tuple[float, float]] = []
        if gx.size and gy.size:
            mx, my = np.meshgrid(gx, gy)
            lat_lon = [
                from_local_m(lat0, lon0, float(x), float(y))
                for x, y in zip(mx.ravel(), my.ravel(), strict=True)
            ]
            lats = np.array([p[0] for p in lat_lon])
            lons = np.array([p[1] for p in lat_lon])
            inside = np.asarray(shapely.contains_xy(geom, lons, lats), dtype=bool)
            samples = [
                (float(a), float(b)) for a, b in zip(lats[inside], lons[inside], strict=True)
            ]
        if len(samples) <= max_points:
            break
        spacing *= math.sqrt(len(samples) / max_points) * 1.01
    return samples or [(lat0, lon0)]
