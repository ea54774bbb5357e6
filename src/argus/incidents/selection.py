"""Which cameras an incident gets: those near its point (or in its area), best first.

An incident at (lat, lon) with a radius selects every enabled camera within that great-circle
distance (the registry's ``SpatialIndex``: exact haversine), and ranks them by distance and by
whether they can see the point.

Facing
------
The bearing from a camera to the point (degrees clockwise from north) decides:

* ``yes``      a fixed camera whose azimuth ± fov/2 holds the bearing (a camera with an
  azimuth but no recorded field of view is given ``DEFAULT_FOV_DEG``; one standing within
  ``CO_LOCATED_M`` of the point faces it whatever its azimuth);
* ``turnable`` a PTZ camera: it can be turned to the point, whatever its azimuth now;
* ``unknown``  a fixed camera with no recorded azimuth;
* ``no``       a fixed camera looking elsewhere.

Score
-----
``score = distance_m × FACING_FACTOR[facing]``, lower first: ``yes`` and ``turnable`` 1.0,
``unknown`` 1.5, ``no`` 3.0. So at the same distance a facing (or turnable) camera always ranks
before an unknown one, which ranks before one looking away; a camera looking away has to be a
third as far as a facing one to rank before it (e.g. 100 m away against 300 m), because it
still shows the approaches to the scene. Ties on the score go to ``yes`` before ``turnable``
before ``unknown`` before ``no`` (a fixed camera that already looks there needs no PTZ
takeover), then to the smaller camera id, so the order is total and repeatable.

Area variant
------------
``select_area`` takes a polygon (a lat/lon ring, e.g. a CAP alert's) and a margin: the cameras
inside the polygon or within ``margin_m`` of it, ranked as above against the polygon's area
centroid. The containment test runs in the local plane around the centroid (see
``argus.incidents.geometry``) with shapely's vectorised predicates on the candidates the
spatial index returns for the circle that holds the polygon plus the margin.

Limits (``FieldError`` beyond them): radius in (0, ``MAX_RADIUS_M``]; an area whose
centroid-to-corner reach plus margin exceeds ``MAX_AREA_REACH_M``; a margin outside
[0, ``MAX_MARGIN_M``]. The selector is not thread-safe for updates; its owner serialises them,
and queries may run concurrently while no update does (as with ``SpatialIndex``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

import numpy as np
import numpy.typing as npt
import shapely

from argus.errors import FieldError
from argus.incidents.geometry import (
    bearings_deg,
    circumscribing_radius_m,
    open_ring,
    ring_centroid,
    to_local_m,
)
from argus.registry.spatial import SpatialIndex

Facing = Literal["yes", "turnable", "no", "unknown"]

DEFAULT_RADIUS_M: Final = 500.0
MAX_RADIUS_M: Final = 10_000.0
"""Largest point radius: beyond this an incident is an area, not a point."""
DEFAULT_AREA_MARGIN_M: Final = 100.0
MAX_MARGIN_M: Final = 2_000.0
MAX_AREA_REACH_M: Final = 50_000.0
"""Largest area: centroid-to-farthest-corner distance plus margin (a metropolitan city)."""
DEFAULT_FOV_DEG: Final = 60.0
"""Field of view assumed for a fixed camera whose azimuth is known but whose lens is not."""
CO_LOCATED_M: Final = 1.0
"""A camera this close to the point counts as facing it."""

FACING_NAMES: Final[tuple[Facing, ...]] = ("yes", "turnable", "unknown", "no")
"""Facing values in tie-break order; a camera's facing code is its index here."""
FACING_FACTOR: Final[dict[Facing, float]] = {"yes": 1.0, "turnable": 1.0, "unknown": 1.5, "no": 3.0}

_YES, _TURNABLE, _UNKNOWN, _NO = 0, 1, 2, 3
_FACTORS: Final = np.array([FACING_FACTOR[name] for name in FACING_NAMES], dtype=np.float64)
_ANGLE_SLACK_DEG: Final = 1e-9

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SelectedCamera:
    """One selected camera: its rank (1 = best), distance and bearing to the point, facing."""

    camera_id: int
    rank: int
    distance_m: float
    bearing_deg: float
    """From the camera to the point, degrees clockwise from north in [0, 360)."""
    facing: Facing
    score: float
    """``distance_m × FACING_FACTOR[facing]``; the ranking key (lower is better)."""


class CameraLike(Protocol):
    """What the selector reads of a camera (``argus.registry.models.Camera`` has it all)."""

    @property
    def id(self) -> int: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...
    @property
    def azimuth_deg(self) -> float | None: ...
    @property
    def fov_deg(self) -> float | None: ...
    @property
    def camera_type(self) -> str: ...
    @property
    def enabled(self) -> bool: ...


