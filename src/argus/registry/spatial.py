"""In-memory spatial index over camera points: "within R metres of a point" and "nearest k".

Distances are great-circle distances on a sphere of the mean Earth radius (6,371,008.8 m),
computed with the haversine formula. Every distance this module returns, and every radius test
it makes, uses that one formula, so its answers agree with a brute-force haversine scan.

How it works
------------
Points live in two parts:

* a *base*: a ``scipy.spatial.cKDTree`` over unit-sphere vectors (x, y, z). The straight-line
  (chord) distance between two unit vectors is ``2 sin(theta / 2)`` of the central angle theta,
  a strictly increasing function of the great-circle distance, so a chord ball is exactly a
  great-circle disc and chord order is great-circle order. There is no special case at the
  antimeridian or the poles.
* a *delta*: points upserted since the tree was built, kept in flat arrays and scanned
  linearly. A point that moved or was removed leaves a *tombstone* on its base row.

A tree query is widened by a relative 1e-9 so that rounding can never drop a point, and every
candidate is then re-measured with haversine and filtered exactly. Once the delta plus the
tombstones pass a threshold (``len // 64`` clamped to 256..4,096 by default), the tree is rebuilt
from the live points. Rebuilding 400,000 points takes a fraction of a second, so the cost spread
over the thousands of updates that trigger it is small.

The index is not thread-safe: its owner serialises updates. Queries do not modify it, so any
number of readers may share it while no update runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

EARTH_RADIUS_M: Final = 6_371_008.8
"""Mean Earth radius (IUGG), metres."""

_REL_SLACK: Final = 1e-9
_ABS_SLACK: Final = 1e-12  # on the unit sphere: about 6 micrometres
_MIN_DELTA: Final = 256
_MAX_DELTA: Final = 4096

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    return float(haversine_many_m(lat1, lon1, np.array([lat2]), np.array([lon2]))[0])


def haversine_many_m(
    lat: float, lon: float, lats: npt.ArrayLike, lons: npt.ArrayLike
) -> FloatArray:
    """Great-circle distances in metres from one point to many, all in degrees."""
    phi = math.radians(lat)
    phis = np.radians(np.asarray(lats, dtype=np.float64))
    lams = np.radians(np.asarray(lons, dtype=np.float64))
    return _haversine(phi, math.radians(lon), math.cos(phi), phis, lams, np.cos(phis))


def _haversine(
    phi: float, lam: float, cos_phi: float, phis: FloatArray, lams: FloatArray, cos_phis: FloatArray
) -> FloatArray:
    s_phi = np.sin((phis - phi) * 0.5)
    s_lam = np.sin((lams - lam) * 0.5)
    a = s_phi * s_phi + cos_phi * cos_phis * (s_lam * s_lam)
    np.clip(a, 0.0, 1.0, out=a)
    out: FloatArray = (2.0 * EARTH_RADIUS_M) * np.arcsin(np.sqrt(a))
    return out


def _unit_vectors(phis: FloatArray, lams: FloatArray, cos_phis: FloatArray) -> FloatArray:
    out = np.empty((phis.shape[0], 3), dtype=np.float64)
    out[:, 0] = cos_phis * np.cos(lams)
    out[:, 1] = cos_phis * np.sin(lams)
    out[:, 2] = np.sin(phis)
    return out


def _chord_for(radius_m: float) -> float:
    """Chord length on the unit sphere that bounds a great-circle radius, with slack."""
    theta = radius_m / EARTH_RADIUS_M
    chord = 2.0 if theta >= math.pi else 2.0 * math.sin(theta * 0.5)
    return chord * (1.0 + _REL_SLACK) + _ABS_SLACK


def _check_point(lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError(f"coordinates must be finite, got ({lat}, {lon})")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude must be within [-90, 90], got {lat}")


def _sorted_pairs(ids: IntArray, dists: FloatArray, limit: int | None) -> list[tuple[int, float]]:
    order = np.lexsort((ids, dists))
    if limit is not None:
        order = order[:limit]
    return list(zip(ids[order].tolist(), dists[order].tolist(), strict=True))


class SpatialIndex:
    """Points keyed by integer id, answering radius and k-nearest queries in metres.

    Build it with :meth:`build`; keep it in step with its source with :meth:`upsert` and
    :meth:`remove`. ``max_delta`` (keyword of :meth:`build`) fixes how many pending updates
    trigger a rebuild; by default it scales with the size of the index.
    """

    __slots__ = (
        "_b_cos",
        "_b_dead",
        "_b_ids",
        "_b_lam",
        "_b_lat",
        "_b_lon",
        "_b_phi",
        "_b_row",
        "_d_cos",
        "_d_ids",
        "_d_lam",
        "_d_lat",
        "_d_lon",
        "_d_n",
        "_d_phi",
        "_d_slot",
        "_max_delta",
        "_n_dead",
        "_rebuilds",
        "_tree",
    )

    def __init__(self, *, max_delta: int | None = None) -> None:
        """An empty index. Prefer :meth:`build` to load many points at once."""
        if max_delta is not None and max_delta < 0:
            raise ValueError("max_delta must be >= 0")
        self._max_delta = max_delta
        self._rebuilds = 0
        empty_f = np.empty(0, dtype=np.float64)
        self._set_base(np.empty(0, dtype=np.int64), empty_f, empty_f.copy())
        self._d_n = 0
        self._d_slot: dict[int, int] = {}
        self._d_ids = np.empty(64, dtype=np.int64)
        self._d_lat = np.empty(64, dtype=np.float64)
        self._d_lon = np.empty(64, dtype=np.float64)
        self._d_phi = np.empty(64, dtype=np.float64)
        self._d_lam = np.empty(64, dtype=np.float64)
        self._d_cos = np.empty(64, dtype=np.float64)

    @classmethod
    def build(
        cls,
        ids: Sequence[int] | npt.NDArray[np.integer],
        lats: Sequence[float] | npt.NDArray[np.floating],
        lons: Sequence[float] | npt.NDArray[np.floating],
        *,
        max_delta: int | None = None,
    ) -> SpatialIndex:
        """An index over the given points. Ids must be unique; coordinates are in degrees."""
        id_arr = np.asarray(ids)
        if id_arr.size == 0:
            id_arr = np.empty(0, dtype=np.int64)
        elif not np.issubdtype(id_arr.dtype, np.integer):
            raise TypeError(f"ids must be integers, got dtype {id_arr.dtype}")
        id_arr = id_arr.astype(np.int64, copy=True).reshape(-1)
        lat_arr = np.asarray(lats, dtype=np.float64).reshape(-1).copy()
        lon_arr = np.asarray(lons, dtype=np.float64).reshape(-1).copy()
        if not id_arr.shape == lat_arr.shape == lon_arr.shape:
            raise ValueError(
                f"ids, lats and lons differ in length: {id_arr.size}, {lat_arr.size}, "
                f"{lon_arr.size}"
            )
        if not (np.isfinite(lat_arr).all() and np.isfinite(lon_arr).all()):
            raise ValueError("coordinates must be finite")
        if lat_arr.size and (lat_arr.min() < -90.0 or lat_arr.max() > 90.0):
            raise ValueError("latitudes must be within [-90, 90]")
        uniq, counts = np.unique(id_arr, return_counts=True)
        if uniq.size != id_arr.size:
            raise ValueError(f"duplicate id {int(uniq[counts > 1][0])}")
        index = cls(max_delta=max_delta)
        index._set_base(id_arr, lat_arr, lon_arr)
        return index

    # -- updates ---------------------------------------------------------------------------

    def upsert(self, id: int, lat: float, lon: float) -> None:
        """Add a point, or move it if the id is already present."""
        id = int(id)
        lat = float(lat)
        lon = float(lon)
        _check_point(lat, lon)
        slot = self._d_slot.get(id)
        if slot is not None:
            self._write_slot(slot, id, lat, lon)
            return
        row = self._b_row.get(id)
        if row is not None and not self._b_dead[row]:
            if self._b_lat[row] == lat and self._b_lon[row] == lon:
                return
            self._kill(row)
        if self._d_n == self._d_ids.shape[0]:
            self._grow_delta()
        self._d_slot[id] = self._d_n
        self._write_slot(self._d_n, id, lat, lon)
        self._d_n += 1
        self._maybe_rebuild()

    def remove(self, id: int) -> None:
        """Remove a point; nothing happens if the id is absent."""
        try:
            id = int(id)
        except (TypeError, ValueError):
            return
        slot = self._d_slot.pop(id, None)
        if slot is not None:
            last = self._d_n - 1
            if slot != last:
                moved = int(self._d_ids[last])
                for arr in (
                    self._d_ids,
                    self._d_lat,
                    self._d_lon,
                    self._d_phi,
                    self._d_lam,
                    self._d_cos,
                ):
                    arr[slot] = arr[last]
                self._d_slot[moved] = slot
            self._d_n = last
            return
        row = self._b_row.get(id)
        if row is not None and not self._b_dead[row]:
            self._kill(row)
            self._maybe_rebuild()

    def rebuild(self) -> None:
        """Fold the delta and the tombstones into a new tree now."""
        live = ~self._b_dead
        n = self._d_n
        self._set_base(
            np.concatenate((self._b_ids[live], self._d_ids[:n])),
            np.concatenate((self._b_lat[live], self._d_lat[:n])),
            np.concatenate((self._b_lon[live], self._d_lon[:n])),
        )
        self._d_n = 0
        self._d_slot.clear()
        self._rebuilds += 1

    # -- queries ---------------------------------------------------------------------------

    def within(self, lat: float, lon: float, radius_m: float) -> list[tuple[int, float]]:
        """(id, distance_m) of every point at most ``radius_m`` away, nearest first, then by id."""
        lat = float(lat)
        lon = float(lon)
        radius_m = float(radius_m)
        _check_point(lat, lon)
        if not radius_m >= 0.0:  # also rejects NaN
            raise ValueError(f"radius_m must be >= 0, got {radius_m}")
        phi, lam = math.radians(lat), math.radians(lon)
        cos_phi = math.cos(phi)
        parts_ids: list[IntArray] = []
        parts_d: list[FloatArray] = []
        if self._tree is not None:
            found = self._tree.query_ball_point(
                _query_vector(phi, lam, cos_phi), _chord_for(radius_m), return_sorted=False
            )
            rows = np.asarray(found, dtype=np.intp)
            if self._n_dead and rows.size:
                rows = rows[~self._b_dead[rows]]
            if rows.size:
                d = _haversine(
                    phi, lam, cos_phi, self._b_phi[rows], self._b_lam[rows], self._b_cos[rows]
                )
                keep = d <= radius_m
                parts_ids.append(self._b_ids[rows[keep]])
                parts_d.append(d[keep])
        if self._d_n:
            n = self._d_n
            d = _haversine(phi, lam, cos_phi, self._d_phi[:n], self._d_lam[:n], self._d_cos[:n])
            keep = d <= radius_m
            parts_ids.append(self._d_ids[:n][keep])
            parts_d.append(d[keep])
        if not parts_ids:
            return []
        return _sorted_pairs(np.concatenate(parts_ids), np.concatenate(parts_d), None)

    def nearest(self, lat: float, lon: float, k: int) -> list[tuple[int, float]]:
        """(id, distance_m) of the ``k`` nearest points, nearest first, then by id.

        Ties at the k-th distance are resolved by the smaller id, as a full sort would.
        """
        lat = float(lat)
        lon = float(lon)
        _check_point(lat, lon)
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        if k == 0 or len(self) == 0:
            return []
        phi, lam = math.radians(lat), math.radians(lon)
        cos_phi = math.cos(phi)
        parts_ids: list[IntArray] = []
        parts_d: list[FloatArray] = []
        if self._tree is not None:
            rows = self._tree_nearest_rows(_query_vector(phi, lam, cos_phi), k)
            if rows.size:
                parts_ids.append(self._b_ids[rows])
                parts_d.append(
                    _haversine(
                        phi, lam, cos_phi, self._b_phi[rows], self._b_lam[rows], self._b_cos[rows]
                    )
                )
        if self._d_n:
            n = self._d_n
            parts_ids.append(self._d_ids[:n])
            parts_d.append(
                _haversine(phi, lam, cos_phi, self._d_phi[:n], self._d_lam[:n], self._d_cos[:n])
            )
        return _sorted_pairs(np.concatenate(parts_ids), np.concatenate(parts_d), k)

    def position(self, id: int) -> tuple[float, float] | None:
        """(lat, lon) of a point as last given, or None if absent."""
        slot = self._d_slot.get(id)
        if slot is not None:
            return float(self._d_lat[slot]), float(self._d_lon[slot])
        row = self._b_row.get(id)
        if row is None or self._b_dead[row]:
            return None
        return float(self._b_lat[row]), float(self._b_lon[row])

    @property
    def pending(self) -> int:
        """Updates not yet folded into the tree (delta points plus tombstones)."""
        return self._d_n + self._n_dead

    @property
    def rebuilds(self) -> int:
        """How many times the tree was rebuilt after :meth:`build`."""
        return self._rebuilds

    def __len__(self) -> int:
        return int(self._b_ids.shape[0]) - self._n_dead + self._d_n

    def __contains__(self, id: object) -> bool:
        if not isinstance(id, int | np.integer):
            return False
        key = int(id)
        if key in self._d_slot:
            return True
        row = self._b_row.get(key)
        return row is not None and not bool(self._b_dead[row])

    def __repr__(self) -> str:
        return f"SpatialIndex(len={len(self)}, pending={self.pending})"

    # -- internals -------------------------------------------------------------------------

    def _set_base(self, ids: IntArray, lats: FloatArray, lons: FloatArray) -> None:
        self._b_ids = ids
        self._b_lat = lats
        self._b_lon = lons
        self._b_phi = np.radians(lats)
        self._b_lam = np.radians(lons)
        self._b_cos = np.cos(self._b_phi)
        self._b_dead = np.zeros(ids.shape[0], dtype=bool)
        self._n_dead = 0
        self._b_row = dict(zip(ids.tolist(), range(ids.shape[0]), strict=True))
        if ids.shape[0]:
            xyz = _unit_vectors(self._b_phi, self._b_lam, self._b_cos)
            self._tree = cKDTree(xyz, balanced_tree=False, compact_nodes=False)
        else:
            self._tree = None

    def _kill(self, row: int) -> None:
        self._b_dead[row] = True
        self._n_dead += 1

    def _write_slot(self, slot: int, id: int, lat: float, lon: float) -> None:
        phi = math.radians(lat)
        self._d_ids[slot] = id
        self._d_lat[slot] = lat
        self._d_lon[slot] = lon
        self._d_phi[slot] = phi
        self._d_lam[slot] = math.radians(lon)
        self._d_cos[slot] = math.cos(phi)

    def _grow_delta(self) -> None:
        size = self._d_ids.shape[0] * 2
        self._d_ids = np.resize(self._d_ids, size)
        self._d_lat = np.resize(self._d_lat, size)
        self._d_lon = np.resize(self._d_lon, size)
        self._d_phi = np.resize(self._d_phi, size)
        self._d_lam = np.resize(self._d_lam, size)
        self._d_cos = np.resize(self._d_cos, size)

    def _delta_limit(self) -> int:
        if self._max_delta is not None:
            return self._max_delta
        return min(_MAX_DELTA, max(_MIN_DELTA, len(self) // 64))

    def _maybe_rebuild(self) -> None:
        if self.pending > self._delta_limit():
            self.rebuild()

    def _tree_nearest_rows(self, q: FloatArray, k: int) -> npt.NDArray[np.intp]:
        """Rows of live base points that include the k nearest live ones and all ties."""
        tree = self._tree
        nb = self._b_ids.shape[0]
        kk = min(nb, k)
        while True:
            want = min(nb, kk + 1)
            dist, rows = tree.query(q, k=list(range(1, want + 1)))
            dist = np.asarray(dist, dtype=np.float64)
            rows = np.asarray(rows, dtype=np.intp)
            head = rows[:kk]
            live = int(kk - np.count_nonzero(self._b_dead[head])) if self._n_dead else kk
            if live >= k or kk == nb:
                break
            kk = min(nb, kk + 2 * (k - live) + 8)
        if want > kk:
            edge = float(dist[kk - 1])
            if float(dist[kk]) <= edge * (1.0 + _REL_SLACK) + _ABS_SLACK:
                # Points tie (within rounding) with the last candidate: take them all, so the
                # final sort by (distance, id) decides, as a full scan would.
                found = tree.query_ball_point(
                    q, edge * (1.0 + _REL_SLACK) + _ABS_SLACK, return_sorted=False
                )
                head = np.asarray(found, dtype=np.intp)
        if self._n_dead:
            head = head[~self._b_dead[head]]
        return head


def _query_vector(phi: float, lam: float, cos_phi: float) -> FloatArray:
    return np.array(
        [cos_phi * math.cos(lam), cos_phi * math.sin(lam), math.sin(phi)], dtype=np.float64
    )
