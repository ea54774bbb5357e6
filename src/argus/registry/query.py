"""What a camera listing asks for: filters, sort order and page, parsed from plain strings."""

from __future__ import annotations

from dataclasses import dataclass

from argus.errors import FieldError
from argus.registry.vocab import CameraType, Purpose

SORT_KEYS = ("id", "name", "purpose", "installed", "retention_days", "owner_id", "distance")
MAX_RADIUS_M = 100_000.0


@dataclass(frozen=True)
class CameraQuery:
    agency_id: int | None = None
    district: str | None = None
    purpose: Purpose | None = None
    camera_type: CameraType | None = None
    enabled: bool | None = None
    synthetic: bool | None = None
    q: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    near: tuple[float, float] | None = None  # lat, lon
    radius_m: float = 500.0

    def __post_init__(self) -> None:
        if self.near is not None and not 0 <= self.radius_m <= MAX_RADIUS_M:
            raise FieldError("radius", f"must be between 0 and {MAX_RADIUS_M:.0f} metres")

    @property
    def district_parts(self) -> tuple[str | None, str] | None:
        """("광주광역시", "동구") for "광주광역시 동구"; (None, "동구") for "동구"."""
        if not self.district:
            return None
        text = " ".join(self.district.split())
        head, _, tail = text.partition(" ")
        if tail and head.endswith(("시", "도")) and not head.endswith("구"):
            return head, tail
        return None, text


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    if len(parts) != 4:
        raise FieldError("bbox", "give four numbers: min_lon,min_lat,max_lon,max_lat")
    try:
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
    except ValueError as exc:
        raise FieldError("bbox", "give four numbers: min_lon,min_lat,max_lon,max_lat") from exc
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise FieldError("bbox", "longitudes must be between -180 and 180")
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise FieldError("bbox", "latitudes must be between -90 and 90")
    if min_lat > max_lat or min_lon > max_lon:
        raise FieldError("bbox", "the minimum must not exceed the maximum")
    return min_lon, min_lat, max_lon, max_lat


def parse_point(text: str, field: str = "near") -> tuple[float, float]:
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError as exc:
        raise FieldError(field, "give a point as lat,lon, for example 35.1468,126.9222") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise FieldError(field, "latitude must be within ±90 and longitude within ±180")
    return lat, lon


def parse_sort(text: str, near: bool) -> tuple[str, bool]:
    """("name", True) for "-name": the key and whether it is descending."""
    descending = text.startswith("-")
    key = text.lstrip("-+")
    if key not in SORT_KEYS:
        raise FieldError("sort", f"must be one of {', '.join(SORT_KEYS)} (prefix - to reverse)")
    if key == "distance" and not near:
        raise FieldError("sort", "sorting by distance needs a point: give near=lat,lon")
    return key, descending
