"""Small builders for the policy tests: principals, cameras, agreements (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from argus.identity.principal import Principal, Role
from argus.sharing.policy import AgreementRule, CameraFacts, PolicySnapshot
from argus.sharing.terms import AgreementTerms, build_terms
from argus.sharing.vocab import AgreementStatus

CITY, DONG, BUK, POLICE = 1, 2, 3, 4
NAMES = {
    CITY: "광주광역시",
    DONG: "광주광역시 동구",
    BUK: "광주광역시 북구",
    POLICE: "광주북부경찰서",
}
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def person(agency: int, *roles: Role, user_id: int = 1) -> Principal:
    return Principal(
        user_id=user_id, username=f"u{user_id}", agency_id=agency, roles=frozenset(roles)
    )


def camera(
    camera_id: int = 10,
    owner: int = BUK,
    *,
    site_id: int = 100,
    purpose: str = "교통단속",
    district: str | None = "북구",
    region: str | None = "광주광역시",
    lat: float = 35.174,
    lon: float = 126.912,
    enabled: bool = True,
) -> CameraFacts:
    return CameraFacts(
        id=camera_id,
        owner_agency_id=owner,
        site_id=site_id,
        purpose=purpose,
        district=district,
        lat=lat,
        lon=lon,
        enabled=enabled,
        region=region,
    )


def terms(**overrides: Any) -> AgreementTerms:
    fields: dict[str, Any] = {
        "owner_agency_id": BUK,
        "consumer_agency_id": CITY,
        "selector": {"districts": ["북구"], "purposes": ["교통단속"]},
        "purposes": ["crime_prevention"],
        "capabilities": ["live", "playback"],
        "valid_from": EPOCH,
        "legal_basis": "개인정보 보호법 제18조제2항제6호, 협약서 제3조",
    }
    fields.update(overrides)
    return build_terms(**fields)


def rule(
    agreement_id: int = 7,
    status: AgreementStatus = AgreementStatus.ACCEPTED,
    **overrides: Any,
) -> AgreementRule:
    return AgreementRule(agreement_id, status, terms(**overrides))


def snapshot(*rules: AgreementRule) -> PolicySnapshot:
    return PolicySnapshot.build(rules, NAMES)


def seoul(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Seoul"))
