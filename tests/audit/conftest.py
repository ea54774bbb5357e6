"""Fixtures of the audit tests: a small world of agencies and cameras, a signer, raw SQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.checkpoints import disable_checkpoints
from argus.audit.signing import Signer
from argus.db import make_sessionmaker
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from tests.audit.raw import RawDatabase


@dataclass(frozen=True)
class World:
    city: int  # 광주광역시 (kind city): the control centre
    buk: int  # 광주광역시 북구
    dong: int  # 광주광역시 동구
    police: int  # 광주경찰청
    buk_camera: int  # owned by 북구
    dong_camera: int  # owned by 동구


@pytest.fixture
def sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    yield make_sessionmaker(engine)
    disable_checkpoints(engine)


@pytest.fixture
def signer() -> Signer:
    return Signer(Ed25519PrivateKey.generate())


@pytest.fixture
def world(registry: Registry) -> World:
    city = registry.create_agency(AgencyCreate(name="광주광역시", kind="city")).id
    buk = registry.create_agency(AgencyCreate(name="광주광역시 북구", kind="district")).id
    dong = registry.create_agency(AgencyCreate(name="광주광역시 동구", kind="district")).id
    police = registry.create_agency(AgencyCreate(name="광주경찰청", kind="police")).id
    buk_site = registry.create_site(
        SiteCreate(owner_id=buk, lat=35.174, lon=126.912, road_address="북구 우치로 77")
    ).id
    dong_site = registry.create_site(SiteCreate(owner_id=dong, lat=35.146, lon=126.923)).id
    buk_camera = registry.create_camera(
        CameraCreate(site_id=buk_site, purpose="교통단속", name="북구청 앞")
    ).id
    dong_camera = registry.create_camera(CameraCreate(site_id=dong_site, purpose="생활방범")).id
    return World(city, buk, dong, police, buk_camera, dong_camera)


@pytest.fixture
def raw(database_url: str) -> Iterator[RawDatabase]:
    """Plain SQL on the real database file or server, past Argus: the tamperer's view."""
    database = RawDatabase.connect(database_url)
    yield database
    database.close()
