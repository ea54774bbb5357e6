"""The Gwangju reference plan, checked against the public data read independently here."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shapely.geometry import Point, shape

from argus.registry.vocab import AgencyKind, CameraType, Purpose
from argus.scenario import ScenarioPlan, plan_gwangju
from argus.scenario.sources import DataError, normalise_gwangju_address

SEED = 2026
OTHER_SEED = 7
DISTRICTS = ("동구", "서구", "남구", "북구", "광산구")
# What the module docstring promises: sites ∝ school zones, cameras ∝ sites.
DISTRICT_SITES = {"동구": 31, "서구": 61, "남구": 34, "북구": 105, "광산구": 117}
DISTRICT_CAMERAS = {"동구": 120, "서구": 237, "남구": 132, "북구": 407, "광산구": 454}
COLOCATED_BAND = (0.22, 0.28)  # "about a quarter" of the district sites
R = 6_371_008.8


def haversine(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Metres, numpy-broadcast; written here independently of argus.registry.spatial."""
    lat1, lon1, lat2, lon2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * R * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


@pytest.fixture(scope="module")
def data(shared_data: Path) -> Path:
    return shared_data


@pytest.fixture(scope="module")
def plan(data: Path) -> ScenarioPlan:
    return plan_gwangju(data, seed=SEED)


@pytest.fixture(scope="module")
def city_csv(data: Path) -> list[dict[str, str]]:
    with (data / "gwangju-cctv-safewalk" / "cctv.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def polygons(data: Path) -> dict[str, object]:
    text = (data / "gwangju-boundaries" / "districts.geojson").read_text(encoding="utf-8")
    return {f["properties"]["name_ko"]: shape(f["geometry"]) for f in json.loads(text)["features"]}


@pytest.fixture(scope="module")
def demand_points(data: Path) -> np.ndarray:
    """(lat, lon) of every Gwangju school zone and fatal-crash point."""
    points: list[tuple[float, float]] = []
    path = data / "korea-schoolzones-std-2020" / "전국어린이보호구역표준데이터.csv"
    with path.open(encoding="cp949", newline="") as f:
        for row in csv.DictReader(f):
            if "광주광역시" in row["제공기관명"] + row["관리기관명"] + row["소재지지번주소"]:
                points.append((float(row["위도"]), float(row["경도"])))
    for path in sorted((data / "korea-fatal-accidents-2012-2019").glob("*.csv")):
        with path.open(encoding="cp949", newline="") as f:
            points += [
                (float(r["위도"]), float(r["경도"]))
                for r in csv.DictReader(f)
                if r["발생지시도"] == "광주"
            ]
    assert len(points) == 601 + 732
    return np.array(points)


def city_sites(plan: ScenarioPlan):
    return [s for s in plan.sites if s.owner == "광주광역시"]


def district_sites(plan: ScenarioPlan):
    return [s for s in plan.sites if s.owner != "광주광역시"]


def nearest_city_distance(plan: ScenarioPlan) -> np.ndarray:
    city = np.array([(s.lat, s.lon) for s in city_sites(plan)])
    dist = np.array([(s.lat, s.lon) for s in district_sites(plan)])
    return haversine(dist[:, :1], dist[:, 1:], city[None, :, 0], city[None, :, 1]).min(axis=1)


# -- agencies ------------------------------------------------------------------------------


def test_agencies(plan: ScenarioPlan):
    by_name = {a.name: a for a in plan.agencies}
    assert len(by_name) == len(plan.agencies) == 9
    city = by_name["광주광역시"]
    assert (city.kind, city.region, city.parent) == (AgencyKind.CITY, "광주광역시", None)
    for d in DISTRICTS:
        a = by_name[f"광주광역시 {d}"]
        assert (a.kind, a.region, a.district, a.parent) == (
            AgencyKind.DISTRICT,
            "광주광역시",
            d,
            "광주광역시",
        )
    assert by_name["광주경찰청 112치안종합상황실"].kind is AgencyKind.POLICE
    assert by_name["광주소방안전본부 119종합상황실"].kind is AgencyKind.FIRE
    disaster = by_name["광주광역시 재난안전상황실"]
    assert (disaster.kind, disaster.parent) == (AgencyKind.DISASTER, "광주광역시")
    seen: set[str] = set()
    for a in plan.agencies:  # parents come first
        assert a.parent is None or a.parent in seen
        seen.add(a.name)
    owners = {s.owner for s in plan.sites} | {c.owner for c in plan.cameras}
    assert owners == {"광주광역시"} | {f"광주광역시 {d}" for d in DISTRICTS}


# -- the city's real sites -----------------------------------------------------------------


def test_city_sites_are_the_published_ones(plan: ScenarioPlan, city_csv):
    sites = city_sites(plan)
    assert len(sites) == len(city_csv) == 2479
    cams_per_site = Counter(c.site_key for c in plan.cameras if c.owner == "광주광역시")
    assert sum(cams_per_site.values()) == 7134
    for site, row in zip(sites, city_csv, strict=True):
        assert (site.lat, site.lon) == (float(row["lat"]), float(row["lon"]))
        assert site.key == f"gwangju:city:site:{float(row['lat']):.5f},{float(row['lon']):.5f}"
        assert site.district == row["구"]
        assert cams_per_site[site.key] == int(row["count"])
        assert site.synthetic is False and site.region == "광주광역시"
        assert "행정안전부 전국CCTV표준데이터" in site.provenance
    assert Counter(s.district for s in sites) == {"북구": 1182, "서구": 800, "동구": 497}


def test_city_cameras(plan: ScenarioPlan):
    cams = [c for c in plan.cameras if c.owner == "광주광역시"]
    assert len(cams) == 7134
    by_site: dict[str, list[Any]] = {}
    for c in cams:
        by_site.setdefault(c.site_key, []).append(c)
        assert c.purpose is Purpose.CRIME_PREVENTION
        assert c.resolution_mp == 2.0 and c.retention_days == 30
        assert c.synthetic is False
        assert "행정안전부" in c.provenance and "assumed" in c.provenance
    for site_cams in by_site.values():
        assert [c.camera_type for c in site_cams] == [CameraType.PTZ] + [CameraType.FIXED] * (
            len(site_cams) - 1
        )
        assert site_cams[0].azimuth_deg is None and site_cams[0].fov_deg == 360.0
        for c in site_cams[1:]:
            assert c.azimuth_deg is not None and 0.0 <= c.azimuth_deg < 360.0
            assert c.fov_deg is not None and 0 < c.fov_deg <= 360


def test_city_addresses(plan: ScenarioPlan):
    for s in city_sites(plan):
        address = s.lot_address or s.road_address
        assert address is not None and address.startswith("광주광역시 ")
        assert not address.startswith("광주광역시 광주") and "  " not in address
    roads = [s for s in city_sites(plan) if s.road_address]
    assert [s.road_address for s in roads] == ["광주광역시 북구 서양로93번길 26"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("동구 선교동 산189-3", ("광주광역시 동구 선교동 산189-3", None)),
        ("광주 북구 양산동 620-33", ("광주광역시 북구 양산동 620-33", None)),
        ("광주광역시 서구 화정동 368-214", ("광주광역시 서구 화정동 368-214", None)),
        ("서구  쌍촌동 531-5 ", ("광주광역시 서구 쌍촌동 531-5", None)),
        ("동구 금남로1가 19-16", ("광주광역시 동구 금남로1가 19-16", None)),
        ("북구 서양로93번길 26", (None, "광주광역시 북구 서양로93번길 26")),
        ("  ", (None, None)),
    ],
)
def test_normalise_address(raw, expected):
    assert normalise_gwangju_address(raw) == expected


