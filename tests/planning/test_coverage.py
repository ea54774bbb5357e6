"""The coverage model: effective ranges, sectors, PTZ circles, the obstruction hook."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.planning import CoverageParams, PlanCamera, footprint
from argus.planning.coverage import PointSet, mobile_shape, modelled_range_m
from argus.planning.sectors import sector_polygon
from tests.planning.conftest import offset

LAT, LON = 35.1595, 126.8526  # Gwangju City Hall


def range_by_hand(mp: float, fov: float, ppm: float = 25.0) -> float:
    """IEC 62676-4 style: horizontal pixels over the scene width, written out here."""
    h = math.sqrt(mp * 1e6 * 16 / 9)
    return h / (2 * ppm * math.tan(math.radians(fov) / 2))


def fixed(azimuth: float | None = 90.0, fov: float | None = 90.0, **kw: object) -> PlanCamera:
    return PlanCamera(
        id=1,
        owner_id=1,
        lat=LAT,
        lon=LON,
        azimuth_deg=azimuth,
        fov_deg=fov,
        **kw,  # type: ignore[arg-type]
    )


def covers(cam: PlanCamera, points: list[tuple[float, float]], params: CoverageParams) -> list[int]:
    where = PointSet([p[0] for p in points], [p[1] for p in points], params)
    return where.covered_by(footprint(cam, params)).tolist()


def test_ranges_follow_the_pixel_density_formula() -> None:
    params = CoverageParams()
    assert modelled_range_m(2.0, 90.0, "생활방범", params) == pytest.approx(37.71, abs=0.01)
    assert modelled_range_m(2.0, 60.0, "생활방범", params) == pytest.approx(
        range_by_hand(2, 60), rel=1e-12
    )
    assert modelled_range_m(8.0, 90.0, "생활방범", params) == pytest.approx(
        2 * range_by_hand(2, 90), rel=1e-12
    )
    # unknown resolution: 2 MP; clamps
    assert modelled_range_m(None, 90.0, "기타", params) == pytest.approx(range_by_hand(2, 90))
    assert modelled_range_m(2.0, 2.0, "기타", params) == params.max_range_m
    # a purpose's own density
    strict = CoverageParams(purpose_ppm={"쓰레기단속": 62.5})
    assert modelled_range_m(2.0, 90.0, "쓰레기단속", strict) == pytest.approx(
        range_by_hand(2, 90, 62.5)
    )
    assert modelled_range_m(2.0, 90.0, "생활방범", strict) == pytest.approx(range_by_hand(2, 90))


def test_ptz_is_a_circle_of_the_90_degree_range_and_recorded_range_caps() -> None:
    params = CoverageParams()
    ptz = PlanCamera(1, 1, LAT, LON, camera_type="ptz", resolution_mp=2.0, range_m=200.0)
    fp = footprint(ptz, params)
    assert fp.circle and fp.azimuth_deg is None
    assert fp.radius_m == pytest.approx(range_by_hand(2, 90))
    short = PlanCamera(1, 1, LAT, LON, camera_type="ptz", resolution_mp=2.0, range_m=20.0)
    assert footprint(short, params).radius_m == 20.0
    loose = CoverageParams(cap_by_recorded_range=False)
    assert footprint(short, loose).radius_m == pytest.approx(range_by_hand(2, 90))


def test_fixed_camera_without_azimuth_is_an_equal_area_circle() -> None:
    params = CoverageParams()
    fp = footprint(fixed(azimuth=None, fov=90.0, resolution_mp=2.0), params)
    aimed = footprint(fixed(azimuth=10.0, fov=90.0, resolution_mp=2.0), params)
    assert fp.circle and not aimed.circle
    assert fp.area_m2 == pytest.approx(aimed.area_m2)
    # a fixed camera whose lens is unknown gets 60 degrees
    assert mobile_shape(fixed(fov=None), params).fov_deg == 60.0


def test_point_inside_the_sector_is_covered_outside_not() -> None:
    params = CoverageParams()
    cam = fixed(azimuth=90.0, fov=90.0, resolution_mp=2.0)  # looks east, 45 degrees each side
    r = range_by_hand(2, 90)
    points = [
        offset(LAT, LON, 90.0, 20.0),  # straight ahead
        offset(LAT, LON, 50.0, r - 0.5),  # near the north edge, near the end
        offset(LAT, LON, 130.0, 10.0),  # near the south edge
        offset(LAT, LON, 140.0, 10.0),  # just outside the south edge
        offset(LAT, LON, 270.0, 10.0),  # behind
        offset(LAT, LON, 90.0, r + 0.5),  # beyond the range
        offset(LAT, LON, 270.0, 0.5),  # at the pole: counts as seen
    ]
    assert covers(cam, points, params) == [0, 1, 2, 6]


def test_ptz_covers_every_direction_within_its_radius() -> None:
    params = CoverageParams()
    ptz = PlanCamera(1, 1, LAT, LON, camera_type="ptz", resolution_mp=2.0)
    r = range_by_hand(2, 90)
    inside = [offset(LAT, LON, b, r - 0.5) for b in range(0, 360, 15)]
    outside = [offset(LAT, LON, b, r + 0.5) for b in range(0, 360, 15)]
    assert covers(ptz, inside + outside, params) == list(range(len(inside)))


@settings(max_examples=200, deadline=None)
@given(
    azimuth=st.floats(0, 359.9),
    fov=st.floats(20, 170),
    bearing=st.floats(0, 359.9),
    distance=st.floats(2, 200),
)
def test_sector_membership_property(azimuth: float, fov: float, bearing: float, distance: float):
    params = CoverageParams()
    cam = fixed(azimuth=azimuth, fov=fov, resolution_mp=2.0)
    fp = footprint(cam, params)
    off = abs((bearing - azimuth + 180.0) % 360.0 - 180.0)
    # keep clear of the edges, where rounding may decide
    if abs(off - fov / 2) < 0.01 or abs(distance - fp.radius_m) < 0.01:
        return
    expected = off <= fov / 2 and distance <= fp.radius_m
    assert bool(covers(cam, [offset(LAT, LON, bearing, distance)], params)) == expected


def test_sector_polygon_area() -> None:
    poly = sector_polygon(0.0, 0.0, 40.0, 30.0, 90.0, segments=720)
    assert poly.area == pytest.approx(math.pi * 40.0**2 / 4, rel=1e-4)
    circle = sector_polygon(0.0, 0.0, 40.0, None, 360.0, segments=720)
    assert circle.area == pytest.approx(math.pi * 40.0**2, rel=1e-4)


class BlockEverything:
    def visible(self, lat: float, lon: float, to_lats: np.ndarray, to_lons: np.ndarray):
        return np.zeros(to_lats.shape[0], dtype=bool)


def test_obstruction_hook_is_applied() -> None:
    ptz = PlanCamera(1, 1, LAT, LON, camera_type="ptz")
    pts = [offset(LAT, LON, 0.0, 10.0)]
    assert covers(ptz, pts, CoverageParams()) == [0]
    assert covers(ptz, pts, CoverageParams(obstructions=(BlockEverything(),))) == []


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="pixel_density_ppm"):
        CoverageParams(pixel_density_ppm=0)
    with pytest.raises(ValueError, match="max_range_m"):
        CoverageParams(min_range_m=10, max_range_m=5)
