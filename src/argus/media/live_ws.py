"""Live view over WebSocket: fMP4 for Media Source Extensions, gated by stream tokens.

The protocol (what a player does; docs/live-protocol.md has it for client writers):

1. Open `ws://…/api/live/{camera_id}?token=…[&stream=main|sub][&start=keyframe|next_keyframe]
   [&catchup=squeeze|none][&hevc=1]`. The token is a stream token for this camera with the
   `live` capability (POST /api/access/token).
2. The server sends a text message `{"type": "init", "mime": …, "codec": …, "width": …,
   "height": …}` and then the init segment as a binary message. It does so again whenever the
   camera's parameter sets change.
3. Binary messages after it are fMP4 fragments (moof+mdat) to append in order.
4. Before the token expires the player sends `{"type": "renew", "token": <new token>}` (from
   POST /api/access/token/renew); the server answers `{"type": "renewed", "expires_at": …}`.
5. The server closes with a code and a reason the player shows: 4400 bad request, 4401 token
   missing, invalid or expired, 4403 the grant was revoked, 4404 no such camera stream, 4408
   too slow, 4415 the browser cannot play the codec (H.265: open in an external player), 4421
   this media worker does not serve that camera (ask GET /api/live/{id}/endpoint), 1001 the
   stream ended.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from argus.errors import NotFoundError
from argus.events import EventBus
from argus.media.fmp4 import VideoFormat
from argus.media.hub import Frame, StartAt, StreamHub, Subscriber, SubscriberClosed
from argus.media.live_fmp4 import catch_up_segment, format_of, fragment, init_of
from argus.media.revocations import RevocationFeed
from argus.media.streams import STREAM_NAMES, StreamManager, StreamName
from argus.sharing.access import AccessService
from argus.sharing.tokens import StreamClaims, TokenError

log = logging.getLogger(__name__)

CLOSE_BAD_REQUEST = 4400
CLOSE_TOKEN = 4401
CLOSE_REVOKED = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_SLOW = 4408
CLOSE_CODEC = 4415
CLOSE_WRONG_WORKER = 4421
CLOSE_ENDED = 1001
FIRST_BATCH_LIMIT = 100_000  # the whole GOP cache at once, so that catch-up reaches live
BATCH_LIMIT = 64
H265_MESSAGE = (
    "H.265: this browser cannot decode it; open the camera in an external player "
    "(its RTSP URL: GET /api/live/{id}/endpoint)"
)


@dataclass(frozen=True, slots=True)
class LiveRequest:
    camera_id: int
    token: str
    stream: StreamName = "main"
    start: StartAt = "keyframe"
    catch_up: bool = True
    hevc: bool = False

    @classmethod
    def from_query(cls, camera_id: int, query: dict[str, str]) -> LiveRequest:
        """The request, or ValueError naming the bad parameter."""
        token = query.get("token", "")
        stream = query.get("stream", "main")
        if stream not in STREAM_NAMES:
            raise ValueError(f"stream must be main or sub, not {stream[:20]!r}")
        start = query.get("start", "keyframe")
        if start not in ("keyframe", "next_keyframe"):
            raise ValueError(f"start must be keyframe or next_keyframe, not {start[:20]!r}")
        catch_up = query.get("catchup", "squeeze")
        if catch_up not in ("squeeze", "none"):
            raise ValueError(f"catchup must be squeeze or none, not {catch_up[:20]!r}")
        hevc = query.get("hevc", "0")
        if hevc not in ("0", "1"):
            raise ValueError("hevc must be 0 or 1")
        return cls(
            camera_id,
            token,
            stream,
            start,  # type: ignore[arg-type]
            catch_up == "squeeze",
            hevc == "1",
        )


class TokenView:
    """One viewer's connection bound to a stream token: it ends when the token expires or its
    grant is revoked (first reason wins; the serving coroutine sends the close frame)."""

    def __init__(self, claims: StreamClaims) -> None:
        self.claims = claims
        self.close_code: int | None = None
        self.close_reason = ""
        self.ended = asyncio.Event()
        self._expiry: asyncio.TimerHandle | None = None

    def end(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code = code
            self.close_reason = reason
            self._ending(reason)
            self.ended.set()

    def _ending(self, reason: str) -> None:
        """What else stops with the view (a subclass's hook)."""

    def schedule_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        delay = max(0.0, self.claims.expires_at - time.time())
        self._expiry = asyncio.get_running_loop().call_later(
            delay, self.end, CLOSE_TOKEN, "the stream token has expired; renew it"
        )

    def cancel_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None


class LiveView(TokenView):
    """A live viewer's WebSocket: its claims, its cursor on the hub, and how it ends."""

    def __init__(self, claims: StreamClaims, subscriber: Subscriber) -> None:
        super().__init__(claims)
        self.subscriber = subscriber
        subscriber.on_closed = self._subscriber_closed

    def _subscriber_closed(self, reason: str) -> None:
        # the hub gave up on this viewer (too slow) or the stream ended, even mid-send
        code = CLOSE_TOO_SLOW if reason.startswith("too slow") else CLOSE_ENDED
        self.end(code, reason)

    def _ending(self, reason: str) -> None:
        self.subscriber.close(reason)


class LiveViews:
    """Every open view of this process (live or playback), by token id, so that a revocation
    finds them at once."""

    def __init__(self, bus: EventBus) -> None:
        self._by_jti: dict[str, set[TokenView]] = {}
        self._feed = RevocationFeed(bus, lambda event: self.revoke(event.jtis, event.reason))

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._feed.attach(loop)

    def add(self, view: TokenView) -> None:
        self._by_jti.setdefault(view.claims.jti, set()).add(view)

    def remove(self, view: TokenView) -> None:
        views = self._by_jti.get(view.claims.jti)
        if views is not None:
            views.discard(view)
            if not views:
                del self._by_jti[view.claims.jti]

    def count(self) -> int:
        return sum(len(v) for v in self._by_jti.values())

    def close(self) -> None:
        self._feed.close()

    def revoke(self, jtis: tuple[str, ...], reason: str) -> int:
        closed = 0
        for jti in jtis:
            for view in list(self._by_jti.get(jti, ())):
                view.end(CLOSE_REVOKED, f"access revoked: {reason}")
                closed += 1
        return closed


class LiveServer:
    """Serves live views: token check, lease on the camera stream, fMP4 out, revocation."""

    def __init__(self, access: AccessService, streams: StreamManager, views: LiveViews) -> None:
        self.access = access
        self.streams = streams
        self.views = views

    async def serve(self, websocket: WebSocket, request: LiveRequest) -> None:
        """Run one viewer's WebSocket (already accepted) until it ends, then close it."""
        client = websocket.client.host if websocket.client else None
        if not request.token:
            await close_websocket(websocket, CLOSE_TOKEN, "a stream token is needed (token=…)")
            return
        try:
            claims = await asyncio.to_thread(
                self.access.check, request.token, request.camera_id, "live", client
            )
        except TokenError as exc:
            await close_websocket(websocket, CLOSE_TOKEN, str(exc))
            return
        try:
            lease = await self.streams.acquire(request.camera_id, request.stream)
        except NotFoundError as exc:
            await close_websocket(websocket, CLOSE_NOT_FOUND, str(exc))
            return
        try:
            view = LiveView(claims, lease.hub.subscribe(f"ws:{client}", request.start))
            self.views.add(view)
            try:
                await self._run(websocket, request, view, lease.hub, client)
            finally:
                self.views.remove(view)
                view.cancel_expiry()
                view.subscriber.close("viewer left")
        finally:
            lease.release()

    async def _run(
        self,
        websocket: WebSocket,
        request: LiveRequest,
        view: LiveView,
        hub: StreamHub,
        client: str | None,
    ) -> None:
        view.schedule_expiry()
        sender = asyncio.create_task(self._send(websocket, request, view, hub))
        receiver = asyncio.create_task(self._receive(websocket, request, view, client))
        ended = asyncio.create_task(view.ended.wait())
        try:
            await asyncio.wait({sender, receiver, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sender, receiver, ended):
                task.cancel()
            await asyncio.gather(sender, receiver, ended, return_exceptions=True)
        for task in (sender, receiver):
            if not task.cancelled() and task.exception() is not None:
                exc = task.exception()
                if not isinstance(exc, (WebSocketDisconnect, ConnectionError)):
                    log.error("live view of camera %s failed", request.camera_id, exc_info=exc)
                    view.end(1011, "internal error")
        if view.close_code is None:
            view.end(CLOSE_ENDED, hub.closed_reason or "the stream ended")
        await close_websocket(websocket, view.close_code or CLOSE_ENDED, view.close_reason)

    async def _send(
        self, websocket: WebSocket, request: LiveRequest, view: LiveView, hub: StreamHub
    ) -> None:
        sub = view.subscriber
        current: VideoFormat | None = None
        first = True
        try:
            while True:
                frames = await sub.next_batch(FIRST_BATCH_LIMIT if first else BATCH_LIMIT)
                codec = hub.codec
                if codec is None:
                    continue
                if codec == "h265" and not request.hevc:
                    view.end(CLOSE_CODEC, H265_MESSAGE)
                    return
                # frames that share one format go out as one message; a new format gets its init
                run: list[Frame] = []
                for frame in frames:
                    fmt = format_of(codec, frame.au.parameter_sets)
                    if fmt != current:
                        if run:
                            await websocket.send_bytes(_segment(run, first, request.catch_up))
                            first, run = False, []
                        await websocket.send_text(_init_message(fmt, request))
                        await websocket.send_bytes(init_of(fmt))
                        current = fmt
                    run.append(frame)
                if run:
                    await websocket.send_bytes(_segment(run, first, request.catch_up))
                    first = False
        except SubscriberClosed as exc:
            code = CLOSE_TOO_SLOW if exc.reason.startswith("too slow") else CLOSE_ENDED
            view.end(code, exc.reason)

    async def _receive(
        self, websocket: WebSocket, request: LiveRequest, view: LiveView, client: str | None
    ) -> None:
        while True:
            message = await receive_message(websocket)
            if message.get("type") != "renew":
                await send_error(websocket, "expected {type: renew, token}")
                continue
            await renew(websocket, self.access, self.views, view, message, "live", client)


async def receive_message(websocket: WebSocket) -> dict[str, Any]:
    """The next text message as a JSON object ({} when it is not one)."""
    text = await websocket.receive_text()
    try:
        message: Any = json.loads(text)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


async def send_error(websocket: WebSocket, message: str) -> None:
    await websocket.send_text(json.dumps({"type": "error", "message": message}))


async def renew(
    websocket: WebSocket,
    access: AccessService,
    views: LiveViews,
    view: TokenView,
    message: dict[str, Any],
    capability: str,
    client: str | None,
) -> None:
    """Answer `{type: renew, token}`: the view goes on under the new token, or an error says
    why not (the old token still holds until it expires)."""
    token = message.get("token")
    if not isinstance(token, str):
        await send_error(websocket, "expected {type: renew, token}")
        return
    try:
        claims = await asyncio.to_thread(
            access.check, token, view.claims.camera_id, capability, client
        )
    except TokenError as exc:
        await send_error(websocket, str(exc))
        return
    if claims.user_id != view.claims.user_id:
        await send_error(websocket, "the token belongs to another user")
        return
    views.remove(view)
    view.claims = claims
    views.add(view)
    view.schedule_expiry()
    await websocket.send_text(
        json.dumps({"type": "renewed", "expires_at": claims.expires.isoformat()})
    )


def _segment(frames: list[Frame], first: bool, catch_up: bool) -> bytes:
    if first and catch_up:
        return catch_up_segment(frames)
    if len(frames) == 1:
        return fragment(frames[0])
    return b"".join(fragment(f) for f in frames)


def _init_message(fmt: VideoFormat, request: LiveRequest) -> str:
    return json.dumps(
        {
            "type": "init",
            "camera_id": request.camera_id,
            "stream": request.stream,
            "codec": fmt.codec,
            "mime": fmt.mime_type,
            "width": fmt.width,
            "height": fmt.height,
        }
    )


async def close_websocket(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state == WebSocketState.DISCONNECTED:
        return
    if websocket.client_state == WebSocketState.DISCONNECTED:
        return
    try:
        # a close reason is at most 123 bytes of UTF-8
        data = reason.encode()[:123]
        await asyncio.wait_for(websocket.close(code, data.decode(errors="ignore")), 1.0)
    except (TimeoutError, RuntimeError, ConnectionError, WebSocketDisconnect):
        pass
