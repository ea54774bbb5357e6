"""Tables of the sharing package: one row per agreement between an owner and a consumer agency.

The terms (selector, purposes, capabilities, windows) are JSON in their canonical form; the
service validates them on the way in (``argus.sharing.terms.build_terms``) and reads them back
with the same function. Agreements are never deleted: a revoked or expired one stays on record.
``version`` grows by one with every change, so the sum of versions tells a cached policy
snapshot that something changed, also when another process made the change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from argus.db import Base, utcnow

STATUSES = "'draft','proposed','accepted','suspended','revoked','expired'"


class Agreement(Base):
    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str | None] = mapped_column(String(200))
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    consumer_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    requested_by_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    selector: Mapped[dict[str, Any]] = mapped_column(JSON)
    purposes: Mapped[list[str]] = mapped_column(JSON)
    capabilities: Mapped[list[str]] = mapped_column(JSON)
    ptz_priority: Mapped[int | None] = mapped_column(Integer)
    windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Seoul")
    unless_incident: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[datetime] = mapped_column()
    valid_until: Mapped[datetime | None] = mapped_column()
    legal_basis: Mapped[str] = mapped_column(Text)
    status_note: Mapped[str | None] = mapped_column(Text)  # why it was suspended or revoked
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_user_id: Mapped[int | None] = mapped_column(Integer)
    accepted_by_user_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    proposed_at: Mapped[datetime | None] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()  # revoked or expired

    __table_args__ = (
        CheckConstraint(f"status in ({STATUSES})", name="status"),
        CheckConstraint("owner_agency_id <> consumer_agency_id", name="two_agencies"),
        CheckConstraint(
            "ptz_priority is null or (ptz_priority >= 1 and ptz_priority <= 100)",
            name="ptz_priority",
        ),
        CheckConstraint("valid_until is null or valid_until > valid_from", name="validity"),
        Index("ix_agreements_consumer_owner", "consumer_agency_id", "owner_agency_id"),
        Index("ix_agreements_status", "status"),
    )
