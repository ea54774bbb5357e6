"""What the parser produces: normalised agencies, accepted rows, issues and the file summary."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from argus.registry.vocab import AgencyKind, Purpose


@dataclass(frozen=True, slots=True)
class AgencyName:
    """An agency name as written, and what it means."""

    canonical: str
    """"광주광역시 동구", "서울특별시 관악구", "광주광역시", "서울특별시 강북경찰서", ..."""
    kind: AgencyKind
    region: str | None
    """Full 시도 name, e.g. "광주광역시"; None when it cannot be told."""
    district: str | None
    """시군구 part, e.g. "동구" or "수원시 장안구"; None for a 시도-level agency."""
    parent: str | None
    """Canonical name of the 시도 agency for a district, else None."""
    raw: str


@dataclass(frozen=True, slots=True)
class StdRow:
    """One accepted row (a camera site) of a standard-data file."""

    line: int
    manage_no: str | None
    authority_code: str | None
    agency: AgencyName
    road_address: str | None
    lot_address: str | None
    purpose: Purpose
    purpose_raw: str | None
    count: int
    resolution_mp: float | None
    resolution_raw: str | None
    facing: str | None
    retention_days: int
    installed_year: int | None
    installed_month: int | None
    phone: str | None
    lat: float
    lon: float
    data_date: datetime.date | None


@dataclass(frozen=True, slots=True)
class RowIssue:
    """Why a row was rejected, or what was repaired in it. Line 0 is about the whole file."""

    line: int
    column: str | None
    reason: str


@dataclass
class ParsedFile:
    """The outcome of parsing one file: every data row is in `rows` or in `rejected`."""

    name: str
    format: str
    encoding: str
    layout: str
    total_rows: int = 0
    rows: list[StdRow] = field(default_factory=list)
    rejected: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
