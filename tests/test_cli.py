"""The `argus` command as a user runs it: a subprocess, readable errors, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from argus.scenario.accounts import DEMO_PASSWORD

ARGUS = [sys.executable, "-m", "argus.cli"]


def run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*ARGUS, *args], env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_help_lists_the_commands(cli_env: dict[str, str]) -> None:
    text = run(cli_env, "--help").stdout
    for command in ("serve", "import", "scenario", "cameras", "db"):
        assert command in text


def test_user_mistakes_are_one_line_without_traceback(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    missing = run(cli_env, "import", "cctv-std", str(tmp_path / "nope.csv"), check=False)
    assert missing.returncode != 0
    assert "Traceback" not in missing.stderr and "nope.csv" in missing.stderr
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\x00\xff\xfe binary \x81\x00")
    bad = run(cli_env, "import", "cctv-std", str(garbage), check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    unknown = run(cli_env, "cameras", "show", "424242", check=False)
    assert (
        unknown.returncode != 0 and "424242" in unknown.stderr and "Traceback" not in unknown.stderr
    )
    bbox = run(cli_env, "cameras", "list", "--bbox", "1,2", check=False)
    assert bbox.returncode != 0 and "bbox" in bbox.stderr and "Traceback" not in bbox.stderr


def test_db_upgrade_is_repeatable(cli_env: dict[str, str]) -> None:
    first = run(cli_env, "db", "upgrade")
    second = run(cli_env, "db", "upgrade")
    assert "→" in first.stderr and "→" in second.stderr


@pytest.mark.slow
def test_import_then_list_and_show(cli_env: dict[str, str], shared_data: Path) -> None:
    geojson = shared_data / "gwangju-cctv-dongmyeong-firelane" / "cctv_points.geojson"
    summary = json.loads(run(cli_env, "import", "cctv-std", str(geojson), "--json").stdout)
    assert summary["rows"] == 53 and summary["written"] is True
    listed = run(cli_env, "cameras", "list", "--json").stdout.strip().splitlines()
    assert len(listed) == summary["cameras"]
    first = json.loads(listed[0])
    shown = json.loads(run(cli_env, "cameras", "show", str(first["id"]), "--json").stdout)
    assert shown["id"] == first["id"] and shown["owner_name"] == "광주광역시"
    near = (
        run(
            cli_env, "cameras", "list", "--near", "35.148201,126.929933", "--radius", "50", "--json"
        )
        .stdout.strip()
        .splitlines()
    )
    assert near and all(json.loads(line)["distance_m"] <= 50 for line in near)
    table = run(cli_env, "cameras", "list", "--district", "동구", "--limit", "5").stdout
    assert f"{summary['cameras']} camera(s)" in table


@pytest.mark.slow
def test_demo_scenario_accounts_sign_in(
    cli_env: dict[str, str], shared_data: Path, client: TestClient
) -> None:
    env = {**cli_env, "ARGUS_REFERENCE_DATA": str(shared_data)}
    first = json.loads(run(env, "scenario", "gwangju", "--demo-accounts", "--json").stdout)
    assert first["created"]["cameras"] == 8484
    assert "bukgu-admin" in first["demo_accounts"] and "police-112" in first["demo_accounts"]
    again = json.loads(run(env, "scenario", "gwangju", "--demo-accounts", "--json").stdout)
    assert again["created"]["cameras"] == 0 and again["demo_accounts"] == []
    signed = client.post(
        "/api/auth/login", json={"username": "bukgu-admin", "password": DEMO_PASSWORD}
    )
    assert signed.status_code == 200, signed.text
    me = client.get("/api/auth/me").json()["user"]
    assert me["agency_name"] == "광주광역시 북구" and me["roles"] == ["agency_admin"]