class CameraSelector:
    """Enabled cameras with their orientation, answering "which cameras for this incident".

    Build it with :meth:`build` (plain sequences) or :meth:`from_cameras` (registry rows), keep
    it in step with :meth:`upsert` / :meth:`upsert_camera` / :meth:`remove`, and ask with
    :meth:`select` or :meth:`select_area`.
    """

    __slots__ = ("_az", "_half_fov", "_ids", "_index", "_lat", "_lon", "_n", "_ptz", "_slot")

    def __init__(self) -> None:
        """An empty selector."""
        self._index = SpatialIndex()
        self._slot: dict[int, int] = {}
        self._n = 0
        self._ids = np.empty(64, dtype=np.int64)
        self._lat = np.empty(64, dtype=np.float64)
        self._lon = np.empty(64, dtype=np.float64)
        self._az = np.empty(64, dtype=np.float64)
        self._half_fov = np.empty(64, dtype=np.float64)
        self._ptz = np.empty(64, dtype=bool)

    # -- building and updating ----------------------------------------------------------------

    @classmethod
    def build(
        cls,
        ids: Sequence[int],
        lats: Sequence[float],
        lons: Sequence[float],
        azimuths: Sequence[float | None],
        fovs: Sequence[float | None],
        ptz: Sequence[bool],
    ) -> CameraSelector:
        """A selector over the given cameras; ``None`` azimuth or fov means not recorded.

        Raises ``ValueError`` for unequal lengths, duplicate ids or impossible values.
        """
        n = len(ids)
        if not n == len(lats) == len(lons) == len(azimuths) == len(fovs) == len(ptz):
            raise ValueError("ids, lats, lons, azimuths, fovs and ptz differ in length")
        self = cls()
        id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        lat_arr = np.asarray(lats, dtype=np.float64).reshape(-1)
        lon_arr = np.asarray(lons, dtype=np.float64).reshape(-1)
        az_arr = _azimuths(azimuths)
        half_arr = _half_fovs(fovs)
        if n and (np.abs(lon_arr) > 180.0).any():
            raise ValueError("longitudes must be within [-180, 180]")
        self._index = SpatialIndex.build(id_arr, lat_arr, lon_arr)  # checks ids and latitudes
        self._reserve(n)
        self._ids[:n] = id_arr
        self._lat[:n] = lat_arr
        self._lon[:n] = lon_arr
        self._az[:n] = az_arr
        self._half_fov[:n] = half_arr
        self._ptz[:n] = np.asarray(ptz, dtype=bool).reshape(-1)
        self._n = n
        self._slot = dict(zip(id_arr.tolist(), range(n), strict=True))
        return self

    @classmethod
    def from_cameras(cls, cameras: Iterable[CameraLike]) -> CameraSelector:
        """A selector over the enabled ones of ``cameras`` (registry ``Camera`` rows or alike)."""
        rows = [c for c in cameras if c.enabled]
        return cls.build(
            [c.id for c in rows],
            [c.lat for c in rows],
            [c.lon for c in rows],
            [c.azimuth_deg for c in rows],
            [c.fov_deg for c in rows],
            [c.camera_type == "ptz" for c in rows],
        )

    def upsert(
        self,
        camera_id: int,
        lat: float,
        lon: float,
        *,
        azimuth_deg: float | None = None,
        fov_deg: float | None = None,
        ptz: bool = False,
    ) -> None:
        """Add a camera, or change one already held."""
        camera_id = int(camera_id)
        if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
            raise ValueError(f"longitude must be within [-180, 180], got {lon}")
        az = _azimuth(azimuth_deg)
        half = _half_fov(fov_deg)
        self._index.upsert(camera_id, lat, lon)  # checks the latitude
        slot = self._slot.get(camera_id)
        if slot is None:
            self._reserve(self._n + 1)
            slot = self._n
            self._n += 1
            self._slot[camera_id] = slot
        self._ids[slot] = camera_id
        self._lat[slot] = lat
        self._lon[slot] = lon
        self._az[slot] = az
        self._half_fov[slot] = half
        self._ptz[slot] = ptz

    def upsert_camera(self, camera: CameraLike) -> None:
        """Follow a registry camera: upsert it if enabled, remove it if not."""
        if not camera.enabled:
            self.remove(camera.id)
            return
        self.upsert(
            camera.id,
            camera.lat,
            camera.lon,
            azimuth_deg=camera.azimuth_deg,
            fov_deg=camera.fov_deg,
            ptz=camera.camera_type == "ptz",
        )

    def remove(self, camera_id: int) -> None:
        """Forget a camera; nothing happens if it is not held."""
        slot = self._slot.pop(int(camera_id), None)
        if slot is None:
            return
        self._index.remove(int(camera_id))
        last = self._n - 1
        if slot != last:
            for arr in (self._ids, self._lat, self._lon, self._az, self._half_fov, self._ptz):
                arr[slot] = arr[last]
            self._slot[int(self._ids[slot])] = slot
        self._n = last

    def __len__(self) -> int:
        return self._n

    def __contains__(self, camera_id: object) -> bool:
        return isinstance(camera_id, int) and camera_id in self._slot

    def __repr__(self) -> str:
        return f"CameraSelector(cameras={self._n})"

    # -- queries ------------------------------------------------------------------------------

    def select(
        self,
        lat: float,
        lon: float,
        radius_m: float = DEFAULT_RADIUS_M,
        *,
        limit: int | None = None,
    ) -> list[SelectedCamera]:
        """Cameras within ``radius_m`` of (lat, lon), best first (see the module docstring)."""
        lat, lon = _check_point(lat, lon)
        radius_m = _check_radius(radius_m)
        _check_limit(limit)
        return self._rank(self._index.within(lat, lon, radius_m), lat, lon, limit)

    def select_area(
        self,
        ring: Sequence[tuple[float, float]],
        *,
        margin_m: float = 0.0,
        limit: int | None = None,
    ) -> list[SelectedCamera]:
        """Cameras inside the (lat, lon) ring or within ``margin_m`` of it, ranked against its
        centroid."""
        corners = _check_ring(ring)
        margin_m = _check_margin(margin_m)
        _check_limit(limit)
        c_lat, c_lon = ring_centroid(corners)
        reach = circumscribing_radius_m((c_lat, c_lon), corners) + margin_m
        if reach > MAX_AREA_REACH_M:
            raise FieldError(
                "polygon",
                f"reaches {reach / 1000:.1f} km from its centre (with the margin); "
                f"at most {MAX_AREA_REACH_M / 1000:g} km",
            )
        found = self._index.within(c_lat, c_lon, reach * 1.002 + 1.0)  # plane vs sphere slack
        if not found:
            return []
        lats = np.array([p[0] for p in corners], dtype=np.float64)
        lons = np.array([p[1] for p in corners], dtype=np.float64)
        px, py = to_local_m(c_lat, c_lon, lats, lons)
        shape = shapely.Polygon(np.column_stack((px, py)))
        if not shape.is_valid:
            raise FieldError("polygon", "crosses itself or is degenerate")
        shapely.prepare(shape)
        slots = np.fromiter((self._slot[i] for i, _ in found), dtype=np.intp, count=len(found))
        x, y = to_local_m(c_lat, c_lon, self._lat[slots], self._lon[slots])
        if margin_m > 0.0:
            inside = shapely.dwithin(shape, shapely.points(x, y), margin_m)
        else:
            inside = shapely.intersects_xy(shape, x, y)
        kept = [pair for pair, ok in zip(found, inside.tolist(), strict=True) if ok]
        return self._rank(kept, c_lat, c_lon, limit)

    def pick(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        area: Sequence[tuple[float, float]] | None,
        limit: int,
    ) -> list[SelectedCamera]:
        """The incident service's question: the area (with ``DEFAULT_AREA_MARGIN_M``) when
        there is one, else the circle; at most ``limit`` cameras."""
        if area:
            return self.select_area(area, margin_m=DEFAULT_AREA_MARGIN_M, limit=limit)
        return self.select(lat, lon, radius_m, limit=limit)

    # -- ranking ------------------------------------------------------------------------------

    def _rank(
        self, found: list[tuple[int, float]], lat: float, lon: float, limit: int | None
    ) -> list[SelectedCamera]:
        n = len(found)
        if n == 0:
            return []
        ids = np.fromiter((p[0] for p in found), dtype=np.int64, count=n)
        dist = np.fromiter((p[1] for p in found), dtype=np.float64, count=n)
        slot_of = self._slot
        slots = np.fromiter((slot_of[i] for i, _ in found), dtype=np.intp, count=n)
        bearing = bearings_deg(self._lat[slots], self._lon[slots], lat, lon)
        codes = facing_codes(
            bearing, dist, self._az[slots], self._half_fov[slots], self._ptz[slots]
        )
        score = dist * _FACTORS[codes]
        order = np.lexsort((ids, codes, score))
        if limit is not None:
            order = order[:limit]
        return [
            SelectedCamera(i, rank, d, b, FACING_NAMES[c], s)
            for rank, (i, d, b, c, s) in enumerate(
                zip(
                    ids[order].tolist(),
                    dist[order].tolist(),
                    bearing[order].tolist(),
                    codes[order].tolist(),
                    score[order].tolist(),
                    strict=True,
                ),
                start=1,
            )
        ]

    def _reserve(self, n: int) -> None:
        size = self._ids.shape[0]
        if n <= size:
            return
        while size < n:
            size *= 2
        self._ids = np.resize(self._ids, size)
        self._lat = np.resize(self._lat, size)
        self._lon = np.resize(self._lon, size)
        self._az = np.resize(self._az, size)
        self._half_fov = np.resize(self._half_fov, size)
        self._ptz = np.resize(self._ptz, size)


