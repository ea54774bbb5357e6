"""What other packages hand to the audit log: one event per decision or administrative change."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    ALLOW = "allow"  # an access decision that allowed
    DENY = "deny"  # an access decision that refused, or a request refused as invalid
    OK = "ok"  # an administrative change that was made
    ERROR = "error"  # an attempt that failed (e.g. a wrong password)


@dataclass(frozen=True)
class AuditEvent:
    action: str  # dotted, e.g. "agreement.accept", "access.live", "auth.login", "user.disable"
    outcome: Outcome
    actor_user_id: int | None = None
    actor_agency_id: int | None = None
    target: str | None = None  # "camera:123", "agreement:7", "user:5"
    purpose: str | None = None
    reason: str | None = None
    grant: str | None = None  # "ownership:3", "agreement:7", "incident:12"
    client: str | None = None  # client address
    details: dict[str, Any] = field(default_factory=dict)
