"""The parser on small files made here: layouts, encodings, repairs, rejections, bad files."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest

from argus.errors import ArgusError
from argus.registry.stdimport import ImportFormatError, ParsedFile, StdRow, parse_bytes, parse_file
from argus.registry.vocab import AgencyKind, Purpose
from tests.stdlayouts import STD_18

NUMBERED = [
    "번호",
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
]


def std18_row(**changes: str) -> dict[str, str]:
    """A valid current-layout row (광주 동구, in 동구), with some cells changed."""
    row = {
        "개방자치단체코드": "3290000",
        "관리번호": "GJ-DG-0001",
        "관리기관명": "광주광역시 동구청",
        "소재지도로명주소": "광주광역시 동구 필문대로 255",
        "소재지지번주소": "광주광역시 동구 동명동 1-1",
        "설치목적구분": "생활방범",
        "카메라대수": "3",
        "카메라화소수": "200",
        "촬영방면정보": "360도",
        "보관일수": "30",
        "설치연월": "2019-07",
        "관리기관전화번호": "062-608-2000",
        "WGS84위도": "35.146700",
        "WGS84경도": "126.923300",
        "데이터기준일자": "2024-06-30",
        "데이터갱신구분": "I",
        "데이터갱신시점": "2024-07-01 09:00:00",
        "최종수정시점": "2024-07-01 09:00:00",
    }
    row.update(changes)
    return row


def make_csv(
    rows: list[dict[str, str]],
    header: list[str] | None = None,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
) -> bytes:
    columns = header or STD_18
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode(encoding)


def parse_rows(*rows: dict[str, str]) -> ParsedFile:
    return parse_bytes(make_csv(list(rows)), "test.csv")


def only_row(parsed: ParsedFile) -> StdRow:
    assert parsed.rejected == []
    (row,) = parsed.rows
    return row


def row_warnings(parsed: ParsedFile) -> list[str]:
    return [w.reason for w in parsed.warnings if w.line > 0]


THREE_ROWS = [
    std18_row(),
    std18_row(
        관리번호="SE-GA-7",
        관리기관명="서울특별시 관악구청",
        소재지도로명주소="서울특별시 관악구 관악로 145",
        소재지지번주소="",
        설치목적구분="어린이보호",
        카메라대수="1",
        카메라화소수="41",
        촬영방면정보="0",
        보관일수="",
        설치연월="2012-11",
        WGS84위도="37.478100",
        WGS84경도="126.951500",
    ),
    std18_row(관리기관명="동구청", 관리번호="GJ-DG-0002", 카메라대수="2"),
]


def check_three_rows(parsed: ParsedFile) -> None:
    assert parsed.total_rows == 3 and parsed.rejected == [] and parsed.warnings == []
    first, second, third = parsed.rows
    assert [row.line for row in parsed.rows] == [2, 3, 4]
    assert first.agency.canonical == "광주광역시 동구"
    assert first.agency.kind is AgencyKind.DISTRICT
    assert (first.manage_no, first.authority_code, first.count) == ("GJ-DG-0001", "3290000", 3)
    assert (first.purpose, first.purpose_raw) == (Purpose.CRIME_PREVENTION, "생활방범")
    assert (first.resolution_mp, first.resolution_raw, first.facing) == (2.0, "200", "360도")
    assert (first.retention_days, first.installed_year, first.installed_month) == (30, 2019, 7)
    assert (first.lat, first.lon, first.phone) == (35.1467, 126.9233, "062-608-2000")
    assert first.road_address == "광주광역시 동구 필문대로 255"
    assert first.data_date is not None and first.data_date.isoformat() == "2024-06-30"
    assert second.agency.canonical == "서울특별시 관악구"
    assert (second.lot_address, second.facing, second.retention_days) == (None, None, 30)
    assert second.resolution_mp == 0.41
    assert second.purpose is Purpose.CHILD_PROTECTION
    # "동구청" alone: the address tells the 시도.
    assert third.agency.canonical == "광주광역시 동구"
    assert third.agency.raw == "동구청"


def test_current_layout_utf8_with_bom():
    parsed = parse_bytes(make_csv(THREE_ROWS, encoding="utf-8-sig"), "current.csv")
    assert (parsed.format, parsed.encoding, parsed.layout) == ("csv", "utf-8-sig", "std-18")
    check_three_rows(parsed)


def test_current_layout_cp949_and_plain_utf8(tmp_path: Path):
    path = tmp_path / "current-cp949.csv"
    path.write_bytes(make_csv(THREE_ROWS, encoding="cp949"))
    parsed = parse_file(path)
    assert (parsed.name, parsed.encoding, parsed.layout) == ("current-cp949.csv", "cp949", "std-18")
    check_three_rows(parsed)
    plain = parse_bytes(make_csv(THREE_ROWS, encoding="utf-8"))
    assert plain.encoding == "utf-8"
    assert plain.rows == parsed.rows


def test_numbered_layout(tmp_path: Path):
    rows = [
        {
            "번호": str(index + 1),
            "관리기관명": "광주광역시 북구청",
            "소재지도로명주소": "광주광역시 북구 우치로 77",
            "설치목적구분": "교통단속",
            "카메라대수": "1",
            "카메라화소수": "130",
            "보관일수": "30",
            "설치년월": "2016-03",
            "위도": f"{35.17 + index / 1000:.4f}",
            "경도": "126.9120",
            "데이터기준일자": "2020-01-31",
        }
        for index in range(3)
    ]
    path = tmp_path / "numbered.csv"
    path.write_bytes(make_csv(rows, header=NUMBERED, encoding="cp949"))
    parsed = parse_file(path)
    assert parsed.layout == "std-numbered"
    assert parsed.total_rows == 3 and len(parsed.rows) == 3 and parsed.rejected == []
    assert parsed.warnings == []
    assert {row.agency.canonical for row in parsed.rows} == {"광주광역시 북구"}
    assert [row.lat for row in parsed.rows] == [35.17, 35.171, 35.172]
    assert all(row.resolution_mp == 1.3 for row in parsed.rows)
    assert all(row.purpose is Purpose.TRAFFIC_ENFORCEMENT for row in parsed.rows)


def test_column_order_and_extra_columns_do_not_matter():
    reference = parse_bytes(make_csv(THREE_ROWS))
    shuffled = [*STD_18, "비고"]
    random.Random(7).shuffle(shuffled)
    rows = [{**row, "비고": "extra"} for row in THREE_ROWS]
    parsed = parse_bytes(make_csv(rows, header=shuffled))
    assert parsed.layout == "std-18"
    assert parsed.rows == reference.rows
    assert [w.reason for w in parsed.warnings] == ["columns not used: 비고"]


def test_header_spacing_bom_and_tabs():
    header = [f" {name} " for name in STD_18]
    header[0] = "\ufeff" + header[0]
    data = make_csv(THREE_ROWS[:1], header=header, encoding="utf-8", delimiter="\t")
    rows = [{f" {k} ": v for k, v in THREE_ROWS[0].items()}]
    rows[0]["\ufeff 개방자치단체코드 "] = rows[0][" 개방자치단체코드 "]
    data = make_csv(rows, header=header, encoding="utf-8", delimiter="\t")
    parsed = parse_bytes(data)
    assert parsed.layout == "std-18"
    assert only_row(parsed).authority_code == "3290000"


def test_other_layout_with_only_required_columns():
    header = ["관리기관명", "카메라대수", "위도", "경도"]
    parsed = parse_bytes(
        make_csv([std18_row() | {"위도": "35.1467", "경도": "126.9233"}], header=header)
    )
    assert parsed.layout == "std-other"
    row = only_row(parsed)
    assert (row.purpose, row.purpose_raw, row.retention_days) == (Purpose.OTHER, None, 30)
    assert [(w.line, w.reason) for w in parsed.warnings] == [
        (0, "the file has no 설치목적구분 column; every row gets purpose 기타")
    ]


@pytest.mark.parametrize(
    ("written", "year", "month", "warned"),
    [
        ("2015-01", 2015, 1, False),
        ("15-Jan", 2015, 1, True),
        ("Jan-15", 2015, 1, True),
        ("99-Dec", 1999, 12, True),
        ("201501", 2015, 1, False),  # YYYYMM is the current layout's own form
        ("2015.1", 2015, 1, True),
        ("2015. 01.", 2015, 1, True),
        ("2015/01", 2015, 1, True),
        ("2015년 1월", 2015, 1, True),
        ("2015", 2015, None, True),
        ("2015-01-31", 2015, 1, True),
        ("2015-01-31 00:00:00", 2015, 1, True),
        ("42005", 2015, 1, True),  # an Excel serial number: 2015-01-01
        ("", None, None, False),
        ("모름", None, None, True),
        ("2015-13", None, None, True),
        ("1800-01", None, None, True),
    ],
)
def test_installation_dates(written: str, year: int | None, month: int | None, warned: bool):
    parsed = parse_rows(std18_row(설치연월=written))
    row = only_row(parsed)
    assert (row.installed_year, row.installed_month) == (year, month)
    warnings = [w for w in parsed.warnings if w.column == "설치연월"]
    assert bool(warnings) == warned
    if warned:
        assert written.strip() in warnings[0].reason or written in warnings[0].reason


def test_installation_year_column_expects_a_year():
    header = [name if name != "설치연월" else "설치연도" for name in STD_18]
    row = std18_row()
    row["설치연도"] = "2021"
    parsed = parse_bytes(make_csv([row], header=header))
    assert parsed.layout == "gwangju"
    assert (only_row(parsed).installed_year, only_row(parsed).installed_month) == (2021, None)
    assert parsed.warnings == []


def test_installation_after_data_date_is_flagged():
    parsed = parse_rows(std18_row(설치연월="2025-01", 데이터기준일자="2024-06-30"))
    assert only_row(parsed).installed_year == 2025
    assert row_warnings(parsed) == ["설치연월 '2025-01' is later than 데이터기준일자 2024-06-30"]


@pytest.mark.parametrize(
    ("written", "purpose", "warned"),
    [
        ("생활방범", Purpose.CRIME_PREVENTION, False),
        ("재난재해", Purpose.DISASTER, False),
        ("차량방범", Purpose.VEHICLE_CRIME, False),
        ("기타", Purpose.OTHER, False),
        ("어린이 보호", Purpose.CHILD_PROTECTION, True),
        ("공원및놀이터", Purpose.OTHER, True),
        ("", Purpose.OTHER, True),
    ],
)
def test_purposes(written: str, purpose: Purpose, warned: bool):
    parsed = parse_rows(std18_row(설치목적구분=written))
    row = only_row(parsed)
    assert row.purpose is purpose
    assert row.purpose_raw == (written or None)
    assert bool(row_warnings(parsed)) == warned


def test_unknown_purpose_warning_text():
    parsed = parse_rows(std18_row(설치목적구분="공원및놀이터"))
    (warning,) = parsed.warnings
    assert (warning.line, warning.column) == (2, "설치목적구분")
    assert warning.reason == "설치목적구분 '공원및놀이터' is not a standard purpose; stored as 기타"


@pytest.mark.parametrize(
    ("written", "megapixels", "warned"),
    [
        ("200", 2.0, False),
        ("200만", 2.0, False),
        ("200만화소", 2.0, False),
        ("41", 0.41, False),
        ("130", 1.3, False),
        ("2MP", 2.0, False),
        ("0", None, False),
        ("", None, False),
        ("고화질", None, True),
        ("2", 0.02, True),
    ],
)
def test_resolutions(written: str, megapixels: float | None, warned: bool):
    parsed = parse_rows(std18_row(카메라화소수=written))
    row = only_row(parsed)
    assert row.resolution_mp == megapixels
    assert row.resolution_raw == (written or None)
    assert bool(row_warnings(parsed)) == warned


@pytest.mark.parametrize(
    ("written", "days", "warned"),
    [
        ("30", 30, False),
        ("30일", 30, False),
        ("90", 90, False),
        ("", 30, False),
        ("한달", 30, True),
        ("0", 30, True),
        ("3대", 30, True),
    ],
)
def test_retention(written: str, days: int, warned: bool):
    parsed = parse_rows(std18_row(보관일수=written))
    assert only_row(parsed).retention_days == days
    assert bool(row_warnings(parsed)) == warned


def test_facing_placeholder_is_dropped():
    assert only_row(parse_rows(std18_row(촬영방면정보="0"))).facing is None
    assert only_row(parse_rows(std18_row(촬영방면정보=""))).facing is None
    assert only_row(parse_rows(std18_row(촬영방면정보="정면 90도"))).facing == "정면 90도"


def test_swapped_coordinates_are_repaired():
    parsed = parse_rows(std18_row(WGS84위도="126.923300", WGS84경도="35.146700"))
    row = only_row(parsed)
    assert (row.lat, row.lon) == (35.1467, 126.9233)
    (warning,) = parsed.warnings
    assert (warning.line, warning.column) == (2, "WGS84위도")
    assert "swapped" in warning.reason


def test_stray_spaces_are_removed_with_warnings():
    parsed = parse_rows(
        std18_row(
            관리기관명=" 광주광역시  동구 ",
            카메라대수=" 3 ",
            소재지도로명주소="광주광역시 동구  필문대로 255",
            WGS84위도="35.146700 ",
        )
    )
    row = only_row(parsed)
    assert row.agency.canonical == "광주광역시 동구"
    assert row.agency.raw == " 광주광역시  동구 "
    assert (row.count, row.lat) == (3, 35.1467)
    assert row.road_address == "광주광역시 동구 필문대로 255"
    assert sorted(w.column or "" for w in parsed.warnings) == sorted(
        ["관리기관명", "카메라대수", "소재지도로명주소", "WGS84위도"]
    )
    assert all(w.reason.startswith("stray spaces removed") for w in parsed.warnings)


def test_count_with_unit_is_repaired():
    parsed = parse_rows(std18_row(카메라대수="3대"))
    assert only_row(parsed).count == 3
    assert row_warnings(parsed) == ["카메라대수 '3대' read as 3"]


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        ({"카메라대수": "두대"}, "카메라대수", "카메라대수 '두대' is not a number"),
        ({"카메라대수": "2.5"}, "카메라대수", "카메라대수 '2.5' is not a whole number"),
        ({"카메라대수": "0"}, "카메라대수", "카메라대수 0 is less than 1"),
        ({"카메라대수": "-1"}, "카메라대수", "카메라대수 -1 is less than 1"),
        ({"카메라대수": ""}, "카메라대수", "카메라대수 is empty"),
        ({"관리기관명": ""}, "관리기관명", "관리기관명 is empty"),
        ({"WGS84위도": ""}, "WGS84위도", "WGS84위도 is empty"),
        ({"WGS84경도": "동경 126도"}, "WGS84경도", "WGS84경도 '동경 126도' is not a number"),
        ({"WGS84위도": "nan"}, "WGS84위도", "WGS84위도 'nan' is not a finite number"),
        (
            {"WGS84위도": "95", "WGS84경도": "200"},
            "WGS84위도",
            "WGS84위도/WGS84경도 (95, 200) are impossible coordinates",
        ),
        (
            {"WGS84위도": "0", "WGS84경도": "0"},
            "WGS84위도",
            "WGS84위도/WGS84경도 (0, 0) is outside South Korea",
        ),
        (
            {"WGS84위도": "35.6812", "WGS84경도": "139.7671"},  # Tokyo
            "WGS84위도",
            "WGS84위도/WGS84경도 (35.6812, 139.767) is outside South Korea",
        ),
    ],
)
def test_rejections(changes: dict[str, str], column: str, reason: str):
    parsed = parse_rows(std18_row(**changes))
    assert parsed.total_rows == 1 and parsed.rows == [] and parsed.warnings == []
    assert [(i.line, i.column, i.reason) for i in parsed.rejected] == [(2, column, reason)]


def test_every_problem_of_a_rejected_row_is_listed():
    parsed = parse_rows(std18_row(카메라대수="많음", WGS84위도="", WGS84경도="x"))
    assert [i.column for i in parsed.rejected] == ["카메라대수", "WGS84위도", "WGS84경도"]
    assert {i.line for i in parsed.rejected} == {2}


def test_far_outside_the_authority_area_is_rejected():
    # 광산구 (west Gwangju), ~19 km west of 동구's bounding box.
    far = std18_row(WGS84위도="35.150000", WGS84경도="126.700000")
    # 2-3 km east of 동구's box: within the 5 km tolerance.
    near = std18_row(WGS84위도="35.150000", WGS84경도="127.020000")
    # The same far point is fine for the city itself.
    city = std18_row(관리기관명="광주광역시", WGS84위도="35.150000", WGS84경도="126.700000")
    # A 동구 of unknown 시도 (no hint) is only checked against South Korea.
    unknown = std18_row(
        관리기관명="동구청",
        소재지도로명주소="",
        소재지지번주소="",
        WGS84위도="37.5",
        WGS84경도="127.0",
    )
    parsed = parse_rows(far, near, city, unknown)
    (issue,) = parsed.rejected
    assert (issue.line, issue.column) == (2, "WGS84위도")
    assert "km outside 광주광역시 동구" in issue.reason
    assert [row.line for row in parsed.rows] == [3, 4, 5]
    assert parsed.rows[2].agency.region is None


def test_far_outside_a_province():
    row = std18_row(
        관리기관명="부산광역시 해운대구청", WGS84위도="35.146700", WGS84경도="126.923300"
    )
    parsed = parse_rows(row)
    (issue,) = parsed.rejected
    assert "km outside 부산광역시, the area of 부산광역시 해운대구" in issue.reason


def test_line_shape_problems_blank_lines_and_repeated_header():
    text = make_csv([std18_row()], encoding="utf-8").decode()
    good = text.splitlines()[1]
    lines = [
        ",".join(STD_18),
        good,
        "",
        good + ",surplus",
        ",".join(STD_18),
        ",,,,",
        ",".join(good.split(",")[:15]),
        '3290000,X,광주광역시 동구,"광주광역시 동구\n필문대로 1",,생활방범,1,'
        ",,,,,35.1467,126.9233,,,,",
        good,
    ]
    parsed = parse_bytes("\r\n".join(lines).encode())
    assert parsed.total_rows == 6
    assert [row.line for row in parsed.rows] == [2, 7, 8, 10]
    assert parsed.rows[2].road_address == "광주광역시 동구 필문대로 1"
    assert [(i.line, i.reason) for i in parsed.rejected] == [
        (4, "the row has 19 cells but the header has 18"),
        (5, "the line repeats the header"),
    ]
    reasons = {(w.line, w.reason) for w in parsed.warnings}
    assert (0, "2 blank line(s) skipped") in reasons
    assert (
        7,
        "the row has 15 cells but the header has 18; the missing ones were read as empty",
    ) in (reasons)


def test_progress_is_reported():
    seen: list[int] = []
    parse_bytes(make_csv([std18_row()] * 2500), progress=seen.append)
    assert seen == [1000, 2000, 2500]


def feature(properties: dict[str, Any], point: list[Any] | None = None) -> dict[str, Any]:
    geometry = None if point is None else {"type": "Point", "coordinates": point}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def geojson(*features: Any) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


GJ = {"관리기관명": "광주광역시 동구", "카메라대수": 2, "위도": 35.1467, "경도": 126.9233}


def test_geojson_geometry_and_properties():
    parsed = parse_bytes(
        geojson(
            feature(GJ, [126.9233, 35.1467]),  # agree
            feature(GJ | {"위도": 35.1477}, [126.9233, 35.1467]),  # ~111 m apart
            feature(GJ),  # no geometry: properties
            feature({"관리기관명": "광주광역시 동구", "카메라대수": "1"}, [126.93, 35.15]),
            feature({"관리기관명": "광주광역시 동구", "카메라대수": 1}),  # nothing
            feature(GJ, [126.9233]),  # broken point: properties
            "not a feature",
        ),
        "points.json",
    )
    assert (parsed.format, parsed.total_rows) == ("geojson", 7)
    assert [row.line for row in parsed.rows] == [1, 2, 3, 4, 6]
    assert [(row.lat, row.lon) for row in parsed.rows[:4]] == [
        (35.1467, 126.9233),
        (35.1467, 126.9233),
        (35.1467, 126.9233),
        (35.15, 126.93),
    ]
    assert [(i.line, i.reason) for i in parsed.rejected] == [
        (5, "위도 is empty"),
        (5, "경도 is empty"),
        (7, "the feature is not a GeoJSON Feature object"),
    ]
    row_warnings = [(w.line, w.column, w.reason) for w in parsed.warnings if w.line]
    assert row_warnings[0][:2] == (2, "geometry")
    assert "111 m apart" in row_warnings[0][2]
    assert row_warnings[1][:2] == (6, None)
    assert "위도/경도 used" in row_warnings[1][2]


def test_geojson_with_geometry_only():
    props = {"관리기관명": "광주광역시 동구", "카메라대수": 1}
    parsed = parse_bytes(geojson(feature(props, [126.9233, 35.1467]), feature(props)))
    assert [row.line for row in parsed.rows] == [1]
    assert [(i.line, i.reason) for i in parsed.rejected] == [
        (2, "the feature has no Point geometry and no coordinates")
    ]


def test_geojson_empty_collection():
    parsed = parse_bytes(geojson())
    assert (parsed.total_rows, parsed.rows, parsed.rejected) == (0, [], [])


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "x.csv", "x.csv: the file is empty"),
        (b"PK\x03\x04rest", "x.xlsx", "x.xlsx: the file is a ZIP archive"),
        (b"\xff\xfe\x00a", "x.csv", "UTF-16"),
        (b"\x80\xff\xff\xff", "x.csv", "neither UTF-8 nor CP949/EUC-KR"),
        (b'{"type": "FeatureCollection", "features": [', "x.geojson", "invalid JSON"),
        (b"[1, 2]", "x.json", "not a GeoJSON FeatureCollection"),
        (b'{"type": "Feature"}', "x.json", "not a GeoJSON FeatureCollection"),
        (b"hello", "x.geojson", "invalid JSON"),
        (
            "관리기관명,위도,비고\n광주광역시,35.1,\n".encode(),
            "x.csv",
            "the header lacks required columns: WGS84경도 or 경도, 카메라대수; "
            "the file has columns: 관리기관명, 위도, 비고",
        ),
    ],
)
def test_unreadable_files(data: bytes, name: str, message: str):
    with pytest.raises(ImportFormatError) as caught:
        parse_bytes(data, name)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ArgusError)


def test_missing_file_is_an_import_error(tmp_path: Path):
    with pytest.raises(ImportFormatError, match="cannot be read"):
        parse_file(tmp_path / "absent.csv")


def test_a_runaway_quoted_field_is_an_import_error():
    data = (",".join(STD_18) + '\r\n"' + "x" * 200_000).encode()
    with pytest.raises(ImportFormatError, match="cannot be read as CSV"):
        parse_bytes(data, "runaway.csv")