def facing_codes(
    bearing: FloatArray,
    dist: FloatArray,
    azimuth: FloatArray,
    half_fov: FloatArray,
    ptz: npt.NDArray[np.bool_],
) -> npt.NDArray[np.intp]:
    """Index into ``FACING_NAMES`` per camera (NaN azimuth: not recorded)."""
    off = np.abs((bearing - azimuth + 180.0) % 360.0 - 180.0)
    sees = (off <= half_fov + _ANGLE_SLACK_DEG) | (dist <= CO_LOCATED_M)
    fixed = np.where(np.isnan(azimuth), _UNKNOWN, np.where(sees, _YES, _NO))
    out: npt.NDArray[np.intp] = np.where(ptz, _TURNABLE, fixed).astype(np.intp)
    return out


# -- input checks --------------------------------------------------------------------------------


def _azimuth(value: float | None) -> float:
    if value is None:
        return math.nan
    if not math.isfinite(value):
        raise ValueError(f"azimuth must be finite or None, got {value}")
    return float(value) % 360.0


def _half_fov(value: float | None) -> float:
    fov = DEFAULT_FOV_DEG if value is None else float(value)
    if not 0.0 < fov <= 360.0:  # also refuses NaN
        raise ValueError(f"field of view must be within (0, 360] degrees or None, got {value}")
    return fov * 0.5


