"""Request and response models of the sharing API (pydantic v2).

Requests carry purposes, capabilities and window times as text: the service checks them, so
that a wrong value is refused with a message naming the field *and* written to the audit log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from argus.sharing.vocab import AgreementStatus


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CircleIn(_Strict):
    lat: float
    lon: float
    radius_m: float


class AreaIn(_Strict):
    bbox: list[float] | None = Field(
        default=None, description="[min_lon, min_lat, max_lon, max_lat] (WGS84)"
    )
    circle: CircleIn | None = None


class SelectorIn(_Strict):
    """Criteria combine by intersection; the values of one criterion by union."""

    camera_ids: list[int] | None = None
    site_ids: list[int] | None = None
    purposes: list[str] | None = Field(
        default=None, description="standard installation purposes, e.g. 교통단속"
    )
    districts: list[str] | None = Field(default=None, description="e.g. 북구 or 광주광역시 북구")
    area: AreaIn | None = None

    def as_raw(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class WindowIn(_Strict):
    start: str = Field(description="HH:MM local time", examples=["22:00"])
    end: str = Field(description="HH:MM local time; earlier than start crosses midnight")
    days: list[str] | None = Field(
        default=None, description="weekdays the window starts on (mon … sun); default every day"
    )


class _Terms(_Strict):
    title: str | None = Field(default=None, max_length=200)
    selector: SelectorIn | None = None
    purposes: list[str] | None = Field(
        default=None,
        description="crime_prevention, disaster, accident, missing_person, investigation, traffic",
    )
    capabilities: list[str] | None = Field(default=None, description="live, playback, export, ptz")
    ptz_priority: int | None = Field(default=None, description="1–100, higher wins; with ptz only")
    windows: list[WindowIn] | None = None
    timezone: str | None = Field(default=None, description="IANA zone of the windows")
    unless_incident: bool | None = Field(
        default=None, description="allow outside the windows while an incident is open"
    )
    valid_from: datetime | None = Field(
        default=None, description="default now; without an offset, in the agreement's zone"
    )
    valid_until: datetime | None = None
    legal_basis: str | None = None


class AgreementCreate(_Terms):
    owner_agency_id: int
    consumer_agency_id: int


class AgreementPatch(_Terms):
    """A draft may change freely; a proposed, accepted or suspended agreement only narrow."""


class StatusNote(_Strict):
    note: str | None = Field(default=None, max_length=2000, description="why (kept on record)")


class WindowOut(BaseModel):
    start: str
    end: str
    days: list[str] | None


class AgreementOut(BaseModel):
    id: int
    title: str | None
    owner_agency_id: int
    owner_name: str
    consumer_agency_id: int
    consumer_name: str
    requested_by_agency_id: int
    status: AgreementStatus
    selector: dict[str, Any]
    selector_text: str
    purposes: list[str]
    capabilities: list[str]
    ptz_priority: int | None
    windows: list[WindowOut]
    timezone: str
    unless_incident: bool
    valid_from: datetime
    valid_until: datetime | None
    legal_basis: str
    status_note: str | None
    version: int
    created_by_user_id: int | None
    accepted_by_user_id: int | None
    created_at: datetime
    updated_at: datetime
    proposed_at: datetime | None
    accepted_at: datetime | None
    ended_at: datetime | None


class AccessCheckOut(BaseModel):
    camera_id: int
    capability: str
    purpose: str | None
    at: datetime
    allowed: bool
    code: str
    reason: str
    basis: str | None
    grant: str | None
    ptz_priority: int | None
    until: datetime | None
