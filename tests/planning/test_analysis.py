"""Coverage analysis: blind spots, layer shares, districts without inventory."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

from argus.planning import (
    DemandPoint,
    PlanCamera,
    analyse_coverage,
)
from argus.scenario.sources import GWANGJU_DISTRICTS_GEOJSON, Districts
from tests.planning.conftest import Gwangju, offset

LAT, LON = 35.15, 126.85


def two_districts() -> Districts:
    # west: lon 126.84-126.85, east: 126.85-126.86, both lat 35.14-35.16
    west = shapely.box(126.84, 35.14, 126.85, 35.16)
    east = shapely.box(126.85, 35.14, 126.86, 35.16)
    return Districts({"서": west, "동": east})


def test_blind_spots_and_no_inventory() -> None:
    cam_lat, cam_lon = 35.15, 126.845  # in the west district
    cameras = [PlanCamera(1, 7, cam_lat, cam_lon, camera_type="ptz", resolution_mp=2.0)]
    near = offset(cam_lat, cam_lon, 0.0, 10.0)
    far = offset(cam_lat, cam_lon, 180.0, 300.0)
    demand = [
        DemandPoint("a", "x", *near, weight=2.0),
        DemandPoint("b", "x", *far, weight=1.0),
        DemandPoint("c", "y", 35.15, 126.855, weight=5.0),  # east: no camera there
    ]
    report = analyse_coverage(cameras, demand, districts=two_districts())
    assert report.total_weight == 8.0 and report.covered_weight == 2.0
    assert [p.point.id for p in report.blind_spots] == ["b"]
    assert [p.point.id for p in report.unknown] == ["c"]
    by_name = {d.district: d for d in report.districts}
    assert by_name["서"].status == "measured" and by_name["서"].share == pytest.approx(2 / 3)
    east = by_name["동"]
    assert east.status == "no_inventory"
    assert east.share is None and east.covered_weight is None  # never 0 %
    assert east.demand_weight == 5.0
    assert [(o.owner_id, o.status, o.share) for o in east.owners] == [(7, "no_inventory", None)]
    layers = {layer.layer: layer for layer in report.layers}
    assert layers["x"].share == pytest.approx(2 / 3) and layers["y"].share == 0.0


def test_registered_district_decides_inventory() -> None:
    # a camera standing in the east polygon but registered in the west district
    cam = PlanCamera(1, 7, 35.15, 126.8505, camera_type="ptz", district="서")
    report = analyse_coverage(
        [cam], [DemandPoint("a", "x", 35.15, 126.8505, 1.0)], districts=two_districts()
    )
    by_name = {d.district: d for d in report.districts}
    assert by_name["동"].status == "no_inventory"
    assert by_name["동"].demand_weight == 1.0
    assert by_name["서"].status == "measured"


def test_gwangju_city_has_no_inventory_in_nam_and_gwangsan(
    gwangju: Gwangju, gwangju_demand: list[DemandPoint], shared_data: Path
) -> None:
    districts = Districts.read(shared_data / GWANGJU_DISTRICTS_GEOJSON)
    demand = gwangju_demand
    city = gwangju.owners["광주광역시"]
    city_only = [c for c in gwangju.cameras if c.owner_id == city]
    report = analyse_coverage(city_only, demand, districts=districts)
    status = {d.district: d.status for d in report.districts}
    assert status == {
        "동구": "measured",
        "서구": "measured",
        "남구": "no_inventory",
        "북구": "measured",
        "광산구": "no_inventory",
    }
    for d in report.districts:
        if d.status == "no_inventory":
            assert d.share is None and d.demand_weight > 0
    # with every camera, the districts' parking cameras are measured there; the city is not
    full = analyse_coverage(gwangju.cameras, demand, districts=districts)
    for d in full.districts:
        assert d.status == "measured"
        city_row = next(o for o in d.owners if o.owner_id == city)
        assert city_row.status == (
            "no_inventory" if d.district in ("남구", "광산구") else "measured"
        )
    assert len(full.blind_spots) + len(full.unknown) == sum(1 for p in full.points if not p.covered)
