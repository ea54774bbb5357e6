"""Read a GeoJSON FeatureCollection of standard-data features into a ParsedFile."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from argus.registry.stdimport.columns import FIELDS, Field, map_columns
from argus.registry.stdimport.errors import ImportFormatError
from argus.registry.stdimport.file_notes import note_columns
from argus.registry.stdimport.records import ParsedFile, RowIssue
from argus.registry.stdimport.rows import Cell, Point, RowReader

PROGRESS_EVERY = 1000


def _cell(value: Any) -> Cell:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    return json.dumps(value, ensure_ascii=False)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _point(geometry: Any) -> tuple[Point | None, str | None]:
    """The (lat, lon) of a Point geometry, or why there is none (None, None: no geometry)."""
    if geometry is None:
        return None, None
    if not isinstance(geometry, dict):
        return None, "the geometry is not a GeoJSON object"
    kind = geometry.get("type")
    if kind != "Point":
        return None, f"the geometry is a {str(kind)[:40]}, not a Point"
    coordinates = geometry.get("coordinates")
    if isinstance(coordinates, list) and len(coordinates) >= 2:
        lon, lat = _number(coordinates[0]), _number(coordinates[1])
        if lon is not None and lat is not None:
            return (lat, lon), None
    return None, "the Point geometry has no usable coordinates"


def read_geojson(text: str, result: ParsedFile, progress: Callable[[int], None] | None) -> None:
    """Fill `result` from GeoJSON text: one row per feature, line = feature index + 1."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFormatError(
            f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise ImportFormatError("invalid JSON: nested too deeply") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ImportFormatError("the JSON is not a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise ImportFormatError("the FeatureCollection has no list of features")

    if not features:
        result.layout = "std-other"
        result.warnings.append(RowIssue(0, None, "the FeatureCollection has no features"))
        return
    keys: dict[str, None] = {}
    any_point = False
    for feature in features:
        if isinstance(feature, dict):
            properties = feature.get("properties")
            if isinstance(properties, dict):
                for key in properties:
                    keys.setdefault(str(key))
            any_point = any_point or _point(feature.get("geometry"))[0] is not None
    header = list(keys)
    columns = map_columns(header, coordinates_elsewhere=any_point)
    result.layout = columns.layout
    note_columns(columns, result)
    row_reader = RowReader(columns, result)
    sources = [header[columns.positions[item]] if columns.has(item) else None for item in FIELDS]
    has_coordinates = columns.has(Field.LAT) and columns.has(Field.LON)

    for index, feature in enumerate(features):
        line = index + 1
        problem = warning = point_problem = None
        point = None
        props: dict[Any, Any] = {}
        if not isinstance(feature, dict):
            problem = "the feature is not a GeoJSON Feature object"
        else:
            if isinstance(feature.get("properties"), dict):
                props = feature["properties"]
            point, geometry_problem = _point(feature.get("geometry"))
            if point is None and not has_coordinates:
                point_problem = (
                    geometry_problem or "the feature has no Point geometry and no coordinates"
                )
            elif point is None and geometry_problem is not None:
                warning = (
                    f"{geometry_problem}; {columns.name(Field.LAT)}/{columns.name(Field.LON)} used"
                )
        cells = [_cell(props.get(key)) if key is not None else None for key in sources]
        row_reader.read(
            line,
            cells,
            point=point,
            shape_problem=problem,
            shape_warning=warning,
            point_problem=point_problem,
        )
        if progress is not None and line % PROGRESS_EVERY == 0:
            progress(line)
    result.total_rows = len(features)
    if progress is not None:
        progress(len(features))
