"""Routes of the console: its page and files at /console/, and the data its map needs.

The page and its files are public (they hold no data); everything they show comes from the API
with the user's bearer token, kept in memory only. Nothing is loaded from elsewhere: the
browser libraries (Leaflet, Supercluster) are installed from the npm registry by `make` into
`static/vendor/` and served from here; the base layer is Gwangju's city, district and
neighbourhood boundaries (통계청 SGIS 행정동 via vuski/admdongkor, see the data folder's
SOURCE.md) served by `/api/console/boundaries/…`, unless the deployment names its own tile
server (`console_tile_url`), whose origin alone the page may then load images from.

- `GET /console/` the page; `GET /console/{file}`, `/console/vendor/{file}` its files
- `GET /api/console/config` the map's base layer and the local time zone
- `GET /api/console/boundaries/{layer}.geojson` city, districts or neighbourhoods
- `GET|PUT /api/console/wall` the signed-in user's video wall (size, tiles, purpose, sequence)
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker

from argus.config import Settings
from argus.console.models import WallLayout
from argus.db import transaction
from argus.errors import FieldError, NotFoundError
from argus.identity.deps import current_principal
from argus.identity.principal import Principal
from argus.media.player_routes import security_headers

STATIC = Path(__file__).with_name("static")
VENDOR = STATIC / "vendor"
FILES = {
    "index.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "exports.js": "text/javascript; charset=utf-8",
    "agreements.js": "text/javascript; charset=utf-8",
    "ledger.js": "text/javascript; charset=utf-8",
    "wall.js": "text/javascript; charset=utf-8",
    "playback.js": "text/javascript; charset=utf-8",
    "audit.js": "text/javascript; charset=utf-8",
    "incidents.js": "text/javascript; charset=utf-8",
    "ptz.js": "text/javascript; charset=utf-8",
}
VENDOR_FILES = {
    "leaflet.js": "text/javascript; charset=utf-8",
    "leaflet.css": "text/css; charset=utf-8",
    "supercluster.min.js": "text/javascript; charset=utf-8",
    "LICENSE.leaflet": "text/plain; charset=utf-8",
    "LICENSE.supercluster": "text/plain; charset=utf-8",
}
LAYERS = {
    "city": "city.geojson",
    "districts": "districts.geojson",
    "neighbourhoods": "neighbourhoods.geojson",
}
BOUNDARY_ATTRIBUTION = "행정경계: 통계청 SGIS (vuski/admdongkor, 2021-04)"

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/console", tags=["console"])


def _headers(settings: Settings, request: Request) -> dict[str, str]:
    images = "'self' data:"
    if settings.console_tile_url:
        parts = urlsplit(settings.console_tile_url)
        images += f" {parts.scheme}://{parts.netloc}"
    return security_headers(request, images)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]


@router.get("/console", response_model=None)
def console_redirect() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=308)


@router.get("/console/", response_model=None)
def console_page(settings: SettingsDep, request: Request) -> FileResponse:
    return FileResponse(
        STATIC / "index.html", media_type=FILES["index.html"], headers=_headers(settings, request)
    )


@router.get("/console/vendor/{name}", response_model=None)
def console_vendor(name: str, settings: SettingsDep, request: Request) -> Response:
    media_type = VENDOR_FILES.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail=f"no console file {name[:40]!r}")
    path = VENDOR / name
    if not path.is_file():
        return Response(
            "the console's browser libraries are not installed: run make (npm ci in web/)",
            status_code=503,
            media_type="text/plain",
        )
    return FileResponse(path, media_type=media_type, headers=_headers(settings, request))


@router.get("/console/{name}", response_model=None)
def console_file(name: str, settings: SettingsDep, request: Request) -> FileResponse:
    media_type = FILES.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail=f"no console file {name[:40]!r}")
    return FileResponse(STATIC / name, media_type=media_type, headers=_headers(settings, request))


@cache
def boundaries_dir() -> Path | None:
    """The shared data's gwangju-boundaries folder: ARGUS_REFERENCE_DATA, or ../shared/data."""
    candidates = []
    if os.environ.get("ARGUS_REFERENCE_DATA"):
        candidates.append(Path(os.environ["ARGUS_REFERENCE_DATA"]))
    candidates.append(Path.cwd().parent / "shared" / "data")
    candidates.append(Path(__file__).resolve().parents[4] / "shared" / "data")
    for candidate in candidates:
        folder = candidate / "gwangju-boundaries"
        if folder.is_dir():
            return folder
    return None


@api.get("/config")
def console_config(
    settings: SettingsDep, _: Annotated[Principal, Depends(current_principal)]
) -> dict[str, Any]:
    """The map's base layer (the deployment's tile server, or the boundaries served here) and
    the time zone dates are shown in."""
    return {
        "tile_url": settings.console_tile_url,
        "tile_attribution": settings.console_tile_attribution,
        "boundaries": [name for name in LAYERS if boundaries_dir() is not None],
        "boundary_attribution": BOUNDARY_ATTRIBUTION,
        "timezone": settings.timezone,
    }


@api.get("/boundaries/{layer}.geojson", response_model=None)
def boundaries(
    layer: str, settings: SettingsDep, _: Annotated[Principal, Depends(current_principal)]
) -> FileResponse:
    """Gwangju's city outline, its five districts or its 96 행정동, as GeoJSON."""
    name = LAYERS.get(layer)
    folder = boundaries_dir()
    if name is None or folder is None:
        raise NotFoundError(f"no boundary layer {layer[:40]!r} on this deployment")
    return FileResponse(
        folder / name,
        media_type="application/geo+json",
        headers={"Cache-Control": "private, max-age=3600"},
    )


# --- the video wall ------------------------------------------------------------------------

WALL_SIZES = (1, 4, 9, 16)


class SequenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tile: int = Field(ge=0, le=15)
    cameras: list[int] = Field(min_length=2, max_length=64)
    seconds: int = Field(ge=3, le=3600)


class WallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(description="1, 4, 9 or 16 tiles")
    tiles: list[int | None] = Field(max_length=16, description="the camera of each tile")
    purpose: str = Field(default="crime_prevention", max_length=40)
    sequence: SequenceIn | None = None


def _sessions(request: Request) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = request.app.state.registry.sessions
    return sessions


@api.get("/wall")
def get_wall(
    request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> dict[str, Any]:
    """The user's wall as they saved it (an empty 2x2 wall before the first save)."""
    with _sessions(request)() as session:
        row = session.get(WallLayout, principal.user_id)
        if row is None:
            return {"size": 4, "tiles": [None] * 4, "purpose": "crime_prevention", "sequence": None}
        return dict(row.layout)


@api.put("/wall")
def put_wall(
    body: WallIn, request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> dict[str, Any]:
    """Save the user's wall; the tiles beyond its size are dropped."""
    if body.size not in WALL_SIZES:
        raise FieldError("size", "must be 1, 4, 9 or 16", "body")
    if body.sequence is not None and body.sequence.tile >= body.size:
        raise FieldError("sequence.tile", f"the wall has {body.size} tiles", "body")
    tiles = (list(body.tiles) + [None] * body.size)[: body.size]
    layout = {
        "size": body.size,
        "tiles": tiles,
        "purpose": body.purpose,
        "sequence": body.sequence.model_dump() if body.sequence else None,
    }
    with transaction(_sessions(request)) as session:
        row = session.get(WallLayout, principal.user_id)
        if row is None:
            session.add(WallLayout(user_id=principal.user_id, layout=layout))
        else:
            row.layout = layout
    return layout
