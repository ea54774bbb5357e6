"""Controlled vocabularies of the registry: agency kinds and the standard installation purposes."""

from __future__ import annotations

from enum import StrEnum


class AgencyKind(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    POLICE = "police"
    FIRE = "fire"
    DISASTER = "disaster"
    OTHER = "other"


class Purpose(StrEnum):
    """설치목적구분 of the national CCTV standard data (행정안전부)."""

    CRIME_PREVENTION = "생활방범"
    MULTI = "다목적"
    CHILD_PROTECTION = "어린이보호"
    TRAFFIC_ENFORCEMENT = "교통단속"
    TRAFFIC_INFO = "교통정보수집"
    FACILITY = "시설물관리"
    DISASTER = "재난재해"
    LITTERING = "쓰레기단속"
    VEHICLE_CRIME = "차량방범"
    OTHER = "기타"


PURPOSE_ENGLISH: dict[Purpose, str] = {
    Purpose.CRIME_PREVENTION: "crime prevention",
    Purpose.MULTI: "multi-purpose",
    Purpose.CHILD_PROTECTION: "child protection",
    Purpose.TRAFFIC_ENFORCEMENT: "traffic enforcement",
    Purpose.TRAFFIC_INFO: "traffic information",
    Purpose.FACILITY: "facility management",
    Purpose.DISASTER: "disaster",
    Purpose.LITTERING: "littering enforcement",
    Purpose.VEHICLE_CRIME: "vehicle crime",
    Purpose.OTHER: "other",
}


class CameraType(StrEnum):
    FIXED = "fixed"
    PTZ = "ptz"
