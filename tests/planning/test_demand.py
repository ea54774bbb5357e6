"""Demand layers from the real files (counted again here with the csv module) and users' files."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from pathlib import Path

import pytest

from argus.planning import (
    DemandFileError,
    combine_layers,
    fatal_crash_layer,
    load_demand_file,
    load_sites_file,
    school_zone_layer,
)

SCHOOL_ZONES = Path("korea-schoolzones-std-2020") / "전국어린이보호구역표준데이터.csv"
CRASHES = Path("korea-fatal-accidents-2012-2019")


def cp949_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("cp949"), newline="")))


def number(text: str | None) -> bool:
    try:
        return math.isfinite(float(text or ""))
    except ValueError:
        return False


def test_school_zones_match_an_independent_count(shared_data: Path) -> None:
    rows = cp949_rows(shared_data / SCHOOL_ZONES)
    fields = ("제공기관명", "관리기관명", "소재지도로명주소", "소재지지번주소")
    expected = [
        r
        for r in rows
        if any("광주광역시" in (r.get(f) or "") for f in fields)
        and number(r.get("위도"))
        and number(r.get("경도"))
    ]
    layer = school_zone_layer(shared_data)
    assert len(layer.points) == len(expected) == 601  # SOURCE.md: 601 rows in 광주광역시
    assert layer.total_weight == 601
    assert "행정안전부" in layer.source
    assert sorted((p.lat, p.lon) for p in layer.points) == sorted(
        (float(r["위도"]), float(r["경도"])) for r in expected
    )
    assert len({p.id for p in layer.points}) == 601


def test_fatal_crashes_match_an_independent_count(shared_data: Path) -> None:
    per_year: Counter[int] = Counter()
    for path in sorted((shared_data / CRASHES).glob("*.csv")):
        for r in cp949_rows(path):
            if r.get("발생지시도") == "광주" and number(r.get("위도")) and number(r.get("경도")):
                per_year[int(r["발생년"])] += 1
    layer = fatal_crash_layer(shared_data, weight=2.0)
    got = Counter(int(p.id.split(":")[1]) for p in layer.points)
    assert got == per_year
    # SOURCE.md: 732 rows, 108, 104, 99, 94, 85, 117, 76, 49 for 2012..2019
    assert [per_year[y] for y in range(2012, 2020)] == [108, 104, 99, 94, 85, 117, 76, 49]
    assert layer.total_weight == 2 * 732
    assert "도로교통공단" in layer.source


def test_layers_combine_sorted_and_unique(shared_data: Path) -> None:
    both = combine_layers([school_zone_layer(shared_data), fatal_crash_layer(shared_data)])
    assert len(both) == 601 + 732
    assert [p.id for p in both] == sorted(p.id for p in both)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_user_csv_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bells.csv",
        "ID,Lat,Lon,Weight,label\nb1,35.15,126.85,3,비상벨 1\nb2,35.16,126.86,0.5,\n",
        "cp949",
    )
    layer = load_demand_file(path)
    assert layer.name == "bells"
    assert [(p.id, p.weight, p.label) for p in layer.points] == [
        ("bells:b1", 3.0, "비상벨 1"),
        ("bells:b2", 0.5, ""),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lat,lon,weight\n35.1,126.8,1\n35.1,abc,1\n", ["row 2 (line 3), column 'lon'", "'abc'"]),
        ("lat,lon\n35.1,126.8\n", ["no 'weight' column"]),
        ("lat,lon,weight\n35.1,126.8,-1\n", ["row 1 (line 2), column 'weight'", "outside"]),
        ("lat,lon,weight\n95,126.8,1\n", ["column 'lat'", "outside [-90.0, 90.0]"]),
        ("lat,lon,weight\n35.1,126.8\n", ["row 1 (line 2): 2 cells, the header has 3"]),
        ("lat,lon,weight\n35.1,126.8,\n", ["column 'weight': empty"]),
        ("lat,lon,weight\n35.1,126.8,nan\n", ["not a finite number"]),
        ("id,lat,lon,weight\na,35,126,1\na,35,126,1\n", ["row 2", "'a' was already used in row 1"]),
        ("", ["empty"]),
    ],
)
def test_bad_csv_is_refused_naming_row_and_column(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(DemandFileError) as err:
        load_demand_file(path)
    for part in expected:
        assert part in str(err.value)
    assert "nothing loaded" in str(err.value)


def test_every_bad_row_is_listed(tmp_path: Path) -> None:
    rows = "\n".join(f"35.1,{'x' if n % 2 else '126.8'},1" for n in range(30))
    path = write(tmp_path, "many.csv", f"lat,lon,weight\n{rows}\n")
    with pytest.raises(DemandFileError) as err:
        load_demand_file(path)
    assert len(err.value.problems) == 15
    assert err.value.problems[0].startswith("row 2 (line 3)")


def feature(geometry: dict[str, object], **props: object) -> dict[str, object]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def test_user_geojson_points_and_areas(tmp_path: Path) -> None:
    square = [[126.85, 35.15], [126.851, 35.15], [126.851, 35.151], [126.85, 35.151]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            feature({"type": "Point", "coordinates": [126.85, 35.15]}, weight=4, name="a"),
            feature({"type": "Polygon", "coordinates": [[*square, square[0]]]}, weight=10),
            feature(
                {"type": "MultiPoint", "coordinates": [[126.86, 35.16], [126.87, 35.17]]},
                weight=2,
            ),
        ],
    }
    path = write(tmp_path, "crime.geojson", json.dumps(doc))
    layer = load_demand_file(path, area_spacing_m=25.0)
    assert layer.total_weight == pytest.approx(16.0)
    area_pts = [p for p in layer.points if p.area_id == "crime:f2"]
    # about 91 m x 111 m at 25 m spacing
    assert 12 <= len(area_pts) <= 20
    assert sum(p.weight for p in area_pts) == pytest.approx(10.0)
    assert layer.areas[0].points == len(area_pts)
    assert [p.weight for p in layer.points if p.area_id == "crime:f3"] == [1.0, 1.0]


def test_tiny_area_gets_one_point(tmp_path: Path) -> None:
    tiny = [[126.85, 35.15], [126.85001, 35.15], [126.85001, 35.15001], [126.85, 35.15]]
    doc = {
        "type": "FeatureCollection",
        "features": [feature({"type": "Polygon", "coordinates": [tiny]}, weight=1)],
    }
    layer = load_demand_file(write(tmp_path, "t.geojson", json.dumps(doc)))
    assert len(layer.points) == 1 and layer.points[0].weight == 1.0


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ("{not json", "line 1, column 2: not JSON"),
        (json.dumps({"type": "Topology"}), "not a GeoJSON FeatureCollection"),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        feature({"type": "Point", "coordinates": [126.8, 35.1]}, weight=1),
                        feature({"type": "Point", "coordinates": [126.8, 35.1]}),
                    ],
                }
            ),
            "feature 2, property 'weight': missing",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        feature(
                            {
                                "type": "Polygon",
                                "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
                            },
                            weight=1,
                        )
                    ],
                }
            ),
            "feature 1, geometry: invalid polygon",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        feature({"type": "Point", "coordinates": [35.1, 126.8]}, weight=1)
                    ],
                }
            ),
            "GeoJSON is lon, lat",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        feature(
                            {"type": "LineString", "coordinates": [[126.8, 35.1], [126.9, 35.2]]},
                            weight=1,
                        )
                    ],
                }
            ),
            "LineString is not one of",
        ),
    ],
)
def test_bad_geojson_is_refused(tmp_path: Path, doc: str, expected: str) -> None:
    with pytest.raises(DemandFileError, match="nothing loaded") as err:
        load_demand_file(write(tmp_path, "bad.geojson", doc))
    assert expected in str(err.value)


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DemandFileError, match="unknown file type"):
        load_demand_file(write(tmp_path, "x.xlsx", "lat"))
    with pytest.raises(DemandFileError, match="file not found"):
        load_demand_file(tmp_path / "absent.csv")


def test_site_files(tmp_path: Path) -> None:
    good = write(tmp_path, "s.csv", "lat,lon,label\n35.1,126.8,a\n35.2,126.9,b\n")
    sites = load_sites_file(good)
    assert [(s.id, s.label) for s in sites] == [("user:r1", "a"), ("user:r2", "b")]
    bad = write(tmp_path, "b.csv", "lat,lon\n35.1,126.8\n35.2,east\n")
    with pytest.raises(DemandFileError, match=r"row 2 \(line 3\), column 'lon'"):
        load_sites_file(bad)
