"""Fixtures of the identity tests: the app's identity service on a test clock, a small world."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from argus.identity.deps import identity_service
from argus.identity.passwords import Hasher
from argus.identity.principal import Role
from argus.identity.service import IdentityService
from argus.registry.models import Agency
from tests.identity.helpers import Clock, World


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def identity(client: TestClient, clock: Clock) -> IdentityService:
    """The app's identity service, on the test clock, with cheap argon2id parameters."""
    service = identity_service(client.app)  # type: ignore[arg-type]
    service.ctx.clock = clock
    service.ctx.hasher = Hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    return service


@pytest.fixture
def world(identity: IdentityService, clock: Clock, engine: Engine) -> World:
    with Session(engine) as db, db.begin():
        dong = Agency(name="광주광역시 동구", kind="district", district="동구")
        buk = Agency(name="광주광역시 북구", kind="district", district="북구")
        db.add_all([dong, buk])
        db.flush()
        ids = dong.id, buk.id
    w = World(identity, clock, ids[0], ids[1], {})
    w.add_user("root", w.dong, Role.SYSTEM_ADMIN)
    w.add_user("dong-admin", w.dong, Role.AGENCY_ADMIN)
    w.add_user("dong-op", w.dong, Role.OPERATOR)
    w.add_user("buk-admin", w.buk, Role.AGENCY_ADMIN)
    w.add_user("buk-op", w.buk, Role.OPERATOR, Role.SUPERVISOR)
    return w
