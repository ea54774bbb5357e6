"""SpatialIndex against a brute-force haversine scan written independently here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from argus.registry.spatial import EARTH_RADIUS_M, SpatialIndex, haversine_m

R = 6_371_008.8
TOL = 1e-6  # metres: how far two haversine implementations may disagree


def brute_distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(math.sqrt(min(1.0, max(0.0, a))))


def brute_all(points: dict[int, tuple[float, float]], lat: float, lon: float):
    return sorted(
        ((brute_distance(lat, lon, la, lo), i) for i, (la, lo) in points.items()),
    )


def check_within(index: SpatialIndex, points, lat, lon, radius):
    got = index.within(lat, lon, radius)
    brute = dict((i, d) for d, i in brute_all(points, lat, lon))
    ids = [i for i, _ in got]
    assert len(ids) == len(set(ids))
    for i, d in got:
        assert d <= radius
        assert d == pytest.approx(brute[i], abs=TOL)
    assert got == sorted(got, key=lambda p: (p[1], p[0]))
    must = {i for i, d in brute.items() if d <= radius - TOL}
    may = {i for i, d in brute.items() if d <= radius + TOL}
    assert must <= set(ids) <= may


def check_nearest(index: SpatialIndex, points, lat, lon, k):
    got = index.nearest(lat, lon, k)
    ranked = brute_all(points, lat, lon)
    brute = {i: d for d, i in ranked}
    assert len(got) == min(k, len(points))
    assert got == sorted(got, key=lambda p: (p[1], p[0]))
    ids = [i for i, _ in got]
    assert len(ids) == len(set(ids))
    for (i, d), (bd, _) in zip(got, ranked, strict=False):
        assert d == pytest.approx(brute[i], abs=TOL)
        assert d == pytest.approx(bd, abs=TOL)
    # Unless distances at the cut are too close to call, the ids are exactly the brute ones.
    if 0 < k < len(ranked) and ranked[k][0] - ranked[k - 1][0] > 2 * TOL:
        assert set(ids) == {i for _, i in ranked[:k]}


# -- strategies: the whole globe, and small patches near the antimeridian, poles, a city ------

lat_any = st.floats(-90, 90, allow_nan=False)
lon_any = st.floats(-180, 180, allow_nan=False)


@st.composite
def near(draw, lat0: float, lon0: float, span: float):
    lat = draw(st.floats(max(-90.0, lat0 - span), min(90.0, lat0 + span)))
    lon = draw(st.floats(lon0 - span, lon0 + span))
    if lon > 180:
        lon -= 360
    if lon < -180:
        lon += 360
    return lat, lon


point = st.one_of(
    st.tuples(lat_any, lon_any),
    near(35.15, 126.85, 0.02),  # a city, ~2 km
    near(10.0, 180.0, 0.01),  # straddling the antimeridian
    near(89.995, 0.0, 0.005),  # at the north pole (longitudes fan out)
    near(-89.995, 90.0, 0.005),
    st.sampled_from([(0.0, 0.0), (90.0, 0.0), (-90.0, 180.0), (35.15, 126.85)]),  # duplicates
)
radius = st.one_of(
    st.just(0.0),
    st.floats(0, 3_000, allow_nan=False),
    st.floats(0, 2.1e7, allow_nan=False),  # up to more than half the circumference
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pts=st.lists(point, max_size=60), q=point, r=radius, k=st.integers(0, 70))
def test_matches_brute_force(pts, q, r, k):
    points = dict(enumerate(pts))
    index = SpatialIndex.build(
        list(points), [p[0] for p in pts], [p[1] for p in pts], max_delta=1_000
    )
    assert len(index) == len(points)
    check_within(index, points, q[0], q[1], r)
    check_nearest(index, points, q[0], q[1], k)


@settings(max_examples=60, deadline=None)
@given(
    pts=st.lists(point, min_size=1, max_size=40),
    moves=st.lists(st.tuples(st.integers(0, 60), st.one_of(point, st.none())), max_size=120),
    q=point,
    r=radius,
    k=st.integers(0, 50),
    max_delta=st.sampled_from([0, 1, 5, None]),
)
def test_after_many_upserts_and_removes(pts, moves, q, r, k, max_delta):
    points = dict(enumerate(pts))
    index = SpatialIndex.build(
        list(points), [p[0] for p in pts], [p[1] for p in pts], max_delta=max_delta
    )
    for i, where in moves:
        if where is None:
            index.remove(i)
            points.pop(i, None)
        else:
            index.upsert(i, *where)
            points[i] = where
    assert len(index) == len(points)
    for i in range(62):
        assert (i in index) == (i in points)
    check_within(index, points, q[0], q[1], r)
    check_nearest(index, points, q[0], q[1], k)


class IndexMachine(RuleBasedStateMachine):
    """Interleaved updates and queries with a tiny rebuild threshold."""

    @initialize(pts=st.lists(point, max_size=20))
    def start(self, pts):
        self.points = dict(enumerate(pts))
        self.index = SpatialIndex.build(
            list(self.points), [p[0] for p in pts], [p[1] for p in pts], max_delta=4
        )

    @rule(i=st.integers(0, 30), p=point)
    def upsert(self, i, p):
        self.index.upsert(i, *p)
        self.points[i] = p

    @rule(i=st.integers(0, 30))
    def remove(self, i):
        self.index.remove(i)
        self.points.pop(i, None)

    @rule(q=point, r=radius)
    def within(self, q, r):
        check_within(self.index, self.points, q[0], q[1], r)

    @rule(q=point, k=st.integers(0, 35))
    def nearest(self, q, k):
        check_nearest(self.index, self.points, q[0], q[1], k)

    @invariant()
    def same_size(self):
        assert len(self.index) == len(self.points)
        assert self.index.pending <= 5


IndexMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=40, deadline=None)
TestIndexMachine = IndexMachine.TestCase


# -- edges and errors ------------------------------------------------------------------------


def test_empty_index():
    index = SpatialIndex.build([], [], [])
    assert len(index) == 0
    assert 1 not in index
    assert index.within(35.0, 127.0, 1e7) == []
    assert index.nearest(35.0, 127.0, 5) == []
    index.remove(1)  # absent: no error
    index.upsert(1, 35.0, 127.0)
    assert index.nearest(35.0, 127.0, 5) == [(1, 0.0)]
    index.remove(1)
    assert len(index) == 0
    assert index.nearest(35.0, 127.0, 5) == []
    assert SpatialIndex().within(0, 0, 10) == []


def test_radius_zero_finds_exact_duplicates_only():
    index = SpatialIndex.build([3, 1, 2], [35.15, 35.15, 35.150001], [126.85, 126.85, 126.85])
    assert index.within(35.15, 126.85, 0.0) == [(1, 0.0), (3, 0.0)]
    assert index.within(35.15, 126.85, 0.05) == [(1, 0.0), (3, 0.0)]
    assert [i for i, _ in index.within(35.15, 126.85, 0.2)] == [1, 3, 2]


def test_k_larger_than_size_returns_everything_sorted():
    index = SpatialIndex.build([10, 11, 12], [0.0, 0.0, 0.0], [0.002, 0.001, 0.003])
    got = index.nearest(0.0, 0.0, 100)
    assert [i for i, _ in got] == [11, 10, 12]
    assert index.nearest(0.0, 0.0, 0) == []


def test_ties_resolved_by_id():
    # Eight points on a circle around the query, all the same distance (to rounding).
    ids = [8, 3, 5, 1, 7, 2, 6, 4]
    lats = [0.001, -0.001, 0.0, 0.0, 0.001, -0.001, 0.0, 0.0]
    lons = [0.0, 0.0, 0.001, -0.001, 0.0, 0.0, 0.001, -0.001]
    index = SpatialIndex.build(ids, lats, lons)
    got = index.nearest(0.0, 0.0, 3)
    assert [i for i, _ in got] == [1, 2, 3]


def test_antimeridian_and_pole():
    index = SpatialIndex.build(
        [1, 2, 3, 4], [0.0, 0.0, 89.9999, 89.9999], [179.9999, -179.9999, 0.0, 180.0]
    )
    got = index.within(0.0, 180.0, 20.0)
    assert [i for i, _ in got] == [1, 2]
    assert got[0][1] == pytest.approx(11.12, abs=0.01)
    # two points 0.0001 deg from the pole on opposite meridians are ~22 m apart
    assert index.nearest(89.9999, 0.0, 2) == [(3, 0.0), (4, pytest.approx(22.24, abs=0.01))]
    assert [i for i, _ in index.within(90.0, 0.0, 12.0)] == [3, 4]


def test_huge_radius_returns_all():
    index = SpatialIndex.build([1, 2], [0.0, 0.0], [0.0, 180.0])
    got = index.within(0.0, 0.0, math.pi * EARTH_RADIUS_M)
    assert [i for i, _ in got] == [1, 2]
    assert got[1][1] == pytest.approx(math.pi * EARTH_RADIUS_M)


def test_upsert_moves_and_rebuilds():
    index = SpatialIndex.build([1, 2], [35.0, 35.1], [127.0, 127.1], max_delta=2)
    index.upsert(1, 36.0, 128.0)
    assert index.position(1) == (36.0, 128.0)
    assert index.within(35.0, 127.0, 1_000) == []
    index.upsert(1, 36.0, 128.0)  # no change
    index.upsert(3, 36.0, 128.0)
    assert index.rebuilds == 1 and index.pending == 0
    assert [i for i, _ in index.within(36.0, 128.0, 1.0)] == [1, 3]
    index.upsert(2, 35.1, 127.1)  # same place: nothing pending
    assert index.pending == 0
    index.remove(3)
    assert 3 not in index and index.position(3) is None
    assert len(index) == 2


def test_contains_and_numpy_inputs():
    index = SpatialIndex.build(np.array([5, 6], dtype=np.int32), np.array([1.0, 2.0]), (3.0, 4.0))
    assert 5 in index and np.int64(6) in index
    assert "5" not in index and None not in index and 7 not in index
    assert all(type(i) is int and type(d) is float for i, d in index.nearest(1.0, 3.0, 2))


@pytest.mark.parametrize(
    ("ids", "lats", "lons", "error"),
    [
        ([1, 1], [0.0, 0.0], [0.0, 0.0], ValueError),
        ([1, 2], [0.0], [0.0, 0.0], ValueError),
        ([1], [91.0], [0.0], ValueError),
        ([1], [float("nan")], [0.0], ValueError),
        ([1.5], [0.0], [0.0], TypeError),
    ],
)
def test_build_rejects_bad_input(ids, lats, lons, error):
    with pytest.raises(error):
        SpatialIndex.build(ids, lats, lons)


def test_query_rejects_bad_input():
    index = SpatialIndex.build([1], [0.0], [0.0])
    with pytest.raises(ValueError):
        index.within(0.0, 0.0, -1.0)
    with pytest.raises(ValueError):
        index.within(0.0, 0.0, float("nan"))
    with pytest.raises(ValueError):
        index.nearest(0.0, 0.0, -1)
    with pytest.raises(ValueError):
        index.nearest(100.0, 0.0, 1)
    with pytest.raises(ValueError):
        index.upsert(2, 0.0, float("inf"))
    assert len(index) == 1


@given(a=st.tuples(lat_any, lon_any), b=st.tuples(lat_any, lon_any))
def test_haversine_helper(a, b):
    assert haversine_m(*a, *b) == pytest.approx(brute_distance(*a, *b), abs=TOL)
