"""Column names of the standard-data releases, and detection of a file's layout from its header.

Columns are recognised by name (with aliases across releases), never by position, so a new
column order or extra columns need no code change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from argus.registry.stdimport.errors import ImportFormatError


class Field(Enum):
    """What a column holds, whatever the release calls it."""

    AGENCY = "관리기관명"
    ROAD_ADDRESS = "소재지도로명주소"
    LOT_ADDRESS = "소재지지번주소"
    PURPOSE = "설치목적구분"
    COUNT = "카메라대수"
    RESOLUTION = "카메라화소수"
    FACING = "촬영방면정보"
    RETENTION = "보관일수"
    INSTALLED = "설치연월"
    PHONE = "관리기관전화번호"
    LAT = "WGS84위도"
    LON = "WGS84경도"
    DATA_DATE = "데이터기준일자"
    MANAGE_NO = "관리번호"
    AUTHORITY_CODE = "개방자치단체코드"
    PROVIDER_NAME = "제공기관명"


# The order of cells handed to the row reader.
FIELDS: tuple[Field, ...] = tuple(Field)

# Known names of each field, as written in the releases (the first is the current one).
ALIASES: Mapping[Field, tuple[str, ...]] = {
    Field.AGENCY: ("관리기관명",),
    Field.ROAD_ADDRESS: ("소재지도로명주소",),
    Field.LOT_ADDRESS: ("소재지지번주소",),
    Field.PURPOSE: ("설치목적구분",),
    Field.COUNT: ("카메라대수",),
    Field.RESOLUTION: ("카메라화소수", "카메라화소"),
    Field.FACING: ("촬영방면정보", "촬영방면"),
    Field.RETENTION: ("보관일수",),
    Field.INSTALLED: ("설치연월", "설치년월", "설치연도", "설치년도"),
    Field.PHONE: ("관리기관전화번호",),
    Field.LAT: ("WGS84위도", "위도"),
    Field.LON: ("WGS84경도", "경도"),
    Field.DATA_DATE: ("데이터기준일자",),
    Field.MANAGE_NO: ("관리번호",),
    Field.AUTHORITY_CODE: ("개방자치단체코드", "제공기관코드"),
    Field.PROVIDER_NAME: ("제공기관명",),
}

# Columns that are known and deliberately not read.
IGNORED_COLUMNS: tuple[str, ...] = ("번호", "데이터갱신구분", "데이터갱신시점", "최종수정시점")

REQUIRED: tuple[Field, ...] = (Field.AGENCY, Field.LAT, Field.LON, Field.COUNT)
YEAR_ONLY_COLUMNS = frozenset({"설치연도", "설치년도"})

STD_15: tuple[str, ...] = (
    "관리기관명",
    "소재지도로명주소",
    "소재지지번주소",
    "설치목적구분",
    "카메라대수",
    "카메라화소수",
    "촬영방면정보",
    "보관일수",
    "설치년월",
    "관리기관전화번호",
    "위도",
    "경도",
    "데이터기준일자",
    "제공기관코드",
    "제공기관명",
)
STD_18: tuple[str, ...] = (
    "개방자치단체코드",
    "관리번호",
    "관리기관명",
    "소재지도로명주소",
    "소재지지번주소",
    "설치목적구분",
    "카메라대수",
    "카메라화소수",
    "촬영방면정보",
    "보관일수",
    "설치연월",
    "관리기관전화번호",
    "WGS84위도",
    "WGS84경도",
    "데이터기준일자",
    "데이터갱신구분",
    "데이터갱신시점",
    "최종수정시점",
)
GWANGJU_MARKERS: tuple[str, ...] = ("카메라화소", "촬영방면", "설치연도")


def header_key(name: str) -> str:
    """A column name reduced for matching: no BOM, no whitespace, case-folded."""
    return "".join(name.replace("\ufeff", "").split()).casefold()


_FIELD_OF_KEY: Mapping[str, Field] = {
    header_key(alias): item for item, aliases in ALIASES.items() for alias in aliases
}
_IGNORED_KEYS = frozenset(header_key(name) for name in IGNORED_COLUMNS)


@dataclass
class ColumnMap:
    """Where each field is in a file, under which name, and what else the header holds."""

    layout: str
    positions: dict[Field, int]
    names: dict[Field, str]
    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    def name(self, item: Field) -> str:
        """The file's own name of the column (or the current standard name when absent)."""
        return self.names.get(item, item.value)

    def has(self, item: Field) -> bool:
        return item in self.positions


def _layout(keys: Sequence[str]) -> str:
    present = set(keys)
    if keys and keys[0] == header_key("번호"):
        return "std-numbered"
    if any(header_key(marker) in present for marker in GWANGJU_MARKERS):
        return "gwangju"
    if {header_key(name) for name in STD_18} <= present:
        return "std-18"
    if {header_key(name) for name in STD_15} <= present:
        return "std-15"
    return "std-other"


def map_columns(header: Sequence[str], coordinates_elsewhere: bool = False) -> ColumnMap:
    """Match a header to the fields; raise ImportFormatError if required columns are missing.

    `coordinates_elsewhere` (GeoJSON with Point geometries) makes 위도/경도 optional.
    """
    names = [" ".join(name.replace("\ufeff", "").split()) for name in header]
    keys = [header_key(name) for name in names]
    positions: dict[Field, int] = {}
    found: dict[Field, str] = {}
    unknown: list[str] = []
    duplicates: list[str] = []
    for index, (name, key) in enumerate(zip(names, keys, strict=True)):
        item = _FIELD_OF_KEY.get(key)
        if item is None:
            if key and key not in _IGNORED_KEYS:
                unknown.append(name)
        elif item in positions:
            duplicates.append(f"{name} (same as {found[item]})")
        else:
            positions[item] = index
            found[item] = name
    required = [
        item for item in REQUIRED if not (coordinates_elsewhere and item in (Field.LAT, Field.LON))
    ]
    missing = [item for item in required if item not in positions]
    if missing:
        wanted = ", ".join(" or ".join(ALIASES[item]) for item in missing)
        shown = ", ".join(name[:40] or "(blank)" for name in names[:40]) or "none"
        if len(names) > 40:
            shown += f", ... ({len(names)} in all)"
        raise ImportFormatError(
            f"the header lacks required columns: {wanted}; the file has columns: {shown}"
        )
    return ColumnMap(_layout(keys), positions, found, unknown, duplicates)
