"""Routes of recording: playback (WebSocket, HLS VOD, the timeline), plans and legal holds.

Playback requests carry `?token=…`, a stream token for the camera with the `playback`
capability (POST /api/access/token): the token is where `authorize` decided, and audited, the
use. Plans and holds are the owner agency's business: its agency admins (and system admins)
set them; auditors of the owner read holds.

- `WS  /api/playback/{camera_id}?token&from&until[&at][&speed]` fMP4 (argus.recording.playback_ws)
- `GET /api/playback/{camera_id}/timeline?token&from&until` recorded spans and gaps
- `GET /api/playback/{camera_id}/index.m3u8?token&from&until` HLS VOD playlist
- `GET /api/playback/{camera_id}/rec/{segment_id}.mp4?token` a recorded file (Range requests)
- `GET|PUT /api/recordings/plans/{camera_id}` how a camera is recorded
- `GET /api/recordings/holds`, `POST /api/recordings/holds`, `POST …/holds/{id}/release`
- `GET|POST /api/recordings/triggers`, `POST …/triggers/{id}/stop` recording on incident
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, WebSocket
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.query import as_utc
from argus.db import transaction, utcnow
from argus.errors import ForbiddenError, NotFoundError
from argus.identity.deps import current_principal, require_roles
from argus.identity.principal import Principal, Role
from argus.recording.holds import place_hold, release_hold
from argus.recording.index import SegmentInfo
from argus.recording.models import LegalHold, RecordingPlan, RecordingTrigger, Segment
from argus.recording.plans import parse_windows, plan_of, set_plans
from argus.recording.playback import check_range, parse_time, timeline
from argus.recording.playback_hls import byte_range, shift_decode_times, vod_playlist
from argus.recording.playback_ws import PlaybackServer
from argus.recording.triggers import start_triggers, stop_trigger
from argus.registry.access import ensure_owner_admin
from argus.registry.models import Camera
from argus.sharing.tokens import StreamClaims

router = APIRouter(tags=["recording"])

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
Token = Annotated[str, Query(description="stream token for this camera with capability playback")]
From = Annotated[str, Query(alias="from", description="ISO 8601 time with offset")]
Until = Annotated[str, Query(description="ISO 8601 time with offset")]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
HOLD_READERS = (Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.AUDITOR, Role.SYSTEM_ADMIN)
AdminDep = Annotated[Principal, Depends(require_roles(Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN))]


def get_playback(request: Request) -> PlaybackServer:
    playback: PlaybackServer = request.app.state.playback
    return playback


PlaybackDep = Annotated[PlaybackServer, Depends(get_playback)]


def _sessions(request: Request) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = request.app.state.registry.sessions
    return sessions


SessionsDep = Annotated[sessionmaker[Session], Depends(_sessions)]


async def _claims(
    playback: PlaybackServer, request: Request, token: str, camera_id: int
) -> StreamClaims:
    client = request.client.host if request.client else None
    return await asyncio.to_thread(playback.access.check, token, camera_id, "playback", client)


# --- playback ------------------------------------------------------------------------------


@router.websocket("/api/playback/{camera_id}")
async def playback_ws(websocket: WebSocket, camera_id: int) -> None:
    """Recorded fMP4 of one camera for Media Source Extensions; see argus.recording.playback_ws."""
    server: PlaybackServer = websocket.app.state.playback
    await websocket.accept()
    await server.serve(websocket, dict(websocket.query_params), camera_id)


def _timeline_of(
    playback: PlaybackServer,
    claims: StreamClaims,
    camera_id: int,
    start_text: str,
    end_text: str,
) -> Any:
    start, end = parse_time(start_text, "from"), parse_time(end_text, "until")
    playback.check_window(claims, start, end)
    with playback.sessions() as session:
        check_range(session, camera_id, start, end, utcnow())
        return timeline(session, camera_id, start, end)


@router.get("/api/playback/{camera_id}/timeline")
async def playback_timeline(
    camera_id: int,
    request: Request,
    playback: PlaybackDep,
    token: Token = "",
    start: From = "",
    until: Until = "",
) -> dict[str, Any]:
    """What of [from, until) is recorded (`recorded`) and what is not (`gaps`), and the segments."""
    claims = await _claims(playback, request, token, camera_id)
    line = await asyncio.to_thread(_timeline_of, playback, claims, camera_id, start, until)
    out: dict[str, Any] = line.as_json()
    out["segments"] = [seg.as_json() for seg in line.segments]
    return out


@router.get("/api/playback/{camera_id}/index.m3u8", response_class=Response)
async def playback_hls(
    camera_id: int,
    request: Request,
    playback: PlaybackDep,
    token: Token = "",
    start: From = "",
    until: Until = "",
) -> Response:
    """HLS VOD of [from, until): byte ranges of the recorded files, a discontinuity per file."""
    claims = await _claims(playback, request, token, camera_id)
    line = await asyncio.to_thread(_timeline_of, playback, claims, camera_id, start, until)
    return Response(
        vod_playlist(line, camera_id, token),
        media_type=PLAYLIST_TYPE,
        headers={"Cache-Control": "no-cache"},
    )


def _segment(
    playback: PlaybackServer, claims: StreamClaims, camera_id: int, segment_id: str
) -> tuple[Path, int]:
    number = segment_id.removesuffix(".mp4")
    if not number.isascii() or not number.isdigit() or len(number) > 18:
        raise NotFoundError("no such recording")
    with playback.sessions() as session:
        row = session.get(Segment, int(number))
        if row is None or row.camera_id != camera_id or row.state == "destroying":
            raise NotFoundError("no such recording")
        info = SegmentInfo.of(row)
    playback.check_window(claims, info.start, info.end, overlap=True)
    volume = playback.volumes.get(info.volume)
    if volume is None:
        raise NotFoundError(f"recording {info.id} is on a volume that is not configured")
    return Path(volume.root) / info.path, info.bytes


@router.get("/api/playback/{camera_id}/rec/{segment_id}", response_class=Response)
async def playback_file(
    camera_id: int,
    segment_id: str,
    request: Request,
    playback: PlaybackDep,
    token: Token = "",
    shift: Annotated[int, Query(ge=0, le=2**40, description="ticks added to decode times")] = 0,
) -> Response:
    """One recorded segment file, up to its durable length; `Range: bytes=…` gets 206. With
    `shift`, the fragments' decode times are moved on by that many 90 kHz ticks (the playlist's
    one timeline over many files)."""
    claims = await _claims(playback, request, token, camera_id)
    path, length = await asyncio.to_thread(_segment, playback, claims, camera_id, segment_id)
    wanted = byte_range(request.headers.get("range"), length)
    first, last = wanted if wanted is not None else (0, length - 1)

    def read() -> bytes:
        with path.open("rb") as handle:
            handle.seek(first)
            data = bytearray(handle.read(last - first + 1))
        shift_decode_times(data, shift)
        return bytes(data)

    try:
        data = await asyncio.to_thread(read)
    except OSError as exc:
        raise NotFoundError(f"the recording cannot be read: {exc.strerror}") from exc
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=3600"}
    if wanted is None:
        return Response(data, media_type="video/mp4", headers=headers)
    headers["Content-Range"] = f"bytes {first}-{first + len(data) - 1}/{length}"
    return Response(data, status_code=206, media_type="video/mp4", headers=headers)


# --- plans ------------------------------------------------------------------------------


class WindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(description="HH:MM local time")
    end: str = Field(description="HH:MM local time (before start: past midnight)")
    days: list[str] | None = Field(default=None, description="mon … sun; none: every day")


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: str = Field(description="continuous, scheduled or off")
    stream: str = "main"
    windows: list[WindowIn] = Field(default_factory=list)
    timezone: str = "Asia/Seoul"


def _camera(session: Session, camera_id: int) -> Camera:
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise NotFoundError(f"camera {camera_id} does not exist")
    return camera


@router.get("/api/recordings/plans/{camera_id}")
def get_plan(
    camera_id: int,
    sessions: SessionsDep,
    _: Annotated[Principal, Depends(require_roles(*HOLD_READERS, Role.OPERATOR))],
) -> dict[str, Any]:
    """How the camera is recorded (mode off when it has no plan)."""
    with sessions() as session:
        _camera(session, camera_id)
        row = session.get(RecordingPlan, camera_id)
        if row is None:
            return {"camera_id": camera_id, "mode": "off", "stream": "main", "windows": []}
        return plan_of(row).as_json()


@router.put("/api/recordings/plans/{camera_id}")
def put_plan(
    camera_id: int, body: PlanIn, sessions: SessionsDep, principal: AdminDep
) -> dict[str, Any]:
    """Set how the camera is recorded (the owner's agency admin); media workers follow within
    seconds. Audited as recording.plan."""
    windows = parse_windows([w.model_dump() for w in body.windows])
    with transaction(sessions) as session:
        camera = _camera(session, camera_id)
        ensure_owner_admin(principal, camera.owner_id, "set how this camera is recorded")
        set_plans(
            session,
            [camera_id],
            body.mode,
            body.stream,
            windows,
            body.timezone,
            user_id=principal.user_id,
            agency_id=principal.agency_id,
        )
        row = session.get(RecordingPlan, camera_id)
        assert row is not None
        return plan_of(row).as_json()


# --- legal holds ----------------------------------------------------------------------------


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera_id: int
    start: datetime = Field(alias="from")
    until: datetime
    reason: str = Field(min_length=1, max_length=2000)
    case_number: str | None = Field(default=None, max_length=100)
    incident_id: int | None = None


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


def _hold_json(hold: LegalHold) -> dict[str, Any]:
    return {
        "id": hold.id,
        "camera_id": hold.camera_id,
        "from": hold.start_time.isoformat(),
        "until": hold.end_time.isoformat(),
        "reason": hold.reason,
        "case_number": hold.case_number,
        "incident_id": hold.incident_id,
        "created_by": hold.created_by,
        "released_at": hold.released_at.isoformat() if hold.released_at else None,
        "release_reason": hold.release_reason,
    }


@router.get("/api/recordings/holds")
def list_holds(
    sessions: SessionsDep,
    principal: Annotated[Principal, Depends(require_roles(*HOLD_READERS))],
    camera_id: int | None = None,
    active: bool = True,
) -> list[dict[str, Any]]:
    """Legal holds on the caller's agency's cameras (every camera for a system admin)."""
    with sessions() as session:
        stmt = select(LegalHold, Camera.owner_id).join(Camera, Camera.id == LegalHold.camera_id)
        if camera_id is not None:
            stmt = stmt.where(LegalHold.camera_id == camera_id)
        if active:
            stmt = stmt.where(LegalHold.released_at.is_(None))
        if not principal.has(Role.SYSTEM_ADMIN):
            stmt = stmt.where(Camera.owner_id == principal.agency_id)
        return [_hold_json(hold) for hold, _ in session.execute(stmt.order_by(LegalHold.id))]


@router.post("/api/recordings/holds", status_code=201)
def create_hold(body: HoldIn, sessions: SessionsDep, principal: AdminDep) -> dict[str, Any]:
    """Keep the camera's footage in [from, until) from retention and the storage floor until
    released (the owner's agency admin). Audited as recording.hold."""
    with sessions() as session:
        ensure_owner_admin(principal, _camera(session, body.camera_id).owner_id, "place holds")
    hold_id = place_hold(
        sessions,
        body.camera_id,
        body.start,
        body.until,
        body.reason,
        case_number=body.case_number,
        incident_id=body.incident_id,
        user_id=principal.user_id,
        agency_id=principal.agency_id,
    )
    with sessions() as session:
        hold = session.get(LegalHold, hold_id)
        assert hold is not None
        return _hold_json(hold)


@router.post("/api/recordings/holds/{hold_id}/release")
def release(
    hold_id: int, body: ReleaseIn, sessions: SessionsDep, principal: AdminDep
) -> dict[str, Any]:
    """Release a hold (the owner's agency admin): the footage follows retention again."""
    with sessions() as session:
        hold = session.get(LegalHold, hold_id)
        if hold is None:
            raise NotFoundError(f"legal hold {hold_id} does not exist")
        owner = _camera(session, hold.camera_id).owner_id
    ensure_owner_admin(principal, owner, "release holds")
    release_hold(
        sessions, hold_id, body.reason, user_id=principal.user_id, agency_id=principal.agency_id
    )
    with sessions() as session:
        hold = session.get(LegalHold, hold_id)
        assert hold is not None
        return _hold_json(hold)


# --- recording on incident -----------------------------------------------------------------

TRIGGER_ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN)
TriggerDep = Annotated[Principal, Depends(require_roles(*TRIGGER_ROLES))]


class TriggerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera_ids: list[int] = Field(min_length=1, max_length=100)
    minutes: float = Field(default=30.0, description="how long to record (at most a day)")
    reason: str = Field(min_length=1, max_length=2000)
    incident_id: int | None = None


def _trigger_json(row: RecordingTrigger) -> dict[str, Any]:
    return {
        "id": row.id,
        "camera_id": row.camera_id,
        "from": as_utc(row.start_time).isoformat(),
        "until": as_utc(row.end_time).isoformat(),
        "reason": row.reason,
        "incident_id": row.incident_id,
        "created_by": row.created_by,
        "stopped_by": row.stopped_by,
    }


def _ensure_owner_staff(principal: Principal, owner_id: int) -> None:
    if principal.has(Role.SYSTEM_ADMIN) or principal.agency_id == owner_id:
        return
    raise ForbiddenError(
        f"only the owning agency's staff (agency {owner_id}) or a system admin may trigger "
        "recording of its cameras"
    )


@router.post("/api/recordings/triggers", status_code=201)
def create_triggers(
    body: TriggerIn, sessions: SessionsDep, principal: TriggerDep
) -> list[dict[str, Any]]:
    """Record these cameras from now for `minutes`, whatever their plans (an incident, a
    report): the owner's operators, supervisors and admins. Audited as recording.trigger."""
    with sessions() as session:
        for camera_id in dict.fromkeys(body.camera_ids):
            _ensure_owner_staff(principal, _camera(session, camera_id).owner_id)
    ids = start_triggers(
        sessions,
        body.camera_ids,
        body.minutes,
        body.reason,
        incident_id=body.incident_id,
        user_id=principal.user_id,
        agency_id=principal.agency_id,
    )
    with sessions() as session:
        rows = session.scalars(select(RecordingTrigger).where(RecordingTrigger.id.in_(ids)))
        return [_trigger_json(row) for row in rows]


@router.get("/api/recordings/triggers")
def list_triggers(
    sessions: SessionsDep, principal: TriggerDep, active: bool = True
) -> list[dict[str, Any]]:
    """Triggers on the caller's agency's cameras (every camera for a system admin)."""
    with sessions() as session:
        stmt = select(RecordingTrigger).join(Camera, Camera.id == RecordingTrigger.camera_id)
        if active:
            stmt = stmt.where(RecordingTrigger.end_time > utcnow())
        if not principal.has(Role.SYSTEM_ADMIN):
            stmt = stmt.where(Camera.owner_id == principal.agency_id)
        rows = session.scalars(stmt.order_by(RecordingTrigger.id))
        return [_trigger_json(row) for row in rows]


@router.post("/api/recordings/triggers/{trigger_id}/stop")
def stop(trigger_id: int, sessions: SessionsDep, principal: TriggerDep) -> dict[str, Any]:
    """End a trigger now; the camera goes back to its plan."""
    with sessions() as session:
        row = session.get(RecordingTrigger, trigger_id)
        if row is None:
            raise NotFoundError(f"recording trigger {trigger_id} does not exist")
        _ensure_owner_staff(principal, _camera(session, row.camera_id).owner_id)
    stopped = stop_trigger(
        sessions, trigger_id, user_id=principal.user_id, agency_id=principal.agency_id
    )
    return _trigger_json(stopped)
