"""Playback over WebSocket: recorded fMP4 for Media Source Extensions, the live path's twin.

The protocol (docs/live-protocol.md has it for client writers):

1. Open `ws://…/api/playback/{camera_id}?token=…&from=ISO&until=ISO[&speed=1|2|4|8]
   [&at=ISO][&stream=main|sub][&hevc=1]`. The token is a stream token for this camera with the
   `playback` capability (POST /api/access/token). `at` (default `from`) is where to start.
2. The server sends `{"type": "range", "from", "until", "recorded": [...], "gaps": [...]}`:
   what of the range is recorded and what is not.
3. Then, as for live, `{"type": "init", "mime", "codec", "width", "height"}` and the init
   segment as a binary message (again whenever the recorded format changes).
4. Each fragment (one GOP; one keyframe from ×4) is a binary message preceded by
   `{"type": "position", "media_time": s, "wall": ISO, "frames": n}`: the output timeline's
   seconds where it starts, and the wall-clock time of its first picture. Fragments are sent
   ahead of the player's clock by at most `LEAD` seconds of output.
5. A stretch without recordings comes as `{"type": "gap", "from", "until", "media_time"}`: the
   output timeline goes straight on to the next recorded picture.
6. `{"type": "seek", "to": ISO[, "speed": n]}` from the player (also to change speed) is
   answered `{"type": "seeked", "to", "speed", "media_time"}` before the fragments from the
   keyframe at or before `to`: the player sets its currentTime to `media_time` once that
   fragment is appended (a media element clamps a seek to what is buffered). A seek outside
   the range is answered `{"type": "error"}` and playback goes on.
7. At the end of the range `{"type": "end", "media_time"}`; the socket stays open for seeks.
8. Renewal, revocation and the close codes are the live path's (4400 bad request or a range
   that cannot be played: the reason says why, 4401 token, 4403 revoked, 4404 unknown camera,
   4415 H.265 recordings without `hevc=1`: play the HLS VOD in an external player).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocket, WebSocketDisconnect

from argus.db import utcnow
from argus.errors import ArgusError, FieldError, NotFoundError
from argus.media.live_fmp4 import init_of
from argus.media.live_ws import (
    CLOSE_BAD_REQUEST,
    CLOSE_CODEC,
    CLOSE_NOT_FOUND,
    CLOSE_TOKEN,
    LiveViews,
    TokenView,
    close_websocket,
    receive_message,
    renew,
    send_error,
)
from argus.recording.playback import (
    CLOCK,
    Chunk,
    End,
    Event,
    Gap,
    Init,
    PlaybackStream,
    Timeline,
    check_range,
    parse_speed,
    parse_time,
    timeline,
)
from argus.recording.volumes import Volume
from argus.sharing.access import AccessService
from argus.sharing.tokens import StreamClaims, TokenError

log = logging.getLogger(__name__)

HEVC_MESSAGE = (
    "H.265: this browser cannot decode it; play the recording's HLS VOD "
    "(index.m3u8) in an external player"
)
LEAD = 3.0
"""Seconds of output sent ahead of the player's clock."""


@dataclass(frozen=True, slots=True)
class PlaybackRequest:
    camera_id: int
    token: str
    start: datetime
    end: datetime
    at: datetime
    speed: int
    stream: str
    hevc: bool = False

    @classmethod
    def from_query(cls, camera_id: int, query: dict[str, str]) -> PlaybackRequest:
        """The request, or FieldError naming the bad parameter."""
        start = parse_time(query.get("from"), "from")
        end = parse_time(query.get("until"), "until")
        if end <= start:
            raise FieldError("until", "must be after from")
        at = parse_time(query["at"], "at") if query.get("at") else start
        if not start <= at < end:
            raise FieldError("at", "must lie within [from, until)")
        stream = query.get("stream", "main")
        if stream not in ("main", "sub"):
            raise FieldError("stream", f"must be main or sub, not {stream[:20]!r}")
        hevc = query.get("hevc", "0")
        if hevc not in ("0", "1"):
            raise FieldError("hevc", "must be 0 or 1")
        return cls(
            camera_id,
            query.get("token", ""),
            start,
            end,
            at,
            parse_speed(query.get("speed")),
            stream,
            hevc == "1",
        )


