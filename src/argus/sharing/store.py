"""Agreements as rows: reading terms back, writing them, and the facts the decision needs.

Times are stored in UTC. SQLite gives them back without an offset, PostgreSQL with one;
``from_db`` makes both aware UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from argus.errors import ConflictError, FieldError, NotFoundError
from argus.identity.principal import Principal
from argus.registry.models import Agency, Camera, Site
from argus.sharing import rights
from argus.sharing.models import Agreement
from argus.sharing.policy import AgreementRule, CameraFacts, PolicySnapshot
from argus.sharing.schemas import AgreementCreate, AgreementOut, AgreementPatch, WindowOut
from argus.sharing.selectors import parse_selector
from argus.sharing.terms import AgreementTerms, build_terms
from argus.sharing.vocab import AccessPurpose, AgreementStatus, Capability

SNAPSHOT_STATUSES = (
    AgreementStatus.ACCEPTED,
    AgreementStatus.SUSPENDED,
    AgreementStatus.REVOKED,
    AgreementStatus.EXPIRED,
)


def from_db(value: datetime) -> datetime:
    """Times come back naive from SQLite (stored as UTC) and aware from PostgreSQL."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def maybe_from_db(value: datetime | None) -> datetime | None:
    return None if value is None else from_db(value)


def terms_of(row: Agreement) -> AgreementTerms:
    """The stored terms, read back through the same checks that let them in."""
    return build_terms(
        owner_agency_id=row.owner_agency_id,
        consumer_agency_id=row.consumer_agency_id,
        selector=row.selector,
        purposes=row.purposes,
        capabilities=row.capabilities,
        ptz_priority=row.ptz_priority,
        windows=row.windows,
        timezone=row.timezone,
        unless_incident=row.unless_incident,
        valid_from=from_db(row.valid_from),
        valid_until=maybe_from_db(row.valid_until),
        legal_basis=row.legal_basis,
    )


def store_terms(row: Agreement, terms: AgreementTerms) -> None:
    row.selector = terms.selector.as_json()
    row.purposes = [p.value for p in AccessPurpose if p in terms.purposes]
    row.capabilities = [c.value for c in Capability if c in terms.capabilities]
    row.ptz_priority = terms.ptz_priority
    row.windows = terms.windows_json()
    row.timezone = terms.timezone
    row.unless_incident = terms.unless_incident
    row.valid_from = terms.valid_from
    row.valid_until = terms.valid_until
    row.legal_basis = terms.legal_basis


def terms_summary(terms: AgreementTerms) -> dict[str, Any]:
    return {
        "owner_agency_id": terms.owner_agency_id,
        "consumer_agency_id": terms.consumer_agency_id,
        "selector": terms.selector.as_json(),
        "purposes": sorted(p.value for p in terms.purposes),
        "capabilities": sorted(c.value for c in terms.capabilities),
        "ptz_priority": terms.ptz_priority,
        "windows": terms.windows_json(),
        "timezone": terms.timezone,
        "unless_incident": terms.unless_incident,
        "valid_from": terms.valid_from.isoformat(),
        "valid_until": None if terms.valid_until is None else terms.valid_until.isoformat(),
        "legal_basis": terms.legal_basis,
    }


def build_snapshot(session: Session, version: int = 0) -> PolicySnapshot:
    """Every agreement that decides anything (accepted, and the ended ones for their reasons)."""
    rows = session.scalars(
        select(Agreement).where(Agreement.status.in_([s.value for s in SNAPSHOT_STATUSES]))
    )
    rules = [AgreementRule(row.id, AgreementStatus(row.status), terms_of(row)) for row in rows]
    names = {agency_id: name for agency_id, name in session.execute(select(Agency.id, Agency.name))}
    return PolicySnapshot.build(rules, names, version)


def camera_facts(session: Session, camera_id: int) -> CameraFacts:
    row = session.execute(
        select(
            Camera.id,
            Camera.owner_id,
            Camera.site_id,
            Camera.purpose,
            Site.district,
            Camera.lat,
            Camera.lon,
            Camera.enabled,
            Site.region,
        )
        .join(Site, Camera.site_id == Site.id)
        .where(Camera.id == camera_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"camera {camera_id} does not exist")
    return CameraFacts(*row)


def parties(row: Agreement) -> dict[str, int]:
    return {"owner_agency_id": row.owner_agency_id, "consumer_agency_id": row.consumer_agency_id}


def agencies_of(row: Agreement) -> set[int]:
    return {row.owner_agency_id, row.consumer_agency_id}


def agency_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(sorted(ids))))
    return {agency_id: name for agency_id, name in rows}


def agency_or_field_error(session: Session, agency_id: int, field_name: str) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise FieldError(field_name, f"agency {agency_id} does not exist", "body")
    return agency


def readable(
    session: Session, principal: Principal, agreement_id: int, lock: bool = False
) -> Agreement:
    stmt = select(Agreement).where(Agreement.id == agreement_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).one_or_none()
    if row is None:
        raise NotFoundError(f"agreement {agreement_id} does not exist")
    rights.ensure_may_read(principal, agreement_id, row.owner_agency_id, row.consumer_agency_id)
    return row


