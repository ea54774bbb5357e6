"""Controlled vocabularies of sharing: capabilities, declared access purposes, lifecycle states.

An *access purpose* is what a user declares when they look at a camera ("why am I watching?").
It is not the camera's installation purpose (``argus.registry.vocab.Purpose``, e.g. 교통단속),
which says why the camera was put up; an agreement's selector may pick cameras by the latter.
"""

from __future__ import annotations

from enum import StrEnum

from argus.errors import FieldError


class Capability(StrEnum):
    LIVE = "live"
    PLAYBACK = "playback"
    EXPORT = "export"
    PTZ = "ptz"


class AccessPurpose(StrEnum):
    CRIME_PREVENTION = "crime_prevention"
    DISASTER = "disaster"
    ACCIDENT = "accident"
    MISSING_PERSON = "missing_person"
    INVESTIGATION = "investigation"
    TRAFFIC = "traffic"


PURPOSE_KOREAN: dict[AccessPurpose, str] = {
    AccessPurpose.CRIME_PREVENTION: "범죄예방",
    AccessPurpose.DISASTER: "재난",
    AccessPurpose.ACCIDENT: "사고",
    AccessPurpose.MISSING_PERSON: "실종자",
    AccessPurpose.INVESTIGATION: "수사",
    AccessPurpose.TRAFFIC: "교통",
}

PURPOSES_NEEDING_CASE_NUMBER: frozenset[AccessPurpose] = frozenset({AccessPurpose.INVESTIGATION})

_BY_KOREAN = {label: purpose for purpose, label in PURPOSE_KOREAN.items()}


def purpose_label(purpose: AccessPurpose) -> str:
    """ "investigation (수사)": the code and its Korean name, for messages."""
    return f"{purpose.value} ({PURPOSE_KOREAN[purpose]})"


def allowed_purposes_text() -> str:
    return ", ".join(purpose_label(p) for p in AccessPurpose)


def missing_purpose_message() -> str:
    return f"every access must declare its purpose: one of {allowed_purposes_text()}"


def unknown_purpose_message(text: str) -> str:
    return f"unknown purpose {text!r}: use one of {allowed_purposes_text()}"


def lookup_purpose(text: str) -> AccessPurpose | None:
    """The purpose named by its code ("investigation") or Korean name ("수사"); None if unknown."""
    cleaned = text.strip()
    try:
        return AccessPurpose(cleaned.lower())
    except ValueError:
        return _BY_KOREAN.get(cleaned)


def parse_purpose(text: str | None, field: str = "purpose") -> AccessPurpose:
    """The declared purpose, or a FieldError saying that one is missing or naming the allowed."""
    if text is None or not text.strip():
        raise FieldError(field, missing_purpose_message())
    found = lookup_purpose(text)
    if found is None:
        raise FieldError(field, unknown_purpose_message(text))
    return found


def parse_capability(text: str, field: str = "capability") -> Capability:
    try:
        return Capability(text.strip().lower())
    except ValueError:
        allowed = ", ".join(c.value for c in Capability)
        raise FieldError(field, f"unknown capability {text!r}: use one of {allowed}") from None


class AgreementStatus(StrEnum):
    DRAFT = "draft"
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"


TERMINAL_STATUSES: frozenset[AgreementStatus] = frozenset(
    {AgreementStatus.REVOKED, AgreementStatus.EXPIRED}
)


class Basis(StrEnum):
    """What an allowed decision rests on."""

    OWNERSHIP = "ownership"
    AGREEMENT = "agreement"
    INCIDENT = "incident"


class ReasonCode(StrEnum):
    """Machine-readable reason of a decision (``allowed`` for every allow)."""

    ALLOWED = "allowed"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    MISSING_PURPOSE = "missing_purpose"
    UNKNOWN_PURPOSE = "unknown_purpose"
    MISSING_CASE_NUMBER = "missing_case_number"
    CAMERA_DISABLED = "camera_disabled"
    NO_AGREEMENT = "no_agreement"
    AGREEMENT_NOT_YET_VALID = "agreement_not_yet_valid"
    AGREEMENT_EXPIRED = "agreement_expired"
    AGREEMENT_SUSPENDED = "agreement_suspended"
    AGREEMENT_REVOKED = "agreement_revoked"
    PURPOSE_NOT_ALLOWED = "purpose_not_allowed"
    CAPABILITY_NOT_GRANTED = "capability_not_granted"
    OUTSIDE_WINDOW = "outside_window"
    INCIDENT_CLOSED = "incident_closed"
    OUTSIDE_MODE = "outside_mode"


PTZ_PRIORITY_MIN = 1
PTZ_PRIORITY_MAX = 100
PTZ_PRIORITY_DEFAULT = 50
DEFAULT_TIMEZONE = "Asia/Seoul"