# -- the districts' parking-enforcement sites ----------------------------------------------


def test_district_counts(plan: ScenarioPlan):
    sites = district_sites(plan)
    cams = [c for c in plan.cameras if c.owner != "광주광역시"]
    assert len(sites) == 348 and len(cams) == 1350
    assert Counter(s.district for s in sites) == DISTRICT_SITES
    assert Counter(c.owner for c in cams) == {
        f"광주광역시 {d}": n for d, n in DISTRICT_CAMERAS.items()
    }
    per_site = Counter(c.site_key for c in cams)
    assert set(per_site) == {s.key for s in sites}
    assert all(1 <= n <= 8 for n in per_site.values())
    assert len(plan.sites) == 2479 + 348 and len(plan.cameras) == 7134 + 1350


def test_district_cameras(plan: ScenarioPlan):
    for c in plan.cameras:
        if c.owner == "광주광역시":
            continue
        assert c.camera_type is CameraType.PTZ
        assert c.purpose is Purpose.TRAFFIC_ENFORCEMENT
        assert c.resolution_mp == 2.0 and c.retention_days == 30
        assert c.range_m is not None and 150 <= c.range_m <= 250
        assert c.installed_year is not None and 2012 <= c.installed_year <= 2022
        assert c.installed_month is not None and 1 <= c.installed_month <= 12
        assert c.tags == ("parking-enforcement",)
        assert c.synthetic is True
        assert c.provenance.startswith(f"generated: Gwangju scenario seed {SEED} at ")
        assert ("school zone" in c.provenance) != ("fatal-crash point" in c.provenance)


