"""The authenticated caller as every other package sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """Roles are held within the user's own agency."""

    OPERATOR = "operator"  # centre operator: map, wall, live, PTZ, playback
    SUPERVISOR = "supervisor"  # assigns incidents, approves takeovers, reviews operators
    AGENCY_ADMIN = "agency_admin"  # registers cameras, signs and revokes sharing, approves exports
    RESPONDER = "responder"  # police 112 / fire 119 / disaster room: only what a grant allows
    AUDITOR = "auditor"  # reads the audit log and the PIPA ledger, runs verify
    PLANNER = "planner"  # coverage and relocation analysis
    SYSTEM_ADMIN = "system_admin"  # runs the deployment: agencies, users of every agency


class AuthMethod(StrEnum):
    SESSION = "session"  # browser cookie (CSRF-protected for unsafe methods)
    BEARER = "bearer"  # short-lived bearer token
    API_KEY = "api_key"  # integration key


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    agency_id: int
    roles: frozenset[Role]
    method: AuthMethod = AuthMethod.SESSION
    client: str | None = None  # client address, for the audit log
    extra: dict[str, str] = field(default_factory=dict)

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))
