"""The parser against the real public files in ../shared/data (expected numbers computed here
independently with the csv/json modules, plus facts checked by hand)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest

from argus.registry.stdimport import ParsedFile, parse_file
from argus.registry.vocab import AgencyKind, Purpose

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SEOUL = DATA / "seoul-cctv-std-2020" / "CCTV_서울.csv"
GWANGJU = DATA / "gwangju-cctv-dongmyeong-firelane" / "cctv_points.geojson"

# Hand-written: every 관리기관명 of the Seoul file (with its 제공기관명 as the hint where needed)
# and the agency it must become.
SEOUL_AGENCIES: dict[str, tuple[str, AgencyKind]] = {
    "서울특별시 노원구청": ("서울특별시 노원구", AgencyKind.DISTRICT),
    "서울특별시 강북구청": ("서울특별시 강북구", AgencyKind.DISTRICT),
    "서울특별시 양천구청": ("서울특별시 양천구", AgencyKind.DISTRICT),
    "서울특별시동작구청": ("서울특별시 동작구", AgencyKind.DISTRICT),
    "서울특별시 성동구청": ("서울특별시 성동구", AgencyKind.DISTRICT),
    "서울특별시 중랑구청": ("서울특별시 중랑구", AgencyKind.DISTRICT),
    "서울특별시 중구청": ("서울특별시 중구", AgencyKind.DISTRICT),
    "서울특별시 마포구청": ("서울특별시 마포구", AgencyKind.DISTRICT),
    "서울특별시 영등포구": ("서울특별시 영등포구", AgencyKind.DISTRICT),
    "서울특별시 강동구청": ("서울특별시 강동구", AgencyKind.DISTRICT),
    "서울특별시 종로구청": ("서울특별시 종로구", AgencyKind.DISTRICT),
    "서울특별시 금천구": ("서울특별시 금천구", AgencyKind.DISTRICT),
    "서울특별시 광진구청": ("서울특별시 광진구", AgencyKind.DISTRICT),
    "서울특별시 성북구청": ("서울특별시 성북구", AgencyKind.DISTRICT),
    "서울특별시 강북경찰서": ("서울특별시 강북경찰서", AgencyKind.POLICE),
    "관악구청": ("서울특별시 관악구", AgencyKind.DISTRICT),
    "서울특별시 강남구청": ("서울특별시 강남구", AgencyKind.DISTRICT),
    "서울특별시 동대문구": ("서울특별시 동대문구", AgencyKind.DISTRICT),
    "서울특별시_서초구": ("서울특별시 서초구", AgencyKind.DISTRICT),
    # 강남동 of 안동: its 제공기관명 is 경상북도 안동시 (not Seoul's 강남구).
    "강남동 주민자치센터": ("경상북도 강남동 주민자치센터", AgencyKind.OTHER),
    # A national body; its address (경상북도 김천시) gives the 시도.
    "국립농산물품질관리원 시험연구소": (
        "경상북도 국립농산물품질관리원 시험연구소",
        AgencyKind.OTHER,
    ),
}

# Checked by hand: a 중랑구청 row whose coordinates (37.0812, 127.6171) are ~50 km south-east of
# Seoul, near 이천/음성, while its address is only "서울특별시 중랑구".
SEOUL_FAR_LINE = 4321
# Checked by hand: 서초구 rows with 설치년월 "19-Aug" but 데이터기준일자 2019-05-29, and 강남구
# rows with "20-Sep/Nov/Dec" but 데이터기준일자 2020-02-27 (installation after the data date).
SEOUL_LATE_LINES = {5478, 5781, 5840, 5845, 5846, 5847, 5982}


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"shared data file not found: {path}")


@pytest.fixture(scope="module")
def seoul() -> ParsedFile:
    _need(SEOUL)
    return parse_file(SEOUL)


@pytest.fixture(scope="module")
def seoul_records() -> list[tuple[int, dict[str, str]]]:
    _need(SEOUL)
    text = SEOUL.read_bytes().decode("cp949")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return [(index + 2, row) for index, row in enumerate(reader)]


def test_seoul_file_summary(seoul: ParsedFile, seoul_records: list[tuple[int, dict[str, str]]]):
    assert (seoul.format, seoul.encoding, seoul.layout) == ("csv", "cp949", "std-15")
    assert seoul.total_rows == len(seoul_records) == 6280
    assert len(seoul.rows) == 6279
    assert len(seoul.rejected) == 1


def test_seoul_rejects_only_the_far_away_row(
    seoul: ParsedFile, seoul_records: list[tuple[int, dict[str, str]]]
):
    (issue,) = seoul.rejected
    assert issue.line == SEOUL_FAR_LINE
    assert issue.column == "위도"
    assert "km outside 서울특별시" in issue.reason
    assert "서울특별시 중랑구" in issue.reason
    record = dict(seoul_records)[SEOUL_FAR_LINE]
    assert (record["관리기관명"], record["위도"], record["경도"]) == (
        "서울특별시 중랑구청",
        "37.0812",
        "127.6171",
    )


def test_seoul_cameras_and_agencies(
    seoul: ParsedFile, seoul_records: list[tuple[int, dict[str, str]]]
):
    kept = [row for line, row in seoul_records if line != SEOUL_FAR_LINE]
    expected_rows: Counter[str] = Counter()
    expected_cameras: Counter[str] = Counter()
    for row in kept:
        canonical = SEOUL_AGENCIES[row["관리기관명"]][0]
        expected_rows[canonical] += 1
        expected_cameras[canonical] += int(row["카메라대수"])
    all_cameras = sum(int(row["카메라대수"]) for _, row in seoul_records)
    far_cameras = int(dict(seoul_records)[SEOUL_FAR_LINE]["카메라대수"])
    assert (all_cameras, far_cameras) == (12227, 2)
    assert sum(row.count for row in seoul.rows) == sum(expected_cameras.values()) == 12225

    got_rows = Counter(std_row.agency.canonical for std_row in seoul.rows)
    got_cameras: Counter[str] = Counter()
    for std_row in seoul.rows:
        got_cameras[std_row.agency.canonical] += std_row.count
    assert got_rows == expected_rows
    assert got_cameras == expected_cameras
    # A few by hand, from the SOURCE.md listing.
    assert got_rows["서울특별시 노원구"] == 1232
    assert got_rows["서울특별시 동작구"] == 697
    assert got_rows["서울특별시 중랑구"] == 415 - 1
    for std_row in seoul.rows:
        canonical, kind = SEOUL_AGENCIES[std_row.agency.raw]
        assert (std_row.agency.canonical, std_row.agency.kind) == (canonical, kind)


def test_seoul_agency_details(seoul: ParsedFile):
    by_raw = {row.agency.raw: row.agency for row in seoul.rows}
    dongjak = by_raw["서울특별시동작구청"]
    assert (dongjak.region, dongjak.district, dongjak.parent) == (
        "서울특별시",
        "동작구",
        "서울특별시",
    )
    police = by_raw["서울특별시 강북경찰서"]
    assert (police.region, police.district, police.parent) == ("서울특별시", None, None)
    assert by_raw["강남동 주민자치센터"].region == "경상북도"
    assert by_raw["국립농산물품질관리원 시험연구소"].region == "경상북도"


def test_seoul_warnings(seoul: ParsedFile, seoul_records: list[tuple[int, dict[str, str]]]):
    kept = [(line, row) for line, row in seoul_records if line != SEOUL_FAR_LINE]
    by_column = Counter(issue.column for issue in seoul.warnings)

    parks = {line for line, row in kept if row["설치목적구분"] == "공원및놀이터"}
    assert len(parks) == 108
    purpose_warnings = [w for w in seoul.warnings if w.column == "설치목적구분"]
    assert {w.line for w in purpose_warnings} == parks
    assert by_column["설치목적구분"] == 108

    mangled = {line for line, row in kept if row["설치년월"]}
    late = [w for w in seoul.warnings if "later than" in w.reason]
    assert {w.line for w in late} == SEOUL_LATE_LINES
    read_as = [w for w in seoul.warnings if w.column == "설치년월" and "Excel-mangled" in w.reason]
    assert {w.line for w in read_as} == mangled
    assert by_column["설치년월"] == len(mangled) + len(SEOUL_LATE_LINES)

    messy = {
        (line, column)
        for line, row in kept
        for column, value in row.items()
        if value != " ".join(value.split())
    }
    assert len(messy) == 16
    stray = {(w.line, w.column) for w in seoul.warnings if w.reason.startswith("stray spaces")}
    assert stray == messy

    assert set(by_column) == {"설치목적구분", "설치년월", "소재지도로명주소", "소재지지번주소"}


def test_seoul_values(seoul: ParsedFile, seoul_records: list[tuple[int, dict[str, str]]]):
    rows = {row.line: row for row in seoul.rows}
    first = rows[2]
    assert first.agency.canonical == "서울특별시 관악구"
    assert (first.installed_year, first.installed_month) == (2015, 1)
    assert first.purpose is Purpose.MULTI
    assert first.resolution_mp == 2.0 and first.resolution_raw == "200"
    assert first.facing == "반경 30~150미터 이내(기종따라 다름)"
    assert first.authority_code == "3200000"
    assert first.manage_no is None
    assert (first.lat, first.lon) == (37.4781, 126.9143)
    assert first.data_date is not None and first.data_date.isoformat() == "2019-10-31"
    assert rows[3].facing is None  # "0"
    assert (rows[3].installed_year, rows[3].installed_month) == (2014, 8)

    records = dict(seoul_records)
    for line, row in rows.items():
        record = records[line]
        if record["설치목적구분"] == "공원및놀이터":
            assert row.purpose is Purpose.OTHER and row.purpose_raw == "공원및놀이터"
        if record["카메라화소수"] == "41":
            assert row.resolution_mp == 0.41
        if not record["카메라화소수"]:
            assert row.resolution_mp is None and row.resolution_raw is None
        if not record["보관일수"]:
            assert row.retention_days == 30
        if not record["설치년월"]:
            assert row.installed_year is None and row.installed_month is None


@pytest.fixture(scope="module")
def gwangju() -> ParsedFile:
    _need(GWANGJU)
    return parse_file(GWANGJU)


def test_gwangju_geojson(gwangju: ParsedFile):
    features = json.loads(GWANGJU.read_text(encoding="utf-8"))["features"]
    assert (gwangju.format, gwangju.encoding, gwangju.layout) == ("geojson", "utf-8", "gwangju")
    assert gwangju.total_rows == len(features) == 53
    assert len(gwangju.rows) == 53
    assert gwangju.rejected == []
    cameras = sum(feature["properties"]["카메라대수"] for feature in features)
    assert cameras == 90
    assert sum(row.count for row in gwangju.rows) == cameras
    assert Counter(row.agency.canonical for row in gwangju.rows) == {"광주광역시": 53}
    agency = gwangju.rows[0].agency
    assert (agency.kind, agency.region, agency.district, agency.parent) == (
        AgencyKind.CITY,
        "광주광역시",
        None,
        None,
    )


def test_gwangju_values_and_warnings(gwangju: ParsedFile):
    features = json.loads(GWANGJU.read_text(encoding="utf-8"))["features"]
    assert [(w.line, w.column) for w in gwangju.warnings] == [(0, None), (0, None)]
    reasons = [w.reason for w in gwangju.warnings]
    assert any("no 설치목적구분 column" in reason for reason in reasons)
    assert any("road_name_from_addr" in reason for reason in reasons)
    for row, feature in zip(gwangju.rows, features, strict=True):
        props = feature["properties"]
        assert row.purpose is Purpose.OTHER and row.purpose_raw is None
        assert row.resolution_mp == 2.0 and row.resolution_raw == "200만"
        assert row.facing == "360도"
        assert row.retention_days == 30
        assert (row.installed_year, row.installed_month) == (props["설치연도"], None)
        assert (row.lat, row.lon) == (props["위도"], props["경도"])
        assert row.road_address == props["소재지도로명주소"]
        assert row.lot_address == props["소재지지번주소"]
        assert row.data_date is not None and row.data_date.isoformat() == "2026-06-30"
