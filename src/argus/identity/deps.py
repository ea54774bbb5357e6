"""FastAPI dependencies: who is calling, and are they allowed to call this route.

A request proves who it comes from in one of three ways, looked at in this order:

1. ``X-API-Key: argus_…`` — an integration key;
2. ``Authorization: Bearer …`` — a short-lived token from ``POST /api/auth/token``;
3. the ``argus_session`` cookie — a browser session from ``POST /api/auth/login``.

A header that is present but wrong is refused (401); it never falls back to the cookie. For a
cookie-authenticated POST, PUT, PATCH or DELETE the header ``X-CSRF-Token`` must carry the
session's CSRF token (see :mod:`argus.identity.tokens`); otherwise 403, audited. Bearer tokens
and API keys are not sent by browsers on their own, so they need no CSRF token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from argus.errors import ForbiddenError, NotSignedInError
from argus.identity.principal import AuthMethod, Principal, Role
from argus.identity.service import Credential, IdentityService
from argus.identity.sessions import COOKIE_NAME
from argus.identity.tokens import csrf_matches

API_KEY_HEADER = "X-API-Key"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def identity_service(app: FastAPI) -> IdentityService:
    """The application's identity service, made at start-up by ``argus.api.services``."""
    service: IdentityService = app.state.identity
    return service


def get_identity(request: Request) -> IdentityService:
    return identity_service(request.app)


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def presented_credential(request: Request) -> Credential | None:
    """The credential the request carries, if any (a malformed Authorization header: 401)."""
    api_key = request.headers.get(API_KEY_HEADER)
    if api_key is not None:
        return Credential(AuthMethod.API_KEY, api_key.strip())
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotSignedInError("the Authorization header must be 'Bearer <token>'")
        return Credential(AuthMethod.BEARER, token.strip())
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        return Credential(AuthMethod.SESSION, cookie)
    return None


def current_principal(request: Request) -> Principal:
    """The signed-in caller (session cookie, bearer token or API key); 401 otherwise."""
    credential = presented_credential(request)
    if credential is None:
        raise NotSignedInError(
            "not signed in: sign in at POST /api/auth/login (browser session), or send "
            f"'Authorization: Bearer <token>' or '{API_KEY_HEADER}: <key>'"
        )
    service = identity_service(request.app)
    principal = service.authenticate(credential, client_address(request))
    needs_csrf = credential.method is AuthMethod.SESSION and request.method in UNSAFE_METHODS
    if needs_csrf and not csrf_matches(credential.secret, request.headers.get(CSRF_HEADER)):
        service.refuse_csrf(principal, request.method, request.url.path)
        raise ForbiddenError(
            f"missing or wrong {CSRF_HEADER} header: a signed-in browser sends the CSRF "
            "token it got at sign-in (GET /api/auth/me returns it again) with every "
            "POST, PUT, PATCH and DELETE"
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


class RoleRequirement:
    """A dependency that lets through callers holding any of ``roles`` (403 naming them)."""

    def __init__(self, roles: tuple[Role, ...]) -> None:
        if not roles:
            raise ValueError("require_roles needs at least one role")
        self.roles = frozenset(roles)
        self._names = ", ".join(role.value for role in roles)

    def __call__(self, principal: PrincipalDep) -> Principal:
        if not principal.has(*self.roles):
            held = ", ".join(sorted(r.value for r in principal.roles)) or "none"
            raise ForbiddenError(f"this needs one of the roles: {self._names} (you have: {held})")
        return principal

    def __repr__(self) -> str:
        return f"require_roles({self._names})"


def require_roles(*roles: Role) -> RoleRequirement:
    """``Depends(require_roles(Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN))``: any of these roles.

    System admins are not let through implicitly: running the deployment is not watching video.
    The returned object's ``roles`` lets tools (the route guard test) read a route's policy.
    """
    return RoleRequirement(roles)
