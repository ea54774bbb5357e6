"""REST routes of the audit package: the log for auditors, its verification, the PIPA ledger.

Only auditors and system admins read these (403 otherwise); see ``argus.audit.query`` for
which entries an auditor sees. Every call is itself recorded as ``audit.read``. Times without
an offset are taken as UTC.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from argus.audit.events import Outcome
from argus.audit.ledger import LedgerQuery
from argus.audit.query import AuditFilter, entry_json
from argus.audit.schemas import AuditEntryOut, AuditPage, VerifyOut
from argus.audit.service import AuditService, Reader
from argus.db import utcnow
from argus.identity.deps import current_principal
from argus.identity.principal import Principal

router = APIRouter(prefix="/api", tags=["audit"])


def audit_service(app: FastAPI) -> AuditService:
    """The application's audit service, made at start-up by ``argus.api.services`` (making it
    switches on automatic checkpoints for the app's engine)."""
    service: AuditService = app.state.audit
    return service


def get_audit(request: Request) -> AuditService:
    return audit_service(request.app)


AuditDep = Annotated[AuditService, Depends(get_audit)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
Since = Annotated[datetime | None, Query(description="from this time on (ISO 8601)")]
Until = Annotated[datetime | None, Query(description="before this time (ISO 8601)")]


def audit_filter(
    since: Since = None,
    until: Until = None,
    actor: Annotated[int | None, Query(ge=1, description="actor user id")] = None,
    agency: Annotated[
        int | None, Query(ge=1, description="agency id: the actor's or the target's owner")
    ] = None,
    camera: Annotated[int | None, Query(ge=1, description="camera id")] = None,
    action: Annotated[
        str | None, Query(max_length=81, description="e.g. access.live, or access.*")
    ] = None,
    outcome: Annotated[Outcome | None, Query()] = None,
) -> AuditFilter:
    return AuditFilter(
        actor=actor,
        agency=agency,
        camera=camera,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
    )


FilterDep = Annotated[AuditFilter, Depends(audit_filter)]


def _reader(principal: Principal, request: Request) -> Reader:
    return Reader(principal, request.client.host if request.client else None)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _stamp() -> str:
    return utcnow().strftime("%Y%m%dT%H%M%SZ")


@router.get("/audit", response_model=AuditPage)
def list_entries(
    audit: AuditDep,
    principal: PrincipalDep,
    request: Request,
    filters: FilterDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditPage:
    """A page of audit entries, newest first."""
    scope = audit.open_read(_reader(principal, request), "entries", filters=filters.as_json())
    entries, total = audit.page(filters, scope, limit, offset)
    items = [AuditEntryOut.model_validate(entry_json(e)) for e in entries]
    return AuditPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/audit/export.jsonl")
def export_jsonl(
    audit: AuditDep, principal: PrincipalDep, request: Request, filters: FilterDep
) -> StreamingResponse:
    """Every matching entry, oldest first, one JSON object a line (the hashed fields)."""
    scope = audit.open_read(_reader(principal, request), "export.jsonl", filters=filters.as_json())
    return StreamingResponse(
        audit.export_jsonl(filters, scope),
        media_type="application/x-ndjson",
        headers=_attachment(f"audit-{_stamp()}.jsonl"),
    )


@router.get("/audit/export.csv")
def export_csv(
    audit: AuditDep, principal: PrincipalDep, request: Request, filters: FilterDep
) -> StreamingResponse:
    """Every matching entry, oldest first, as CSV (UTF-8 with BOM)."""
    scope = audit.open_read(_reader(principal, request), "export.csv", filters=filters.as_json())
    return StreamingResponse(
        audit.export_csv(filters, scope),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(f"audit-{_stamp()}.csv"),
    )


@router.get("/audit/verify", response_model=VerifyOut)
def verify_log(audit: AuditDep, principal: PrincipalDep, request: Request) -> dict[str, Any]:
    """Verify the whole chain, the checkpoints' signatures and the head."""
    audit.open_read(_reader(principal, request), "verify")
    return audit.verify().as_json()


def _ledger_query(
    audit: AuditService, principal: Principal, request: Request, what: str, query: LedgerQuery
) -> LedgerQuery:
    since = None if query.since is None else query.since.isoformat()
    until = None if query.until is None else query.until.isoformat()
    scope = audit.open_read(
        _reader(principal, request), what, agency=query.agency, since=since, until=until
    )
    agency = query.agency if query.agency is not None else scope
    return LedgerQuery(agency=agency, since=query.since, until=query.until)


def ledger_query(
    since: Since = None,
    until: Until = None,
    agency: Annotated[
        int | None, Query(ge=1, description="owner agency id (default: your own, or all)")
    ] = None,
) -> LedgerQuery:
    return LedgerQuery(agency=agency, since=since, until=until)


LedgerDep = Annotated[LedgerQuery, Depends(ledger_query)]


@router.get("/ledger", tags=["ledger"])
def ledger_json(
    audit: AuditDep,
    principal: PrincipalDep,
    request: Request,
    query: LedgerDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """The PIPA ledger's rows as JSON, newest last (the console's table); `truncated` says when
    there were more than `limit` (the CSV has them all)."""
    query = _ledger_query(audit, principal, request, "ledger", query)
    rows: list[dict[str, Any]] = []
    truncated = False
    for row in audit.ledger_rows(query):
        if len(rows) == limit:
            truncated = True
            break
        rows.append({**asdict(row), "kind": row.kind.value})
    return {"agency": query.agency, "rows": rows, "truncated": truncated}


@router.get("/ledger.csv", tags=["ledger"])
def ledger_csv(
    audit: AuditDep, principal: PrincipalDep, request: Request, query: LedgerDep
) -> StreamingResponse:
    """The PIPA ledger (개인영상정보 관리대장) as CSV that Excel opens (UTF-8 with BOM)."""
    query = _ledger_query(audit, principal, request, "ledger.csv", query)
    name = f"ledger-{query.agency or 'all'}-{_stamp()}.csv"
    return StreamingResponse(
        audit.ledger_csv(query), media_type="text/csv; charset=utf-8", headers=_attachment(name)
    )


@router.get("/ledger.html", tags=["ledger"], response_class=HTMLResponse)
def ledger_html(
    audit: AuditDep, principal: PrincipalDep, request: Request, query: LedgerDep
) -> StreamingResponse:
    """The PIPA ledger as a printable page (A4 landscape), self-contained."""
    query = _ledger_query(audit, principal, request, "ledger.html", query)
    return StreamingResponse(audit.ledger_html(query), media_type="text/html; charset=utf-8")
