"""A small Gwangju for incident tests: the city's centre, 북구, the police and fire rooms, and
cameras placed around one point so that the selection is known in advance.

The point is 35.1468, 126.9222 (near 광주광역시청). 북구's cameras:

- ``facing``: 100 m north, looking south (azimuth 180°, field of view 60°): faces the point;
- ``away``: 50 m north, looking north: nearer, but does not face it;
- ``ptz``: 300 m east, a PTZ camera: can be turned to it;
- ``far``: 800 m south: outside the default 500 m radius.

The city has ``city_cam`` 200 m west, looking east (faces the point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher

from argus.identity.access import Console
from argus.identity.passwords import Hasher
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, CameraType, Purpose

PASSWORD = "Gwangju-2026!"
POINT = (35.1468, 126.9222)
METRES_PER_DEGREE = 111_195.0


def offset(north_m: float, east_m: float) -> tuple[float, float]:
    lat, lon = POINT
    return (
        lat + north_m / METRES_PER_DEGREE,
        lon + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat))),
    )


@dataclass(frozen=True)
class World:
    city: int
    buk: int
    police: int
    fire: int
    facing: int
    away: int
    ptz: int
    far: int
    city_cam: int


USERS = (
    ("city-operator", "city", Role.OPERATOR),
    ("city-supervisor", "city", Role.SUPERVISOR),
    ("buk-admin", "buk", Role.AGENCY_ADMIN),
    ("buk-auditor", "buk", Role.AUDITOR),
    ("police-112", "police", Role.RESPONDER),
    ("fire-119", "fire", Role.RESPONDER),
)


def build_world(registry: Registry, app: Any) -> World:
    # argon2id at test strength: the parameters are the deployment's business, not this test's
    app.state.identity.ctx.hasher = Hasher(
        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    city = registry.create_agency(AgencyCreate(name="광주광역시", kind=AgencyKind.CITY)).id
    buk = registry.create_agency(
        AgencyCreate(
            name="광주광역시 북구", kind=AgencyKind.DISTRICT, parent_id=city, district="북구"
        )
    ).id
    police = registry.create_agency(
        AgencyCreate(name="광주경찰청 112치안종합상황실", kind=AgencyKind.POLICE)
    ).id
    fire = registry.create_agency(
        AgencyCreate(name="광주소방안전본부 119종합상황실", kind=AgencyKind.FIRE)
    ).id

    def camera(
        owner: int,
        north: float,
        east: float,
        azimuth: float | None,
        kind: CameraType = CameraType.FIXED,
        n: int = 1,
    ) -> int:
        lat, lon = offset(north, east)
        site = registry.create_site(SiteCreate(owner_id=owner, lat=lat, lon=lon, district="북구"))
        return registry.create_camera(
            CameraCreate(
                site_id=site.id,
                purpose=Purpose.TRAFFIC_ENFORCEMENT if owner == buk else Purpose.CRIME_PREVENTION,
                camera_type=kind,
                azimuth_deg=azimuth,
                fov_deg=None if azimuth is None else 60.0,
                main_stream_url=f"rtsp://127.0.0.1:8554/cameras/{n}/main",
            )
        ).id

    world = World(
        city=city,
        buk=buk,
        police=police,
        fire=fire,
        facing=camera(buk, 100, 0, 180.0, n=1),
        away=camera(buk, 50, 0, 0.0, n=2),
        ptz=camera(buk, 0, 300, None, CameraType.PTZ, n=3),
        far=camera(buk, -800, 0, 0.0, n=4),
        city_cam=camera(city, 0, -200, 90.0, n=5),
    )
    agencies = {"city": city, "buk": buk, "police": police, "fire": fire}
    for name, agency, role in USERS:
        app.state.identity.users.create_user(
            Console("test"),
            UserCreate(username=name, agency_id=agencies[agency], roles=[role], password=PASSWORD),
        )
    return world
