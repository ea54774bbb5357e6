"""`argus plan relocate --out DIR --json` on the Gwangju scenario, checked independently."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from argus.db import make_sessionmaker
from argus.planning import (
    combine_layers,
    fatal_crash_layer,
    load_cameras,
    load_owner_names,
    school_zone_layer,
)
from tests.planning.conftest import covered_by_hand

KEYS = {
    "linked",
    "relocated",
    "effective_new",
    "saved_krw",
    "covered_before",
    "covered_after",
    "gap",
    "greedy_covered",
}


def argus(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "argus.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def env(cli_env: dict[str, str], shared_data: Path) -> dict[str, str]:
    return {**cli_env, "ARGUS_REFERENCE_DATA": str(shared_data)}


def test_relocate_writes_report_and_plan(
    env: dict[str, str], engine: Engine, shared_data: Path, tmp_path: Path
) -> None:
    loaded = argus(env, "scenario", "gwangju", "--json")
    assert loaded.returncode == 0, loaded.stderr
    out = tmp_path / "plan"
    run = argus(env, "plan", "relocate", "--out", str(out), "--json")
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout)  # the whole stdout is one JSON object (no solver banner)
    assert set(figures) >= KEYS
    assert "HiGHS" not in run.stdout and "Running" not in run.stdout

    with make_sessionmaker(engine)() as session:
        cameras = load_cameras(session)
        names = load_owner_names(session)
    assert {c.resolution_mp for c in cameras} == {2.0}  # so RADIUS holds for every camera
    demand = combine_layers([school_zone_layer(shared_data), fatal_crash_layer(shared_data)])
    lats = np.array([p.lat for p in demand])
    lons = np.array([p.lon for p in demand])
    w = np.array([p.weight for p in demand])

    with (out / "plan.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    moves = [r for r in rows if r["kind"] == "move"]
    new = [r for r in rows if r["kind"] == "new"]
    assert len(moves) == figures["relocated"] > 0
    assert len(new) == figures["new_installs"]
    assert len(rows) == len(moves) + len(new)

    def aim(text: str) -> float | None:
        return float(text) if text else None

    home = [(c.lat, c.lon, None if c.is_ptz else c.azimuth_deg) for c in cameras]
    before = covered_by_hand(home, lats, lons)
    assert figures["covered_before"] == pytest.approx(float(w[before].sum()))
    moved = {int(r["camera_id"]) for r in moves}
    assert len(moved) == len(moves)
    after_cams = [h for c, h in zip(cameras, home, strict=True) if c.id not in moved]
    after_cams += [(float(r["to_lat"]), float(r["to_lon"]), aim(r["azimuth_deg"])) for r in moves]
    after_cams += [(float(r["to_lat"]), float(r["to_lon"]), aim(r["azimuth_deg"])) for r in new]
    after = covered_by_hand(after_cams, lats, lons)
    assert figures["covered_after"] == pytest.approx(float(w[after].sum()))
    assert figures["covered_after"] > figures["covered_before"]
    assert figures["greedy_covered"] <= figures["covered_after"]
    assert figures["gap"] == pytest.approx(0.0, abs=1e-9)

    linked = sum(1 for c in cameras if names[c.owner_id] != "광주광역시")
    assert figures["linked"] == linked == 1350
    assert figures["effective_new"] == figures["linked"] + figures["relocated"]
    assert figures["saved_krw"] == figures["relocated"] * (25_000_000 - 4_000_000)
    spent = sum(float(r["cost_krw"]) for r in rows)
    assert spent == pytest.approx(
        figures["relocated"] * 4_000_000 + figures["new_installs"] * 25_000_000
    )
    assert spent <= figures["budget_krw"] == figures["movable"] * 4_000_000

    collection = json.loads((out / "plan.geojson").read_text(encoding="utf-8"))
    lines = [f for f in collection["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in collection["features"] if f["geometry"]["type"] == "Point"]
    assert len(lines) == figures["relocated"] and len(points) == figures["new_installs"]
    by_camera = {int(r["camera_id"]): r for r in moves}
    for line in lines:
        (lon0, lat0), (lon1, lat1) = line["geometry"]["coordinates"]
        row = by_camera[line["properties"]["camera_id"]]
        assert (lat0, lon0) != (lat1, lon1)
        assert (float(row["to_lat"]), float(row["to_lon"])) == (lat1, lon1)

    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert "http://" not in html and "https://" not in html
    for text in (
        f"{figures['linked']:,}",
        f"{figures['relocated']:,}",
        f"{figures['effective_new']:,}",
        f"{figures['saved_krw']:,.0f} KRW",
        "연계 카메라",
        "cameras relocated",
        "행정안전부 전국어린이보호구역표준데이터",
        "도로교통공단 교통사망사고정보",
        "vuski/admdongkor",
        "generated",
    ):
        assert text in html, text
    assert html.count("<svg") == 3  # before, after, the budget chart
    assert html.count("marker-end=") == figures["relocated"]


def test_a_missing_demand_file_is_one_line_and_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "demand.csv"
    run = argus(env, "plan", "relocate", "--demand", str(missing), "--json")
    assert run.returncode == 2
    assert run.stdout == ""
    assert str(missing) in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_a_negative_budget_is_refused(env: dict[str, str]) -> None:
    run = argus(env, "plan", "relocate", "--budget", "-1", "--json")
    assert run.returncode == 2
    assert "--budget" in run.stderr and run.stdout == ""


def test_coverage_with_a_user_demand_file_and_no_cameras(
    env: dict[str, str], tmp_path: Path
) -> None:
    demand = tmp_path / "demand.csv"
    demand.write_text("id,lat,lon,weight\na,35.15,126.85,2\nb,35.16,126.86,3\n", encoding="utf-8")
    run = argus(env, "plan", "coverage", "--demand", str(demand), "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["total_weight"] == 5.0 and report["covered_weight"] == 0.0
    assert [x["layer"] for x in report["layers"]] == ["demand"]
    text = argus(env, "plan", "coverage", "--demand", str(demand))
    assert text.returncode == 0, text.stderr
    # no cameras: every district lacks inventory, so its uncovered points are unknown, not blind
    assert "no inventory" in text.stdout
    assert "blind spots: 0 (plus 2 uncovered in districts without inventory)" in text.stdout
    clusters = argus(env, "plan", "redundancy", "--json")
    assert clusters.returncode == 0, clusters.stderr
    assert json.loads(clusters.stdout) == {"clusters": [], "movable": 0}
