"""Routes of LL-HLS and plain HLS live video (see argus.media.hls).

Every request carries `?token=…`, a stream token for the camera with the `live` capability
(POST /api/access/token), and is checked on its own: a missing, invalid, expired or foreign
token gets 401, a revoked grant 403, each as JSON `{message, code}`. The token is checked before
anything else is read, so a caller without one learns nothing but 401. Playlists repeat the token
in every URI they list, so players need not add it. A player renews by loading the playlist again
with the renewed token (the URIs in it then carry the new one).

- `GET /api/hls/{camera_id}/{stream}/index.m3u8` LL-HLS media playlist; blocking reload with
  `_HLS_msn` (and `_HLS_part`): waits for that part, 400 if it is too far ahead, 503 after three
  target durations.
- `GET /api/hls/{camera_id}/{stream}/plain.m3u8` the same stream as whole segments only.
- `GET …/init-{n}.mp4` the init segment of map version n (EXT-X-MAP);
  `GET …/seg-{msn}.m4s` a segment; `GET …/part-{msn}.{part}.m4s` a part (the hinted next part
  is waited for).

Only a playlist request starts the HLS cut of a camera stream (and so its pull); a segment, part
or init request for a stream that is not running gets 404. `stream` is `main` or `sub`. Numbers
in file names are parsed after the token check, so that a request without a token is always
answered 401.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from argus.errors import ArgusError, FieldError, NotFoundError
from argus.media.hls import HlsService
from argus.media.streams import STREAM_NAMES, StreamName
from argus.sharing.tokens import StreamClaims

router = APIRouter(tags=["media"])

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
NO_CACHE = {"Cache-Control": "no-cache"}
MEDIA_CACHE = {"Cache-Control": "private, max-age=60"}

Token = Annotated[str, Query(description="stream token for this camera with capability live")]
Msn = Annotated[str | None, Query(alias="_HLS_msn", description="blocking reload: segment")]
PartQuery = Annotated[str | None, Query(alias="_HLS_part", description="blocking reload: part")]


def get_hls(request: Request) -> HlsService:
    """The HLS service of the media plane in this process (MediaService.hls)."""
    hls: HlsService = request.app.state.media.hls
    return hls


HlsDep = Annotated[HlsService, Depends(get_hls)]


async def _authorize(
    hls: HlsService, request: Request, token: str, camera_id: int, stream: str
) -> tuple[StreamClaims, StreamName]:
    client = request.client.host if request.client else None
    claims = await hls.authorize(token, camera_id, client)
    if stream not in STREAM_NAMES:
        raise FieldError("stream", f"must be main or sub, not {stream[:20]!r}", "path")
    name: StreamName = "main" if stream == "main" else "sub"
    return claims, name


def _number(value: str, what: str) -> int:
    """A non-negative decimal integer from a file name, or 404 (no such file)."""
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise NotFoundError(f"no such {what}")
    return int(value)


def _directive(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise ArgusError(f"{name} must be a decimal integer")
    return int(value)


@router.get("/api/hls/{camera_id}/{stream}/index.m3u8", response_class=Response)
async def ll_playlist(
    request: Request,
    hls: HlsDep,
    camera_id: int,
    stream: str,
    token: Token = "",
    msn: Msn = None,
    part: PartQuery = None,
) -> Response:
    """The LL-HLS media playlist (EXT-X-PART; blocking reload with _HLS_msn and _HLS_part)."""
    claims, name = await _authorize(hls, request, token, camera_id, stream)
    want_msn = _directive(msn, "_HLS_msn")
    want_part = _directive(part, "_HLS_part")
    if want_part is not None and want_msn is None:
        raise ArgusError("_HLS_part needs _HLS_msn")
    body = await hls.playlist(claims, token, name, low_latency=True, msn=want_msn, part=want_part)
    return Response(body, media_type=PLAYLIST_TYPE, headers=NO_CACHE)


@router.get("/api/hls/{camera_id}/{stream}/plain.m3u8", response_class=Response)
async def plain_playlist(
    request: Request, hls: HlsDep, camera_id: int, stream: str, token: Token = ""
) -> Response:
    """The plain HLS media playlist (whole segments only), for players without LL-HLS."""
    claims, name = await _authorize(hls, request, token, camera_id, stream)
    body = await hls.playlist(claims, token, name, low_latency=False)
    return Response(body, media_type=PLAYLIST_TYPE, headers=NO_CACHE)


@router.get("/api/hls/{camera_id}/{stream}/init-{n}.mp4", response_class=Response)
async def init_segment(
    request: Request, hls: HlsDep, camera_id: int, stream: str, n: str, token: Token = ""
) -> Response:
    """The fMP4 init segment (ftyp + moov) of map version n."""
    claims, name = await _authorize(hls, request, token, camera_id, stream)
    data = await hls.init(claims, name, _number(n, "init segment"))
    return Response(data, media_type="video/mp4", headers=MEDIA_CACHE)


@router.get("/api/hls/{camera_id}/{stream}/seg-{msn}.m4s", response_class=Response)
async def media_segment(
    request: Request, hls: HlsDep, camera_id: int, stream: str, msn: str, token: Token = ""
) -> Response:
    """One whole media segment (its parts' moof + mdat pairs)."""
    claims, name = await _authorize(hls, request, token, camera_id, stream)
    data = await hls.segment(claims, name, _number(msn, "segment"))
    return Response(data, media_type="video/iso.segment", headers=MEDIA_CACHE)


@router.get("/api/hls/{camera_id}/{stream}/part-{msn}.{part}.m4s", response_class=Response)
async def partial_segment(
    request: Request,
    hls: HlsDep,
    camera_id: int,
    stream: str,
    msn: str,
    part: str,
    token: Token = "",
) -> Response:
    """One part (one moof + mdat); the part named by EXT-X-PRELOAD-HINT is waited for."""
    claims, name = await _authorize(hls, request, token, camera_id, stream)
    data = await hls.part(claims, name, _number(msn, "part"), _number(part, "part"))
    return Response(data, media_type="video/iso.segment", headers=MEDIA_CACHE)
