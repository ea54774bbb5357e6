"""Routes of incidents.

- `GET  /api/incidents?status=open|active|closed|live` the incidents the caller may see
- `GET  /api/incidents/types` the sources and types, and which 112 types provide video
- `POST /api/incidents` raise one (an operator, supervisor or responder, signed in)
- `GET  /api/incidents/{id}`; `POST …/{id}/activate`; `POST …/{id}/close`
- `POST /api/incidents/webhook` a room's system: JSON, signed (``argus.incidents.webhook``)
- `POST /api/incidents/cap` a CAP 1.2 alert (XML), signed the same way
- `WS   /api/incidents/events` the push (``argus.incidents.push``): credentials in the headers,
  the session cookie, or (a browser page) a first message `{"type": "auth", "token": …}`
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from argus.errors import ArgusError, NotSignedInError
from argus.identity.deps import API_KEY_HEADER, current_principal, identity_service, require_roles
from argus.identity.principal import AuthMethod, Principal, Role
from argus.identity.service import Credential
from argus.identity.sessions import COOKIE_NAME
from argus.incidents.cap import parse_cap
from argus.incidents.cap_intake import NotActual, intake_of_cap
from argus.incidents.push import IncidentPush
from argus.incidents.schemas import IncidentClose, IncidentIntake, IncidentOut, WebhookMessage
from argus.incidents.service import Actor, IncidentService
from argus.incidents.vocab import INCIDENT_TYPES, SOURCE_KOREAN
from argus.incidents.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

router = APIRouter(tags=["incidents"])

PrincipalDep = Annotated[Principal, Depends(current_principal)]
RaiserDep = Annotated[
    Principal,
    Depends(require_roles(Role.OPERATOR, Role.SUPERVISOR, Role.RESPONDER, Role.SYSTEM_ADMIN)),
]
CLOSE_NOT_SIGNED_IN = 4401
AUTH_WAIT_S = 5.0


def get_incidents(request: Request) -> IncidentService:
    incidents: IncidentService = request.app.state.incidents
    return incidents


ServiceDep = Annotated[IncidentService, Depends(get_incidents)]


@router.get("/api/incidents", response_model=list[IncidentOut])
def list_incidents(
    principal: PrincipalDep,
    incidents: ServiceDep,
    status: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[IncidentOut]:
    return incidents.list_for(principal, status, limit)


@router.get("/api/incidents/types")
def incident_types(request: Request, _principal: PrincipalDep) -> dict[str, object]:
    settings = request.app.state.settings
    return {
        "sources": [{"code": s.value, "label": label} for s, label in SOURCE_KOREAN.items()],
        "types": [{"code": code, "label": label} for code, label in INCIDENT_TYPES.items()],
        "video_112": list(settings.incident_112_video_types),
    }


@router.post("/api/incidents", response_model=IncidentOut, status_code=201)
def raise_incident(
    body: IncidentIntake, principal: RaiserDep, incidents: ServiceDep
) -> JSONResponse:
    out, created = incidents.raise_incident(Actor(principal, "api"), body)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("/api/incidents/{incident_id}", response_model=IncidentOut)
def get_incident(incident_id: int, principal: PrincipalDep, incidents: ServiceDep) -> IncidentOut:
    return incidents.get(incident_id, principal)


@router.post("/api/incidents/{incident_id}/activate", response_model=IncidentOut)
def activate_incident(incident_id: int, principal: RaiserDep, incidents: ServiceDep) -> IncidentOut:
    incidents.get(incident_id, principal)  # 404 for an incident the caller may not see
    return incidents.activate(Actor(principal, "api"), incident_id)


@router.post("/api/incidents/{incident_id}/close", response_model=IncidentOut)
def close_incident(
    incident_id: int, body: IncidentClose, principal: RaiserDep, incidents: ServiceDep
) -> IncidentOut:
    incidents.get(incident_id, principal)
    return incidents.close(Actor(principal, "api"), incident_id, body.reason)


async def _signed_body(request: Request) -> bytes:
    body = await request.body()
    verify(
        request.app.state.incident_key,
        body,
        request.headers.get(TIMESTAMP_HEADER),
        request.headers.get(SIGNATURE_HEADER),
    )
    return body


@router.post("/api/incidents/webhook", response_model=IncidentOut)
async def webhook(request: Request) -> JSONResponse:
    """A room's system raises, activates or closes an incident (signed; no account)."""
    body = await _signed_body(request)
    try:
        message = WebhookMessage.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    incidents: IncidentService = request.app.state.incidents
    actor = Actor(None, "webhook")

    def work() -> tuple[IncidentOut, bool]:
        if message.action == "raise":
            assert message.incident is not None
            return incidents.raise_incident(actor, message.incident)
        incident_id = message.incident_id
        if incident_id is None:
            assert message.source and message.external_id
            if message.action == "close":
                return (
                    incidents.close_by_external(
                        actor, message.source, message.external_id, message.reason
                    ),
                    False,
                )
            found = incidents.find_external(message.source, message.external_id)
            incident_id = found.id
        if message.action == "close":
            return incidents.close(actor, incident_id, message.reason), False
        return incidents.activate(actor, incident_id), False

    out, created = await asyncio.to_thread(work)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


