"""REST routes of the sharing package: agreements and their lifecycle, and the access check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, status

from argus.identity.deps import current_principal
from argus.identity.principal import Principal
from argus.sharing.schemas import (
    AccessCheckOut,
    AgreementCreate,
    AgreementOut,
    AgreementPatch,
    StatusNote,
)
from argus.sharing.service import SharingService
from argus.sharing.vocab import AgreementStatus

router = APIRouter(prefix="/api")


def get_sharing(request: Request) -> SharingService:
    """The application's sharing service, made at start-up by ``argus.api.services``."""
    service: SharingService = request.app.state.sharing
    return service


SharingDep = Annotated[SharingService, Depends(get_sharing)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
NoteBody = Annotated[StatusNote | None, Body()]


@router.get("/agreements", response_model=list[AgreementOut], tags=["sharing"])
def list_agreements(
    sharing: SharingDep, principal: PrincipalDep, status: AgreementStatus | None = None
) -> list[AgreementOut]:
    """Agreements in which the caller's agency is the owner or the consumer."""
    return sharing.list_agreements(principal, status)


@router.post(
    "/agreements",
    response_model=AgreementOut,
    status_code=status.HTTP_201_CREATED,
    tags=["sharing"],
)
def create_agreement(
    sharing: SharingDep, principal: PrincipalDep, body: AgreementCreate
) -> AgreementOut:
    """Draft an agreement: an owner's offer, or a consumer's request for the owner's cameras."""
    return sharing.create(principal, body)


@router.get("/agreements/{agreement_id}", response_model=AgreementOut, tags=["sharing"])
def get_agreement(sharing: SharingDep, principal: PrincipalDep, agreement_id: int) -> AgreementOut:
    return sharing.get_agreement(principal, agreement_id)


@router.patch("/agreements/{agreement_id}", response_model=AgreementOut, tags=["sharing"])
def update_agreement(
    sharing: SharingDep, principal: PrincipalDep, agreement_id: int, body: AgreementPatch
) -> AgreementOut:
    """Edit a draft; narrow a proposed, accepted or suspended agreement (never widen it)."""
    return sharing.update(principal, agreement_id, body)


@router.post("/agreements/{agreement_id}/propose", response_model=AgreementOut, tags=["sharing"])
def propose_agreement(
    sharing: SharingDep, principal: PrincipalDep, agreement_id: int
) -> AgreementOut:
    return sharing.propose(principal, agreement_id)


@router.post("/agreements/{agreement_id}/accept", response_model=AgreementOut, tags=["sharing"])
def accept_agreement(
    sharing: SharingDep, principal: PrincipalDep, agreement_id: int
) -> AgreementOut:
    return sharing.accept(principal, agreement_id)


@router.post("/agreements/{agreement_id}/suspend", response_model=AgreementOut, tags=["sharing"])
def suspend_agreement(
    sharing: SharingDep, principal: PrincipalDep, agreement_id: int, body: NoteBody = None
) -> AgreementOut:
    return sharing.suspend(principal, agreement_id, body.note if body else None)


@router.post("/agreements/{agreement_id}/resume", response_model=AgreementOut, tags=["sharing"])
def resume_agreement(
    sharing: SharingDep, principal: PrincipalDep, agreement_id: int
) -> AgreementOut:
    return sharing.resume(principal, agreement_id)


@router.post("/agreements/{agreement_id}/revoke", response_model=AgreementOut, tags=["sharing"])
def revoke_agreement(
    sharing: SharingDep, principal: PrincipalDep, agreement_id: int, body: NoteBody = None
) -> AgreementOut:
    return sharing.revoke(principal, agreement_id, body.note if body else None)


@router.get("/access/check", response_model=AccessCheckOut, tags=["sharing"])
def check_access(
    sharing: SharingDep,
    principal: PrincipalDep,
    camera: Annotated[int, Query(description="camera id")],
    capability: Annotated[str, Query(description="live, playback, export or ptz")],
    purpose: Annotated[
        str | None, Query(description="the declared purpose, e.g. crime_prevention")
    ] = None,
    case_number: Annotated[str | None, Query(max_length=100)] = None,
) -> AccessCheckOut:
    """What ``authorize`` says for the caller, this camera, now: allowed or not, and why.

    The answer is 200 either way (it is a question, not an access); it is written to the audit log.
    """
    at = sharing.clock()
    decision = sharing.decide(
        principal, camera, capability, purpose, case_number=case_number, at=at
    )
    return AccessCheckOut(
        camera_id=camera,
        capability=capability,
        purpose=purpose,
        at=at,
        allowed=decision.allowed,
        code=decision.code.value,
        reason=decision.reason,
        basis=None if decision.basis is None else decision.basis.value,
        grant=decision.grant,
        ptz_priority=decision.ptz_priority,
        until=decision.until,
    )
