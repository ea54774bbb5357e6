"""Request and response bodies of incidents (REST, the signed webhook, the push)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90.0, le=90.0)
    lon: float = Field(ge=-180.0, le=180.0)


class IncidentIntake(BaseModel):
    """An incident as a room reports it: what, where, how urgent."""

    model_config = ConfigDict(extra="forbid")

    source: str | None = Field(
        default=None,
        description="112, 119, disaster_room, emergency_bell or operator; by default the "
        "caller's room (a police responder: 112) or, for a signed-in operator, operator",
    )
    type: str = Field(
        description="assault, fire, flood, emergency_bell, … (GET /api/incidents/types)"
    )
    priority: int | None = Field(default=None, ge=1, le=5, description="1 most urgent … 5")
    at: Point | None = Field(default=None, description="where it happens")
    area: list[Point] | None = Field(
        default=None, description="an area instead of (or around) the point: a closed ring"
    )
    radius_m: float | None = Field(default=None, gt=0.0, le=10_000.0)
    title: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=4000)
    external_id: str | None = Field(
        default=None,
        max_length=300,
        description="the room's own id of the report: the same id twice raises one incident",
    )
    responding_agency_id: int | None = Field(
        default=None, description="the agency whose responders get the video (default: by source)"
    )

    @field_validator("title", "description", "external_id")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None

    @model_validator(mode="after")
    def _somewhere(self) -> IncidentIntake:
        if self.at is None and not self.area:
            raise ValueError("say where: give 'at' (a point) or 'area' (a closed ring of points)")
        if self.area is not None and len(self.area) < 4:
            raise ValueError("an area needs at least 4 points, the last equal to the first")
        if self.area is not None and self.area[0] != self.area[-1]:
            raise ValueError("an area must be closed: its last point equal to its first")
        return self


class IncidentClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=1000)


class WebhookMessage(BaseModel):
    """The signed webhook's body: raise an incident, or activate or close one by its id."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["raise", "activate", "close"] = "raise"
    incident: IncidentIntake | None = None
    source: str | None = None  # for activate/close: with external_id, instead of incident_id
    external_id: str | None = None
    incident_id: int | None = None
    reason: str = Field(default="", max_length=1000)

    @model_validator(mode="after")
    def _complete(self) -> WebhookMessage:
        if self.action == "raise":
            if self.incident is None:
                raise ValueError("action raise needs 'incident'")
        elif self.incident_id is None and not (self.source and self.external_id):
            raise ValueError(
                f"action {self.action} needs 'incident_id' or 'source' and 'external_id'"
            )
        return self


class IncidentCameraOut(BaseModel):
    camera_id: int
    rank: int
    distance_m: float
    bearing_deg: float | None
    facing: str
    name: str | None = None
    owner: str | None = None
    lat: float | None = None
    lon: float | None = None


class IncidentOut(BaseModel):
    id: int
    source: str
    type: str
    type_label: str
    priority: int
    status: str
    title: str | None
    description: str | None
    lat: float
    lon: float
    radius_m: float
    area: list[list[float]] | None
    external_id: str | None
    responding_agency_id: int | None
    responding_agency: str | None
    provides: bool
    provision_reason: str
    capabilities: list[str]
    purposes: list[str]
    legal_basis: str
    opened_at: datetime
    activated_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    linger_until: datetime | None
    playback_from: datetime
    cameras: list[IncidentCameraOut]
    details: dict[str, Any] = Field(default_factory=dict)
