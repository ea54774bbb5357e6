"""Routes of camera modes: a camera's schedule and its mode now.

- `GET /api/modes/{camera_id}` the schedule (null if none) and the mode now
- `PUT /api/modes/{camera_id}` set the schedule (the owner's agency admins); audited as
  mode.schedule. A bad window, mode or zone is a 422 naming the field; nothing is stored.
  When ``app.state.ptz`` exists its tours are re-read at once.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from argus.identity.deps import current_principal, require_roles
from argus.identity.principal import Principal, Role
from argus.modes.schedule import build_schedule
from argus.modes.service import ModeService
from argus.sharing.vocab import DEFAULT_TIMEZONE

router = APIRouter(prefix="/api/modes", tags=["modes"])

PrincipalDep = Annotated[Principal, Depends(current_principal)]
AdminDep = Annotated[Principal, Depends(require_roles(Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN))]


def get_modes(request: Request) -> ModeService:
    service: ModeService = request.app.state.modes
    return service


ModesDep = Annotated[ModeService, Depends(get_modes)]


class WindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(description="HH:MM local time")
    end: str = Field(description="HH:MM local time (before start: past midnight)")
    days: list[str] | None = Field(default=None, description="mon … sun; none: every day")
    mode: str = Field(description="enforcement or crime_prevention")


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    windows: list[WindowIn] = Field(default_factory=list, max_length=50)
    otherwise: str = Field(default="crime_prevention", description="the mode outside windows")
    timezone: str = DEFAULT_TIMEZONE


def _view(modes: ModeService, camera_id: int) -> dict[str, Any]:
    schedule = modes.schedule(camera_id)
    now = modes.camera_mode(camera_id)
    return {
        "camera_id": camera_id,
        "schedule": None if schedule is None else schedule.as_json(),
        "now": None if now is None else now.as_json(),
    }


@router.get("/{camera_id}")
async def get_schedule(camera_id: int, modes: ModesDep, _: PrincipalDep) -> dict[str, Any]:
    """The camera's mode schedule and its mode now (null: no schedule, no mode)."""
    return await asyncio.to_thread(_view, modes, camera_id)


@router.put("/{camera_id}")
async def put_schedule(
    camera_id: int, body: ScheduleIn, request: Request, modes: ModesDep, principal: AdminDep
) -> dict[str, Any]:
    schedule = build_schedule([w.model_dump() for w in body.windows], body.otherwise, body.timezone)

    def write() -> dict[str, Any]:
        modes.put_schedule(principal, camera_id, schedule)
        return _view(modes, camera_id)

    view = await asyncio.to_thread(write)
    ptz = getattr(request.app.state, "ptz", None)
    if ptz is not None:  # the new mode's tour runs at once, not at the next re-read
        await ptz.sync_tours()
    return view
