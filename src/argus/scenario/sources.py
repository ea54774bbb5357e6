"""Readers for the public data the reference scenarios are planned from.

Each reader takes a path inside the shared data folder (``../shared/data``; every folder there
has a SOURCE.md naming the publisher and licence) and returns plain typed records. They read
only what a plan needs and say clearly what is missing or malformed.

- ``gwangju-cctv-safewalk/cctv.csv``: Gwangju crime-prevention camera sites, re-aggregated from
  행정안전부 전국CCTV표준데이터 by the Gwangju_Safe_Walk project (UTF-8).
- ``korea-schoolzones-std-2020/전국어린이보호구역표준데이터.csv``: 행정안전부 school zones (CP949).
- ``korea-fatal-accidents-2012-2019/*.csv``: 도로교통공단 fatal road crashes (CP949; the
  columns differ by year, ``발생지시도``, ``발생년``, ``경도`` and ``위도`` are in every year).
- ``gwangju-boundaries/districts.geojson``: Gwangju's five districts (KOSTAT SGIS via
  vuski/admdongkor).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from argus.errors import ArgusError

CITY_SITES_CSV = Path("gwangju-cctv-safewalk") / "cctv.csv"
SCHOOL_ZONES_CSV = Path("korea-schoolzones-std-2020") / "전국어린이보호구역표준데이터.csv"
FATAL_CRASHES_DIR = Path("korea-fatal-accidents-2012-2019")
GWANGJU_DISTRICTS_GEOJSON = Path("gwangju-boundaries") / "districts.geojson"

GWANGJU = "광주광역시"
_GWANGJU_PREFIXES = ("광주광역시 ", "광주 ")
# The token after the district is a road name ("서양로93번길") rather than a dong ("금남로1가").
_ROAD_TOKEN = re.compile(r"^\S+(?:로|길)$")


class DataError(ArgusError):
    """A public data file is missing or cannot be used as it is."""


@dataclass(frozen=True)
class CitySiteRow:
    """One row of the Gwangju_Safe_Walk camera-site file: a site and its camera count."""

    line: int
    lat: float
    lon: float
    count: int
    district: str
    address: str


@dataclass(frozen=True)
class SchoolZone:
    """One 어린이보호구역 of the 행정안전부 standard data."""

    row: int
    facility_kind: str
    name: str
    road_address: str | None
    lot_address: str | None
    lat: float
    lon: float
    authority: str


@dataclass(frozen=True)
class FatalCrash:
    """One fatal road crash of the 도로교통공단 open data."""

    year: int
    row: int
    sido: str
    sigungu: str
    lat: float
    lon: float


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file in UTF-8 (with or without BOM) or, failing that, CP949."""
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp949"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [
            {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            for row in csv.DictReader(io.StringIO(text, newline=""))
        ]
    raise DataError(f"{path}: neither UTF-8 nor CP949")


