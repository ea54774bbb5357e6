"""REST routes that turn an allowed decision into a stream token, and check tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from argus.identity.deps import current_principal
from argus.identity.principal import Principal
from argus.sharing.access import AccessService, IssuedToken

router = APIRouter(prefix="/api/access", tags=["sharing"])


def get_access(request: Request) -> AccessService:
    access: AccessService = request.app.state.access
    return access


AccessDep = Annotated[AccessService, Depends(get_access)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera_id: int
    capability: str = Field(description="live, playback, export or ptz")
    purpose: str | None = Field(default=None, description="the declared purpose of this use")
    case_number: str | None = Field(default=None, max_length=100)


class RenewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=4000)


class CheckRequest(RenewRequest):
    camera_id: int | None = None
    capability: str | None = None


class TokenOut(BaseModel):
    token: str
    camera_id: int
    capability: str
    purpose: str
    grant: str
    basis: str | None
    reason: str
    expires_at: datetime


class ClaimsOut(BaseModel):
    camera_id: int
    capability: str
    purpose: str
    case_number: str | None
    grant: str
    user_id: int
    agency_id: int
    expires_at: datetime


def _out(issued: IssuedToken) -> TokenOut:
    claims, decision = issued.claims, issued.decision
    return TokenOut(
        token=issued.token,
        camera_id=claims.camera_id,
        capability=claims.capability,
        purpose=claims.purpose,
        grant=claims.grant,
        basis=None if decision.basis is None else decision.basis.value,
        reason=decision.reason,
        expires_at=claims.expires,
    )


@router.post("/token", response_model=TokenOut)
def issue_token(access: AccessDep, principal: PrincipalDep, body: TokenRequest) -> TokenOut:
    """A stream token for this camera, capability and purpose, if authorize allows it (else 403
    with the reason and its code). It lasts at most ten minutes; renew it while still allowed."""
    return _out(
        access.issue(principal, body.camera_id, body.capability, body.purpose, body.case_number)
    )


@router.post("/token/renew", response_model=TokenOut)
def renew_token(access: AccessDep, principal: PrincipalDep, body: RenewRequest) -> TokenOut:
    return _out(access.renew(principal, body.token))


@router.post("/token/check", response_model=ClaimsOut)
def check_token(access: AccessDep, principal: PrincipalDep, body: CheckRequest) -> ClaimsOut:
    """Whether a stream token would be honoured now (401 with its reason code if not)."""
    claims = access.check(body.token, body.camera_id, body.capability, client=principal.client)
    return ClaimsOut(
        camera_id=claims.camera_id,
        capability=claims.capability,
        purpose=claims.purpose,
        case_number=claims.case_number,
        grant=claims.grant,
        user_id=claims.user_id,
        agency_id=claims.agency_id,
        expires_at=claims.expires,
    )