def ensure_not_ended(row: Agreement, status: AgreementStatus, verb: str) -> None:
    if status is AgreementStatus.REVOKED:
        raise ConflictError(f"agreement {row.id} was revoked; it cannot {verb} any more")
    if status is AgreementStatus.EXPIRED:
        raise ConflictError(f"agreement {row.id} has expired; it cannot {verb} any more")


def request_fields(body: AgreementCreate | AgreementPatch) -> dict[str, Any]:
    """The terms a request sets, in the raw form ``build_terms`` reads."""
    fields: dict[str, Any] = {}
    for name in body.model_fields_set - {"title", "owner_agency_id", "consumer_agency_id"}:
        value = getattr(body, name)
        if name == "selector":
            value = None if value is None else value.as_raw()
        elif name == "windows":
            value = None if value is None else [w.model_dump() for w in value]
        fields[name] = value
    return fields


def merge_patch(row: Agreement, body: AgreementPatch) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "selector": row.selector,
        "purposes": row.purposes,
        "capabilities": row.capabilities,
        "ptz_priority": row.ptz_priority,
        "windows": row.windows,
        "timezone": row.timezone,
        "unless_incident": row.unless_incident,
        "valid_from": from_db(row.valid_from),
        "valid_until": maybe_from_db(row.valid_until),
        "legal_basis": row.legal_basis,
    }
    changes = request_fields(body)
    for name in ("valid_from", "unless_incident", "timezone"):
        if name in changes and changes[name] is None:
            raise FieldError(name, "must not be null", "body")
    if (
        "capabilities" in changes
        and "ptz_priority" not in changes
        and Capability.PTZ.value
        not in [str(c).strip().lower() for c in changes["capabilities"] or []]
    ):
        changes["ptz_priority"] = None  # the priority goes with the PTZ capability
    merged.update(changes)
    return merged


def terms_from_fields(
    owner_id: int, consumer_id: int, fields: dict[str, Any], now: datetime
) -> AgreementTerms:
    valid_from = fields.get("valid_from")
    return build_terms(
        owner_agency_id=owner_id,
        consumer_agency_id=consumer_id,
        selector=fields.get("selector"),
        purposes=fields.get("purposes"),
        capabilities=fields.get("capabilities"),
        ptz_priority=fields.get("ptz_priority"),
        windows=fields.get("windows"),
        timezone=fields.get("timezone"),
        unless_incident=bool(fields.get("unless_incident") or False),
        valid_from=now if valid_from is None else valid_from,
        valid_until=fields.get("valid_until"),
        legal_basis=fields.get("legal_basis"),
    )


def check_references(session: Session, terms: AgreementTerms, owner: Agency) -> None:
    """Cameras and sites named by the selector exist and belong to the owner."""
    selector = terms.selector
    checks: Sequence[tuple[str, Any, frozenset[int] | None, str]] = (
        ("selector.camera_ids", Camera, selector.camera_ids, "camera"),
        ("selector.site_ids", Site, selector.site_ids, "site"),
    )
    for field_name, model, ids, noun in checks:
        if ids is None:
            continue
        stmt = select(model.id, model.owner_id).where(model.id.in_(sorted(ids)))
        found: dict[int, int] = {row[0]: row[1] for row in session.execute(stmt)}
        for item in sorted(ids):
            if item not in found:
                raise FieldError(field_name, f"{noun} {item} does not exist", "body")
            if found[item] != owner.id:
                other = session.get_one(Agency, found[item]).name
                raise FieldError(
                    field_name,
                    f"{noun} {item} belongs to {other}, not to the owner {owner.name}",
                    "body",
                )


def agreement_out(row: Agreement, names: dict[int, str]) -> AgreementOut:
    terms_selector = row.selector
    return AgreementOut(
        id=row.id,
        title=row.title,
        owner_agency_id=row.owner_agency_id,
        owner_name=names.get(row.owner_agency_id, ""),
        consumer_agency_id=row.consumer_agency_id,
        consumer_name=names.get(row.consumer_agency_id, ""),
        requested_by_agency_id=row.requested_by_agency_id,
        status=AgreementStatus(row.status),
        selector=terms_selector,
        selector_text=parse_selector(terms_selector).text(),
        purposes=list(row.purposes),
        capabilities=list(row.capabilities),
        ptz_priority=row.ptz_priority,
        windows=[WindowOut.model_validate(w) for w in row.windows],
        timezone=row.timezone,
        unless_incident=row.unless_incident,
        valid_from=from_db(row.valid_from),
        valid_until=maybe_from_db(row.valid_until),
        legal_basis=row.legal_basis,
        status_note=row.status_note,
        version=row.version,
        created_by_user_id=row.created_by_user_id,
        accepted_by_user_id=row.accepted_by_user_id,
        created_at=from_db(row.created_at),
        updated_at=from_db(row.updated_at),
        proposed_at=maybe_from_db(row.proposed_at),
        accepted_at=maybe_from_db(row.accepted_at),
        ended_at=maybe_from_db(row.ended_at),
    )
