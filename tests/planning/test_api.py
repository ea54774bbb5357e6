"""`/api/plan`: the planner through the API, on a small registry whose best plan is obvious.

Two PTZ cameras of different owners stand together at A; a school-gate point 10 m north of A is
watched by both, and a crash spot 500 m east (weight 3) by neither. One budget of a move lets
the duplicated camera go to the crash spot: covered demand 1 → 4. The same request through the
CLI gives the same figures; bad files are refused naming the file and row.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from argus.identity.access import Console
from argus.identity.passwords import Hasher
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, CameraType, Purpose
from tests.planning.conftest import offset

PASSWORD = "Gwangju-2026!"
A = (35.1600, 126.9000)
GATE = offset(*A, 0.0, 10.0)
CRASH = offset(*A, 90.0, 500.0)
DEMAND = {
    "name": "spots.csv",
    "content": "id,lat,lon,weight,label\n"
    f"gate,{GATE[0]:.7f},{GATE[1]:.7f},1,school gate\n"
    f"crash,{CRASH[0]:.7f},{CRASH[1]:.7f},3,crash spot\n",
}


@dataclass
class World:
    city_camera: int
    district_camera: int
    planner: dict[str, str]
    operator: dict[str, str]


@pytest.fixture
def world(client: TestClient, registry: Registry) -> World:
    app: Any = client.app
    app.state.identity.ctx.hasher = Hasher(
        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    city = registry.create_agency(AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)).id
    buk = registry.create_agency(
        AgencyCreate(name="광주광역시 북구", kind=AgencyKind.DISTRICT, parent_id=city)
    ).id
    ids = []
    for owner, purpose in ((city, Purpose.CRIME_PREVENTION), (buk, Purpose.TRAFFIC_ENFORCEMENT)):
        site = registry.create_site(SiteCreate(owner_id=owner, lat=A[0], lon=A[1]))
        camera = CameraCreate(
            site_id=site.id, purpose=purpose, camera_type=CameraType.PTZ, resolution_mp=2.0
        )
        ids.append(registry.create_camera(camera).id)
    tokens = {}
    for role in (Role.PLANNER, Role.OPERATOR):
        data = UserCreate(username=role.value, agency_id=city, roles=[role], password=PASSWORD)
        app.state.identity.users.create_user(Console("test"), data)
        got = client.post("/api/auth/token", json={"username": role.value, "password": PASSWORD})
        assert got.status_code == 200, got.text
        tokens[role] = {"Authorization": f"Bearer {got.json()['access_token']}"}
    return World(ids[0], ids[1], tokens[Role.PLANNER], tokens[Role.OPERATOR])


def _relocate(client: TestClient, world: World, **body: Any) -> Any:
    response = client.post(
        "/api/plan/relocate", headers=world.planner, json={"demand": [DEMAND], **body}
    )
    assert response.status_code == 200, response.text
    return response


def test_the_duplicated_camera_moves_to_the_blind_crash_spot(
    client: TestClient, world: World
) -> None:
    red = client.get("/api/plan/redundancy", headers=world.planner).json()
    assert len(red["clusters"]) == 1 and red["movable"] == 1
    (cluster,) = red["clusters"]
    assert sorted(cluster["camera_ids"]) == sorted([world.city_camera, world.district_camera])
    (movable,) = cluster["movable"]
    assert movable["reason"]
    assert cluster["kept"] == [c for c in cluster["camera_ids"] if c != movable["camera_id"]]

    plan = _relocate(client, world).json()
    assert plan["movable"] == 1 and plan["cameras"] == 2
    assert plan["budget_krw"] == 4_000_000  # one move: enough to move every movable camera
    assert (plan["covered_before"], plan["covered_after"], plan["total_demand"]) == (1, 4, 4)
    assert plan["relocated"] == 1 and plan["new_installs"] == 0
    assert plan["linked"] == 1  # 북구's camera, linked to the city's centre
    assert plan["effective_new"] == 2
    assert plan["saved_krw"] == 25_000_000 - 4_000_000
    assert plan["gap"] == pytest.approx(0.0, abs=1e-9) and plan["greedy_covered"] == 4
    (move,) = plan["plan"]["features"]
    assert move["properties"]["camera_id"] == movable["camera_id"]
    (lon0, lat0), (lon1, lat1) = move["geometry"]["coordinates"]
    assert (lat0, lon0) == pytest.approx(A)
    assert (lat1, lon1) == pytest.approx(CRASH, abs=1e-6)

    nothing = _relocate(client, world, budget_krw=3_999_999).json()
    assert nothing["relocated"] == 0 and nothing["covered_after"] == nothing["covered_before"] == 1
    assert nothing["plan"]["features"] == []


def test_the_plan_as_geojson_csv_and_report_is_the_same_plan(
    client: TestClient, world: World
) -> None:
    plan = _relocate(client, world).json()
    geojson = _relocate(client, world, format="geojson")
    assert geojson.headers["content-type"].startswith("application/geo+json")
    assert geojson.json() == plan["plan"]
    text = _relocate(client, world, format="csv")
    assert text.headers["content-type"].startswith("text/csv")
    assert "attachment" in text.headers["content-disposition"]
    (row,) = list(csv.DictReader(io.StringIO(text.text)))
    (feature,) = plan["plan"]["features"]
    assert row["kind"] == "move" and int(row["camera_id"]) == feature["properties"]["camera_id"]
    lon1, lat1 = feature["geometry"]["coordinates"][1]
    assert (float(row["to_lat"]), float(row["to_lon"])) == (lat1, lon1)
    html = _relocate(client, world, format="html", budgets=3)
    assert html.headers["content-type"].startswith("text/html")
    assert html.text.startswith("<!DOCTYPE html>") and "<script" not in html.text.lower()
    assert "spots: spots.csv" in html.text  # the source as the planner named it
    assert "21,000,000 KRW" in html.text  # money saved
    assert "argus-plan-" not in html.text  # no trace of the server's temporary folder


def test_the_api_and_the_cli_give_the_same_figures(
    client: TestClient, world: World, cli_env: dict[str, str], tmp_path: Path
) -> None:
    demand = tmp_path / "spots.csv"
    demand.write_text(DEMAND["content"], encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "argus.cli", "plan", "relocate", "--demand", str(demand), "--json"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    api = _relocate(client, world).json()
    del api["plan"]
    assert json.loads(run.stdout) == api


def test_coverage_counts_the_blind_spot(client: TestClient, world: World) -> None:
    got = client.post("/api/plan/coverage", headers=world.planner, json={"demand": [DEMAND]})
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["covered_weight"], body["total_weight"], body["blind_spots"]) == (1, 4, 1)
    assert body["share"] == pytest.approx(0.25) and body["sources"] == ["spots: spots.csv"]
    assert [x["layer"] for x in body["layers"]] == ["spots"]


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (
            {"name": "bells.csv", "content": "lat,lon,weight\n35.1,126.9,2\n95,126.9,\n"},
            ["bells.csv", "row 2", "'lat'", "'weight'", "nothing loaded"],
        ),
        ({"name": "bells.geojson", "content": "{not json"}, ["bells.geojson", "not JSON"]),
        ({"name": "bells.txt", "content": "lat,lon,weight\n"}, ["name"]),
        ({"name": "../bells.csv", "content": "lat,lon,weight\n"}, ["name"]),
    ],
)
def test_a_bad_demand_file_is_refused_naming_what_is_wrong(
    client: TestClient, world: World, upload: dict[str, str], words: list[str]
) -> None:
    for path in ("/api/plan/coverage", "/api/plan/relocate"):
        got = client.post(path, headers=world.planner, json={"demand": [upload]})
        assert got.status_code == 422, got.text
        message = got.json()["message"]
        for word in words:
            assert word in message, (word, message)
        assert "argus-plan-" not in message and "/tmp" not in message


def test_bad_numbers_and_sites_are_refused(client: TestClient, world: World) -> None:
    for body, field in (
        ({"budget_krw": -1}, "budget_krw"),
        ({"move_cost_krw": 0}, "move_cost_krw"),
        ({"grid_m": 10}, "grid_m"),
        ({"budgets": 1}, "budgets"),
        ({"format": "pdf"}, "format"),
        ({"sites": {"name": "sites.csv", "content": "lat,lon\n35.1,500\n"}}, "sites.csv"),
    ):
        got = client.post(
            "/api/plan/relocate", headers=world.planner, json={"demand": [DEMAND], **body}
        )
        assert got.status_code == 422, (body, got.text)
        assert field in got.json()["message"], (body, got.json())


def test_candidate_sites_from_the_planners_file(client: TestClient, world: World) -> None:
    """A site 20 m from the crash spot still covers it (PTZ circle of 37.7 m); the plan uses it."""
    near = offset(*CRASH, 0.0, 20.0)
    sites = {"name": "poles.csv", "content": f"id,lat,lon\npole-7,{near[0]},{near[1]}\n"}
    plan = _relocate(client, world, sites=sites).json()
    (move,) = plan["plan"]["features"]
    assert move["properties"]["site_id"] == "user:pole-7"
    assert plan["covered_after"] == 4


def test_one_solve_at_a_time(client: TestClient, world: World) -> None:
    app: Any = client.app
    lock = app.state.planner._solving
    assert lock.acquire(blocking=False)
    try:
        busy = client.post("/api/plan/relocate", headers=world.planner, json={"demand": [DEMAND]})
        assert busy.status_code == 503 and busy.json()["code"] == "planner_busy"
    finally:
        lock.release()
    assert _relocate(client, world).json()["relocated"] == 1


def test_an_operator_may_not_plan(client: TestClient, world: World) -> None:
    got = client.post("/api/plan/relocate", headers=world.operator, json={"demand": [DEMAND]})
    assert got.status_code == 403 and "planner" in got.json()["message"]
