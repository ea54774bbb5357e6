"""REST routes of the identity package: sign-in and out, bearer tokens, users and API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse

from argus.identity.deps import (
    PrincipalDep,
    client_address,
    get_identity,
    require_roles,
)
from argus.identity.principal import AuthMethod, Principal, Role
from argus.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    BearerToken,
    LoginRequest,
    Me,
    PasswordChange,
    PasswordReset,
    SignedIn,
    UserCreate,
    UserOut,
    UserUpdate,
)
from argus.identity.service import IdentityService
from argus.identity.sessions import COOKIE_NAME, SessionPolicy, TokenKind
from argus.identity.throttle import TooManyAttemptsError
from argus.identity.tokens import csrf_token

router = APIRouter(prefix="/api")

IdentityDep = Annotated[IdentityService, Depends(get_identity)]
UserAdminDep = Annotated[Principal, Depends(require_roles(Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN))]


def _secure(policy: SessionPolicy, request: Request) -> bool:
    if policy.cookie_secure is not None:
        return policy.cookie_secure
    return request.url.scheme == "https"


def _throttled(exc: TooManyAttemptsError) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        content={"message": str(exc)},
        headers={"Retry-After": str(exc.retry_after)},
    )


# -- signing in and out -------------------------------------------------------------------


@router.post(
    "/auth/login",
    response_model=SignedIn,
    tags=["auth"],
    responses={401: {}, 403: {}, 429: {}},
)
def login(
    identity: IdentityDep, request: Request, response: Response, body: LoginRequest
) -> SignedIn | JSONResponse:
    """Sign in: sets the HttpOnly, SameSite=Strict session cookie; returns the CSRF token."""
    try:
        result = identity.sign_in(
            body.username, body.password, client_address(request), TokenKind.SESSION
        )
    except TooManyAttemptsError as exc:
        return _throttled(exc)
    policy = identity.ctx.policy
    response.set_cookie(
        COOKIE_NAME,
        result.secret,
        httponly=True,
        samesite="strict",
        secure=_secure(policy, request),
        path="/",
    )
    assert result.csrf_token is not None
    return SignedIn(
        user=result.user,
        csrf_token=result.csrf_token,
        expires_at=result.expires_at,
        idle_timeout_s=int(policy.idle.total_seconds()),
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"])
def logout(identity: IdentityDep, principal: PrincipalDep, request: Request) -> Response:
    """End this session (or this bearer token)."""
    identity.sign_out(principal)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        COOKIE_NAME,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(identity.ctx.policy, request),
    )
    return response


@router.get("/auth/me", response_model=Me, tags=["auth"])
def me(identity: IdentityDep, principal: PrincipalDep, request: Request) -> Me:
    """Who is signed in; for a browser session also the CSRF token again."""
    cookie = request.cookies.get(COOKIE_NAME)
    token = csrf_token(cookie) if principal.method is AuthMethod.SESSION and cookie else None
    return Me(user=identity.me(principal), method=principal.method, csrf_token=token)


@router.post("/auth/token", response_model=BearerToken, tags=["auth"], responses={401: {}, 429: {}})
def bearer_token(
    identity: IdentityDep, request: Request, body: LoginRequest
) -> BearerToken | JSONResponse:
    """A short-lived bearer token for an integration (``Authorization: Bearer …``)."""
    try:
        result = identity.sign_in(
            body.username, body.password, client_address(request), TokenKind.BEARER
        )
    except TooManyAttemptsError as exc:
        return _throttled(exc)
    lifetime = identity.ctx.policy.bearer_lifetime
    return BearerToken(
        access_token=result.secret,
        expires_in=int(lifetime.total_seconds()),
        expires_at=result.expires_at,
    )


@router.post(
    "/auth/password",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["auth"],
    responses={422: {}, 429: {}},
)
def change_password(
    identity: IdentityDep, principal: PrincipalDep, body: PasswordChange
) -> Response:
    """Change one's own password; one's other sessions and bearer tokens end."""
    try:
        identity.change_password(principal, body.current_password, body.new_password)
    except TooManyAttemptsError as exc:
        return _throttled(exc)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- users --------------------------------------------------------------------------------


@router.get("/users", response_model=list[UserOut], tags=["users"])
def list_users(
    identity: IdentityDep, principal: UserAdminDep, agency_id: int | None = None
) -> list[UserOut]:
    """Users of every agency (system admins) or of one's own agency (agency admins)."""
    return identity.users.list_users(principal, agency_id)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED, tags=["users"])
def create_user(identity: IdentityDep, principal: UserAdminDep, body: UserCreate) -> UserOut:
    return identity.users.create_user(principal, body)


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"])
def get_user(identity: IdentityDep, principal: UserAdminDep, user_id: int) -> UserOut:
    return identity.users.get_user(principal, user_id)


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"])
def update_user(
    identity: IdentityDep, principal: UserAdminDep, user_id: int, body: UserUpdate
) -> UserOut:
    return identity.users.update_user(principal, user_id, body)


@router.post("/users/{user_id}/disable", response_model=UserOut, tags=["users"])
def disable_user(identity: IdentityDep, principal: UserAdminDep, user_id: int) -> UserOut:
    """Disable the account: its sessions and tokens end at once, its API keys stop working."""
    return identity.users.disable_user(principal, user_id)


@router.post("/users/{user_id}/enable", response_model=UserOut, tags=["users"])
def enable_user(identity: IdentityDep, principal: UserAdminDep, user_id: int) -> UserOut:
    return identity.users.enable_user(principal, user_id)


@router.post("/users/{user_id}/reset-password", response_model=UserOut, tags=["users"])
def reset_password(
    identity: IdentityDep, principal: UserAdminDep, user_id: int, body: PasswordReset
) -> UserOut:
    """Set a new password for the user; their sessions end and any lock-out is lifted."""
    return identity.users.reset_password(principal, user_id, body.password)


# -- API keys -----------------------------------------------------------------------------


@router.get("/users/{user_id}/keys", response_model=list[ApiKeyOut], tags=["users"])
def list_keys(identity: IdentityDep, principal: UserAdminDep, user_id: int) -> list[ApiKeyOut]:
    return identity.users.list_keys(principal, user_id)


@router.post(
    "/users/{user_id}/keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    tags=["users"],
)
def create_key(
    identity: IdentityDep, principal: UserAdminDep, user_id: int, body: ApiKeyCreate
) -> ApiKeyCreated:
    """A new API key acting as the user; the key is in this answer only."""
    return identity.users.create_key(principal, user_id, body)


@router.post("/users/{user_id}/keys/{key_id}/revoke", response_model=ApiKeyOut, tags=["users"])
def revoke_key(
    identity: IdentityDep, principal: UserAdminDep, user_id: int, key_id: int
) -> ApiKeyOut:
    return identity.users.revoke_key(principal, key_id, user_id)
