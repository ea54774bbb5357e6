"""Camera selection against a brute-force reference written here, and its ranking rules."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon

from argus.errors import FieldError
from argus.incidents.selection import (
    DEFAULT_AREA_MARGIN_M,
    FACING_FACTOR,
    FACING_NAMES,
    MAX_RADIUS_M,
    CameraSelector,
    SelectedCamera,
)
from argus.registry.models import Camera

R = 6_371_008.8
TOL_M = 1e-6


def distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * R * math.asin(math.sqrt(min(1.0, a)))


def bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def angle_off(a: float, b: float) -> float:
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (
        lat + math.degrees(north_m / R),
        lon + math.degrees(east_m / (R * math.cos(math.radians(lat)))),
    )


@dataclass
class Cam:
    id: int
    lat: float
    lon: float
    azimuth_deg: float | None = None
    fov_deg: float | None = None
    camera_type: str = "fixed"
    enabled: bool = True


def selector_of(cams: list[Cam]) -> CameraSelector:
    return CameraSelector.from_cameras(cams)


def expected_facing(cam: Cam, lat: float, lon: float) -> str:
    if cam.camera_type == "ptz":
        return "turnable"
    if cam.azimuth_deg is None:
        return "unknown"
    if distance(cam.lat, cam.lon, lat, lon) <= 1.0:
        return "yes"
    fov = 60.0 if cam.fov_deg is None else cam.fov_deg
    return (
        "yes"
        if angle_off(bearing(cam.lat, cam.lon, lat, lon), cam.azimuth_deg) <= fov / 2
        else "no"
    )


# -- a hand-computed case ----------------------------------------------------------------------


def test_bearing_and_facing_in_a_hand_computed_case():
    # At the equator a degree of longitude east of the camera lies at bearing 90 exactly, and
    # 0.001 degrees is 111.195 m (R * pi / 180 / 1000).
    cams = [
        Cam(1, 0.0, 0.0, azimuth_deg=80.0, fov_deg=30.0),  # looks east-ish: 90 is within 80±15
        Cam(2, 0.0, 0.002, azimuth_deg=0.0, fov_deg=90.0),  # east of the point, looks north
        Cam(3, 0.001, 0.001, azimuth_deg=180.0, fov_deg=10.0),  # due north, looks south
        Cam(4, -0.001, 0.001),  # due south, azimuth unknown
        Cam(5, 0.0, 0.0015, camera_type="ptz", azimuth_deg=90.0),  # east, looks away
    ]
    got = {c.camera_id: c for c in selector_of(cams).select(0.0, 0.001, 300.0)}
    assert set(got) == {1, 2, 3, 4, 5}
    assert got[1].bearing_deg == pytest.approx(90.0, abs=1e-9)
    assert got[2].bearing_deg == pytest.approx(270.0, abs=1e-9)
    assert got[3].bearing_deg == pytest.approx(180.0, abs=1e-9)
    assert got[4].bearing_deg == pytest.approx(0.0, abs=1e-9) or got[4].bearing_deg == (
        pytest.approx(360.0, abs=1e-9)
    )
    assert got[1].distance_m == pytest.approx(111.19508, abs=1e-4)
    assert got[5].distance_m == pytest.approx(55.59754, abs=1e-4)
    assert [got[i].facing for i in range(1, 6)] == ["yes", "no", "yes", "unknown", "turnable"]
    # Scores: yes/turnable x1, unknown x1.5, no x3.
    assert got[2].score == pytest.approx(3 * got[2].distance_m)
    assert got[4].score == pytest.approx(1.5 * got[4].distance_m)
    # 5 (56 m, turnable) < 1 = 3 (111 m, yes, ids decide) < 4 (167 m as unknown) < 2 (334 m)
    assert [c.camera_id for c in selector_of(cams).select(0.0, 0.001, 300.0)] == [5, 1, 3, 4, 2]


def test_bearing_off_the_equator_agrees_with_the_spherical_formula():
    sel = selector_of([Cam(1, 35.1465, 126.9234, azimuth_deg=45.0, fov_deg=20.0)])
    lat, lon = offset(35.1465, 126.9234, 200.0, 200.0)  # 283 m to the north-east
    (c,) = sel.select(lat, lon, 500.0)
    assert c.bearing_deg == pytest.approx(bearing(35.1465, 126.9234, lat, lon), abs=1e-9)
    assert c.bearing_deg == pytest.approx(45.0, abs=0.01)
    assert c.distance_m == pytest.approx(math.hypot(200.0, 200.0), rel=1e-5)
    assert c.facing == "yes"


# -- facing rules ------------------------------------------------------------------------------


def test_ptz_is_turnable_and_ranks_as_facing():
    lat, lon = 35.15, 126.85
    c_lat, c_lon = offset(lat, lon, -100.0, 0.0)  # 100 m south of the point
    cams = [
        Cam(1, c_lat, c_lon, azimuth_deg=180.0, camera_type="ptz"),  # looks away, can turn
        Cam(2, c_lat, c_lon, azimuth_deg=0.0, fov_deg=60.0),  # fixed, looks at it
        Cam(3, c_lat, c_lon, azimuth_deg=180.0, fov_deg=60.0),  # fixed, looks away
        Cam(4, c_lat, c_lon, camera_type="ptz"),  # PTZ with no azimuth: still turnable
    ]
    got = selector_of(cams).select(lat, lon)
    assert [(c.camera_id, c.facing) for c in got] == [
        (2, "yes"),
        (1, "turnable"),
        (4, "turnable"),
        (3, "no"),
    ]
    assert got[0].score == got[1].score == got[2].score  # turnable costs nothing extra
    far_lat, far_lon = offset(lat, lon, -150.0, 0.0)
    closer = selector_of([Cam(1, c_lat, c_lon, camera_type="ptz"), Cam(2, far_lat, far_lon, 0.0)])
    assert [c.camera_id for c in closer.select(lat, lon)] == [1, 2]


def test_unknown_azimuth_ranks_after_facing_at_similar_distance():
    lat, lon = 35.15, 126.85
    facing = Cam(1, *offset(lat, lon, -200.0, 0.0), azimuth_deg=0.0, fov_deg=90.0)
    unknown_near = Cam(2, *offset(lat, lon, 0.0, -150.0))  # 150 m x 1.5 = 225 > 200
    unknown_close = Cam(3, *offset(lat, lon, 0.0, 120.0))  # 120 m x 1.5 = 180 < 200
    got = selector_of([facing, unknown_near, unknown_close]).select(lat, lon)
    assert [(c.camera_id, c.facing) for c in got] == [(3, "unknown"), (1, "yes"), (2, "unknown")]


def test_default_fov_full_circle_and_co_located():
    lat, lon = 35.15, 126.85
    south = offset(lat, lon, -100.0, 0.0)  # the point is due north of these cameras
    cams = [
        Cam(1, *south, azimuth_deg=25.0),  # no fov: 60 assumed, 25 off → yes
        Cam(2, *south, azimuth_deg=35.0),  # 35 off → no
        Cam(3, *south, azimuth_deg=180.0, fov_deg=360.0),  # sees all around
        Cam(4, lat, lon, azimuth_deg=200.0, fov_deg=10.0),  # stands on the point
    ]
    got = {c.camera_id: c.facing for c in selector_of(cams).select(lat, lon)}
    assert got == {1: "yes", 2: "no", 3: "yes", 4: "yes"}


def test_azimuth_is_taken_modulo_360_and_bad_orientation_is_refused():
    lat, lon = 35.15, 126.85
    south = offset(lat, lon, -100.0, 0.0)
    assert (
        selector_of([Cam(1, *south, azimuth_deg=-350.0, fov_deg=30.0)]).select(lat, lon)[0].facing
        == "yes"
    )
    with pytest.raises(ValueError, match="field"):
        selector_of([Cam(1, *south, azimuth_deg=0.0, fov_deg=0.0)])
    with pytest.raises(ValueError, match="azimuth"):
        CameraSelector().upsert(1, *south, azimuth_deg=math.inf)


# -- against brute force -----------------------------------------------------------------------


@st.composite
def scenes(draw: st.DrawFn) -> tuple[list[Cam], float, float, float]:
    lat0 = draw(st.floats(-60, 60))
    lon0 = draw(st.floats(-179, 179))
    n = draw(st.integers(0, 60))
    ids = draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n, unique=True))
    cams: list[Cam] = []
    for cam_id in ids:
        north = draw(st.floats(-3000, 3000))
        east = draw(st.floats(-3000, 3000))
        if draw(st.booleans()) and cams:  # stack on an earlier camera: equal distances
            base = cams[draw(st.integers(0, len(cams) - 1))]
            c_lat, c_lon = base.lat, base.lon
        else:
            c_lat, c_lon = offset(lat0, lon0, north, east)
        cams.append(
            Cam(
                id=cam_id,
                lat=c_lat,
                lon=c_lon,
                azimuth_deg=draw(st.none() | st.floats(0, 359.99)),
                fov_deg=draw(st.none() | st.floats(1, 360)),
                camera_type=draw(st.sampled_from(["fixed", "fixed", "ptz"])),
            )
        )
    q_lat, q_lon = offset(lat0, lon0, draw(st.floats(-500, 500)), draw(st.floats(-500, 500)))
    radius = draw(st.floats(1, 3000))
    return cams, q_lat, q_lon, radius


def check_ranking(got: list[SelectedCamera]) -> None:
    """The documented order: score, then facing in FACING_NAMES order, then id."""
    assert [c.rank for c in got] == list(range(1, len(got) + 1))
    keys = [(c.score, FACING_NAMES.index(c.facing), c.camera_id) for c in got]
    assert keys == sorted(keys)
    for c in got:
        assert c.score == pytest.approx(c.distance_m * FACING_FACTOR[c.facing])
        assert 0.0 <= c.bearing_deg < 360.0


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(scenes())
def test_selection_matches_brute_force_and_ranks_as_documented(scene):
    cams, lat, lon, radius = scene
    got = selector_of(cams).select(lat, lon, radius)
    by_id = {c.id: c for c in cams}
    brute = {c.id: distance(c.lat, c.lon, lat, lon) for c in cams}
    ids = {c.camera_id for c in got}
    assert len(ids) == len(got)
    must = {i for i, d in brute.items() if d <= radius - TOL_M}
    may = {i for i, d in brute.items() if d <= radius + TOL_M}
    assert must <= ids <= may
    check_ranking(got)
    for c in got:
        cam = by_id[c.camera_id]
        assert c.distance_m <= radius
        assert c.distance_m == pytest.approx(brute[c.camera_id], abs=TOL_M)
        assert angle_off(c.bearing_deg, bearing(cam.lat, cam.lon, lat, lon)) < 1e-6
        want = expected_facing(cam, lat, lon)
        if want != c.facing:  # only on the edge of the field of view, within rounding
            assert cam.azimuth_deg is not None and cam.camera_type == "fixed"
            fov = 60.0 if cam.fov_deg is None else cam.fov_deg
            assert abs(angle_off(c.bearing_deg, cam.azimuth_deg) - fov / 2) < 1e-6
    # A facing (or turnable) camera no farther than a non-facing one never ranks below it;
    # nor does an unknown one below a non-facing one, nor a facing one below an unknown one.
    better = {"yes": 0, "turnable": 0, "unknown": 1, "no": 2}
    for a in got:
        for b in got:
            if better[a.facing] < better[b.facing] and a.distance_m <= b.distance_m:
                assert a.rank < b.rank


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(scenes(), st.integers(1, 10))
def test_limit_keeps_the_best(scene, limit):
    cams, lat, lon, radius = scene
    sel = selector_of(cams)
    assert sel.select(lat, lon, radius, limit=limit) == sel.select(lat, lon, radius)[:limit]


def test_disabled_cameras_are_left_out():
    lat, lon = 35.15, 126.85
    cams = [Cam(1, lat, lon), Cam(2, lat, lon, enabled=False)]
    sel = selector_of(cams)
    assert len(sel) == 1 and 1 in sel and 2 not in sel
    assert [c.camera_id for c in sel.select(lat, lon)] == [1]


def test_registry_cameras_feed_the_selector():
    cams = [
        Camera(id=7, lat=35.15, lon=126.85, camera_type="ptz", enabled=True),
        Camera(
            id=8,
            lat=35.1501,
            lon=126.85,
            camera_type="fixed",
            azimuth_deg=180.0,
            fov_deg=40.0,
            enabled=True,
        ),
        Camera(id=9, lat=35.15, lon=126.85, camera_type="fixed", enabled=False),
    ]
    got = CameraSelector.from_cameras(cams).select(35.1500, 126.8500, 100.0)
    assert [(c.camera_id, c.facing) for c in got] == [(7, "turnable"), (8, "yes")]


# -- updates -----------------------------------------------------------------------------------


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["upsert", "remove", "disable"]),
            st.integers(1, 40),
            st.floats(-800, 800),
            st.floats(-800, 800),
            st.none() | st.floats(0, 359),
            st.booleans(),
        ),
        max_size=80,
    )
)
def test_updates_keep_the_selector_in_step(ops):
    lat, lon = 35.15, 126.85
    model: dict[int, Cam] = {}
    sel = CameraSelector()
    for op, cam_id, north, east, az, ptz in ops:
        if op == "upsert":
            cam = Cam(cam_id, *offset(lat, lon, north, east), az, 50.0, "ptz" if ptz else "fixed")
            model[cam_id] = cam
            sel.upsert_camera(cam)
        elif op == "remove":
            model.pop(cam_id, None)
            sel.remove(cam_id)
        else:
            model.pop(cam_id, None)
            sel.upsert_camera(Cam(cam_id, lat, lon, enabled=False))
    assert len(sel) == len(model)
    got = sel.select(lat, lon, 1000.0)
    want = {i for i, c in model.items() if distance(c.lat, c.lon, lat, lon) <= 1000.0 - TOL_M}
    assert want <= {c.camera_id for c in got} <= set(model)
    assert got == selector_of(list(model.values())).select(lat, lon, 1000.0)


def test_upsert_moves_and_reorients():
    lat, lon = 35.15, 126.85
    sel = selector_of([Cam(1, *offset(lat, lon, -100, 0), azimuth_deg=0.0, fov_deg=40.0)])
    assert sel.select(lat, lon)[0].facing == "yes"
    sel.upsert(1, *offset(lat, lon, -100, 0), azimuth_deg=180.0, fov_deg=40.0)
    assert sel.select(lat, lon)[0].facing == "no"
    sel.upsert(1, *offset(lat, lon, -2000, 0))
    assert sel.select(lat, lon) == []
    assert [c.camera_id for c in sel.select(lat, lon, 2500.0)] == [1]
    sel.remove(1)
    sel.remove(1)  # absent: nothing happens
    assert len(sel) == 0 and sel.select(lat, lon, 2500.0) == []


# -- area variant ------------------------------------------------------------------------------

SQUARE_CENTRE = (35.16, 126.88)


def square(half_m: float) -> list[tuple[float, float]]:
    la, lo = SQUARE_CENTRE
    corners = [(-half_m, -half_m), (-half_m, half_m), (half_m, half_m), (half_m, -half_m)]
    ring = [offset(la, lo, n, e) for n, e in corners]
    return [*ring, ring[0]]


def test_area_selects_inside_and_margin_and_ranks_by_centroid_distance():
    la, lo = SQUARE_CENTRE
    cams = [
        Cam(1, *offset(la, lo, 0, 0), azimuth_deg=0.0),  # centre
        Cam(2, *offset(la, lo, 400, 400), azimuth_deg=225.0),  # inside, looks at the centre
        Cam(3, *offset(la, lo, 0, 550)),  # 50 m outside the east edge
        Cam(4, *offset(la, lo, 0, 700)),  # 200 m outside
        Cam(5, *offset(la, lo, 560, 560)),  # 85 m beyond the corner diagonally
        Cam(6, *offset(la, lo, 0, -499)),  # just inside the west edge
    ]
    sel = selector_of(cams)
    inside = sel.select_area(square(500.0))
    assert {c.camera_id for c in inside} == {1, 2, 6}
    with_margin = sel.select_area(square(500.0), margin_m=100.0)
    assert {c.camera_id for c in with_margin} == {1, 2, 3, 5, 6}
    check_ranking(with_margin)
    by_id = {c.camera_id: c for c in with_margin}
    assert by_id[1].distance_m < 0.5  # the centroid of a square is its centre
    assert by_id[2].distance_m == pytest.approx(math.hypot(400, 400), rel=1e-3)
    assert by_id[2].facing == "yes"
    assert sel.select_area(square(500.0), limit=2) == inside[:2]


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.tuples(st.floats(-900, 900), st.floats(-900, 900)), min_size=0, max_size=60),
    st.lists(st.floats(150, 800), min_size=5, max_size=9),
    st.floats(0, 300),
)
def test_area_agrees_with_shapely_in_degrees(points, radii, margin):
    la, lo = SQUARE_CENTRE
    n = len(radii)
    ring = [
        offset(la, lo, r * math.cos(2 * math.pi * k / n), r * math.sin(2 * math.pi * k / n))
        for k, r in enumerate(radii)
    ]
    ring.append(ring[0])
    cams = [Cam(i + 1, *offset(la, lo, north, east)) for i, (north, east) in enumerate(points)]
    got = {c.camera_id for c in selector_of(cams).select_area(ring, margin_m=margin)}
    shape = Polygon([(b, a) for a, b in ring])
    # Distances to the polygon, in metres, by the local scale at the centre (the test's own).
    k = math.radians(1) * R
    scaled = Polygon([(b * k * math.cos(math.radians(la)), a * k) for a, b in ring])
    for cam in cams:
        pt = Point(cam.lon * k * math.cos(math.radians(la)), cam.lat * k)
        d = scaled.distance(pt)
        if margin == 0.0 and shape.contains(Point(cam.lon, cam.lat)):
            assert cam.id in got
        if d < margin - 0.5:
            assert cam.id in got
        if d > margin + 0.5:
            assert cam.id not in got


def test_pick_is_what_the_incident_service_asks():
    la, lo = SQUARE_CENTRE
    cams = [Cam(1, la, lo), Cam(2, *offset(la, lo, 0, 550)), Cam(3, *offset(la, lo, 0, 900))]
    sel = selector_of(cams)
    assert [c.camera_id for c in sel.pick(la, lo, 600.0, None, 10)] == [1, 2]
    assert [c.camera_id for c in sel.pick(la, lo, 600.0, square(500.0), 10)] == [1, 2]
    assert DEFAULT_AREA_MARGIN_M == 100.0
    assert [c.camera_id for c in sel.pick(la, lo, 1000.0, None, 1)] == [1]


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"radius_m": 0.0}, "radius_m"),
        ({"radius_m": -5.0}, "radius_m"),
        ({"radius_m": math.nan}, "radius_m"),
        ({"radius_m": MAX_RADIUS_M + 1}, "radius_m"),
        ({"lat": 90.5}, "lat"),
        ({"lat": math.nan}, "lat"),
        ({"lon": 180.5}, "lon"),
        ({"lon": -math.inf}, "lon"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_point_query_is_a_field_error(kwargs, field):
    sel = selector_of([Cam(1, 35.15, 126.85)])
    args = {"lat": 35.15, "lon": 126.85, "radius_m": 500.0} | kwargs
    limit = args.pop("limit", None)
    with pytest.raises(FieldError) as caught:
        sel.select(args["lat"], args["lon"], args["radius_m"], limit=limit)
    assert caught.value.field == field and caught.value.status_code == 422
    assert field in str(caught.value)


@pytest.mark.parametrize(
    ("ring", "margin", "fragment"),
    [
        ([(35.15, 126.85), (35.16, 126.85)], 0.0, "at least 3 distinct corners"),
        ([(35.15, 126.85), (35.16, 126.85), (35.15, 126.85)], 0.0, "at least 3 distinct"),
        ([(95.0, 126.85), (35.16, 126.85), (35.16, 126.86)], 0.0, "latitude 95.0"),
        ([(35.15, 126.85), (35.16, 186.85), (35.16, 126.86)], 0.0, "longitude 186.85"),
        (
            [(35.15, 126.85), (35.16, 126.86), (35.15, 126.86), (35.16, 126.85)],
            0.0,
            "crosses itself",
        ),
        ([(35.0, 126.0), (36.0, 126.0), (36.0, 127.0)], 0.0, "at most 50 km"),
        (square(500.0), -1.0, "margin_m"),
        (square(500.0), 2001.0, "margin_m"),
    ],
)
def test_bad_area_is_a_field_error(ring, margin, fragment):
    sel = selector_of([Cam(1, 35.15, 126.85)])
    with pytest.raises(FieldError, match=fragment):
        sel.select_area(ring, margin_m=margin)


def test_bad_camera_data_is_a_value_error():
    with pytest.raises(ValueError, match="duplicate"):
        selector_of([Cam(1, 35.15, 126.85), Cam(1, 35.16, 126.85)])
    with pytest.raises(ValueError, match="longitude"):
        selector_of([Cam(1, 35.15, 196.85)])
    with pytest.raises(ValueError, match="differ in length"):
        CameraSelector.build([1, 2], [35.0], [126.0], [None], [None], [False])
