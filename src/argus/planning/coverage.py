"""The coverage model: what ground a camera watches, from its resolution, lens, type and purpose.

A camera covers a sector (:mod:`argus.planning.sectors`): its azimuth ± half its field of view,
out to an *effective range*. A PTZ camera covers a full circle with a smaller range, because it
looks one way at a time. Every figure below is a field of :class:`CoverageParams` and can be
changed; the defaults are ASSUMPTIONS, stated here with where they come from.

Effective range
---------------
The range is where the camera's image still has the pixel density a task needs, the
"DORI" reasoning of IEC 62676-4 (EN 62676-4:2015) that camera makers' lens calculators publish:
detection of a person needs about 25 px/m, observation 62.5, recognition 125, identification
250. A rectilinear lens of horizontal field of view θ spreads ``H`` horizontal pixels over a
scene ``2·d·tan(θ/2)`` wide at distance ``d``, so the range at density ``ρ`` is::

    range = H / (2 · ρ · tan(θ/2)),   H = sqrt(resolution_mp · 10⁶ · aspect_ratio)

With the defaults (ρ = 25 px/m, *detection*, the level a control-room operator needs to notice
someone; 16:9 sensor) a 2 MP camera reaches 37.7 m with a 90° lens and 65.3 m with a 60° one; an
8 MP 90° camera 75.4 m. The result is clamped to [``min_range_m``, ``max_range_m``] (5–150 m)
and, if the registry records a ``range_m`` for the camera and ``cap_by_recorded_range`` is set,
capped by it (the scenario's parking cameras record 150–250 m, their plate-reading reach, which
is not a bound here).

* Resolution unknown: ``default_resolution_mp`` (2 MP, the Gwangju release's 200만 화소 and the
  usual minimum for new public crime-prevention cameras).
* Fixed camera, field of view unknown: ``default_fixed_fov_deg`` (60°, the incidents module's
  assumption for an unknown lens). Lenses wider than ``max_lens_fov_deg`` (120°) are computed
  as 120° lenses (the flat-scene formula fails near 180°).
* Purpose: the density a purpose's cameras are specified for, ``purpose_ppm`` (설치목적구분 →
  px/m), falling back to ``pixel_density_ppm``. By default the mapping is empty: no published
  figure ties a purpose to a density, and the centre's need (see someone at a school gate or a
  crash spot) is the same whatever law a camera was installed under. A deployment that knows
  better sets it (e.g. ``{"쓰레기단속": 62.5}`` for littering cameras aimed at one spot).
* PTZ camera (and a fixed camera whose field of view is 360°): a full circle whose radius is
  the range of a lens of ``ptz_equivalent_fov_deg`` (90°), i.e. a 2 MP PTZ covers a 37.7 m
  circle. It could zoom much further in one direction, but while it watches one way the others
  go unwatched; the 90° equivalent is the assumption that stands for that.
* Fixed camera with no recorded azimuth: its direction is unknown, so it counts as a circle of
  the same area as its sector (radius × sqrt(fov / 360)).

Obstruction
-----------
Buildings and terrain are not modelled yet. :class:`ObstructionLayer` is the hook a later layer
implements; any layers given in ``CoverageParams.obstructions`` are applied to every coverage
test after the sector test (none exist yet, so by default nothing is obstructed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from argus.incidents.selection import DEFAULT_FOV_DEG
from argus.planning.cameras import PlanCamera
from argus.planning.sectors import FULL_CIRCLE_DEG, bearings_from_deg, in_sector
from argus.registry.spatial import SpatialIndex

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DETECTION_PPM: Final = 25.0
"""IEC 62676-4 pixel density for detecting a person, px/m."""
OBSERVATION_PPM: Final = 62.5
RECOGNITION_PPM: Final = 125.0
IDENTIFICATION_PPM: Final = 250.0

__all__ = [
    "DETECTION_PPM",
    "IDENTIFICATION_PPM",
    "OBSERVATION_PPM",
    "RECOGNITION_PPM",
    "CoverageParams",
    "Footprint",
    "ObstructionLayer",
    "PointSet",
    "Shape",
    "footprint",
    "footprint_at",
    "mobile_shape",
    "modelled_range_m",
]


class ObstructionLayer(Protocol):
    """Something that blocks lines of sight (buildings, terrain); a hook, not implemented yet."""

    def visible(
        self, lat: float, lon: float, to_lats: FloatArray, to_lons: FloatArray
    ) -> BoolArray:
        """Whether each target point can be seen from (lat, lon) through this layer."""
        ...


@dataclass(frozen=True)
class CoverageParams:
    """The figures of the coverage model (see the module docstring for their sources)."""

    pixel_density_ppm: float = DETECTION_PPM
    aspect_ratio: float = 16.0 / 9.0
    default_resolution_mp: float = 2.0
    default_fixed_fov_deg: float = DEFAULT_FOV_DEG
    max_lens_fov_deg: float = 120.0
    ptz_equivalent_fov_deg: float = 90.0
    purpose_ppm: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    min_range_m: float = 5.0
    max_range_m: float = 150.0
    cap_by_recorded_range: bool = True
    obstructions: tuple[ObstructionLayer, ...] = ()

    def __post_init__(self) -> None:
        positive = {
            "pixel_density_ppm": self.pixel_density_ppm,
            "aspect_ratio": self.aspect_ratio,
            "default_resolution_mp": self.default_resolution_mp,
            "default_fixed_fov_deg": self.default_fixed_fov_deg,
            "max_lens_fov_deg": self.max_lens_fov_deg,
            "ptz_equivalent_fov_deg": self.ptz_equivalent_fov_deg,
            "min_range_m": self.min_range_m,
            **{f"purpose_ppm[{k}]": v for k, v in self.purpose_ppm.items()},
        }
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value}")
        if not self.max_lens_fov_deg < 180.0:
            raise ValueError("max_lens_fov_deg must be below 180")
        if not self.max_range_m >= self.min_range_m:
            raise ValueError("max_range_m must be at least min_range_m")


@dataclass(frozen=True)
class Shape:
    """How a camera covers from wherever it stands: a radius and a field of view (360: circle)."""

    radius_m: float
    fov_deg: float

    @property
    def circle(self) -> bool:
        return self.fov_deg >= FULL_CIRCLE_DEG

    @property
    def area_m2(self) -> float:
        return math.pi * self.radius_m**2 * min(self.fov_deg, FULL_CIRCLE_DEG) / FULL_CIRCLE_DEG


@dataclass(frozen=True)
class Footprint:
    """The ground one camera covers: apex, radius, azimuth (None: full circle) and fov."""

    camera_id: int
    lat: float
    lon: float
    radius_m: float
    azimuth_deg: float | None
    fov_deg: float

    @property
    def circle(self) -> bool:
        return self.azimuth_deg is None or self.fov_deg >= FULL_CIRCLE_DEG

    @property
    def area_m2(self) -> float:
        share = 1.0 if self.circle else self.fov_deg / FULL_CIRCLE_DEG
        return math.pi * self.radius_m**2 * share


def modelled_range_m(
    resolution_mp: float | None, fov_deg: float, purpose: str, params: CoverageParams
) -> float:
    """The effective range of a lens of ``fov_deg`` (see the module docstring), clamped."""
    mp = resolution_mp if resolution_mp and resolution_mp > 0 else params.default_resolution_mp
    h_px = math.sqrt(mp * 1e6 * params.aspect_ratio)
    ppm = params.purpose_ppm.get(purpose, params.pixel_density_ppm)
    lens = min(max(fov_deg, 1.0), params.max_lens_fov_deg)
    reach = h_px / (2.0 * ppm * math.tan(math.radians(lens) / 2.0))
    return min(params.max_range_m, max(params.min_range_m, reach))


def _capped(camera: PlanCamera, reach: float, params: CoverageParams) -> float:
    if params.cap_by_recorded_range and camera.range_m is not None and camera.range_m > 0:
        return min(reach, float(camera.range_m))
    return reach


def mobile_shape(camera: PlanCamera, params: CoverageParams) -> Shape:
    """How the camera covers once aimed at a new site: a PTZ a circle, a fixed one its sector."""
    fov = camera.fov_deg if camera.fov_deg and camera.fov_deg > 0 else None
    if camera.is_ptz or (fov is not None and fov >= FULL_CIRCLE_DEG):
        reach = modelled_range_m(
            camera.resolution_mp, params.ptz_equivalent_fov_deg, camera.purpose, params
        )
        return Shape(_capped(camera, reach, params), FULL_CIRCLE_DEG)
    lens = fov if fov is not None else params.default_fixed_fov_deg
    reach = modelled_range_m(camera.resolution_mp, lens, camera.purpose, params)
    return Shape(_capped(camera, reach, params), lens)


def footprint(camera: PlanCamera, params: CoverageParams) -> Footprint:
    """What the camera covers where it stands, as recorded."""
    shape = mobile_shape(camera, params)
    if shape.circle:
        return Footprint(camera.id, camera.lat, camera.lon, shape.radius_m, None, FULL_CIRCLE_DEG)
    if camera.azimuth_deg is None:  # direction unknown: a circle of the sector's area
        radius = shape.radius_m * math.sqrt(shape.fov_deg / FULL_CIRCLE_DEG)
        return Footprint(camera.id, camera.lat, camera.lon, radius, None, FULL_CIRCLE_DEG)
    return Footprint(
        camera.id, camera.lat, camera.lon, shape.radius_m, camera.azimuth_deg % 360.0, shape.fov_deg
    )


def footprint_at(
    camera_id: int, shape: Shape, lat: float, lon: float, azimuth_deg: float | None
) -> Footprint:
    """A footprint of ``shape`` standing at (lat, lon), aimed at ``azimuth_deg`` unless a circle."""
    if shape.circle:
        return Footprint(camera_id, lat, lon, shape.radius_m, None, FULL_CIRCLE_DEG)
    if azimuth_deg is None:
        raise ValueError("a fixed camera at a new site needs an azimuth")
    return Footprint(camera_id, lat, lon, shape.radius_m, azimuth_deg % 360.0, shape.fov_deg)


class PointSet:
    """Points (lat, lon) with a spatial index, answering "which does this footprint cover"."""

    def __init__(
        self,
        lats: Sequence[float] | FloatArray,
        lons: Sequence[float] | FloatArray,
        params: CoverageParams,
    ) -> None:
        self.lats = np.asarray(lats, dtype=np.float64).copy()
        self.lons = np.asarray(lons, dtype=np.float64).copy()
        self.params = params
        self.index = SpatialIndex.build(np.arange(self.lats.shape[0]), self.lats, self.lons)

    def __len__(self) -> int:
        return int(self.lats.shape[0])

    def near(self, lat: float, lon: float, radius_m: float) -> tuple[IntArray, FloatArray]:
        """(indices, distances) of the points within ``radius_m``, by index."""
        found = self.index.within(lat, lon, radius_m)
        if not found:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        idx = np.array([i for i, _ in found], dtype=np.int64)
        dist = np.array([d for _, d in found], dtype=np.float64)
        order = np.argsort(idx, kind="stable")
        return idx[order], dist[order]

    def select(
        self,
        lat: float,
        lon: float,
        idx: IntArray,
        dist: FloatArray,
        radius_m: float,
        azimuth_deg: float | None,
        fov_deg: float,
    ) -> IntArray:
        """Of the candidate points ``idx`` (at distances ``dist``), those inside the sector."""
        if idx.size == 0:
            return idx
        full = azimuth_deg is None or fov_deg >= FULL_CIRCLE_DEG
        bearings = (
            np.zeros(idx.shape[0])
            if full
            else bearings_from_deg(lat, lon, self.lats[idx], self.lons[idx])
        )
        keep = in_sector(dist, bearings, radius_m, azimuth_deg, fov_deg)
        chosen = idx[keep]
        for layer in self.params.obstructions:
            seen = np.asarray(
                layer.visible(lat, lon, self.lats[chosen], self.lons[chosen]), dtype=bool
            )
            chosen = chosen[seen]
        return chosen

    def covered_by(self, fp: Footprint) -> IntArray:
        """Indices (ascending) of the points the footprint covers."""
        idx, dist = self.near(fp.lat, fp.lon, fp.radius_m)
        return self.select(fp.lat, fp.lon, idx, dist, fp.radius_m, fp.azimuth_deg, fp.fov_deg)
