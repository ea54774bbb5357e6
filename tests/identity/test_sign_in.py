"""Signing in and out through the real app: cookie, CSRF token, sessions that end."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from argus.identity.access import Console
from argus.identity.models import AuthToken
from argus.identity.sessions import COOKIE_NAME, SessionPolicy
from argus.identity.tokens import digest
from tests.identity.helpers import PASSWORD, World, audit_entries, sign_in


def _set_cookie_header(client: TestClient, username: str) -> str:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.headers["set-cookie"]


def test_sign_in_returns_the_user_and_a_csrf_token_and_me_knows_them(
    client: TestClient, world: World
) -> None:
    response = client.post(
        "/api/auth/login", json={"username": "Dong-Op", "password": PASSWORD}
    )  # usernames are not case-sensitive
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["username"] == "dong-op"
    assert body["user"]["agency_name"] == "광주광역시 동구"
    assert body["user"]["roles"] == ["operator"]
    assert body["idle_timeout_s"] == 30 * 60
    assert len(body["csrf_token"]) >= 40
    me = client.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["user"]["id"] == body["user"]["id"]
    assert me.json()["method"] == "session"
    assert me.json()["csrf_token"] == body["csrf_token"]  # after a page reload, too


def test_the_session_cookie_is_httponly_strict_and_not_secure_over_plain_http(
    client: TestClient, world: World
) -> None:
    header = _set_cookie_header(client, "dong-op")
    parts = [p.strip().lower() for p in header.split(";")]
    assert parts[0].startswith(f"{COOKIE_NAME}=")
    assert len(parts[0].split("=", 1)[1]) >= 43  # 32 random bytes, url-safe base64
    assert "httponly" in parts
    assert "samesite=strict" in parts
    assert "path=/" in parts
    assert "secure" not in parts  # 127.0.0.1 over http: a Secure cookie would never come back


def test_the_secure_flag_follows_the_setting(client: TestClient, world: World) -> None:
    world.identity.ctx.policy = SessionPolicy(cookie_secure=True)
    parts = [p.strip().lower() for p in _set_cookie_header(client, "dong-op").split(";")]
    assert "secure" in parts


def test_the_secret_session_id_is_stored_only_as_a_digest(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "dong-op")
    secret = client.cookies[COOKIE_NAME]
    with Session(engine) as db:
        stored = list(db.scalars(select(AuthToken.token_hash)))
    assert stored == [digest(secret)]
    assert secret not in stored


def test_sign_out_ends_the_session(client: TestClient, world: World) -> None:
    csrf = sign_in(client, "dong-op")
    old_cookie = client.cookies[COOKIE_NAME]
    response = client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert COOKIE_NAME not in client.cookies
    assert client.get("/api/auth/me").status_code == 401
    client.cookies.set(COOKIE_NAME, old_cookie)  # a copy of the old cookie is worth nothing
    refused = client.get("/api/auth/me")
    assert refused.status_code == 401
    assert "sign in again" in refused.json()["message"]


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: TestClient, world: World, engine: Engine
) -> None:
    wrong = client.post("/api/auth/login", json={"username": "dong-op", "password": "nope"})
    unknown = client.post("/api/auth/login", json={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "username or the password" in wrong.json()["message"]
    assert COOKIE_NAME not in client.cookies
    logins = audit_entries(engine, "auth.login")
    assert [(e["outcome"], e["reason"]) for e in logins] == [
        ("error", "wrong password"),
        ("error", "unknown username"),
    ]
    assert logins[0]["actor"] == world.users["dong-op"].id
    assert logins[1]["actor"] is None and '"username":"nobody"' in logins[1]["details"]
    assert all(e["client"] == "testclient" for e in logins)
    assert "nope" not in str(logins)  # passwords never reach the log


def test_a_successful_sign_in_is_audited(client: TestClient, world: World, engine: Engine) -> None:
    sign_in(client, "buk-op")
    [entry] = audit_entries(engine, "auth.login")
    assert entry["outcome"] == "ok"
    assert entry["actor"] == world.users["buk-op"].id
    assert entry["target"] == f"user:{world.users['buk-op'].id}"


def test_sessions_end_after_30_idle_minutes_but_activity_keeps_them(
    client: TestClient, world: World
) -> None:
    sign_in(client, "dong-op")
    world.clock.advance(minutes=20)
    assert client.get("/api/auth/me").status_code == 200  # used: the idle clock restarts
    world.clock.advance(minutes=25)
    assert client.get("/api/auth/me").status_code == 200  # 25 minutes since the last use
    world.clock.advance(minutes=31)
    ended = client.get("/api/auth/me")
    assert ended.status_code == 401
    assert "30 minutes without use" in ended.json()["message"]


def test_sessions_end_after_12_hours_however_busy(client: TestClient, world: World) -> None:
    sign_in(client, "dong-op")
    for _ in range(12 * 4 - 1):
        world.clock.advance(minutes=15)
        assert client.get("/api/auth/me").status_code == 200
    world.clock.advance(minutes=15)
    ended = client.get("/api/auth/me")
    assert ended.status_code == 401 and "expired" in ended.json()["message"]


def test_a_disabled_account_cannot_sign_in(client: TestClient, world: World) -> None:
    world.identity.users.disable_user(Console(), world.users["dong-op"].id)
    refused = client.post("/api/auth/login", json={"username": "dong-op", "password": PASSWORD})
    assert refused.status_code == 403
    assert "disabled" in refused.json()["message"]
    wrong = client.post("/api/auth/login", json={"username": "dong-op", "password": "x"})
    assert wrong.status_code == 401  # without the password, nothing tells it is disabled
