"""Redundancy clusters: different owners only, distance and overlap, the keep rule."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from argus.planning import PlanCamera, RedundancyParams, find_redundancy
from tests.planning.conftest import Gwangju, offset

LAT, LON = 35.1595, 126.8526


def cam(id: int, owner: int, dist: float = 0.0, bearing: float = 0.0, **kw: Any) -> PlanCamera:
    lat, lon = offset(LAT, LON, bearing, dist) if dist else (LAT, LON)
    base: dict[str, object] = {"camera_type": "ptz", "resolution_mp": 2.0, "purpose": "생활방범"}
    base.update(kw)
    return PlanCamera(id=id, owner_id=owner, lat=lat, lon=lon, **base)  # type: ignore[arg-type]


def test_same_owner_is_never_a_cluster() -> None:
    assert find_redundancy([cam(1, 7), cam(2, 7, 5.0)]).clusters == ()


def test_different_owners_close_and_overlapping_make_a_cluster() -> None:
    red = find_redundancy([cam(1, 7), cam(2, 8, 10.0, purpose="교통단속")])
    assert len(red.clusters) == 1
    c = red.clusters[0]
    assert c.camera_ids == (1, 2) and c.owner_ids == (7, 8)
    assert c.keep == 1 and c.kept == (1,)
    assert [m.camera_id for m in c.movable] == [2]
    assert c.movable[0].criterion == "purpose"
    assert "생활방범" in c.movable[0].reason and "교통단속" in c.movable[0].reason
    assert red.movable_ids == (2,)


def test_too_far_or_too_little_overlap_is_no_cluster() -> None:
    assert find_redundancy([cam(1, 7), cam(2, 8, 31.0)]).clusters == ()
    wider = RedundancyParams(distance_m=40, min_overlap=0.4)
    assert len(find_redundancy([cam(1, 7), cam(2, 8, 31.0)], wider).clusters) == 1
    # two fixed cameras on one pole looking opposite ways overlap in nothing
    east = cam(1, 7, camera_type="fixed", azimuth_deg=90.0, fov_deg=60.0)
    west = cam(2, 8, camera_type="fixed", azimuth_deg=270.0, fov_deg=60.0)
    assert find_redundancy([east, west]).clusters == ()


@pytest.mark.parametrize(
    ("winner", "loser", "criterion"),
    [
        ({"purpose": "다목적"}, {"purpose": "교통단속"}, "purpose"),
        (
            {"camera_type": "ptz"},
            {"camera_type": "fixed", "azimuth_deg": 0.0, "fov_deg": 359.0},
            "ptz",
        ),
        ({"resolution_mp": 4.0}, {"resolution_mp": 2.0}, "resolution"),
        ({"installed_year": 2020}, {"installed_year": 2012}, "age"),
        ({"installed_year": 2012}, {"installed_year": None}, "age"),
        ({}, {}, "id"),
    ],
)
def test_keep_rule(winner: dict[str, Any], loser: dict[str, Any], criterion: str) -> None:
    # the loser has the smaller id, so only the rule can make the winner win (except on ties)
    first, second = (cam(2, 8, 5.0, **winner), cam(1, 7, **loser))
    if criterion == "id":
        first, second = cam(1, 7, **winner), cam(2, 8, 5.0, **loser)
    red = find_redundancy([first, second])
    (c,) = red.clusters
    assert c.keep == first.id
    assert [(m.camera_id, m.criterion) for m in c.movable] == [(second.id, criterion)]


def test_keep_order_is_settable() -> None:
    a = cam(1, 7, purpose="교통단속", resolution_mp=8.0)
    b = cam(2, 8, 5.0, purpose="생활방범", resolution_mp=2.0)
    assert find_redundancy([a, b]).clusters[0].keep == 2
    by_resolution = RedundancyParams(keep_order=("resolution", "purpose", "ptz", "age"))
    assert find_redundancy([a, b], by_resolution).clusters[0].keep == 1


def test_a_camera_watching_other_ground_is_kept() -> None:
    # owner 8's camera near owner 7's: a chain 1 - 2 - 3 where 3 is far from 1
    one = cam(1, 7)
    two = cam(2, 8, 25.0, 90.0, purpose="교통단속")
    three = cam(3, 9, 50.0, 90.0, purpose="교통단속")
    red = find_redundancy([one, two, three])
    (c,) = red.clusters
    assert c.camera_ids == (1, 2, 3) and c.keep == 1
    assert 3 in c.kept  # 50 m from camera 1: mostly outside its circle
    assert [m.camera_id for m in c.movable] == [2]


def test_gwangju_clusters_are_the_colocated_sites(gwangju: Gwangju) -> None:
    """The scenario put 87 district sites 5-25 m from city sites and every other one > 30 m away."""
    red = find_redundancy(gwangju.cameras)
    assert len(red.clusters) == len(gwangju.plan.colocations) == 87
    site_of = {c.id: c.site_id or 0 for c in gwangju.cameras}
    site_key = {n: s.key for n, s in enumerate(gwangju.plan.sites, start=1)}
    pairs = {(c.site_key, c.other_site_key) for c in gwangju.plan.colocations}
    city = gwangju.owners["광주광역시"]
    owner_of = {c.id: c.owner_id for c in gwangju.cameras}
    for cluster in red.clusters:
        keys = {site_key[site_of[i]] for i in cluster.camera_ids}
        district_keys = [k for k in keys if ":pe:" in k]
        assert len(district_keys) == 1  # one district site and the city site(s) beside it
        assert any((district_keys[0], other) in pairs for other in keys)
        assert owner_of[cluster.keep] == city
        # every parking camera of the district site may move, for its legal purpose
        moving = {m.camera_id for m in cluster.movable}
        assert moving == {i for i in cluster.camera_ids if owner_of[i] != city}
        assert {m.criterion for m in cluster.movable} == {"purpose"}
    per_owner = Counter(owner_of[i] for i in red.movable_ids)
    assert city not in per_owner
    district_cams = Counter(
        c.site_key for c in gwangju.plan.cameras if c.site_key in {p[0] for p in pairs}
    )
    assert len(red.movable_ids) == sum(district_cams.values())
