"""Tables of evidence export: a request, one approval per owner agency, and what was built.

States of a request: ``pending`` (waiting for owners' approvals) → ``approved`` (being cut and
signed) → ``ready`` (files and manifest on disk, downloadable until ``expires_at``), or
``refused`` (an owner said no), ``failed`` (building it failed: ``reason`` says why),
``expired`` (the download link ran out and the files were removed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from argus.db import Base, utcnow

EXPORT_STATES = ("pending", "approved", "ready", "refused", "failed", "expired")
APPROVAL_STATES = ("pending", "approved", "refused")


class ExportRequest(Base):
    __tablename__ = "export_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester_id: Mapped[int] = mapped_column(Integer)
    requester_agency_id: Mapped[int] = mapped_column(Integer, index=True)
    # [{"camera_id": 1, "from": iso, "until": iso}, …]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(30))
    legal_basis: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str] = mapped_column(String(200))
    case_number: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    directory: Mapped[str | None] = mapped_column(String(300))  # the built zip's path
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    downloads: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint(
            "state in ('pending','approved','ready','refused','failed','expired')",
            name="export_state",
        ),
    )


class ExportApproval(Base):
    __tablename__ = "export_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("export_requests.id"), index=True)
    owner_agency_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    automatic: Mapped[bool] = mapped_column(default=False)
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("state in ('pending','approved','refused')", name="approval_state"),
    )
