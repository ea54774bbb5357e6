"""The example live player: a static page that signs in, asks for stream tokens and plays up to
four cameras over the live WebSocket (argus.media.live_ws) with Media Source Extensions.

The console of issue #6 replaces it; until then it is what `make demo` shows at /player/. The
files are public (they hold no data); everything they fetch needs the user's bearer token, which
the page keeps in memory only.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse

PLAYER_DIR = Path(__file__).with_name("player")
MEDIA_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "player.js": "text/javascript; charset=utf-8",
    "live-tile.js": "text/javascript; charset=utf-8",
    "player.css": "text/css; charset=utf-8",
}


def security_headers(request: Request, images: str = "'self' data:") -> dict[str, str]:
    """The pages' headers: they load nothing from elsewhere, run no inline script and play from
    a blob: URL; besides this server they may open WebSockets only to its media workers, which
    listen on the same host (any port: the workers' ports are the deployment's)."""
    host = request.url.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return {
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; "
            f"connect-src 'self' ws://{host}:* wss://{host}:*; "
            f"media-src blob:; img-src {images}; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


router = APIRouter(include_in_schema=False)


def _file(name: str, request: Request) -> FileResponse:
    media_type = MEDIA_TYPES.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail=f"no player file {name[:40]!r}")
    return FileResponse(PLAYER_DIR / name, media_type=media_type, headers=security_headers(request))


@router.get("/player", response_model=None)
def player_redirect() -> RedirectResponse:
    return RedirectResponse("/player/", status_code=308)


@router.get("/player/", response_model=None)
def player_page(request: Request) -> FileResponse:
    """The example player page."""
    return _file("index.html", request)


@router.get("/player/{name}", response_model=None)
def player_asset(name: str, request: Request) -> FileResponse:
    """One of the page's files (only those listed in MEDIA_TYPES)."""
    return _file(name, request)