def test_district_sites_inside_their_own_district(plan: ScenarioPlan, polygons):
    for s in district_sites(plan):
        assert s.owner == f"광주광역시 {s.district}"
        assert s.synthetic is True and s.region == "광주광역시"
        assert polygons[s.district].contains(Point(s.lon, s.lat)), s.key
        others = [d for d in DISTRICTS if d != s.district]
        assert not any(polygons[d].contains(Point(s.lon, s.lat)) for d in others)


def test_district_sites_stand_at_real_places(plan: ScenarioPlan, demand_points):
    colocated = {c.site_key for c in plan.colocations}
    for s in district_sites(plan):
        d = haversine(s.lat, s.lon, demand_points[:, 0], demand_points[:, 1]).min()
        if s.key in colocated:
            assert d <= 150 + 25, s.key  # moved next to a city site near the real place
        else:
            assert d < 0.01, s.key  # exactly at a school zone or a crash point
        if s.name is not None:
            assert "school zone" in s.provenance and s.name in s.provenance


def test_district_sites_are_distinct_places(plan: ScenarioPlan):
    pts = np.array([(s.lat, s.lon) for s in district_sites(plan)])
    d = haversine(pts[:, :1], pts[:, 1:], pts[None, :, 0], pts[None, :, 1])
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 50.0


def test_school_zone_and_crash_mix(plan: ScenarioPlan):
    kinds = Counter(
        "school" if "school zone" in s.provenance else "crash" for s in district_sites(plan)
    )
    assert 0.55 <= kinds["school"] / 348 <= 0.65
    for d in DISTRICTS:
        in_d = [s for s in district_sites(plan) if s.district == d]
        share = sum("school zone" in s.provenance for s in in_d) / len(in_d)
        assert 0.5 <= share <= 0.7, d


def test_colocated_share_by_independent_distances(plan: ScenarioPlan):
    nearest = nearest_city_distance(plan)
    colocated = nearest <= 25.0
    assert int(colocated.sum()) == plan.colocated_sites == len(plan.colocations)
    assert COLOCATED_BAND[0] <= plan.colocated_sites / 348 <= COLOCATED_BAND[1]
    assert nearest[colocated].min() >= 5.0 - 1e-6
    assert nearest[~colocated].min() > 30.0  # a clear gap: no borderline cases
    by_key = {s.key: s for s in plan.sites}
    keys = [s.key for s in district_sites(plan)]
    assert {k for k, c in zip(keys, colocated, strict=True) if c} == {
        c.site_key for c in plan.colocations
    }
    for c in plan.colocations:
        a, b = by_key[c.site_key], by_key[c.other_site_key]
        assert b.owner == "광주광역시" and b.district == a.district
        assert float(haversine(a.lat, a.lon, b.lat, b.lon)) == pytest.approx(c.distance_m, abs=1e-3)
        assert 5.0 <= c.distance_m <= 25.0
    # only where the data has city cameras
    assert {by_key[c.site_key].district for c in plan.colocations} == {"동구", "서구", "북구"}


# -- keys and determinism ------------------------------------------------------------------


def test_keys(plan: ScenarioPlan):
    site_keys = [s.key for s in plan.sites]
    cam_keys = [c.key for c in plan.cameras]
    assert len(set(site_keys)) == len(site_keys) and len(set(cam_keys)) == len(cam_keys)
    pattern = re.compile(
        r"^gwangju:(city:site:\d+\.\d{5},\d+\.\d{5}|(동구|서구|남구|북구|광산구):pe:site:\d{3})$"
    )
    assert all(pattern.match(k) for k in site_keys)
    site_set = set(site_keys)
    for c in plan.cameras:
        assert c.site_key in site_set and re.fullmatch(re.escape(c.site_key) + r":cam:\d+", c.key)
        assert len(c.provenance) <= 200 and len(c.name) <= 200
    assert all(len(k) <= 200 for k in site_keys + cam_keys)


def test_same_seed_same_plan(plan: ScenarioPlan, data: Path):
    assert plan_gwangju(data, seed=SEED) == plan


def test_other_seed_moves_district_sites_only(plan: ScenarioPlan, data: Path):
    other = plan_gwangju(data, seed=OTHER_SEED)
    assert city_sites(other) == city_sites(plan)
    assert [s.key for s in other.sites] == [s.key for s in plan.sites]
    assert Counter(c.owner for c in other.cameras) == Counter(c.owner for c in plan.cameras)
    here = {(s.lat, s.lon) for s in district_sites(plan)}
    there = {(s.lat, s.lon) for s in district_sites(other)}
    assert len(here - there) > 348 // 4
    assert other.colocated_sites == plan.colocated_sites


def test_missing_data_is_a_clear_error(tmp_path: Path):
    with pytest.raises(DataError, match="not found"):
        plan_gwangju(tmp_path)
