"""Routes of the media plane.

`live_router` carries the viewers' connections (the live WebSocket); it is mounted wherever the
cameras are pulled: the API process in-process, or each media worker. `router` is the API
process's: where a camera is served, the state of pulled streams, and /metrics.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, WebSocket
from fastapi.responses import Response
from pydantic import BaseModel

from argus.identity.deps import current_principal, require_roles
from argus.identity.principal import Principal, Role
from argus.media.front import Endpoint, MediaFront
from argus.media.live_ws import CLOSE_BAD_REQUEST, CLOSE_WRONG_WORKER, LiveRequest
from argus.media.metrics import render
from argus.media.service import MediaService

router = APIRouter(tags=["media"])
live_router = APIRouter(tags=["media"])

VIEWERS = (Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN)


def get_front(request: Request) -> MediaFront:
    front: MediaFront = request.app.state.media_front
    return front


FrontDep = Annotated[MediaFront, Depends(get_front)]


class StreamState(BaseModel):
    camera_id: int
    stream: str
    owner_id: int | None
    worker: int | None = None
    state: str | None = None
    since: float | None = None
    last_error: str | None = None
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    bitrate_bps: float | None = None
    fps: float | None = None
    bytes: int | None = None
    packets: int | None = None
    lost_packets: int | None = None
    malformed_packets: int | None = None
    access_units: int | None = None
    keyframes: int | None = None
    last_keyframe_at: float | None = None
    connects: int | None = None
    reconnects: int | None = None
    viewers: int
    always_on: bool
    lingering: bool
    gop_frames: int
    ring_bytes: int
    subscriber_skips: int
    subscribers_dropped: int


@live_router.websocket("/api/live/{camera_id}")
async def live(websocket: WebSocket, camera_id: int) -> None:
    """Live fMP4 of one camera for Media Source Extensions; see argus.media.live_ws."""
    media: MediaService = websocket.app.state.media
    await websocket.accept()
    try:
        request = LiveRequest.from_query(camera_id, dict(websocket.query_params))
    except ValueError as exc:
        await websocket.close(CLOSE_BAD_REQUEST, str(exc))
        return
    if not media.serves(camera_id):
        await websocket.close(CLOSE_WRONG_WORKER, f"camera {camera_id} is served elsewhere")
        return
    await media.live.serve(websocket, request)


@router.get("/api/live/{camera_id}/endpoint", response_model=Endpoint)
def endpoint(
    camera_id: int,
    request: Request,
    front: FrontDep,
    _: Annotated[Principal, Depends(current_principal)],
) -> Endpoint:
    """Where to open this camera's live view (its media worker), without the token.

    The token comes from POST /api/access/token; the URLs take it as `?token=`."""
    url = request.url
    host = url.hostname or "127.0.0.1"
    port = url.port or (443 if url.scheme == "https" else 80)
    return front.endpoint(camera_id, host, port, url.scheme == "https")


@router.get("/api/media/streams", response_model=list[StreamState])
async def streams(
    front: FrontDep,
    principal: Annotated[Principal, Depends(require_roles(*VIEWERS))],
) -> list[dict[str, Any]]:
    """The camera streams pulled now, with their state and counters.

    A system administrator sees every stream; others see their own agency's cameras."""
    rows = await front.streams()
    if principal.has(Role.SYSTEM_ADMIN):
        return rows
    return [row for row in rows if row.get("owner_id") == principal.agency_id]


@router.get("/metrics", response_class=Response)
async def metrics(
    front: FrontDep,
    _: Annotated[Principal, Depends(require_roles(Role.SYSTEM_ADMIN))],
) -> Response:
    """Prometheus metrics (text exposition format); scrape with a system admin's API key."""
    rows = await front.streams()
    return Response(render(rows), media_type="text/plain; version=0.0.4")
