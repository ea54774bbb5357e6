"""Throttling: 5 failures in 15 minutes lock a username for 15 minutes; 20 lock an address."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from argus.identity.access import Console
from tests.identity.helpers import PASSWORD, World, audit_entries


def _login(client: TestClient, username: str, password: str, **kw: Any) -> Any:
    return client.post("/api/auth/login", json={"username": username, "password": password}, **kw)


def _fail(client: TestClient, username: str, times: int, **kw: Any) -> None:
    for _ in range(times):
        assert _login(client, username, "Wrong-pass-99", **kw).status_code == 401


def test_five_failures_lock_the_account_for_fifteen_minutes(
    client: TestClient, world: World, engine: Engine
) -> None:
    _fail(client, "dong-op", 5)
    locked = _login(client, "dong-op", PASSWORD)  # even the right password is refused now
    assert locked.status_code == 429
    assert "too many failed sign-ins for this username" in locked.json()["message"]
    assert "2026-03-02 09:15:00 UTC" in locked.json()["message"]
    assert locked.headers["Retry-After"] == "900"
    world.clock.advance(minutes=14, seconds=59)
    assert _login(client, "dong-op", PASSWORD).status_code == 429
    world.clock.advance(seconds=1)
    assert _login(client, "dong-op", PASSWORD).status_code == 200
    entries = audit_entries(engine, "auth.")
    assert [e["action"] for e in entries] == ["auth.login"] * 5 + [
        "auth.lockout",
        "auth.login",
        "auth.login",
        "auth.login",
    ]
    lockout = entries[5]
    assert lockout["outcome"] == "deny" and lockout["target"] == "username:dong-op"
    assert "5 failed sign-ins within 15 minutes" in lockout["reason"]
    assert [e["outcome"] for e in entries[6:]] == ["deny", "deny", "ok"]


def test_failures_spread_over_more_than_the_window_do_not_lock(
    client: TestClient, world: World
) -> None:
    for _ in range(6):
        _fail(client, "dong-op", 1)
        world.clock.advance(minutes=4)  # never 5 within any 15 minutes
    assert _login(client, "dong-op", PASSWORD).status_code == 200


def test_a_success_clears_the_count(client: TestClient, world: World) -> None:
    _fail(client, "dong-op", 4)
    assert _login(client, "dong-op", PASSWORD).status_code == 200
    _fail(client, "dong-op", 4)
    assert _login(client, "dong-op", PASSWORD).status_code == 200


def test_unknown_usernames_lock_exactly_like_real_ones(client: TestClient, world: World) -> None:
    answers = []
    for username in ("dong-op", "no-such-user"):
        for _ in range(6):
            response = _login(client, username, "Wrong-pass-99")
            answers.append((response.status_code, response.json()["message"]))
    assert answers[:6] == answers[6:]  # nothing tells the existing user from the other
    assert [code for code, _ in answers[:6]] == [401] * 5 + [429]


def test_usernames_are_locked_however_they_are_typed(client: TestClient, world: World) -> None:
    _fail(client, "dong-op", 3)
    _fail(client, "DONG-OP", 2)
    assert _login(client, "Dong-Op ", PASSWORD).status_code == 429


def test_one_address_trying_many_usernames_is_blocked_after_twenty_failures(
    client: TestClient, world: World, engine: Engine
) -> None:
    for n in range(20):
        _fail(client, f"guess{n}", 1)
    blocked = _login(client, "buk-op", PASSWORD)
    assert blocked.status_code == 429
    assert "from this address" in blocked.json()["message"]
    lockouts = audit_entries(engine, "auth.lockout")
    assert [e["target"] for e in lockouts] == ["client:testclient"]


def test_an_admin_reset_lifts_the_lock(client: TestClient, world: World) -> None:
    _fail(client, "dong-op", 5)
    assert _login(client, "dong-op", PASSWORD).status_code == 429
    world.identity.users.reset_password(Console(), world.users["dong-op"].id, "New-pass-2026!")
    assert _login(client, "dong-op", "New-pass-2026!").status_code == 200


def test_bearer_token_requests_count_toward_the_same_lock(client: TestClient, world: World) -> None:
    for _ in range(5):
        response = client.post(
            "/api/auth/token", json={"username": "buk-op", "password": "Wrong-pass-99"}
        )
        assert response.status_code == 401
    assert _login(client, "buk-op", PASSWORD).status_code == 429
    token = client.post("/api/auth/token", json={"username": "buk-op", "password": PASSWORD})
    assert token.status_code == 429
