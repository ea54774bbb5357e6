"""Approximate areas of the 시도 and of Gwangju's districts, used to catch misplaced coordinates.

The 시도 boxes are APPROXIMATE: hand-drawn from public geography (extreme points of each province,
including islands such as 백령도, 가거도, 마라도, 울릉도 and 독도) with a margin of a few
kilometres, and checked against the coordinates of the national school-zone and fatal-accident
open data. Provinces with far-off islands get more than one box so that the open sea and North
Korea are mostly left out. They are good enough to reject a point tens of kilometres away from its
authority, not to decide which side of a boundary a camera stands on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

from argus.registry.stdimport import regions as r

# A point more than this far outside its authority's box is rejected as "far outside".
FAR_OUTSIDE_KM = 5.0

_KM_PER_DEG_LAT = 111.2


class Box(NamedTuple):
    south: float
    north: float
    west: float
    east: float


SIDO_AREAS: Mapping[str, tuple[Box, ...]] = {
    r.SEOUL: (Box(37.41, 37.72, 126.76, 127.19),),
    r.BUSAN: (Box(34.87, 35.40, 128.75, 129.32),),
    r.DAEGU: (Box(35.59, 36.36, 128.33, 128.81),),
    r.INCHEON: (
        Box(36.90, 37.83, 125.95, 126.81),  # mainland, 강화, 영종 and the southern islands
        Box(37.60, 38.00, 124.55, 125.80),  # 백령도, 대청도, 연평도
    ),
    # 광주: the city outline's bounding box (see GWANGJU_DISTRICT_AREAS for the source).
    r.GWANGJU: (Box(35.052386, 35.258952, 126.646386, 127.021718),),
    r.DAEJEON: (Box(36.17, 36.51, 127.23, 127.57),),
    r.ULSAN: (Box(35.31, 35.74, 128.95, 129.48),),
    r.SEJONG: (Box(36.39, 36.77, 127.13, 127.42),),
    r.GYEONGGI: (Box(36.88, 38.31, 126.35, 127.87),),
    r.GANGWON: (Box(37.01, 38.63, 127.08, 129.38),),
    r.CHUNGBUK: (Box(35.97, 37.27, 127.26, 128.67),),
    r.CHUNGNAM: (Box(35.96, 37.08, 125.50, 127.65),),
    r.JEONBUK: (Box(35.27, 36.17, 125.95, 127.93),),
    r.JEONNAM: (Box(33.85, 35.51, 125.00, 127.91),),
    r.GYEONGBUK: (
        Box(35.55, 37.15, 127.79, 129.61),  # mainland
        Box(37.22, 37.57, 130.76, 131.89),  # 울릉도 and 독도
    ),
    r.GYEONGNAM: (Box(34.45, 35.92, 127.54, 129.23),),
    r.JEJU: (Box(33.10, 34.01, 126.08, 126.99),),
}

# Bounding boxes of Gwangju's five districts, computed once from
# ../shared/data/gwangju-boundaries/districts.geojson: boundaries from 통계청 통계지리정보서비스
# (SGIS) census boundaries as corrected by vuski/admdongkor (ver20210401).
GWANGJU_DISTRICT_AREAS: Mapping[str, Box] = {
    "동구": Box(35.072567, 35.165538, 126.907271, 126.997866),
    "서구": Box(35.090943, 35.178585, 126.800360, 126.909972),
    "남구": Box(35.052386, 35.152419, 126.752815, 126.929872),
    "북구": Box(35.114571, 35.258952, 126.836344, 127.021718),
    "광산구": Box(35.069968, 35.258611, 126.646386, 126.859707),
}

_ALL_BOXES: tuple[Box, ...] = tuple(box for boxes in SIDO_AREAS.values() for box in boxes)
# One box around all of them, for a quick first test.
_KOREA_OUTLINE = Box(
    min(b.south for b in _ALL_BOXES),
    max(b.north for b in _ALL_BOXES),
    min(b.west for b in _ALL_BOXES),
    max(b.east for b in _ALL_BOXES),
)


def km_outside(box: Box, lat: float, lon: float) -> float:
    """Distance in km from the point to the box (0 inside), on a local flat approximation."""
    dlat = max(box.south - lat, 0.0, lat - box.north)
    dlon = max(box.west - lon, 0.0, lon - box.east)
    if dlat == 0.0 and dlon == 0.0:
        return 0.0
    km_per_deg_lon = _KM_PER_DEG_LAT * math.cos(math.radians(min(abs(lat), 89.9)))
    return math.hypot(dlat * _KM_PER_DEG_LAT, dlon * km_per_deg_lon)


def km_outside_any(boxes: Sequence[Box], lat: float, lon: float) -> float:
    """Distance in km from the point to the nearest of the boxes (0 inside one)."""
    return min(km_outside(box, lat, lon) for box in boxes)


def in_south_korea(lat: float, lon: float) -> bool:
    """Whether the point is within FAR_OUTSIDE_KM of some 시도 box."""
    if km_outside(_KOREA_OUTLINE, lat, lon) > FAR_OUTSIDE_KM:
        return False
    return km_outside_any(_ALL_BOXES, lat, lon) <= FAR_OUTSIDE_KM


@lru_cache(maxsize=1024)
def authority_area(region: str | None, district: str | None) -> tuple[str, tuple[Box, ...]] | None:
    """The name and boxes of the smallest known area for a 시도 and 시군구, or None if unknown."""
    if region is None:
        return None
    if region == r.GWANGJU and district is not None and district in GWANGJU_DISTRICT_AREAS:
        return f"{region} {district}", (GWANGJU_DISTRICT_AREAS[district],)
    boxes = SIDO_AREAS.get(region)
    if boxes is None:
        return None
    return region, boxes


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Approximate distance in metres between two nearby points (equirectangular)."""
    mean_lat = math.radians((lat1 + lat2) / 2.0)
    dy = (lat2 - lat1) * _KM_PER_DEG_LAT * 1000.0
    dx = (lon2 - lon1) * _KM_PER_DEG_LAT * 1000.0 * math.cos(mean_lat)
    return math.hypot(dx, dy)