def _azimuths(values: Sequence[float | None]) -> FloatArray:
    out = np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    known = ~np.isnan(out)
    if not np.isfinite(out[known]).all():
        raise ValueError("azimuths must be finite or None")
    out[known] %= 360.0
    return out


def _half_fovs(values: Sequence[float | None]) -> FloatArray:
    out = np.array([DEFAULT_FOV_DEG if v is None else float(v) for v in values], dtype=np.float64)
    if out.size and not ((out > 0.0) & (out <= 360.0)).all():  # also refuses NaN
        raise ValueError("fields of view must be within (0, 360] degrees, or None")
    half: FloatArray = out * 0.5
    return half


def _check_point(lat: float, lon: float) -> tuple[float, float]:
    lat, lon = float(lat), float(lon)
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise FieldError("lat", f"must be a latitude within [-90, 90], got {lat}")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise FieldError("lon", f"must be a longitude within [-180, 180], got {lon}")
    return lat, lon


def _check_radius(radius_m: float) -> float:
    radius_m = float(radius_m)
    if not (math.isfinite(radius_m) and 0.0 < radius_m <= MAX_RADIUS_M):
        raise FieldError(
            "radius_m", f"must be more than 0 and at most {MAX_RADIUS_M:g} m, got {radius_m}"
        )
    return radius_m


def _check_margin(margin_m: float) -> float:
    margin_m = float(margin_m)
    if not (math.isfinite(margin_m) and 0.0 <= margin_m <= MAX_MARGIN_M):
        raise FieldError("margin_m", f"must be within [0, {MAX_MARGIN_M:g}] m, got {margin_m}")
    return margin_m


def _check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or int(limit) != limit or limit < 1):
        raise FieldError("limit", f"must be a whole number of at least 1, got {limit}")


def _check_ring(ring: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    try:
        corners = open_ring(ring)
    except (TypeError, ValueError):
        raise FieldError("polygon", "must be a list of [lat, lon] pairs") from None
    for n, (lat, lon) in enumerate(corners, start=1):
        if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
            raise FieldError("polygon", f"corner {n}: latitude {lat} is outside [-90, 90]")
        if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
            raise FieldError("polygon", f"corner {n}: longitude {lon} is outside [-180, 180]")
    if len(set(corners)) < 3:
        raise FieldError("polygon", "needs at least 3 distinct corners")
    return corners
