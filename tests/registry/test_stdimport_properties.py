"""Property tests: whatever the rows hold, the parser never loses one and never crashes on one."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argus.registry.stdimport import ImportFormatError, ParsedFile, parse_bytes
from argus.registry.stdimport.areas import GWANGJU_DISTRICT_AREAS, SIDO_AREAS
from argus.registry.vocab import Purpose
from tests.stdlayouts import STD_18

LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what ends a line for the csv module
ENCODINGS = ("utf-8", "utf-8-sig", "cp949")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def encode(text: str, encoding: str) -> bytes:
    """The text in the wanted encoding, or in UTF-8 when CP949 cannot hold it."""
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


def to_csv(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def assert_accounted(parsed: ParsedFile) -> None:
    """Every data row is either accepted or rejected, never both, never neither."""
    accepted = [row.line for row in parsed.rows]
    rejected = {issue.line for issue in parsed.rejected}
    assert len(accepted) == len(set(accepted))
    assert not rejected & set(accepted)
    assert len(accepted) + len(rejected) == parsed.total_rows
    assert all(issue.line > 0 for issue in parsed.rejected)


cell_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", " ", "0", "1", "30", "37.5", "126.9", "15-Jan", "생활방범", "200만", "nan"]
    ),
    st.from_regex(r"-?[0-9]{1,3}(\.[0-9]{1,8})?", fullmatch=True),
)


@SETTINGS
@given(
    rows=st.lists(st.lists(cell_text, min_size=18, max_size=18), max_size=8),
    encoding=st.sampled_from(ENCODINGS),
)
def test_random_cells_never_lose_a_row(rows: list[list[str]], encoding: str):
    data = encode(to_csv(STD_18, rows), encoding)
    parsed = parse_bytes(data, "random.csv")
    assert parsed.layout == "std-18"
    non_blank = [row for row in rows if not all(not cell or cell.isspace() for cell in row)]
    assert parsed.total_rows == len(non_blank)
    assert_accounted(parsed)


@SETTINGS
@given(
    lines=st.lists(st.text(max_size=120), max_size=8),
    encoding=st.sampled_from(ENCODINGS),
    separator=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_ill_formed_lines_never_crash(lines: list[str], encoding: str, separator: str):
    text = separator.join([",".join(STD_18), *lines])
    try:
        parsed = parse_bytes(encode(text, encoding), "ill.csv")
    except ImportFormatError:
        return
    assert_accounted(parsed)


@SETTINGS
@given(data=st.binary(max_size=300), name=st.sampled_from(["x.csv", "x.geojson", "x"]))
def test_random_bytes_only_raise_import_format_error(data: bytes, name: str):
    try:
        parsed = parse_bytes(data, name)
    except ImportFormatError as error:
        assert "\n" not in str(error)
        return
    assert_accounted(parsed)


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
feature_strategy = st.one_of(
    json_value,
    st.fixed_dictionaries(
        {
            "type": st.just("Feature"),
            "properties": st.one_of(
                json_value,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "관리기관명": json_value | st.just("광주광역시 동구"),
                        "카메라대수": json_value | st.integers(0, 5),
                        "위도": json_value | st.floats(35.0, 35.3),
                        "경도": json_value | st.floats(126.6, 127.1),
                        "설치연도": json_value,
                        "카메라화소": json_value,
                    },
                ),
            ),
            "geometry": st.one_of(
                json_value,
                st.fixed_dictionaries(
                    {"type": st.just("Point"), "coordinates": st.lists(json_value, max_size=3)}
                ),
            ),
        }
    ),
)


@SETTINGS
@given(features=st.lists(feature_strategy, max_size=6))
def test_random_geojson_features_never_lose_a_row(features: list[Any]):
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    try:
        parsed = parse_bytes(data, "random.geojson")
    except ImportFormatError:
        return
    assert parsed.total_rows == len(features)
    assert_accounted(parsed)


# Well-formed rows: (관리기관명, expected canonical, area to draw points from).
AGENCIES = [
    ("광주광역시 동구청", "광주광역시 동구", GWANGJU_DISTRICT_AREAS["동구"]),
    ("광주 광산구", "광주광역시 광산구", GWANGJU_DISTRICT_AREAS["광산구"]),
    ("광주광역시 사회재난과", "광주광역시", SIDO_AREAS["광주광역시"][0]),
    ("서울특별시 관악구청", "서울특별시 관악구", SIDO_AREAS["서울특별시"][0]),
    ("경기도 수원시 장안구청", "경기도 수원시 장안구", SIDO_AREAS["경기도"][0]),
    ("제주시청", "제주특별자치도 제주시", SIDO_AREAS["제주특별자치도"][0]),
]
WORDS = st.text(
    alphabet=st.sampled_from("가나다라마바사아자차카타파하동구로길번0123456789-()"),
    min_size=1,
    max_size=12,
)


@st.composite
def well_formed_row(draw: st.DrawFn) -> dict[str, Any]:
    raw, canonical, box = draw(st.sampled_from(AGENCIES))
    return {
        "raw": raw,
        "canonical": canonical,
        "lat": draw(st.floats(box.south, box.north)),
        "lon": draw(st.floats(box.west, box.east)),
        "count": draw(st.integers(1, 60)),
        "purpose": draw(st.sampled_from(list(Purpose))),
        "pixels": draw(st.integers(10, 3000)),
        "retention": draw(st.integers(1, 400)),
        "year": draw(st.integers(1990, 2023)),
        "month": draw(st.integers(1, 12)),
        "manage_no": draw(WORDS),
        "code": draw(st.from_regex(r"[0-9]{7}", fullmatch=True)),
        "road": " ".join(draw(st.lists(WORDS, min_size=1, max_size=4))),
        "lot": draw(st.one_of(st.none(), WORDS)),
        "facing": draw(st.one_of(st.none(), WORDS.filter(lambda word: word != "0"))),
        "phone": draw(st.from_regex(r"0[0-9]{1,2}-[0-9]{3,4}-[0-9]{4}", fullmatch=True)),
    }


def cells_of(values: dict[str, Any]) -> dict[str, str]:
    return {
        "개방자치단체코드": values["code"],
        "관리번호": values["manage_no"],
        "관리기관명": values["raw"],
        "소재지도로명주소": values["road"],
        "소재지지번주소": values["lot"] or "",
        "설치목적구분": values["purpose"].value,
        "카메라대수": str(values["count"]),
        "카메라화소수": str(values["pixels"]),
        "촬영방면정보": values["facing"] or "",
        "보관일수": str(values["retention"]),
        "설치연월": f"{values['year']:04d}-{values['month']:02d}",
        "관리기관전화번호": values["phone"],
        "WGS84위도": repr(values["lat"]),
        "WGS84경도": repr(values["lon"]),
        "데이터기준일자": "2024-06-30",
        "데이터갱신구분": "I",
        "데이터갱신시점": "2024-07-01 09:00:00",
        "최종수정시점": "2024-07-01 09:00:00",
    }


@SETTINGS
@given(
    good=st.lists(well_formed_row(), min_size=1, max_size=6),
    noise=st.lists(st.lists(cell_text, min_size=18, max_size=18), max_size=4),
    order=st.permutations(STD_18),
    encoding=st.sampled_from(ENCODINGS),
    data=st.data(),
)
def test_well_formed_rows_keep_their_values(
    good: list[dict[str, Any]],
    noise: list[list[str]],
    order: list[str],
    encoding: str,
    data: st.DataObject,
):
    rows: list[tuple[dict[str, Any] | None, list[str]]] = [
        (values, [cells_of(values)[column] for column in order]) for values in good
    ]
    rows += [(None, cells) for cells in noise if not all(not c or c.isspace() for c in cells)]
    rows = data.draw(st.permutations(rows))
    parsed = parse_bytes(encode(to_csv(order, [cells for _, cells in rows]), encoding), "mix.csv")
    assert parsed.layout == "std-18"
    assert_accounted(parsed)
    accepted = {row.line: row for row in parsed.rows}
    # csv.writer may spread a cell over several lines; count the lines each record takes.
    line = 2
    for values, cells in rows:
        if values is not None:
            row = accepted[line]
            assert row.agency.canonical == values["canonical"]
            assert row.agency.raw == values["raw"]
            assert (row.lat, row.lon) == (values["lat"], values["lon"])
            assert row.count == values["count"]
            assert row.purpose is values["purpose"]
            assert row.purpose_raw == values["purpose"].value
            assert row.resolution_mp == round(values["pixels"] / 100, 6)
            assert row.resolution_raw == str(values["pixels"])
            assert row.retention_days == values["retention"]
            assert (row.installed_year, row.installed_month) == (values["year"], values["month"])
            assert (row.manage_no, row.authority_code) == (values["manage_no"], values["code"])
            assert (row.road_address, row.lot_address) == (values["road"], values["lot"])
            assert (row.facing, row.phone) == (values["facing"], values["phone"])
            assert row.data_date is not None and row.data_date.isoformat() == "2024-06-30"
            assert not [w for w in parsed.warnings if w.line == line]
        record = to_csv(order, [cells]).split("\r\n", 1)[1]
        line += len(LINE_BREAK.findall(record))
