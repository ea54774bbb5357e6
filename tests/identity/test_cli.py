"""`argus users` as an operator runs it: a subprocess against the test database."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from argus.registry.models import Agency
from tests.identity.helpers import audit_entries

ARGUS = [sys.executable, "-m", "argus.cli", "users"]
PASSWORD = "Centre-Gwangju-2026"


def run(
    env: dict[str, str], *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*ARGUS, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def city(engine: Engine) -> int:
    with Session(engine) as db, db.begin():
        agency = Agency(name="광주광역시", kind="city")
        db.add(agency)
        db.flush()
        return agency.id


def test_add_list_disable(cli_env: dict[str, str], city: int, engine: Engine) -> None:
    added = run(
        cli_env,
        "add",
        "Admin",
        "--agency",
        "광주광역시",
        "--role",
        "system_admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert "'admin'" in added.stderr and "system_admin" in added.stderr
    run(
        cli_env,
        *("add", "op1", "--agency", str(city), "--role", "operator", "--role", "supervisor"),
        "--password-stdin",
        stdin="Operator-pass-1\n",
    )
    listed = [json.loads(line) for line in run(cli_env, "list", "--json").stdout.splitlines()]
    assert [(u["username"], u["roles"], u["disabled"]) for u in listed] == [
        ("admin", ["system_admin"], False),
        ("op1", ["operator", "supervisor"], False),
    ]
    assert all(u["agency_name"] == "광주광역시" for u in listed)
    run(cli_env, "disable", "op1")
    listed = [json.loads(line) for line in run(cli_env, "list", "--json").stdout.splitlines()]
    assert [u["disabled"] for u in listed] == [False, True]
    table = run(cli_env, "list").stdout
    assert "op1" in table and "disabled" in table
    entries = audit_entries(engine, "user.")
    assert [e["action"] for e in entries] == ["user.create", "user.create", "user.disable"]
    assert all('"via":"console"' in e["details"] for e in entries)


def test_the_first_admin_made_at_the_console_signs_in_to_the_api(
    cli_env: dict[str, str], city: int, client: TestClient
) -> None:
    run(
        cli_env,
        *("add", "admin", "--agency", "광주광역시", "--role", "system_admin"),
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    response = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["user"]["roles"] == ["system_admin"]


def test_mistakes_are_one_line_and_change_nothing(cli_env: dict[str, str], city: int) -> None:
    cases = [
        (("add", "kim", "--agency", "광주광역시", "--role", "operator"), "short1", "password"),
        (("add", "kim", "--agency", "없는기관", "--role", "operator"), PASSWORD, "없는기관"),
        (("add", "bad name", "--agency", "광주광역시", "--role", "operator"), PASSWORD, "username"),
        (("disable", "nobody"), None, "nobody"),
        (("add", "kim", "--agency", "광주광역시", "--role", "operator"), None, "--password-stdin"),
    ]
    for args, password, says in cases:
        stdin_args = ("--password-stdin",) if password else ()
        result = run(
            cli_env,
            *args,
            *stdin_args,
            stdin=(password + "\n") if password else "",
            check=False,
        )
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert says in result.stderr, result.stderr
    assert run(cli_env, "list", "--json").stdout == ""


def test_api_keys_and_password_reset(
    cli_env: dict[str, str], city: int, client: TestClient
) -> None:
    run(
        cli_env,
        *("add", "vms", "--agency", "광주광역시", "--role", "operator", "--password-stdin"),
        stdin="Integration-9!\n",
    )
    created = run(cli_env, "key", "create", "vms", "--name", "video wall")
    key = created.stdout.strip()
    assert key.startswith("argus_") and "shown this once" in created.stderr
    assert client.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 200
    [listed] = [json.loads(x) for x in run(cli_env, "key", "list", "--json").stdout.splitlines()]
    assert listed["name"] == "video wall" and key not in json.dumps(listed)
    run(cli_env, "key", "revoke", str(listed["id"]))
    assert client.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 401
    run(cli_env, "reset-password", "vms", "--password-stdin", stdin="Integration-10!\n")
    reused = run(
        cli_env, "reset-password", "vms", "--password-stdin", stdin="Integration-9!\n", check=False
    )
    assert reused.returncode == 2 and "last 3 passwords" in reused.stderr
    signed_in = client.post(
        "/api/auth/login", json={"username": "vms", "password": "Integration-10!"}
    )
    assert signed_in.status_code == 200
