"""Routes of evidence export (see argus.evidence.service for the flow).

- `POST /api/exports` request an export (201; built at once when every owner has approved)
- `GET /api/exports`, `GET /api/exports/{id}` the caller's agency's requests and those of its
  cameras
- `POST /api/exports/{id}/approve`, `…/refuse` an owner agency's admin decides
- `POST /api/exports/{id}/link` a download link for a ready export (the requester)
- `GET /api/exports/download/{link}` the zip (no sign-in: the link is the capability; each
  download is audited and written to the ledger as 제공)
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from argus.evidence.service import ExportService, ItemIn, RequestIn
from argus.identity.deps import current_principal, require_roles
from argus.identity.principal import Principal, Role

router = APIRouter(prefix="/api/exports", tags=["evidence"])
PrincipalDep = Annotated[Principal, Depends(current_principal)]
# who may export at all (ROLE_CAPABILITIES of argus.sharing.policy); authorize decides per camera
RequesterDep = Annotated[
    Principal, Depends(require_roles(Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.RESPONDER))
]
ApproverDep = Annotated[Principal, Depends(require_roles(Role.AGENCY_ADMIN))]


def get_exports(request: Request) -> ExportService:
    exports: ExportService = request.app.state.exports
    return exports


ExportsDep = Annotated[ExportService, Depends(get_exports)]


class ItemBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    camera_id: int
    start: datetime = Field(alias="from", description="ISO 8601 with offset")
    until: datetime


class ExportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ItemBody] = Field(max_length=64)
    purpose: str | None = Field(default=None, max_length=40)
    legal_basis: str = Field(default="", max_length=4000)
    recipient: str = Field(default="", max_length=400)
    case_number: str | None = Field(default=None, max_length=100)


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


class LinkOut(BaseModel):
    url: str
    expires_at: datetime


@router.post("", status_code=201)
def request_export(
    body: ExportBody, exports: ExportsDep, principal: RequesterDep, background: BackgroundTasks
) -> dict[str, Any]:
    """Ask for evidence: cameras and ranges, purpose, legal basis, recipient (and the case number
    for an investigation). Each camera goes through authorize with capability export."""
    wanted = RequestIn(
        items=[ItemIn(i.camera_id, i.start, i.until) for i in body.items],
        purpose=body.purpose,
        legal_basis=body.legal_basis,
        recipient=body.recipient,
        case_number=body.case_number,
    )
    out = exports.request(principal, wanted)
    if out["state"] == "approved":
        background.add_task(exports.build, out["id"])
    return out


@router.get("")
def list_exports(exports: ExportsDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    return exports.list(principal)


@router.get("/{export_id}")
def get_export(export_id: int, exports: ExportsDep, principal: PrincipalDep) -> dict[str, Any]:
    return exports.describe(principal, export_id)


@router.post("/{export_id}/approve")
def approve(
    export_id: int,
    exports: ExportsDep,
    principal: ApproverDep,
    background: BackgroundTasks,
    body: DecisionBody | None = None,
) -> dict[str, Any]:
    """The owner agency's admin approves; once every owner has, the export is built."""
    out = exports.decide(principal, export_id, True, body.reason if body else None)
    if out["state"] == "approved":
        background.add_task(exports.build, export_id)
    return out


@router.post("/{export_id}/refuse")
def refuse(
    export_id: int, body: DecisionBody, exports: ExportsDep, principal: ApproverDep
) -> dict[str, Any]:
    """The owner agency's admin refuses, saying why; the request ends refused."""
    return exports.decide(principal, export_id, False, body.reason)


@router.post("/{export_id}/link", response_model=LinkOut)
def link(export_id: int, exports: ExportsDep, principal: PrincipalDep) -> LinkOut:
    """A download link for a ready export; it expires (export_link_hours)."""
    token, expires = exports.link(principal, export_id)
    return LinkOut(url=f"/api/exports/download/{token}", expires_at=expires)


@router.get("/download/{link}", response_class=FileResponse)
def download(link: str, request: Request, exports: ExportsDep) -> FileResponse:
    """The export as a zip: the MP4 files, manifest.json, manifest.sig, signing-key.pub.pem."""
    client = request.client.host if request.client else None
    path, name = exports.download(link, client)
    return FileResponse(path, media_type="application/zip", filename=name)
