"""CSRF for cookie sessions; bearer tokens and API keys for integrations; disabled accounts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from argus.identity.access import Console
from argus.identity.principal import Role
from argus.identity.schemas import UserUpdate
from argus.identity.sessions import COOKIE_NAME
from tests.identity.helpers import PASSWORD, World, audit_entries, sign_in

NEW_USER = {"username": "dong-op2", "roles": ["operator"], "password": PASSWORD}


def _new_user(world: World) -> dict[str, object]:
    return {**NEW_USER, "agency_id": world.dong}


def _bearer(client: TestClient, username: str) -> str:
    response = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    token: str = body["access_token"]
    return token


def _api_key(client: TestClient, world: World, username: str) -> str:
    admin = {"Authorization": f"Bearer {_bearer(client, 'root')}"}
    response = client.post(
        f"/api/users/{world.users[username].id}/keys", json={"name": "VMS"}, headers=admin
    )
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


# -- CSRF ---------------------------------------------------------------------------------


def test_cookie_requests_that_change_things_need_the_csrf_header(
    client: TestClient, world: World, engine: Engine
) -> None:
    csrf = sign_in(client, "dong-admin")
    missing = client.post("/api/users", json=_new_user(world))
    assert missing.status_code == 403
    assert "X-CSRF-Token" in missing.json()["message"]
    wrong = client.post("/api/users", json=_new_user(world), headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    assert client.get("/api/users").status_code == 200  # reading needs no token
    made = client.post("/api/users", json=_new_user(world), headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text
    refusals = audit_entries(engine, "auth.csrf")
    assert len(refusals) == 2 and {e["outcome"] for e in refusals} == {"deny"}
    assert refusals[0]["target"] == "route:POST /api/users"
    assert refusals[0]["actor"] == world.users["dong-admin"].id
    assert refusals[0]["client"] == "testclient"


def test_the_csrf_token_of_one_session_does_not_fit_another(
    client: TestClient, world: World
) -> None:
    other_csrf = sign_in(client, "root")
    sign_in(client, "dong-admin")  # a new session replaces the cookie
    refused = client.post("/api/users", json=_new_user(world), headers={"X-CSRF-Token": other_csrf})
    assert refused.status_code == 403


def test_bearer_tokens_and_api_keys_need_no_csrf_header(client: TestClient, world: World) -> None:
    key = _api_key(client, world, "dong-admin")
    bearer = _bearer(client, "dong-admin")
    client.cookies.clear()
    by_bearer = client.post(
        "/api/users", json=_new_user(world), headers={"Authorization": f"Bearer {bearer}"}
    )
    assert by_bearer.status_code == 201, by_bearer.text
    by_key = client.post(
        "/api/users", json={**_new_user(world), "username": "dong-op3"}, headers={"X-API-Key": key}
    )
    assert by_key.status_code == 201, by_key.text


# -- asking without a (good) credential ---------------------------------------------------


def test_no_credential_is_a_401_that_says_how_to_sign_in(client: TestClient, world: World) -> None:
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    message = response.json()["message"]
    assert "not signed in" in message and "Bearer" in message and "X-API-Key" in message


@pytest.mark.parametrize(
    ("header", "value", "says"),
    [
        ("Authorization", "Basic cm9vdDpwdw==", "Bearer <token>"),
        ("Authorization", "Bearer", "Bearer <token>"),
        ("Authorization", "Bearer not-a-token", "bearer token is not valid"),
        ("X-API-Key", "argus_forged", "API key is not valid"),
    ],
)
def test_a_bad_header_is_refused_even_with_a_good_cookie(
    client: TestClient, world: World, header: str, value: str, says: str
) -> None:
    sign_in(client, "dong-op")
    response = client.get("/api/auth/me", headers={header: value})
    assert response.status_code == 401
    assert says in response.json()["message"]


def test_bearer_tokens_live_15_minutes_and_sign_out_ends_them(
    client: TestClient, world: World
) -> None:
    token = _bearer(client, "buk-op")
    auth = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/auth/me", headers=auth)
    assert me.status_code == 200 and me.json()["method"] == "bearer"
    assert me.json()["csrf_token"] is None
    world.clock.advance(minutes=14, seconds=59)
    assert client.get("/api/auth/me", headers=auth).status_code == 200
    world.clock.advance(seconds=1)
    expired = client.get("/api/auth/me", headers=auth)
    assert expired.status_code == 401 and "expired" in expired.json()["message"]
    second = {"Authorization": f"Bearer {_bearer(client, 'buk-op')}"}
    assert client.post("/api/auth/logout", headers=second).status_code == 204
    assert client.get("/api/auth/me", headers=second).status_code == 401


# -- API keys -----------------------------------------------------------------------------


def test_an_api_key_works_is_listed_without_the_key_and_stops_when_revoked(
    client: TestClient, world: World, engine: Engine
) -> None:
    user_id = world.users["buk-op"].id
    key = _api_key(client, world, "buk-op")
    assert key.startswith("argus_") and len(key) >= 6 + 43
    me = client.get("/api/auth/me", headers={"X-API-Key": key})
    assert me.status_code == 200
    assert me.json()["user"]["username"] == "buk-op" and me.json()["method"] == "api_key"
    admin = {"Authorization": f"Bearer {_bearer(client, 'buk-admin')}"}
    [listed] = client.get(f"/api/users/{user_id}/keys", headers=admin).json()
    assert "key" not in listed and key not in str(listed)
    assert listed["prefix"] == key[:12] and listed["name"] == "VMS"
    assert listed["last_used_at"] is not None
    revoked = client.post(f"/api/users/{user_id}/keys/{listed['id']}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    refused = client.get("/api/auth/me", headers={"X-API-Key": key})
    assert refused.status_code == 401 and "revoked" in refused.json()["message"]
    actions = [(e["action"], e["outcome"]) for e in audit_entries(engine, "apikey.")]
    assert actions == [("apikey.create", "ok"), ("apikey.revoke", "ok")]


def test_an_api_key_cannot_sign_out(client: TestClient, world: World) -> None:
    key = _api_key(client, world, "buk-op")
    response = client.post("/api/auth/logout", headers={"X-API-Key": key})
    assert response.status_code == 400 and "revoke" in response.json()["message"]


def test_disabling_a_user_stops_their_session_token_and_key_at_once(
    client: TestClient, world: World
) -> None:
    key = _api_key(client, world, "dong-op")
    bearer = {"Authorization": f"Bearer {_bearer(client, 'dong-op')}"}
    sign_in(client, "dong-op")
    assert client.get("/api/auth/me").status_code == 200
    world.identity.users.disable_user(Console(), world.users["dong-op"].id)
    for headers in ({}, bearer, {"X-API-Key": key}):
        refused = client.get("/api/auth/me", headers=headers)
        assert refused.status_code == 401, headers
    assert "disabled" in client.get("/api/auth/me", headers={"X-API-Key": key}).json()["message"]
    world.identity.users.enable_user(Console(), world.users["dong-op"].id)
    assert client.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/api/auth/me").status_code == 401  # the session ended for good


def test_role_changes_apply_to_the_next_request(client: TestClient, world: World) -> None:
    key = _api_key(client, world, "dong-op")
    assert client.get("/api/users", headers={"X-API-Key": key}).status_code == 403
    world.identity.users.update_user(
        Console(),
        world.users["dong-op"].id,
        UserUpdate(roles=[Role.OPERATOR, Role.AGENCY_ADMIN]),
    )
    assert client.get("/api/users", headers={"X-API-Key": key}).status_code == 200


def test_the_session_cookie_is_not_accepted_as_a_bearer_token(
    client: TestClient, world: World
) -> None:
    sign_in(client, "dong-op")
    session_id = client.cookies[COOKIE_NAME]
    client.cookies.clear()
    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {session_id}"})
    assert response.status_code == 401
