"""The words of incidents: where they come from, what they are, how they live and end.

Sources are the rooms that raise incidents: the police's 112 room, the fire service's 119 room,
the disaster room, an emergency bell (비상벨) on a street pole, and a centre operator. Each
source has the incident types it raises; the type decides whether video may be provided at all
(``argus.incidents.provision``).
"""

from __future__ import annotations

from enum import StrEnum

from argus.errors import FieldError


class IncidentSource(StrEnum):
    POLICE_112 = "112"
    FIRE_119 = "119"
    DISASTER_ROOM = "disaster_room"
    EMERGENCY_BELL = "emergency_bell"
    OPERATOR = "operator"


SOURCE_KOREAN: dict[IncidentSource, str] = {
    IncidentSource.POLICE_112: "112 신고",
    IncidentSource.FIRE_119: "119 신고",
    IncidentSource.DISASTER_ROOM: "재난상황실",
    IncidentSource.EMERGENCY_BELL: "비상벨",
    IncidentSource.OPERATOR: "관제요원",
}


class IncidentStatus(StrEnum):
    OPEN = "open"  # received; its cameras are selected and granted
    ACTIVE = "active"  # acknowledged: someone is working it
    CLOSED = "closed"  # over: live views end, playback lingers for a while


LIVE_STATUSES = frozenset({IncidentStatus.OPEN, IncidentStatus.ACTIVE})

CRIME_TYPES: dict[str, str] = {
    "murder": "살인",
    "robbery": "강도",
    "assault": "폭행",
    "theft": "절도",
    "kidnapping": "납치·감금",
    "sexual_violence": "성폭력",
    "domestic_violence": "가정폭력",
    "fraud": "사기",
    "traffic_dispute": "교통 시비",
    "noise": "소음",
    "drunk": "주취자",
    "missing_person": "실종",
    "suspicious_person": "수상한 사람",
    "other_crime": "기타 범죄",
}
"""112 report types; the ones video may be provided for are a setting
(``incident_112_video_types``, by default the serious crimes of the police's guidance)."""

EMERGENCY_TYPES: dict[str, str] = {
    "fire": "화재",
    "rescue": "구조",
    "medical": "구급",
    "traffic_accident": "교통사고",
    "flood": "홍수",
    "heavy_rain": "호우",
    "typhoon": "태풍",
    "earthquake": "지진",
    "landslide": "산사태",
    "heat_wave": "폭염",
    "snow": "대설",
    "chemical": "화학사고",
    "other_disaster": "기타 재난",
}

OTHER_TYPES: dict[str, str] = {
    "emergency_bell": "비상벨 호출",
    "other": "기타",
}

INCIDENT_TYPES: dict[str, str] = {**CRIME_TYPES, **EMERGENCY_TYPES, **OTHER_TYPES}


def type_label(kind: str) -> str:
    return f"{kind} ({INCIDENT_TYPES.get(kind, kind)})"


def parse_source(text: str, field: str = "source") -> IncidentSource:
    cleaned = text.strip().lower()
    for source in IncidentSource:
        if cleaned in (source.value, source.name.lower()):
            return source
    allowed = ", ".join(s.value for s in IncidentSource)
    raise FieldError(field, f"unknown source {text!r}: use one of {allowed}")


def parse_type(text: str, field: str = "type") -> str:
    cleaned = text.strip().lower().replace("-", "_").replace(" ", "_")
    if cleaned in INCIDENT_TYPES:
        return cleaned
    for code, korean in INCIDENT_TYPES.items():
        if text.strip() == korean:
            return code
    allowed = ", ".join(INCIDENT_TYPES)
    raise FieldError(field, f"unknown incident type {text!r}: use one of {allowed}")


def default_source(kind: str) -> IncidentSource:
    """The room a type of incident usually comes from (for the CLI and operators' forms)."""
    if kind in CRIME_TYPES:
        return IncidentSource.POLICE_112
    if kind in ("fire", "rescue", "medical", "traffic_accident", "chemical"):
        return IncidentSource.FIRE_119
    if kind in EMERGENCY_TYPES:
        return IncidentSource.DISASTER_ROOM
    if kind == "emergency_bell":
        return IncidentSource.EMERGENCY_BELL
    return IncidentSource.OPERATOR