WINDOW_SLACK_S = 5


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


class PlaybackServer:
    """Serves playback sessions: token check, range check, paced fMP4 out, seeks, revocation."""

    def __init__(
        self,
        access: AccessService,
        sessions: sessionmaker[Session],
        volumes: list[Volume],
        views: LiveViews,
    ) -> None:
        self.access = access
        self.sessions = sessions
        self.volumes = {v.name: v for v in volumes}
        self.views = views

    @staticmethod
    def check_window(
        claims: StreamClaims, start: datetime, end: datetime, *, overlap: bool = False
    ) -> None:
        """FieldError if [start, end) reaches outside the footage the token covers (an
        incident's token covers from a while before it opened until it closed); with
        ``overlap``, only if it lies wholly outside (a recorded file that straddles an edge)."""
        first = claims.footage_from
        if first is None:
            return
        last = claims.footage_until if claims.footage_until is not None else claims.expires_at
        begins, ends = start.timestamp(), end.timestamp()
        if overlap:
            outside = ends <= first or begins > last + WINDOW_SLACK_S
        else:
            outside = begins < first or ends > last + WINDOW_SLACK_S
        if outside:
            raise FieldError(
                "from" if begins < first else "until",
                f"{claims.grant.replace(':', ' ')} lets you play back from "
                f"{_iso(first)} until {_iso(last)}",
            )

    def load(self, request: PlaybackRequest) -> Timeline:
        with self.sessions() as session:
            check_range(session, request.camera_id, request.start, request.end, utcnow())
            return timeline(session, request.camera_id, request.start, request.end, request.stream)

    async def serve(self, websocket: WebSocket, query: dict[str, str], camera_id: int) -> None:
        """Run one playback WebSocket (already accepted) until it ends, then close it."""
        client = websocket.client.host if websocket.client else None
        token = query.get("token", "")
        if not token:
            await close_websocket(websocket, CLOSE_TOKEN, "a stream token is needed (token=…)")
            return
        try:
            claims = await asyncio.to_thread(
                self.access.check, token, camera_id, "playback", client
            )
        except TokenError as exc:
            await close_websocket(websocket, CLOSE_TOKEN, str(exc))
            return
        try:
            request = PlaybackRequest.from_query(camera_id, query)
            self.check_window(claims, request.start, request.end)
            line = await asyncio.to_thread(self.load, request)
        except NotFoundError as exc:
            await close_websocket(websocket, CLOSE_NOT_FOUND, str(exc))
            return
        except FieldError as exc:
            await close_websocket(websocket, CLOSE_BAD_REQUEST, str(exc))
            return
        view = TokenView(claims)
        self.views.add(view)
        view.schedule_expiry()
        try:
            await self._run(websocket, request, line, view, client)
        finally:
            self.views.remove(view)
            view.cancel_expiry()

    async def _run(
        self,
        websocket: WebSocket,
        request: PlaybackRequest,
        line: Timeline,
        view: TokenView,
        client: str | None,
    ) -> None:
        await websocket.send_text(json.dumps({"type": "range", **line.as_json()}))
        session = _Session(self, websocket, line, view, request.hevc)
        session.start(request.at, request.speed, seek=False)
        receiver = asyncio.create_task(self._receive(websocket, session, view, client))
        ended = asyncio.create_task(view.ended.wait())
        try:
            await asyncio.wait({receiver, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await session.stop()
            for task in (receiver, ended):
                task.cancel()
            await asyncio.gather(receiver, ended, return_exceptions=True)
        if not receiver.cancelled() and receiver.exception() is not None:
            exc = receiver.exception()
            if not isinstance(exc, (WebSocketDisconnect, ConnectionError)):
                log.error("playback of camera %s failed", request.camera_id, exc_info=exc)
                view.end(1011, "internal error")
        if view.close_code is None:
            view.end(1000, "playback ended")
        await close_websocket(websocket, view.close_code or 1000, view.close_reason)

    async def _receive(
        self, websocket: WebSocket, session: _Session, view: TokenView, client: str | None
    ) -> None:
        while True:
            message = await receive_message(websocket)
            kind = message.get("type")
            if kind == "renew":
                await renew(websocket, self.access, self.views, view, message, "playback", client)
            elif kind == "seek":
                try:
                    to = parse_time(message.get("to"), "to")
                    speed = parse_speed(message.get("speed", session.speed))
                    if not session.line.start <= to < session.line.end:
                        raise FieldError("to", "lies outside the range of this playback")
                except FieldError as exc:
                    await send_error(websocket, str(exc))
                    continue
                await session.stop()
                session.start(to, speed, seek=True)
            else:
                await send_error(websocket, "expected {type: seek, to[, speed]} or renew")


class _Session:
    """The sending half of one playback: one task at a time, replaced on every seek."""

    def __init__(
        self,
        server: PlaybackServer,
        websocket: WebSocket,
        line: Timeline,
        view: TokenView,
        hevc: bool,
    ) -> None:
        self.hevc = hevc
        self.server = server
        self.websocket = websocket
        self.line = line
        self.view = view
        self.speed = 1
        self.media_time = 0
        self.sequence = 1
        self._task: asyncio.Task[None] | None = None
        self._stream: PlaybackStream | None = None

    def start(self, at: datetime, speed: int, *, seek: bool) -> None:
        self.speed = speed
        stream = PlaybackStream(
            self.server.volumes, self.line, at, speed, self.media_time, self.sequence
        )
        self._stream = stream
        self._task = asyncio.create_task(self._send(stream, seek))

    async def stop(self) -> None:
        task, stream = self._task, self._stream
        self._task = None
        if task is None or stream is None:
            return
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        self.media_time = stream.media_time
        self.sequence = stream.sequence

    async def _send(self, stream: PlaybackStream, seek: bool) -> None:
        events: Iterator[Event] = stream.events()
        clock = time.monotonic()
        base: int | None = None  # output time at `clock`

        async def say(kind: str, **fields: object) -> None:
            await self.websocket.send_text(json.dumps({"type": kind, **fields}))

        async def seeked(ticks: int) -> None:
            await say(
                "seeked", to=stream.at.isoformat(), speed=stream.speed, media_time=ticks / CLOCK
            )

        try:
            while True:
                event = await asyncio.to_thread(next, events, None)
                if event is None:
                    return
                if isinstance(event, Init):  # a stream always starts with one
                    if event.format.codec == "h265" and not self.hevc:
                        self.view.end(CLOSE_CODEC, HEVC_MESSAGE)
                        return
                    await self.websocket.send_text(_init_message(event, self.line.camera_id))
                    await self.websocket.send_bytes(init_of(event.format))
                elif isinstance(event, Chunk):
                    if base is None:
                        base = event.media_time
                        if seek:
                            await seeked(stream.target_time(event))
                    ahead = (event.media_time - base) / CLOCK - (time.monotonic() - clock)
                    if ahead > LEAD:
                        await asyncio.sleep(ahead - LEAD)
                    await say(
                        "position",
                        media_time=event.media_time / CLOCK,
                        wall=event.wall.isoformat(),
                        frames=event.frames,
                    )
                    await self.websocket.send_bytes(event.data)
                elif isinstance(event, Gap):
                    await say("gap", **event.span.as_json(), media_time=event.media_time / CLOCK)
                elif isinstance(event, End):
                    if seek and base is None:  # a seek to past the last picture
                        await seeked(event.media_time)
                    await say("end", media_time=event.media_time / CLOCK)
        except ArgusError as exc:
            log.error("playback of camera %s: %s", self.line.camera_id, exc)
            self.view.end(1011, str(exc))
        except (WebSocketDisconnect, ConnectionError, RuntimeError):
            return


def _init_message(event: Init, camera_id: int) -> str:
    fmt = event.format
    return json.dumps(
        {
            "type": "init",
            "camera_id": camera_id,
            "codec": fmt.codec,
            "mime": fmt.mime_type,
            "width": fmt.width,
            "height": fmt.height,
        }
    )
