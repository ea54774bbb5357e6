"""Response models of the audit API (pydantic v2)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class AuditEntryOut(BaseModel):
    """One entry: exactly the hashed fields (``time`` in the canonical UTC form)."""

    seq: int
    time: str
    actor_user_id: int | None
    actor_agency_id: int | None
    owner_agency_id: int | None
    action: str
    outcome: str
    target: str | None
    purpose: str | None
    reason: str | None
    grant: str | None
    client: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    total: int
    limit: int
    offset: int


class FindingOut(BaseModel):
    kind: str
    seq: int | None
    message: str


class VerifyOut(BaseModel):
    intact: bool
    entries: int
    first_seq: int | None
    last_seq: int | None
    head_seq: int | None
    checkpoints: int
    valid_checkpoints: int
    key_id: str
    findings: list[FindingOut]
    more_findings: int
    seconds: float
    summary: str
