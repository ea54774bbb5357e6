"""A small Gwangju in a real database: the city, two districts, the police, and their cameras."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from argus.audit.models import AuditEntry
from argus.db import make_sessionmaker
from argus.identity.principal import Principal, Role
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose

# 2026-03-03 23:30 in Seoul (14:30 UTC): inside a 22:00–07:00 window; noon the next day
NIGHT = datetime(2026, 3, 3, 14, 30, tzinfo=UTC)
NOON = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)


@dataclass
class World:
    city: int
    buk: int
    dong: int
    police: int
    buk_parking: int  # 북구's parking-enforcement camera (교통단속)
    buk_parking_2: int
    buk_crime: int  # 북구's crime-prevention camera (생활방범)
    dong_parking: int
    city_crime: int

    def person(self, agency: int, *roles: Role, user_id: int | None = None) -> Principal:
        uid = user_id if user_id is not None else agency * 100 + len(roles)
        return Principal(uid, f"user{uid}", agency, frozenset(roles), client="192.0.2.7")


def build_world(registry: Registry) -> World:
    def agency(name: str, kind: AgencyKind, **extra: Any) -> int:
        return registry.create_agency(AgencyCreate(name=name, kind=kind, **extra)).id

    city = agency("광주광역시", AgencyKind.CITY, region="광주광역시")
    buk = agency("광주광역시 북구", AgencyKind.DISTRICT, parent_id=city, district="북구")
    dong = agency("광주광역시 동구", AgencyKind.DISTRICT, parent_id=city, district="동구")
    police = agency("광주북부경찰서", AgencyKind.POLICE)

    def camera(owner: int, district: str, purpose: Purpose, lat: float, lon: float) -> int:
        site = registry.create_site(
            SiteCreate(owner_id=owner, lat=lat, lon=lon, region="광주광역시", district=district)
        )
        return registry.create_camera(CameraCreate(site_id=site.id, purpose=purpose)).id

    return World(
        city=city,
        buk=buk,
        dong=dong,
        police=police,
        buk_parking=camera(buk, "북구", Purpose.TRAFFIC_ENFORCEMENT, 35.1740, 126.9120),
        buk_parking_2=camera(buk, "북구", Purpose.TRAFFIC_ENFORCEMENT, 35.1760, 126.9150),
        buk_crime=camera(buk, "북구", Purpose.CRIME_PREVENTION, 35.1750, 126.9130),
        dong_parking=camera(dong, "동구", Purpose.TRAFFIC_ENFORCEMENT, 35.1460, 126.9230),
        city_crime=camera(city, "북구", Purpose.CRIME_PREVENTION, 35.1800, 126.9000),
    )


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Changes:
    seen: list[tuple[int, str]] = field(default_factory=list)

    def __call__(self, agreement_id: int, kind: str) -> None:
        self.seen.append((agreement_id, kind))


def audit_entries(engine: Engine) -> list[dict[str, Any]]:
    with make_sessionmaker(engine)() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [
            {
                "action": row.action,
                "outcome": row.outcome,
                "actor_user_id": row.actor_user_id,
                "actor_agency_id": row.actor_agency_id,
                "owner_agency_id": row.owner_agency_id,
                "target": row.target,
                "purpose": row.purpose,
                "reason": row.reason,
                "grant": row.grant,
                "client": row.client,
                "details": json.loads(row.details),
            }
            for row in rows
        ]
