"""Reading the audit log: filters, the auditor's scope, pages and streams of entries.

Who sees what (``scope_of``): a system admin, and an auditor of the city (agency kind
``city``: the integrated control centre), see every entry; an auditor of any other agency sees
the entries its own people made (actor agency) and those about its own cameras and agreements
(owner agency). Nobody else reads the log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.chain import canonical_time
from argus.audit.events import Outcome
from argus.audit.models import AuditEntry
from argus.errors import FieldError, ForbiddenError
from argus.identity.principal import Principal, Role
from argus.registry.models import Agency

ACTION_FILTER = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?")
EXPORT_PAGE = 2000


@dataclass(frozen=True)
class AuditFilter:
    actor: int | None = None  # actor user id
    agency: int | None = None  # actor agency or owner agency
    camera: int | None = None
    action: str | None = None  # exact, or a prefix such as "access.*"
    outcome: Outcome | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def __post_init__(self) -> None:
        if self.action is not None and not ACTION_FILTER.fullmatch(self.action):
            raise FieldError(
                "action", "a dotted action name such as access.live, or a prefix such as access.*"
            )
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, as_utc(value))
        if self.since and self.until and self.since >= self.until:
            raise FieldError("until", "must be later than since")

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("actor", "agency", "camera", "action", "outcome"):
            value = getattr(self, name)
            if value is not None:
                out[name] = str(value) if isinstance(value, Outcome) else value
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                out[name] = canonical_time(value)
        return out


def as_utc(value: datetime) -> datetime:
    """An aware UTC time; a time without an offset is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def scope_of(session: Session, principal: Principal) -> int | None:
    """The agency whose entries ``principal`` may read, or None for all; 403 for non-auditors."""
    if principal.has(Role.SYSTEM_ADMIN):
        return None
    if not principal.has(Role.AUDITOR):
        raise ForbiddenError("reading the audit log needs the auditor or system admin role")
    kind = session.scalar(select(Agency.kind).where(Agency.id == principal.agency_id))
    return None if kind == "city" else principal.agency_id


def conditions(filters: AuditFilter, scope: int | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if scope is not None:
        where.append(or_(AuditEntry.actor_agency_id == scope, AuditEntry.owner_agency_id == scope))
    if filters.actor is not None:
        where.append(AuditEntry.actor_user_id == filters.actor)
    if filters.agency is not None:
        where.append(
            or_(
                AuditEntry.actor_agency_id == filters.agency,
                AuditEntry.owner_agency_id == filters.agency,
            )
        )
    if filters.camera is not None:
        where.append(AuditEntry.target == f"camera:{filters.camera}")
    if filters.action is not None:
        if filters.action.endswith(".*"):
            prefix = filters.action[:-1]  # "access."
            where.append(AuditEntry.action.startswith(prefix, autoescape=True))
        else:
            where.append(AuditEntry.action == filters.action)
    if filters.outcome is not None:
        where.append(AuditEntry.outcome == filters.outcome.value)
    if filters.since is not None:
        where.append(AuditEntry.time >= filters.since)
    if filters.until is not None:
        where.append(AuditEntry.time < filters.until)
    return where


def _select(filters: AuditFilter, scope: int | None) -> Select[AuditEntry]:
    return select(AuditEntry).where(*conditions(filters, scope))


def page(
    session: Session, filters: AuditFilter, scope: int | None, limit: int, offset: int
) -> tuple[list[AuditEntry], int]:
    """One page of matching entries, newest first, and the number of all matches."""
    stmt = _select(filters, scope)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AuditEntry.seq.desc()).limit(limit).offset(offset))
    return list(rows), int(total)


def iter_entries(
    sessions: sessionmaker[Session], filters: AuditFilter, scope: int | None
) -> Iterator[AuditEntry]:
    """Every matching entry, oldest first, read in pages (each in a short transaction)."""
    after = 0
    while True:
        with sessions() as session:
            stmt = (
                _select(filters, scope)
                .where(AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(EXPORT_PAGE)
            )
            rows = list(session.scalars(stmt))
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


# -- one entry as data -------------------------------------------------------------------

EXPORT_FIELDS = (
    "seq",
    "time",
    "actor_user_id",
    "actor_agency_id",
    "owner_agency_id",
    "action",
    "outcome",
    "target",
    "purpose",
    "reason",
    "grant",
    "client",
    "details",
    "prev_hash",
    "hash",
)


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    """The entry as its hashed fields: time in the canonical form, details as an object."""
    out: dict[str, Any] = {name: getattr(entry, name) for name in EXPORT_FIELDS}
    out["time"] = canonical_time(entry.time)
    out["details"] = json.loads(entry.details)
    return out
