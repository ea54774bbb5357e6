"""Selectors: which of the owner's cameras an agreement covers, and when one lies inside another."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from argus.errors import FieldError
from argus.sharing.selectors import (
    EARTH_RADIUS_M,
    BBox,
    Circle,
    District,
    area_within,
    haversine_m,
    parse_selector,
)

BUK_CAM: dict[str, Any] = {
    "camera_id": 10,
    "site_id": 100,
    "purpose": "교통단속",
    "region": "광주광역시",
    "district": "북구",
    "lat": 35.174,
    "lon": 126.912,
}


def covers(selector: dict[str, Any], **changes: Any) -> bool:
    return parse_selector(selector).covers(**{**BUK_CAM, **changes})


def test_criteria_intersect_values_unite() -> None:
    parking_in_buk = {"districts": ["북구"], "purposes": ["교통단속"]}
    assert covers(parking_in_buk)
    assert not covers(parking_in_buk, purpose="생활방범")
    assert not covers(parking_in_buk, district="동구")
    either = {"districts": ["북구", "동구"], "purposes": ["교통단속", "생활방범"]}
    assert covers(either, district="동구", purpose="생활방범")
    assert covers({"site_ids": [99, 100]})
    assert not covers({"site_ids": [99, 100], "camera_ids": [11]})
    assert covers({"camera_ids": [10, 11]})


def test_district_with_region_needs_the_region_to_match() -> None:
    assert covers({"districts": ["광주광역시 북구"]})
    assert not covers({"districts": ["부산광역시 북구"]})
    assert covers({"districts": ["북구"]}, region="부산광역시")


def test_area_bbox_and_circle() -> None:
    assert covers({"area": {"bbox": [126.9, 35.17, 126.92, 35.18]}})
    assert not covers({"area": {"bbox": [126.95, 35.17, 126.96, 35.18]}})
    assert covers({"area": {"circle": {"lat": 35.174, "lon": 126.913, "radius_m": 100}}})
    assert not covers({"area": {"circle": {"lat": 35.174, "lon": 126.913, "radius_m": 50}}})


@pytest.mark.parametrize(
    ("selector", "field"),
    [
        ({}, "selector"),
        ({"camera_ids": []}, "selector.camera_ids"),
        ({"camera_ids": [0]}, "selector.camera_ids"),
        ({"site_ids": "3"}, "selector.site_ids"),
        ({"purposes": ["주차"]}, "selector.purposes"),
        ({"districts": [" "]}, "selector.districts"),
        ({"area": {"bbox": [1, 2, 3]}}, "selector.area.bbox"),
        ({"area": {"bbox": [127, 35, 126, 36]}}, "selector.area.bbox"),
        (
            {"area": {"circle": {"lat": 35, "lon": 126, "radius_m": 0}}},
            "selector.area.circle.radius_m",
        ),
        ({"area": {"circle": {"lat": 95, "lon": 126, "radius_m": 10}}}, "selector.area.circle"),
        ({"area": {"bbox": [1, 2, 3, 4], "circle": {}}}, "selector.area"),
        ({"cameras": [1]}, "selector.cameras"),
    ],
)
def test_bad_selectors_name_the_criterion(selector: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_selector(selector)
    assert caught.value.field == field


def test_selector_round_trips_through_json() -> None:
    original = parse_selector(
        {
            "camera_ids": [3, 1],
            "districts": ["광주광역시 북구"],
            "area": {"circle": {"lat": 35.1, "lon": 126.9, "radius_m": 500}},
        }
    )
    assert parse_selector(original.as_json()) == original
    assert original.text() == "cameras 1, 3; districts 광주광역시 북구; within 500 m of 35.1,126.9"


def test_narrowing_keeps_every_criterion_with_fewer_values() -> None:
    old = parse_selector({"districts": ["북구", "동구"]})
    assert parse_selector({"districts": ["북구"]}).widening_field(old) is None
    assert parse_selector({"districts": ["광주광역시 북구"]}).widening_field(old) is None
    assert parse_selector({"districts": ["북구"], "camera_ids": [5]}).widening_field(old) is None
    assert parse_selector({"camera_ids": [5]}).widening_field(old) == "selector.districts"
    assert parse_selector({"districts": ["서구"]}).widening_field(old) == "selector.districts"
    narrow_region = parse_selector({"districts": ["광주광역시 북구"]})
    assert (
        parse_selector({"districts": ["북구"]}).widening_field(narrow_region)
        == "selector.districts"
    )


def test_district_parse() -> None:
    assert District.parse("광주광역시  북구") == District("광주광역시", "북구")
    assert District.parse("북구") == District(None, "북구")


lats = st.floats(33.0, 38.5)
lons = st.floats(124.5, 130.0)
radii = st.floats(1.0, 20_000.0)


@given(lats, lons, radii, st.floats(0, 1), st.floats(0, 2 * math.pi), lats, lons, radii)
def test_area_within_is_sound_for_circles(
    lat: float, lon: float, r: float, f: float, bearing: float, lat2: float, lon2: float, r2: float
) -> None:
    inner = Circle(lat, lon, r)
    outer = Circle(lat2, lon2, r2)
    box = BBox(min(lon, lon2), min(lat, lat2), max(lon, lon2) + 0.05, max(lat, lat2) + 0.05)
    # a point of the inner circle: f·r from its centre along a bearing (small-distance offset)
    dist = f * r * 0.999
    plat = lat + math.degrees(dist * math.cos(bearing) / 6_371_008.8)
    plon = lon + math.degrees(
        dist * math.sin(bearing) / (6_371_008.8 * math.cos(math.radians(lat)))
    )
    if not inner.contains(plat, plon):
        return
    if area_within(inner, outer):
        assert outer.contains(plat, plon)
    if area_within(inner, box):
        assert box.contains(plat, plon)


def test_area_within_examples() -> None:
    big = Circle(35.17, 126.91, 1000)
    assert area_within(Circle(35.17, 126.91, 500), big)
    assert not area_within(Circle(35.17, 126.93, 500), big)
    box = BBox(126.9, 35.16, 126.92, 35.18)
    assert area_within(BBox(126.905, 35.165, 126.915, 35.175), box)
    assert area_within(Circle(35.17, 126.91, 500), box)
    assert not area_within(Circle(35.17, 126.91, 2000), box)
    assert not area_within(box, big)  # a box in a circle is not proven: refused as widening
    assert haversine_m(35.0, 127.0, 35.0, 127.0) == 0


def test_distances_agree_with_the_registry() -> None:
    from argus.registry import spatial

    assert EARTH_RADIUS_M == spatial.EARTH_RADIUS_M
    for a, b in [((35.17, 126.91), (35.18, 126.93)), ((33.5, 126.5), (38.2, 128.6))]:
        assert math.isclose(haversine_m(*a, *b), spatial.haversine_m(*a, *b), rel_tol=1e-12)
