"""Helpers of the identity tests: a movable clock, a small world of agencies and users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from argus.audit.models import AuditEntry
from argus.identity.access import Console
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate, UserOut
from argus.identity.service import IdentityService

PASSWORD = "Gwangju-2026!"  # meets the rules; every fixture user starts with it


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    """Two agencies (동구, 북구) and a handful of users in them."""

    identity: IdentityService
    clock: Clock
    dong: int
    buk: int
    users: dict[str, UserOut]

    def add_user(self, username: str, agency_id: int, *roles: Role) -> UserOut:
        data = UserCreate(
            username=username, agency_id=agency_id, roles=list(roles), password=PASSWORD
        )
        user = self.identity.users.create_user(Console("test"), data)
        self.users[username] = user
        return user


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in with the browser session; returns the CSRF token (the cookie stays in client)."""
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


def audit_entries(engine: Engine, action_prefix: str = "") -> list[dict[str, Any]]:
    with Session(engine) as db:
        rows = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.startswith(action_prefix))
            .order_by(AuditEntry.seq)
        )
        return [
            {
                "action": r.action,
                "outcome": r.outcome,
                "actor": r.actor_user_id,
                "target": r.target,
                "reason": r.reason,
                "client": r.client,
                "details": r.details,
            }
            for r in rows
        ]
