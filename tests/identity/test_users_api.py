"""The users API: system admins manage everyone, agency admins their own agency, others nobody."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from argus.identity.context import UserChanged
from argus.identity.models import PasswordHistory, User
from tests.identity.helpers import PASSWORD, World, audit_entries


class As:
    """Requests of one signed-in user (a bearer token, so no CSRF header is needed)."""

    def __init__(self, client: TestClient, username: str, password: str = PASSWORD) -> None:
        self.client = client
        response = client.post("/api/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.client.post(url, headers=self.headers, **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        return self.client.patch(url, headers=self.headers, **kw)


def _new(world: World, agency: int | None = None, **extra: Any) -> dict[str, Any]:
    body = {
        "username": "new-user",
        "agency_id": agency or world.dong,
        "roles": ["operator"],
        "password": PASSWORD,
    }
    return {**body, **extra}


def test_system_admin_manages_every_agency(
    client: TestClient, world: World, engine: Engine
) -> None:
    root = As(client, "root")
    made = root.post("/api/users", json=_new(world, world.buk, display_name="김민수"))
    assert made.status_code == 201, made.text
    user = made.json()
    assert user["agency_name"] == "광주광역시 북구" and user["display_name"] == "김민수"
    assert "password" not in str(user).lower().replace("password_changed_at", "")
    everyone = root.get("/api/users").json()
    assert {u["username"] for u in everyone} == {*world.users, "new-user"}
    changed = root.patch(
        f"/api/users/{user['id']}",
        json={"roles": ["supervisor", "operator", "operator"], "agency_id": world.dong},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["roles"] == ["operator", "supervisor"]
    assert changed.json()["agency_id"] == world.dong
    assert root.post(f"/api/users/{user['id']}/disable").json()["disabled"] is True
    assert root.post(f"/api/users/{user['id']}/enable").json()["disabled"] is False
    actions = [
        (e["action"], e["actor"], e["target"])
        for e in audit_entries(engine, "user.")
        if e["target"] == f"user:{user['id']}"
    ]
    rid = world.users["root"].id
    assert actions == [
        ("user.create", rid, f"user:{user['id']}"),
        ("user.update", rid, f"user:{user['id']}"),
        ("user.disable", rid, f"user:{user['id']}"),
        ("user.enable", rid, f"user:{user['id']}"),
    ]


def test_agency_admin_manages_their_own_agency(client: TestClient, world: World) -> None:
    admin = As(client, "dong-admin")
    listed = admin.get("/api/users").json()
    assert {u["username"] for u in listed} == {"root", "dong-admin", "dong-op"}
    made = admin.post("/api/users", json=_new(world))
    assert made.status_code == 201, made.text
    uid = made.json()["id"]
    assert admin.patch(f"/api/users/{uid}", json={"roles": ["auditor"]}).status_code == 200
    reset = admin.post(f"/api/users/{uid}/reset-password", json={"password": "Fresh-pass-77"})
    assert reset.status_code == 200, reset.text
    assert admin.post(f"/api/users/{uid}/disable").status_code == 200


def test_agency_admin_cannot_touch_another_agencys_users(
    client: TestClient, world: World, engine: Engine
) -> None:
    admin = As(client, "dong-admin")
    other = world.users["buk-op"].id
    before = len(audit_entries(engine, "user."))
    refused = [
        admin.get(f"/api/users/{other}"),
        admin.patch(f"/api/users/{other}", json={"display_name": "x"}),
        admin.post(f"/api/users/{other}/disable"),
        admin.post(f"/api/users/{other}/reset-password", json={"password": "Other-pass-88"}),
        admin.post(f"/api/users/{other}/keys", json={"name": "x"}),
        admin.get(f"/api/users/{other}/keys"),
        admin.post("/api/users", json=_new(world, world.buk)),
        admin.get(f"/api/users?agency_id={world.buk}"),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert "own agency" in refused[0].json()["message"]
    assert len(audit_entries(engine, "user.")) == before  # and nothing changed
    assert (
        client.post(
            "/api/auth/login", json={"username": "buk-op", "password": PASSWORD}
        ).status_code
        == 200
    )


def test_agency_admin_cannot_grant_or_touch_system_admin(client: TestClient, world: World) -> None:
    admin = As(client, "dong-admin")
    grant = admin.post("/api/users", json=_new(world, roles=["system_admin"]))
    assert grant.status_code == 403 and "system_admin" in grant.json()["message"]
    promote = admin.patch(
        f"/api/users/{world.users['dong-op'].id}", json={"roles": ["operator", "system_admin"]}
    )
    assert promote.status_code == 403
    root_id = world.users["root"].id  # a system admin who happens to belong to 동구
    takeover = admin.post(f"/api/users/{root_id}/reset-password", json={"password": "Mine-now-99"})
    assert takeover.status_code == 403 and "system admin" in takeover.json()["message"]
    assert admin.post(f"/api/users/{root_id}/disable").status_code == 403
    move = admin.patch(f"/api/users/{world.users['dong-op'].id}", json={"agency_id": world.buk})
    assert move.status_code == 403 and "another agency" in move.json()["message"]


@pytest.mark.parametrize("username", ["dong-op", "buk-op"])
def test_other_roles_get_403_naming_the_roles_needed(
    client: TestClient, world: World, username: str
) -> None:
    caller = As(client, username)
    for response in (
        caller.get("/api/users"),
        caller.post("/api/users", json=_new(world)),
        caller.get(f"/api/users/{world.users[username].id}"),
    ):
        assert response.status_code == 403
        assert "agency_admin, system_admin" in response.json()["message"]


def test_admins_cannot_disable_themselves_or_drop_their_own_admin_role(
    client: TestClient, world: World
) -> None:
    admin = As(client, "dong-admin")
    me = world.users["dong-admin"].id
    assert admin.post(f"/api/users/{me}/disable").status_code == 400
    dropped = admin.patch(f"/api/users/{me}", json={"roles": ["operator"]})
    assert dropped.status_code == 400 and "agency_admin" in dropped.json()["message"]


def test_bad_input_names_the_field_and_changes_nothing(client: TestClient, world: World) -> None:
    root = As(client, "root")
    cases = {
        "username": _new(world, username="Bad Name!"),
        "roles": _new(world, roles=[]),
        "agency_id": _new(world, agency_id=999_999),
        "password": _new(world, password="short"),
    }
    for field, body in cases.items():
        response = root.post("/api/users", json=body)
        assert response.status_code == 422, (field, response.text)
        assert field in response.json()["message"]
    taken = root.post("/api/users", json=_new(world, username="dong-op"))
    assert taken.status_code == 409 and "taken" in taken.json()["message"]
    assert len(root.get("/api/users").json()) == len(world.users)
    assert root.get("/api/users/999999").status_code == 404


def test_weak_passwords_are_refused_naming_what_is_missing(
    client: TestClient, world: World
) -> None:
    root = As(client, "root")
    response = root.post("/api/users", json=_new(world, password="abcdefghij"))
    assert response.status_code == 422
    message = response.json()["message"]
    assert message.startswith("password:")
    assert "10 characters of 2 kinds" in message and "upper-case letters" in message
    named = root.post("/api/users", json=_new(world, password="new-user-2026"))
    assert named.status_code == 422 and "username" in named.json()["message"]


def test_a_reused_password_is_refused(client: TestClient, world: World, engine: Engine) -> None:
    root = As(client, "root")
    uid = world.users["dong-op"].id
    url = f"/api/users/{uid}/reset-password"
    history = [PASSWORD, "Second-pass-22", "Third-pass-33"]
    for password in history[1:]:
        assert root.post(url, json={"password": password}).status_code == 200
    for password in history:  # the last three, the current one included
        refused = root.post(url, json={"password": password})
        assert refused.status_code == 422
        assert "last 3 passwords" in refused.json()["message"]
    assert root.post(url, json={"password": "Fourth-pass-44"}).status_code == 200
    assert root.post(url, json={"password": PASSWORD}).status_code == 200  # four ago: allowed
    assert (
        client.post(
            "/api/auth/login", json={"username": "dong-op", "password": PASSWORD}
        ).status_code
        == 200
    )


def test_a_reset_ends_the_users_sessions(client: TestClient, world: World) -> None:
    victim = As(client, "buk-op")
    assert victim.get("/api/auth/me").status_code == 200
    root = As(client, "root")
    url = f"/api/users/{world.users['buk-op'].id}/reset-password"
    assert root.post(url, json={"password": "After-reset-1"}).status_code == 200
    assert victim.get("/api/auth/me").status_code == 401
    assert As(client, "buk-op", "After-reset-1").get("/api/auth/me").status_code == 200


def test_users_change_their_own_password(client: TestClient, world: World) -> None:
    me = As(client, "dong-op")
    elsewhere = As(client, "dong-op")
    wrong = me.post(
        "/api/auth/password",
        json={"current_password": "not-it", "new_password": "Brand-new-55"},
    )
    assert wrong.status_code == 422 and "current_password" in wrong.json()["message"]
    same = me.post(
        "/api/auth/password", json={"current_password": PASSWORD, "new_password": PASSWORD}
    )
    assert same.status_code == 422 and "new_password" in same.json()["message"]
    done = me.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "Brand-new-55"},
    )
    assert done.status_code == 204, done.text
    assert me.get("/api/auth/me").status_code == 200  # this session goes on
    assert elsewhere.get("/api/auth/me").status_code == 401  # the others end
    assert As(client, "dong-op", "Brand-new-55").get("/api/auth/me").status_code == 200


def test_stored_passwords_are_argon2id_hashes(engine: Engine, world: World) -> None:
    with Session(engine) as db:
        hashes = list(db.scalars(select(User.password_hash)))
        hashes += list(db.scalars(select(PasswordHistory.password_hash)))
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(PASSWORD in h for h in hashes)


def test_listeners_hear_of_committed_changes_only(client: TestClient, world: World) -> None:
    heard: list[UserChanged] = []
    world.identity.ctx.listeners.append(heard.append)
    target = world.users["dong-op"].id
    assert As(client, "buk-admin").post(f"/api/users/{target}/disable").status_code == 403
    assert heard == []
    admin = As(client, "dong-admin")
    assert admin.post(f"/api/users/{target}/disable").status_code == 200
    assert admin.post(f"/api/users/{target}/disable").status_code == 200  # already: no news
    assert [(c.action, c.user.id, c.user.disabled, c.at) for c in heard] == [
        ("user.disable", target, True, world.clock.now)
    ]
