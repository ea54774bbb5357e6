"""`argus agreements …` as a named user: the rights and messages of the API, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from argus.identity.access import Console
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.identity.service import IdentityService
from argus.registry.service import Registry
from tests.sharing.world import World, audit_entries, build_world

ARGUS = [sys.executable, "-m", "argus.cli"]
PASSWORD = "Gwangju-관제-2026-pass"


def run(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*ARGUS, *args], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def world(registry: Registry, engine: Engine) -> World:
    world = build_world(registry)
    users = IdentityService.for_engine(engine).users
    for username, agency, roles in [
        ("buk-admin", world.buk, [Role.AGENCY_ADMIN]),
        ("city-admin", world.city, [Role.AGENCY_ADMIN]),
        ("buk-operator", world.buk, [Role.OPERATOR]),
    ]:
        users.create_user(
            Console(),
            UserCreate(username=username, agency_id=agency, roles=roles, password=PASSWORD),
        )
    gone = users.create_user(
        Console(),
        UserCreate(
            username="gone", agency_id=world.buk, roles=[Role.AGENCY_ADMIN], password=PASSWORD
        ),
    )
    users.disable_user(Console(), gone.id)
    return world


def created(env: dict[str, str], world: World, user: str = "buk-admin") -> dict[str, Any]:
    result = run(
        env,
        "agreements",
        "create",
        "--as",
        user,
        "--owner",
        "광주광역시 북구",
        "--consumer",
        str(world.city),
        "--district",
        "북구",
        "--camera-purpose",
        "교통단속",
        "--purpose",
        "crime_prevention",
        "--capability",
        "live",
        "--capability",
        "playback",
        "--window",
        "22:00-07:00",
        "--unless-incident",
        "--legal-basis",
        "개인정보 보호법 제18조제2항",
        "--json",
    )
    return dict(json.loads(result.stdout))


def test_the_lifecycle_from_the_command_line(
    cli_env: dict[str, str], world: World, engine: Engine
) -> None:
    agreement = created(cli_env, world)
    assert agreement["status"] == "draft" and agreement["windows"][0]["start"] == "22:00"
    assert agreement["selector"] == {"districts": ["북구"], "purposes": ["교통단속"]}
    number = str(agreement["id"])
    assert "proposed" in run(cli_env, "agreements", "propose", number, "--as", "buk-admin").stdout
    refused = run(cli_env, "agreements", "accept", number, "--as", "city-admin", ok=False)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "only an agency admin of the owner (광주광역시 북구)" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    operator = run(cli_env, "agreements", "accept", number, "--as", "buk-operator", ok=False)
    assert operator.returncode == 2 and "only an agency admin" in operator.stderr
    assert "accepted" in run(cli_env, "agreements", "accept", number, "--as", "buk-admin").stdout
    listed = run(cli_env, "agreements", "list", "--as", "city-admin", "--json").stdout
    assert [json.loads(line)["status"] for line in listed.splitlines()] == ["accepted"]
    shown = run(cli_env, "agreements", "show", number, "--as", "city-admin").stdout
    assert "광주광역시 북구 → 광주광역시" in shown and "22:00–07:00 (Asia/Seoul)" in shown
    run(cli_env, "agreements", "suspend", number, "--as", "buk-admin", "--note", "점검")
    assert "revoked" in run(cli_env, "agreements", "revoke", number, "--as", "buk-admin").stdout

    log = [(e["action"], e["outcome"], e["details"].get("via")) for e in audit_entries(engine)]
    ours = [entry for entry in log if entry[0].startswith("agreement.")]
    assert ours == [
        ("agreement.create", "ok", "cli"),
        ("agreement.propose", "ok", "cli"),
        ("agreement.accept", "deny", "cli"),
        ("agreement.accept", "deny", "cli"),
        ("agreement.accept", "ok", "cli"),
        ("agreement.suspend", "ok", "cli"),
        ("agreement.revoke", "ok", "cli"),
    ]


def test_unknown_disabled_and_invalid_input(
    cli_env: dict[str, str], world: World, tmp_path: Path
) -> None:
    nobody = run(cli_env, "agreements", "list", "--as", "nobody", ok=False)
    assert nobody.returncode == 2 and "user 'nobody' does not exist" in nobody.stderr
    disabled = run(cli_env, "agreements", "list", "--as", "gone", ok=False)
    assert disabled.returncode == 2 and "disabled" in disabled.stderr
    overlap = run(
        cli_env,
        "agreements",
        "create",
        "--as",
        "buk-admin",
        "--owner",
        str(world.buk),
        "--consumer",
        str(world.city),
        "--district",
        "북구",
        "--purpose",
        "crime_prevention",
        "--capability",
        "live",
        "--window",
        "22:00-07:00",
        "--window",
        "06:00-08:00",
        "--legal-basis",
        "협약서",
        ok=False,
    )
    assert overlap.returncode == 2 and "windows:" in overlap.stderr and "overlap" in overlap.stderr
    assert "Traceback" not in overlap.stderr
    patch = tmp_path / "patch.json"
    patch.write_text(json.dumps({"capabilities": ["live", "export"]}), encoding="utf-8")
    number = str(created(cli_env, world)["id"])
    run(cli_env, "agreements", "propose", number, "--as", "buk-admin")
    run(cli_env, "agreements", "accept", number, "--as", "buk-admin")
    widened = run(
        cli_env, "agreements", "narrow", number, "--as", "buk-admin", "--file", str(patch), ok=False
    )
    assert widened.returncode == 2 and "widening needs a new agreement" in widened.stderr
    patch.write_text(json.dumps({"capabilities": ["live"]}), encoding="utf-8")
    narrowed = run(
        cli_env, "agreements", "narrow", number, "--as", "buk-admin", "--file", str(patch), "--json"
    )
    assert json.loads(narrowed.stdout)["capabilities"] == ["live"]
