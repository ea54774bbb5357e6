"""Sector geometry: which points a camera's sector holds, and the sector as a polygon.

A camera covers a *sector*: the points at most ``radius_m`` away whose bearing from the camera
lies within ``fov_deg / 2`` of its azimuth (a full circle when the field of view is 360°).
Distances are the registry's haversine (:mod:`argus.registry.spatial`) and bearings are initial
great-circle bearings, degrees clockwise from true north, as in :mod:`argus.incidents.geometry`,
so a planner's "covered" agrees with an incident's "facing". A point closer to the camera than
``CO_LOCATED_M`` (the incidents module's rule) counts as inside whatever the azimuth.

Areas and overlaps are measured on shapely polygons in a local metric plane around one
reference point (:func:`argus.incidents.geometry.to_local_m`); at the few tens of metres a
sector spans the plane's error is far below a millimetre.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Polygon

from argus.incidents.geometry import to_local_m
from argus.incidents.selection import CO_LOCATED_M

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

FULL_CIRCLE_DEG: Final = 360.0
ARC_SEGMENTS: Final = 64
"""Straight segments a full circle's polygon is drawn with (a sector gets its share)."""

__all__ = [
    "ARC_SEGMENTS",
    "CO_LOCATED_M",
    "FULL_CIRCLE_DEG",
    "angle_off_deg",
    "bearings_from_deg",
    "in_sector",
    "local_offset_m",
    "sector_polygon",
]


def bearings_from_deg(
    lat: float, lon: float, to_lats: npt.ArrayLike, to_lons: npt.ArrayLike
) -> FloatArray:
    """Initial great-circle bearings from one point to many, degrees in [0, 360)."""
    phi1 = math.radians(lat)
    phi2 = np.radians(np.asarray(to_lats, dtype=np.float64))
    dlam = np.radians(np.asarray(to_lons, dtype=np.float64) - lon)
    y = np.sin(dlam) * np.cos(phi2)
    x = math.cos(phi1) * np.sin(phi2) - math.sin(phi1) * np.cos(phi2) * np.cos(dlam)
    out: FloatArray = np.degrees(np.arctan2(y, x)) % 360.0
    out[out >= 360.0] = 0.0
    return out


def angle_off_deg(bearings: npt.ArrayLike, azimuth_deg: float) -> FloatArray:
    """Smallest absolute angle between each bearing and the azimuth, degrees in [0, 180]."""
    diff = (np.asarray(bearings, dtype=np.float64) - azimuth_deg) % 360.0
    out: FloatArray = np.minimum(diff, 360.0 - diff)
    return out


def in_sector(
    distances_m: npt.ArrayLike,
    bearings_deg: npt.ArrayLike,
    radius_m: float,
    azimuth_deg: float | None,
    fov_deg: float,
) -> BoolArray:
    """Which points (given by distance and bearing from the camera) the sector holds.

    Both ends are inclusive: a point exactly ``radius_m`` away, or exactly on an edge of the
    field of view, is inside. ``azimuth_deg`` None or ``fov_deg >= 360`` is a full circle.
    """
    d = np.asarray(distances_m, dtype=np.float64)
    inside: BoolArray = d <= radius_m
    if azimuth_deg is None or fov_deg >= FULL_CIRCLE_DEG:
        return inside
    off = angle_off_deg(bearings_deg, azimuth_deg)
    # a hair of slack so that a point placed on an edge by the same arithmetic stays inside
    facing = off <= fov_deg / 2.0 + 1e-9
    out: BoolArray = inside & (facing | (d < CO_LOCATED_M))
    return out


def local_offset_m(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    """(east, north) metres of a point in the local plane about (lat0, lon0)."""
    x, y = to_local_m(lat0, lon0, np.array([lat]), np.array([lon]))
    return float(x[0]), float(y[0])


def sector_polygon(
    x: float,
    y: float,
    radius_m: float,
    azimuth_deg: float | None,
    fov_deg: float,
    segments: int = ARC_SEGMENTS,
) -> Polygon:
    """The sector as a polygon in a local plane (metres; x east, y north), apex at (x, y)."""
    if azimuth_deg is None or fov_deg >= FULL_CIRCLE_DEG:
        angles = np.linspace(0.0, 2.0 * math.pi, segments, endpoint=False)
        ring = np.column_stack((x + radius_m * np.sin(angles), y + radius_m * np.cos(angles)))
        return shapely.Polygon(ring)
    n = max(2, math.ceil(segments * fov_deg / FULL_CIRCLE_DEG) + 1)
    half = fov_deg / 2.0
    angles = np.radians(np.linspace(azimuth_deg - half, azimuth_deg + half, n))
    arc = np.column_stack((x + radius_m * np.sin(angles), y + radius_m * np.cos(angles)))
    return shapely.Polygon(np.vstack(([x, y], arc)))
