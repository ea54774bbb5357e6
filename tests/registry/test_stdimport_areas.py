"""The approximate authority areas used to reject misplaced coordinates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from argus.registry.stdimport.areas import (
    FAR_OUTSIDE_KM,
    GWANGJU_DISTRICT_AREAS,
    SIDO_AREAS,
    Box,
    authority_area,
    in_south_korea,
    km_outside,
    km_outside_any,
)
from argus.registry.stdimport.regions import SIDO_NAMES

DISTRICTS = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "data"
    / "gwangju-boundaries"
    / "districts.geojson"
)

# Seats of the 17 시도 governments (approximate, from public maps).
SEATS = {
    "서울특별시": (37.5663, 126.9779),
    "부산광역시": (35.1798, 129.0750),
    "대구광역시": (35.8714, 128.6014),
    "인천광역시": (37.4563, 126.7052),
    "광주광역시": (35.1601, 126.8514),
    "대전광역시": (36.3504, 127.3845),
    "울산광역시": (35.5396, 129.3115),
    "세종특별자치시": (36.4800, 127.2890),
    "경기도": (37.2750, 127.0094),
    "강원특별자치도": (37.8813, 127.7298),
    "충청북도": (36.6357, 127.4912),
    "충청남도": (36.6588, 126.6728),
    "전북특별자치도": (35.8203, 127.1089),
    "전라남도": (34.8161, 126.4629),
    "경상북도": (36.5760, 128.5056),
    "경상남도": (35.2383, 128.6925),
    "제주특별자치도": (33.4890, 126.4983),
}
ISLANDS = {
    "울릉도": ("경상북도", 37.4844, 130.9058),
    "독도": ("경상북도", 37.2426, 131.8669),
    "백령도": ("인천광역시", 37.9667, 124.7167),
    "마라도": ("제주특별자치도", 33.1167, 126.2667),
    "가거도": ("전라남도", 34.0733, 125.1247),
}
ABROAD = {
    "Tokyo": (35.6812, 139.7671),
    "Fukuoka": (33.5904, 130.4017),
    "Tsushima": (34.42, 129.33),
    "Pyongyang": (39.0392, 125.7625),
    "Shanghai": (31.2304, 121.4737),
    "Beijing": (39.9042, 116.4074),
    "Null Island": (0.0, 0.0),
}


def test_every_sido_has_an_area_around_its_seat():
    assert set(SIDO_AREAS) == set(SIDO_NAMES) == set(SEATS)
    for sido, (lat, lon) in SEATS.items():
        assert km_outside_any(SIDO_AREAS[sido], lat, lon) == 0.0, sido
        assert in_south_korea(lat, lon)


@pytest.mark.parametrize("island", sorted(ISLANDS))
def test_islands_are_inside(island: str):
    sido, lat, lon = ISLANDS[island]
    assert km_outside_any(SIDO_AREAS[sido], lat, lon) == 0.0
    assert in_south_korea(lat, lon)


@pytest.mark.parametrize("place", sorted(ABROAD))
def test_abroad_is_outside(place: str):
    assert not in_south_korea(*ABROAD[place])


def test_gwangju_district_boxes_match_the_boundary_file():
    if not DISTRICTS.exists():
        pytest.skip(f"shared data file not found: {DISTRICTS}")
    collection = json.loads(DISTRICTS.read_text(encoding="utf-8"))
    computed = {}
    for feature in collection["features"]:
        ring_points = [point for ring in feature["geometry"]["coordinates"] for point in ring]
        lons = [point[0] for point in ring_points]
        lats = [point[1] for point in ring_points]
        computed[feature["properties"]["name_ko"]] = Box(min(lats), max(lats), min(lons), max(lons))
    assert computed == dict(GWANGJU_DISTRICT_AREAS)
    city = SIDO_AREAS["광주광역시"][0]
    assert city.south == min(box.south for box in computed.values())
    assert city.north == max(box.north for box in computed.values())
    assert city.west == min(box.west for box in computed.values())
    assert city.east == max(box.east for box in computed.values())


def test_distances():
    box = Box(35.0, 36.0, 127.0, 128.0)
    assert km_outside(box, 35.5, 127.5) == 0.0
    assert km_outside(box, 37.0, 127.5) == pytest.approx(111.2, rel=1e-3)
    assert km_outside(box, 35.5, 126.9) == pytest.approx(9.06, rel=1e-2)
    assert FAR_OUTSIDE_KM == 5.0


def test_authority_area_picks_the_smallest_known():
    assert authority_area("광주광역시", "동구") == (
        "광주광역시 동구",
        (GWANGJU_DISTRICT_AREAS["동구"],),
    )
    assert authority_area("광주광역시", None) == ("광주광역시", SIDO_AREAS["광주광역시"])
    assert authority_area("서울특별시", "관악구") == ("서울특별시", SIDO_AREAS["서울특별시"])
    assert authority_area(None, "동구") is None