@router.post("/api/incidents/cap", response_model=IncidentOut)
async def cap_alert(request: Request) -> JSONResponse:
    """A CAP 1.2 alert (XML) from the disaster room: Alert raises, Update is kept with it,
    Cancel closes the incident it references (signed like the webhook)."""
    body = await _signed_body(request)
    alert = parse_cap(body)
    incidents: IncidentService = request.app.state.incidents
    actor = Actor(None, "cap")

    def work() -> tuple[IncidentOut, bool]:
        return intake_of_cap(incidents, actor, alert)

    try:
        out, created = await asyncio.to_thread(work)
    except NotActual as exc:
        return JSONResponse({"raised": False, "message": str(exc)}, status_code=202)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


@router.websocket("/api/incidents/events")
async def incident_events(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        credential = _websocket_credential(websocket)
        if credential is None:  # a browser page: its bearer token comes as the first message
            credential = await _first_message_credential(websocket)
        client = websocket.client.host if websocket.client else None
        identity = identity_service(websocket.app)
        principal = await asyncio.to_thread(identity.authenticate, credential, client)
    except ArgusError as exc:
        await websocket.close(CLOSE_NOT_SIGNED_IN, str(exc)[:120])
        return
    push: IncidentPush = websocket.app.state.incident_push
    await push.serve(websocket, principal)


def _websocket_credential(websocket: WebSocket) -> Credential | None:
    """An API key or bearer token header, or the session cookie of a page from this origin
    (another site's page may not ride on the cookie)."""
    api_key = websocket.headers.get(API_KEY_HEADER)
    authorization = websocket.headers.get("Authorization", "")
    cookie = websocket.cookies.get(COOKIE_NAME)
    if api_key:
        return Credential(AuthMethod.API_KEY, api_key.strip())
    if authorization.lower().startswith("bearer "):
        return Credential(AuthMethod.BEARER, authorization[7:].strip())
    if cookie:
        origin = websocket.headers.get("Origin")
        host = websocket.headers.get("Host", "")
        if origin is not None and urlsplit(origin).netloc != host:
            raise NotSignedInError("the session cookie works only for pages of this origin")
        return Credential(AuthMethod.SESSION, cookie)
    return None


async def _first_message_credential(websocket: WebSocket) -> Credential:
    """``{"type": "auth", "token": "<bearer token>"}`` within a few seconds of connecting (a
    browser cannot set headers on a WebSocket, and a token in the URL would end up in logs)."""
    try:
        text = await asyncio.wait_for(websocket.receive_text(), AUTH_WAIT_S)
        message = json.loads(text)
    except (TimeoutError, ValueError, WebSocketDisconnect, RuntimeError, KeyError):
        raise NotSignedInError(
            'not signed in: send {"type": "auth", "token": "<bearer token>"} first'
        ) from None
    token = message.get("token") if isinstance(message, dict) else None
    if not isinstance(token, str) or message.get("type") != "auth" or not token.strip():
        raise NotSignedInError('not signed in: the first message must be {"type": "auth", …}')
    return Credential(AuthMethod.BEARER, token.strip())
