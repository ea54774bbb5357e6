"""A small Gwangju for PTZ tests: the centre, 북구 (the cameras' owner), the police."""

from __future__ import annotations

from dataclasses import dataclass

from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose


@dataclass(frozen=True)
class World:
    city: int  # the integrated control centre's agency
    buk: int  # 북구: owns the parking-enforcement cameras
    police: int
    parking: int  # 북구's PTZ parking-enforcement camera
    parking_2: int
    city_camera: int


def build_world(registry: Registry) -> World:
    city = registry.create_agency(
        AgencyCreate(name="광주광역시", kind=AgencyKind.CITY, region="광주광역시")
    ).id
    buk = registry.create_agency(
        AgencyCreate(name="광주광역시 북구", kind=AgencyKind.DISTRICT, parent_id=city)
    ).id
    police = registry.create_agency(AgencyCreate(name="광주북부경찰서", kind=AgencyKind.POLICE)).id

    def camera(owner: int, purpose: Purpose, lat: float) -> int:
        site = registry.create_site(
            SiteCreate(owner_id=owner, lat=lat, lon=126.91, district="북구")
        )
        return registry.create_camera(CameraCreate(site_id=site.id, purpose=purpose)).id

    return World(
        city=city,
        buk=buk,
        police=police,
        parking=camera(buk, Purpose.TRAFFIC_ENFORCEMENT, 35.174),
        parking_2=camera(buk, Purpose.TRAFFIC_ENFORCEMENT, 35.176),
        city_camera=camera(city, Purpose.CRIME_PREVENTION, 35.18),
    )
