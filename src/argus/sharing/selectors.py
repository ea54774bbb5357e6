"""Which of the owner's cameras an agreement covers.

A selector has up to five criteria: explicit camera ids, site ids, the cameras' standard
installation purposes (the registry's 설치목적구분, e.g. 교통단속), districts, and one area (a
bounding box or a circle). **Criteria combine by intersection; the values within one criterion by
union.** ``{"districts": ["북구"], "purposes": ["교통단속"]}`` is "북구's parking-enforcement
cameras"; ``{"site_ids": [3, 4]}`` is "the cameras at site 3 or site 4". Only the owner agency's
own cameras are ever covered: the selector narrows the owner's cameras, it never reaches beyond
them. A selector with no criterion at all is refused (to share everything, name the districts).

Intersection was chosen because it makes every added criterion a narrowing, so an owner can
answer "which of my cameras does this cover?" by reading the criteria one by one, and an
agreement can be narrowed without a new acceptance by adding a criterion or removing values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from argus.errors import FieldError
from argus.registry.query import CameraQuery
from argus.registry.vocab import Purpose

MAX_RADIUS_M = 100_000.0
EARTH_RADIUS_M = 6_371_008.8  # the registry's sphere (argus.registry.spatial), without scipy
_CONTAIN_SLACK_M = 1e-6


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (the registry's sphere and formula, in plain floats)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon

    def text(self) -> str:
        return f"box {self.min_lon},{self.min_lat},{self.max_lon},{self.max_lat}"

    def as_json(self) -> dict[str, Any]:
        return {"bbox": [self.min_lon, self.min_lat, self.max_lon, self.max_lat]}


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    radius_m: float

    def contains(self, lat: float, lon: float) -> bool:
        return haversine_m(self.lat, self.lon, lat, lon) <= self.radius_m

    def lat_lon_extent(self) -> tuple[float, float] | None:
        """Half-height and half-width in degrees of the smallest lat/lon box around the circle."""
        angle = self.radius_m / EARTH_RADIUS_M
        phi = math.radians(self.lat)
        if abs(phi) + angle >= math.pi / 2:
            return None  # the circle reaches a pole
        half_lon = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(phi))))
        return math.degrees(angle), half_lon

    def text(self) -> str:
        return f"within {self.radius_m:g} m of {self.lat},{self.lon}"

    def as_json(self) -> dict[str, Any]:
        return {"circle": {"lat": self.lat, "lon": self.lon, "radius_m": self.radius_m}}


Area = BBox | Circle


def area_within(inner: Area, outer: Area) -> bool:
    """Whether every point of ``inner`` lies in ``outer`` (sound; may say no for exotic cases)."""
    if isinstance(outer, BBox):
        if isinstance(inner, BBox):
            return (
                outer.min_lon <= inner.min_lon
                and inner.max_lon <= outer.max_lon
                and outer.min_lat <= inner.min_lat
                and inner.max_lat <= outer.max_lat
            )
        extent = inner.lat_lon_extent()
        if extent is None:
            return False
        half_lat, half_lon = extent
        return outer.contains(inner.lat - half_lat, inner.lon - half_lon) and outer.contains(
            inner.lat + half_lat, inner.lon + half_lon
        )
    if isinstance(inner, Circle):
        gap = haversine_m(outer.lat, outer.lon, inner.lat, inner.lon)
        return gap + inner.radius_m <= outer.radius_m + _CONTAIN_SLACK_M
    return False  # a box inside a circle is not worth proving: draw a circle instead


@dataclass(frozen=True)
class District:
    region: str | None  # "광주광역시", or None for any region
    district: str  # "북구"

    @classmethod
    def parse(cls, text: str) -> District:
        parts = CameraQuery(district=text).district_parts
        if parts is None:
            raise ValueError("empty district")
        return cls(parts[0], parts[1])

    def matches(self, region: str | None, district: str | None) -> bool:
        return district == self.district and (self.region is None or self.region == region)

    def within(self, other: District) -> bool:
        return self.district == other.district and (
            other.region is None or other.region == self.region
        )

    def text(self) -> str:
        return self.district if self.region is None else f"{self.region} {self.district}"


@dataclass(frozen=True)
class CameraSelector:
    camera_ids: frozenset[int] | None = None
    site_ids: frozenset[int] | None = None
    purposes: frozenset[str] | None = None  # registry Purpose values, e.g. "교통단속"
    districts: frozenset[District] | None = None
    area: Area | None = None

    @property
    def empty(self) -> bool:
        return (
            self.camera_ids is None
            and self.site_ids is None
            and self.purposes is None
            and self.districts is None
            and self.area is None
        )

    def covers(
        self,
        camera_id: int,
        site_id: int,
        purpose: str,
        region: str | None,
        district: str | None,
        lat: float,
        lon: float,
    ) -> bool:
        if self.camera_ids is not None and camera_id not in self.camera_ids:
            return False
        if self.site_ids is not None and site_id not in self.site_ids:
            return False
        if self.purposes is not None and purpose not in self.purposes:
            return False
        if self.districts is not None and not any(
            d.matches(region, district) for d in self.districts
        ):
            return False
        return self.area is None or self.area.contains(lat, lon)

    def widening_field(self, old: CameraSelector) -> str | None:
        """The first criterion in which this selector is not inside ``old``; None if inside.

        Sound for intersection semantics: every criterion of ``old`` must be kept, with values
        that are a subset of the old ones; new criteria may be added.
        """
        if old.camera_ids is not None and not (
            self.camera_ids is not None and self.camera_ids <= old.camera_ids
        ):
            return "selector.camera_ids"
        if old.site_ids is not None and not (
            self.site_ids is not None and self.site_ids <= old.site_ids
        ):
            return "selector.site_ids"
        if old.purposes is not None and not (
            self.purposes is not None and self.purposes <= old.purposes
        ):
            return "selector.purposes"
        if old.districts is not None and not (
            self.districts is not None
            and all(any(new.within(o) for o in old.districts) for new in self.districts)
        ):
            return "selector.districts"
        if old.area is not None and not (
            self.area is not None and area_within(self.area, old.area)
        ):
            return "selector.area"
        return None

    def text(self) -> str:
        parts: list[str] = []
        if self.camera_ids is not None:
            parts.append("cameras " + ", ".join(str(i) for i in sorted(self.camera_ids)))
        if self.site_ids is not None:
            parts.append("sites " + ", ".join(str(i) for i in sorted(self.site_ids)))
        if self.purposes is not None:
            parts.append("purposes " + ", ".join(sorted(self.purposes)))
        if self.districts is not None:
            parts.append("districts " + ", ".join(sorted(d.text() for d in self.districts)))
        if self.area is not None:
            parts.append(self.area.text())
        return "; ".join(parts)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.camera_ids is not None:
            data["camera_ids"] = sorted(self.camera_ids)
        if self.site_ids is not None:
            data["site_ids"] = sorted(self.site_ids)
        if self.purposes is not None:
            data["purposes"] = sorted(self.purposes)
        if self.districts is not None:
            data["districts"] = sorted(d.text() for d in self.districts)
        if self.area is not None:
            data["area"] = self.area.as_json()
        return data


def _ids(values: Any, field: str) -> frozenset[int] | None:
    if values is None:
        return None
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise FieldError(field, "give a list of ids", "body")
    if not values:
        raise FieldError(field, "give at least one id, or leave the criterion out", "body")
    ids: set[int] = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise FieldError(field, f"{value!r} is not an id (a positive integer)", "body")
        ids.add(value)
    return frozenset(ids)


def _strings(values: Any, field: str) -> list[str] | None:
    if values is None:
        return None
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise FieldError(field, "give a list", "body")
    if not values:
        raise FieldError(field, "give at least one value, or leave the criterion out", "body")
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise FieldError(field, "every value must be non-empty text", "body")
    return [v.strip() for v in values]


def _camera_purposes(values: Any) -> frozenset[str] | None:
    texts = _strings(values, "selector.purposes")
    if texts is None:
        return None
    known = {p.value for p in Purpose}
    for text in texts:
        if text not in known:
            raise FieldError(
                "selector.purposes",
                f"{text!r} is not a standard camera purpose: use one of {', '.join(Purpose)}",
                "body",
            )
    return frozenset(texts)


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FieldError(field, f"{value!r} is not a number", "body")
    return float(value)


def _area(value: Any) -> Area | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or len(value) != 1 or not {"bbox", "circle"} & set(value):
        raise FieldError(
            "selector.area",
            'give exactly one of {"bbox": [min_lon, min_lat, max_lon, max_lat]} or '
            '{"circle": {"lat": …, "lon": …, "radius_m": …}}',
            "body",
        )
    if "bbox" in value:
        box = value["bbox"]
        if not isinstance(box, Sequence) or isinstance(box, str) or len(box) != 4:
            raise FieldError("selector.area.bbox", "give four numbers", "body")
        min_lon, min_lat, max_lon, max_lat = (_number(v, "selector.area.bbox") for v in box)
        if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
            raise FieldError("selector.area.bbox", "longitudes must be within ±180", "body")
        if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
            raise FieldError("selector.area.bbox", "latitudes must be within ±90", "body")
        if min_lon > max_lon or min_lat > max_lat:
            raise FieldError(
                "selector.area.bbox", "the minimum must not exceed the maximum", "body"
            )
        return BBox(min_lon, min_lat, max_lon, max_lat)
    circle = value["circle"]
    if not isinstance(circle, Mapping) or set(circle) != {"lat", "lon", "radius_m"}:
        raise FieldError("selector.area.circle", "give lat, lon and radius_m", "body")
    lat = _number(circle["lat"], "selector.area.circle.lat")
    lon = _number(circle["lon"], "selector.area.circle.lon")
    radius = _number(circle["radius_m"], "selector.area.circle.radius_m")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise FieldError("selector.area.circle", "lat within ±90 and lon within ±180", "body")
    if not 0 < radius <= MAX_RADIUS_M:
        raise FieldError(
            "selector.area.circle.radius_m",
            f"must be more than 0 and at most {MAX_RADIUS_M:.0f} metres",
            "body",
        )
    return Circle(lat, lon, radius)


def _districts(values: Any) -> frozenset[District] | None:
    texts = _strings(values, "selector.districts")
    if texts is None:
        return None
    return frozenset(District.parse(text) for text in texts)


SELECTOR_KEYS = ("camera_ids", "site_ids", "purposes", "districts", "area")


def parse_selector(data: Mapping[str, Any] | None) -> CameraSelector:
    """A selector from its JSON form; a FieldError names the first bad criterion."""
    if data is None:
        data = {}
    unknown = sorted(set(data) - set(SELECTOR_KEYS))
    if unknown:
        raise FieldError(
            f"selector.{unknown[0]}",
            f"unknown criterion; use {', '.join(SELECTOR_KEYS)}",
            "body",
        )
    selector = CameraSelector(
        camera_ids=_ids(data.get("camera_ids"), "selector.camera_ids"),
        site_ids=_ids(data.get("site_ids"), "selector.site_ids"),
        purposes=_camera_purposes(data.get("purposes")),
        districts=_districts(data.get("districts")),
        area=_area(data.get("area")),
    )
    if selector.empty:
        raise FieldError(
            "selector",
            "choose the cameras: give camera_ids, site_ids, purposes, districts or area",
            "body",
        )
    return selector
