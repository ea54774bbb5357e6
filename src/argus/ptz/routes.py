"""Routes of PTZ: status, control, moves, presets, home, release, and the owner's tours.

Commands go through ``app.state.ptz`` (``PtzService``): each is authorized (capability ptz)
and audited there. A bad value is a 422 naming the field, and nothing is sent to the camera;
someone else's control is a 409 naming them; a refusal by the policy a 403 with its reason.

- `GET  /api/ptz/{camera_id}` holder, lease expiry, tour state, position
- `POST /api/ptz/{camera_id}/control` take control {purpose, reason, case_number?}
- `POST /api/ptz/{camera_id}/move` {mode: continuous|relative|absolute, pan, tilt, zoom}
- `POST /api/ptz/{camera_id}/stop`, `…/preset` {preset}, `…/home`, `…/release`
- `GET|PUT /api/ptz/{camera_id}/tours/{kind}` the owner's enforcement tour or idle patrol
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from argus.db import transaction
from argus.errors import NotFoundError
from argus.identity.deps import require_roles
from argus.identity.principal import Principal, Role
from argus.ptz import store
from argus.ptz.commands import parse_mode
from argus.ptz.lease import Refusal
from argus.ptz.service import ControlConflict, PtzService, requester_json
from argus.ptz.tours import build_tour, parse_kind
from argus.registry.access import ensure_owner_admin

router = APIRouter(prefix="/api/ptz", tags=["ptz"])

PTZ_ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.RESPONDER)
TOUR_READERS = (Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN)
PtzUser = Annotated[Principal, Depends(require_roles(*PTZ_ROLES))]
TourReader = Annotated[Principal, Depends(require_roles(*TOUR_READERS))]
AdminDep = Annotated[Principal, Depends(require_roles(Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN))]


def get_ptz(request: Request) -> PtzService:
    service: PtzService = request.app.state.ptz
    return service


PtzDep = Annotated[PtzService, Depends(get_ptz)]


class ControlIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str | None = Field(default=None, description="the declared access purpose")
    reason: str = Field(max_length=500, description="why: 'incident 12: assault'")
    case_number: str | None = Field(default=None, max_length=100)


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: str = Field(description="continuous (velocity), relative or absolute")
    pan: float = 0.0
    tilt: float = 0.0
    zoom: float = 0.0
    timeout_s: float | None = Field(default=None, description="continuous moves: stop after")


class PresetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preset: str = Field(max_length=200)


class StopIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preset: str = Field(max_length=200)
    dwell_s: int


class TourIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stops: list[StopIn] = Field(max_length=1000)
    revisit_delay_s: int | None = Field(
        default=None, description="enforcement: 300–600 s (default 300); patrol: leave out"
    )
    enabled: bool = True


async def _known(ptz: PtzService, camera_id: int) -> int:
    def owner() -> int:
        with ptz.sessions() as session:
            return store.camera_owner(session, camera_id)

    return await asyncio.to_thread(owner)


@router.get("/{camera_id}")
async def ptz_status(camera_id: int, ptz: PtzDep, _: PtzUser) -> dict[str, Any]:
    """Who controls the camera and until when, what its tour is doing, and where it points."""
    await _known(ptz, camera_id)
    return (await ptz.status(camera_id)).as_json()


@router.post("/{camera_id}/control", response_model=None)
async def take_control(
    camera_id: int, body: ControlIn, ptz: PtzDep, principal: PtzUser
) -> dict[str, Any] | JSONResponse:
    """Take control (the lease): pre-empts a lower priority; 409 naming an equal or higher
    holder and when the camera frees."""
    await _known(ptz, camera_id)
    try:
        control = await ptz.acquire(
            principal, camera_id, body.purpose, body.reason, body.case_number
        )
    except ControlConflict as conflict:
        return conflict_response(conflict)
    return control.as_json()


def conflict_response(conflict: ControlConflict) -> JSONResponse:
    """409 with the message, and who holds the camera and when it frees, for a console."""
    refusal = conflict.refusal
    content: dict[str, Any] = {"message": str(conflict), "code": conflict.code}
    if isinstance(refusal, Refusal):
        content["holder"] = requester_json(refusal.holder)
        content["frees_at"] = _iso(refusal.idle_expires_at)
        content["frees_by"] = _iso(refusal.frees_by)
    elif refusal.holder is not None:
        content["holder"] = requester_json(refusal.holder)
    return JSONResponse(status_code=409, content=content)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@router.post("/{camera_id}/move")
async def move(camera_id: int, body: MoveIn, ptz: PtzDep, principal: PtzUser) -> dict[str, Any]:
    mode = parse_mode(body.mode)
    control = await ptz.move(
        principal, camera_id, mode, body.pan, body.tilt, body.zoom, body.timeout_s
    )
    return control.as_json()


@router.post("/{camera_id}/stop")
async def stop(camera_id: int, ptz: PtzDep, principal: PtzUser) -> dict[str, Any]:
    return (await ptz.stop(principal, camera_id)).as_json()


@router.post("/{camera_id}/preset")
async def goto_preset(
    camera_id: int, body: PresetIn, ptz: PtzDep, principal: PtzUser
) -> dict[str, Any]:
    return (await ptz.goto_preset(principal, camera_id, body.preset)).as_json()


@router.post("/{camera_id}/home")
async def home(camera_id: int, ptz: PtzDep, principal: PtzUser) -> dict[str, Any]:
    return (await ptz.home(principal, camera_id)).as_json()


@router.post("/{camera_id}/release")
async def release(camera_id: int, ptz: PtzDep, principal: PtzUser) -> dict[str, Any]:
    """Give the camera back; its tour, if one runs, resumes where it stopped."""
    ended = await ptz.release(principal, camera_id)
    return {
        "camera_id": camera_id,
        "released_at": ended.at.isoformat(),
        "returns_to": None if ended.returns_to is None else ended.returns_to.name,
    }


@router.get("/{camera_id}/tours/{kind}")
async def get_tour(camera_id: int, kind: str, ptz: PtzDep, _: TourReader) -> dict[str, Any]:
    tour_kind = parse_kind(kind, "kind", "path")

    def read() -> dict[str, Any]:
        with ptz.sessions() as session:
            store.camera_owner(session, camera_id)
            tour = store.get_tour(session, camera_id, tour_kind)
        if tour is None:
            raise NotFoundError(f"camera {camera_id} has no {tour_kind.value} tour")
        return tour.as_json()

    found = await asyncio.to_thread(read)
    state = ptz.tour_state(camera_id)
    found["state"] = None if state is None or state.tour.kind is not tour_kind else state.as_json()
    return found


@router.put("/{camera_id}/tours/{kind}")
async def put_tour(
    camera_id: int, kind: str, body: TourIn, ptz: PtzDep, principal: AdminDep
) -> dict[str, Any]:
    """Set the camera's tour of this kind (its owner's agency admins); it takes effect at once.
    Audited as ptz.tour."""
    tour = build_tour(
        camera_id,
        parse_kind(kind, "kind", "path"),
        [s.model_dump() for s in body.stops],
        body.revisit_delay_s,
        body.enabled,
    )

    def write() -> None:
        with transaction(ptz.sessions) as session:
            owner = store.camera_owner(session, camera_id)
            ensure_owner_admin(principal, owner, "set this camera's tours")
            store.put_tour(session, tour, user_id=principal.user_id, agency_id=principal.agency_id)

    await asyncio.to_thread(write)
    await ptz.sync_tours()
    return tour.as_json()
