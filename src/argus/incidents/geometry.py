"""Small geodesy for incidents: ring centroids, circumscribing radii and bearings.

Incident areas are city-sized (a few kilometres), so the centroid of a lat/lon ring is computed
in a local equirectangular plane around the ring's vertex mean (east = R·Δλ·cos φ0, north =
R·Δφ, longitudes unwrapped across the antimeridian). Over 10 km the plane's scale differs from
the sphere's by about 0.1 %, far below what camera selection cares about. Distances are the
registry's haversine (``argus.registry.spatial``), so every radius in Argus is measured one way.

Bearings are initial great-circle bearings, degrees clockwise from true north in [0, 360).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from argus.registry.spatial import EARTH_RADIUS_M, haversine_m

FloatArray = npt.NDArray[np.float64]
LatLon = tuple[float, float]

_MIN_AREA_M2: Final = 1e-6
"""Below this shoelace area (square metres) a ring is degenerate and its vertex mean is used."""


def wrap_lon_delta(delta_deg: FloatArray) -> FloatArray:
    """Longitude differences folded into [-180, 180)."""
    out: FloatArray = (delta_deg + 180.0) % 360.0 - 180.0
    return out


def open_ring(ring: Sequence[LatLon]) -> list[LatLon]:
    """The ring's vertices without the closing repetition of the first one."""
    pts = [(float(a), float(b)) for a, b in ring]
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()
    return pts


def vertex_mean(ring: Sequence[LatLon]) -> LatLon:
    """Mean of the distinct vertices, longitudes averaged around the first vertex."""
    pts = open_ring(ring)
    lats = np.array([p[0] for p in pts], dtype=np.float64)
    lons = np.array([p[1] for p in pts], dtype=np.float64)
    lon0 = float(lons[0])
    mean_lon = lon0 + float(wrap_lon_delta(lons - lon0).mean())
    return float(lats.mean()), _normal_lon(mean_lon)


def to_local_m(
    lat0: float, lon0: float, lats: FloatArray, lons: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(east, north) metres of points in the equirectangular plane about (lat0, lon0)."""
    k = math.radians(1.0) * EARTH_RADIUS_M
    x: FloatArray = wrap_lon_delta(lons - lon0) * (k * math.cos(math.radians(lat0)))
    y: FloatArray = (lats - lat0) * k
    return x, y


def from_local_m(lat0: float, lon0: float, x: float, y: float) -> LatLon:
    """Inverse of :func:`to_local_m` for one point."""
    k = math.radians(1.0) * EARTH_RADIUS_M
    lat = lat0 + y / k
    lon = lon0 + x / (k * math.cos(math.radians(lat0)))
    return lat, _normal_lon(lon)


def ring_centroid(ring: Sequence[LatLon]) -> LatLon:
    """Area centroid (lat, lon) of a simple ring given as (lat, lon) vertices.

    The ring may or may not repeat its first vertex at the end. A ring of zero area (all
    vertices on a line or one point) has its vertex mean as centroid.
    """
    pts = open_ring(ring)
    if not pts:
        raise ValueError("a ring needs at least one vertex")
    lat0, lon0 = vertex_mean(pts)
    lats = np.array([p[0] for p in pts], dtype=np.float64)
    lons = np.array([p[1] for p in pts], dtype=np.float64)
    x, y = to_local_m(lat0, lon0, lats, lons)
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    area2 = float(cross.sum())
    if abs(area2) * 0.5 < _MIN_AREA_M2:
        return lat0, lon0
    cx = float(((x + xn) * cross).sum()) / (3.0 * area2)
    cy = float(((y + yn) * cross).sum()) / (3.0 * area2)
    return from_local_m(lat0, lon0, cx, cy)


def circumscribing_radius_m(center: LatLon, ring: Sequence[LatLon]) -> float:
    """Largest haversine distance in metres from ``center`` to any vertex of ``ring``."""
    return max((haversine_m(center[0], center[1], a, b) for a, b in ring), default=0.0)


def bearings_deg(
    from_lats: FloatArray, from_lons: FloatArray, to_lat: float, to_lon: float
) -> FloatArray:
    """Initial great-circle bearings from many points to one, degrees in [0, 360)."""
    phi1 = np.radians(from_lats)
    phi2 = math.radians(to_lat)
    dlam = np.radians(to_lon - from_lons)
    y = np.sin(dlam) * math.cos(phi2)
    x = np.cos(phi1) * math.sin(phi2) - np.sin(phi1) * math.cos(phi2) * np.cos(dlam)
    out: FloatArray = np.degrees(np.arctan2(y, x)) % 360.0
    # ``% 360`` can round a tiny negative angle up to exactly 360.0.
    out[out >= 360.0] = 0.0
    return out


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial great-circle bearing from point 1 to point 2, degrees in [0, 360)."""
    return float(bearings_deg(np.array([lat1]), np.array([lon1]), lat2, lon2)[0])


def _normal_lon(lon: float) -> float:
    lon = float(lon)
    return (lon + 180.0) % 360.0 - 180.0 if not -180.0 <= lon <= 180.0 else lon
