"""The internal API between the API process and a media worker (loopback, shared key).

The API process tells a worker about revoked grants (the worker closes the views at once and
refuses those tokens from then on) and asks it for the state of its camera streams.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field

from argus.errors import NotSignedInError
from argus.events import EventBus
from argus.media.service import MediaService
from argus.sharing.access import AccessService
from argus.sharing.live_grants import GrantsRevoked

KEY_HEADER = "X-Argus-Worker-Key"
router = APIRouter(prefix="/internal", include_in_schema=False)


def check_key(
    request: Request, key: Annotated[str | None, Header(alias=KEY_HEADER)] = None
) -> None:
    expected: str = request.app.state.worker_key
    if key is None or not hmac.compare_digest(key, expected):
        raise NotSignedInError("the worker key is missing or wrong")


class Revoked(BaseModel):
    revoked: dict[str, int] = Field(description="token id → its expiry (epoch seconds)")
    cameras: list[int] = Field(default_factory=list)
    cause: str = "sync"
    reason: str = ""


@router.post("/revoked", dependencies=[Depends(check_key)])
def revoked(body: Revoked, request: Request) -> dict[str, int]:
    access: AccessService = request.app.state.access
    bus: EventBus = request.app.state.bus
    access.live.mark_revoked(body.revoked)
    if body.revoked and body.cause != "sync":
        bus.publish(
            GrantsRevoked(
                jtis=tuple(sorted(body.revoked)),
                cameras=tuple(sorted(body.cameras)),
                cause=body.cause,
                reason=body.reason,
            )
        )
    return {"revoked": len(body.revoked)}


@router.get("/streams", dependencies=[Depends(check_key)])
async def streams(request: Request) -> list[dict[str, Any]]:
    media: MediaService = request.app.state.media
    return media.snapshot()


@router.get("/health", dependencies=[Depends(check_key)])
async def health(request: Request) -> dict[str, Any]:
    media: MediaService = request.app.state.media
    return {
        "index": request.app.state.worker_index,
        "streams": len(media.streams.pulled()),
        "viewers": media.views.count(),
        "time": datetime.now(UTC).isoformat(),
    }
