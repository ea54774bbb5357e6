"""Tables of incidents: the incident, and the cameras selected for it.

An incident row keeps what was decided at intake: whether it provides video and why
(``provides``, ``provision_reason``), the capabilities and purposes it grants, the legal basis
the ledger shows, and the agency that responds. Its cameras are kept with their rank, distance
and whether they face the point, so that what responders were given can be shown later exactly
as it was. ``(source, external_id)`` is unique: a webhook or CAP alert sent twice raises one
incident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from argus.db import Base, utcnow


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(Integer, default=3)
    status: Mapped[str] = mapped_column(String(10), index=True)
    title: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
    area: Mapped[list[list[float]] | None] = mapped_column(JSON)  # [[lat, lon], …] or none
    responding_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    provides: Mapped[bool] = mapped_column(Boolean)
    provision_reason: Mapped[str] = mapped_column(Text)
    capabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raised_by: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column()
    activated_by: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by: Mapped[int | None] = mapped_column(Integer)
    close_reason: Mapped[str | None] = mapped_column(Text)
    linger_until: Mapped[datetime | None] = mapped_column()  # playback after close, until then
    playback_from: Mapped[datetime] = mapped_column()  # the earliest footage it lets be played

    __table_args__ = (
        UniqueConstraint("source", "external_id", name="incident_external_id"),
        CheckConstraint("radius_m > 0", name="incident_radius"),
        CheckConstraint("priority BETWEEN 1 AND 5", name="incident_priority"),
    )


class IncidentCamera(Base):
    __tablename__ = "incident_cameras"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    camera_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    distance_m: Mapped[float] = mapped_column(Float)
    bearing_deg: Mapped[float | None] = mapped_column(Float)
    facing: Mapped[str] = mapped_column(String(10))  # yes, turnable, no, unknown

    __table_args__ = (Index("ix_incident_cameras_camera", "camera_id"),)