def _float(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def read_city_sites(path: Path) -> list[CitySiteRow]:
    """Every row of ``cctv.csv`` (lat, lon, count, 구, 소재지지번주소); any bad row is an error."""
    rows = read_csv(path)
    needed = {"lat", "lon", "count", "구", "소재지지번주소"}
    if rows and not needed <= rows[0].keys():
        raise DataError(f"{path}: expected the columns {sorted(needed)}")
    out: list[CitySiteRow] = []
    for line, row in enumerate(rows, start=2):
        lat, lon = _float(row["lat"]), _float(row["lon"])
        try:
            count = int(row["count"])
        except ValueError:
            count = 0
        if lat is None or lon is None or count < 1:
            raise DataError(f"{path}, line {line}: bad coordinates or camera count: {row}")
        out.append(CitySiteRow(line, lat, lon, count, row["구"], row["소재지지번주소"]))
    return out


def read_school_zones(path: Path, region: str = GWANGJU) -> list[SchoolZone]:
    """School zones whose providing or managing body or address names ``region``.

    Rows without usable coordinates are left out.
    """
    out: list[SchoolZone] = []
    for row_no, row in enumerate(read_csv(path), start=2):
        fields = ("제공기관명", "관리기관명", "소재지도로명주소", "소재지지번주소")
        if not any(region in row.get(f, "") for f in fields):
            continue
        lat, lon = _float(row.get("위도", "")), _float(row.get("경도", ""))
        if lat is None or lon is None:
            continue
        out.append(
            SchoolZone(
                row=row_no,
                facility_kind=row.get("시설종류", ""),
                name=row.get("대상시설명", ""),
                road_address=row.get("소재지도로명주소") or None,
                lot_address=row.get("소재지지번주소") or None,
                lat=lat,
                lon=lon,
                authority=row.get("관리기관명", ""),
            )
        )
    return out


def read_fatal_crashes(folder: Path, sido: str = "광주") -> list[FatalCrash]:
    """Fatal crashes in ``sido`` (the short 발생지시도, e.g. "광주") from every yearly file."""
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise DataError(f"no fatal-crash files in {folder}")
    out: list[FatalCrash] = []
    for path in files:
        for row_no, row in enumerate(read_csv(path), start=2):
            if row.get("발생지시도") != sido:
                continue
            lat, lon = _float(row.get("위도", "")), _float(row.get("경도", ""))
            year = row.get("발생년", "")
            if lat is None or lon is None or not year.isdigit():
                continue
            out.append(FatalCrash(int(year), row_no, sido, row.get("발생지시군구", ""), lat, lon))
    return out


class Districts:
    """District polygons of one city, keyed by Korean name, for point-in-polygon tests."""

    def __init__(self, polygons: dict[str, Any]) -> None:
        self._polygons = polygons
        for polygon in polygons.values():
            shapely.prepare(polygon)

    @classmethod
    def read(cls, path: Path) -> Districts:
        if not path.is_file():
            raise DataError(f"data file not found: {path}")
        collection = json.loads(path.read_text(encoding="utf-8"))
        polygons: dict[str, Any] = {}
        for feature in collection.get("features", []):
            name = feature.get("properties", {}).get("name_ko")
            if not name:
                raise DataError(f"{path}: a feature has no name_ko")
            polygons[str(name)] = shapely.geometry.shape(feature["geometry"])
        if not polygons:
            raise DataError(f"{path}: no district features")
        return cls(polygons)

    @property
    def names(self) -> list[str]:
        return list(self._polygons)

    def contains(self, name: str, lat: float, lon: float) -> bool:
        """Whether the point lies strictly inside the named district."""
        return bool(shapely.contains_xy(self._polygons[name], lon, lat))

    def locate(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> list[str | None]:
        """The district strictly containing each point, or None."""
        lat_arr = np.asarray(lats, dtype=np.float64)
        lon_arr = np.asarray(lons, dtype=np.float64)
        out: list[str | None] = [None] * lat_arr.shape[0]
        for name, polygon in self._polygons.items():
            inside = np.asarray(shapely.contains_xy(polygon, lon_arr, lat_arr), dtype=bool)
            for i in np.flatnonzero(inside).tolist():
                out[i] = name
        return out


def normalise_gwangju_address(raw: str) -> tuple[str | None, str | None]:
    """(lot address, road address) of a Gwangju address written in a lot-address column.

    Whitespace is collapsed and the city prefix ("광주 ", "광주광역시 " or none) becomes
    "광주광역시 ". A road-name address found in the column ("북구 서양로93번길 26") is returned as
    the road address instead. Free-text suffixes ("… 인근", "… 앞") are kept as published.
    """
    text = " ".join(raw.split())
    for prefix in _GWANGJU_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    if not text:
        return None, None
    full = f"{GWANGJU} {text}"
    tokens = text.split(" ")
    if len(tokens) >= 2 and _ROAD_TOKEN.match(tokens[1]):
        return None, full
    return full, None
