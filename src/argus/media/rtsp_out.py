"""RTSP re-serving: each camera to other systems (a police VMS, ffmpeg, VLC), gated by tokens.

URL: ``rtsp://HOST:PORT/cameras/{camera_id}/main`` (or ``/sub``), RTSP 1.0 (RFC 2326), video
over TCP-interleaved RTP (or UDP). The stream token goes in the query (``?token=…``) or as the
RTSP password (Basic or Digest); argus.media.rtsp_out_auth lists the forms.

Per request: DESCRIBE, SETUP and PLAY each check the token (`AccessService.check`, in a thread,
audited when refused): the camera must match and the capability be ``live``. A missing,
unreadable or expired token is answered 401 with Digest and Basic challenges (VLC then asks for
a password); a valid token that does not cover this view (another camera, revoked) gets 403. The
reason is in the status line (``RTSP/1.0 403 Forbidden (the stream token is not for camera 2)``),
which ffmpeg and VLC show. A camera that this process does not serve gets 404 (another media
worker serves it).

DESCRIBE takes a lease on the camera stream (starting the pull on demand), waits up to
`describe_timeout` for a keyframe and answers SDP with the codec (H.264 or H.265) and its
parameter sets (sprop) from that keyframe; a camera with no picture by then gets 503 with its
pull state. PLAY takes a lease again (the pull's linger bridges the gap), subscribes to the hub
at the latest keyframe (the GOP cache: the picture starts at once), and sends every frame
through our packetizer: RTP timestamps are the frame's 90 kHz media time offset to a random
start, the marker is on each frame's last packet, and a keyframe's first packet is the point a
slow client resumes at (the server's slow-client handling). Parameter sets go in band before
each keyframe that lacks them. The server sends RTCP sender reports.

A session ends on TEARDOWN or disconnect (its lease released), when its token expires (a VMS
connects again with a fresh token), when the grant behind its token is revoked (GrantsRevoked on
the event bus: the TCP connection is closed at once), or when the camera stream ends.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import logging
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from argus.errors import NotFoundError
from argus.events import EventBus
from argus.media.h264 import nal_type as h264_nal_type
from argus.media.hub import Codec, Frame, StreamHub, Subscriber, SubscriberClosed
from argus.media.nal import ParameterSets
from argus.media.packetize import Packetizer, packetizer_for
from argus.media.revocations import RevocationFeed
from argus.media.rtsp.messages import Request
from argus.media.rtsp.server import (
    Credentials,
    Forbidden,
    NotFound,
    RtspServer,
    RtspStatusError,
    Sink,
    Track,
    TrackStart,
    Unauthorized,
    _Connection,
    _Handler,
    _Result,
    h264_fmtp,
    h265_fmtp,
    video_sdp,
)
from argus.media.rtsp_out_auth import TokenAuth
from argus.media.service import MediaService
from argus.media.streams import StreamLease, StreamName
from argus.sharing.access import AccessService
from argus.sharing.tokens import StreamClaims, TokenError

log = logging.getLogger(__name__)

DEFAULT_PORT = 8555
"""Beside the simulator's 8554; RTSP's own 554 needs privileges."""
TRACK = Track("trackID=0", 90000)
BATCH_LIMIT = 64
FIRST_BATCH_LIMIT = 100_000  # the whole GOP cache at once
_PATH = re.compile(r"^/cameras/(\d{1,10})/(main|sub)/?$")
_UNAUTHORIZED_CODES = frozenset({"malformed", "bad_signature", "expired"})
"""Token refusals answered 401 (ask for another token); the others (wrong camera or
capability, revoked) are 403."""

# What a handler's request and client are, for the resolver and Mount.start (which get neither).
_REQUEST: contextvars.ContextVar[Request | None] = contextvars.ContextVar(
    "rtsp_out_request", default=None
)
_CLIENT: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "rtsp_out_client", default=None
)


@dataclass(slots=True)
class RtspOutStats:
    """Counters of the re-serving server (its RtspServer has the transport counters)."""

    describes: int = 0
    sessions_started: int = 0
    """PLAYs that began streaming."""
    challenges: int = 0
    """Requests with no credentials at all, answered 401 with challenges (clients that put
    the token in the password ask first without it)."""
    refusals: int = 0
    """Requests refused for their token or credentials (401/403)."""
    refusal_codes: dict[str, int] = field(default_factory=dict)
    forms: dict[str, int] = field(default_factory=dict)
    """Accepted requests by the form their token came in (query, basic, digest-short, …)."""
    not_served: int = 0
    """Requests for a camera another worker serves (404)."""
    unavailable: int = 0
    """DESCRIBEs answered 503: the camera sent no picture in time."""
    revoked_closes: int = 0
    expired_closes: int = 0
    ended_closes: int = 0
    """Sessions closed because the camera stream ended."""
    frames_sent: int = 0
    packets_sent: int = 0


# --- the server: status-line reasons and token challenges ---------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class _OutServer(RtspServer):
    """The generic server with token challenges, and each request in context."""

    def __init__(self, out: RtspOut, auth: TokenAuth, **options: Any) -> None:
        super().__init__(out._resolve, **options)
        self.auth = auth
        self.handlers = {method: self._wrap(h) for method, h in self.handlers.items()}

    def challenges(self) -> list[tuple[str, str]]:
        return self.auth.challenges()

    @staticmethod
    def _wrap(handler: _Handler) -> _Handler:
        async def handle(conn: _Connection, request: Request) -> _Result:
            request_token = _REQUEST.set(request)
            client_token = _CLIENT.set(conn.peer_host or None)
            try:
                return await handler(conn, request)
            finally:
                _REQUEST.reset(request_token)
                _CLIENT.reset(client_token)

        return handle


# --- one session's mount ------------------------------------------------------------------------


def with_parameter_sets(codec: Codec, nals: tuple[bytes, ...], ps: ParameterSets) -> list[bytes]:
    """A keyframe's NAL units with its parameter sets in front (after an AUD) if it lacks them."""

    def kind(nal: bytes) -> int:
        return h264_nal_type(nal) if codec == "h264" else (nal[0] >> 1) & 0x3F

    sps_type, aud_type = (7, 9) if codec == "h264" else (33, 35)
    if any(nal and kind(nal) == sps_type for nal in nals):
        return list(nals)
    sets = [p for p in ((ps.vps if codec == "h265" else None), ps.sps, ps.pps) if p]
    at = 1 if nals and nals[0] and kind(nals[0]) == aud_type else 0
    return [*nals[:at], *sets, *nals[at:]]


class _CameraMount:
    """One RTSP session of one camera stream: the `Mount` the resolver hands the server."""

    tracks: Sequence[Track] = (TRACK,)
    credentials: Credentials | None = None  # the token is checked by the resolver and start()
    sender_reports = True

    def __init__(
        self,
        out: RtspOut,
        camera_id: int,
        stream: StreamName,
        token: str,
        claims: StreamClaims,
        description: str | None = None,
    ) -> None:
        self.out = out
        self.camera_id = camera_id
        self.stream = stream
        self.token = token
        self.claims = claims
        self.description = description
        self.client = _CLIENT.get()
        self.frames_sent = 0
        self._sink: Sink | None = None
        self._lease: StreamLease | None = None
        self._subscriber: Subscriber | None = None
        self._task: asyncio.Task[None] | None = None
        self._expiry: asyncio.TimerHandle | None = None
        self._codec: Codec | None = None
        self._packetizer: Packetizer | None = None
        self._ssrc = random.getrandbits(32)
        self._sequence = random.getrandbits(16)
        self._ts0 = random.getrandbits(32)
        self._media0: int | None = None
        self._last_media: int | None = None
        self._need_keyframe = True

    def sdp(self, base_url: str) -> str:
        if self.description is None:
            raise RtspStatusError(500, "Internal Server Error (no description)")
        return self.description

    async def start(self, sink: Sink) -> Sequence[TrackStart | None]:
        """PLAY: check the token again, lease the stream, subscribe at the latest keyframe."""
        out = self.out
        request = _REQUEST.get()
        if request is not None:
            self.claims, self.token = await out.authorize(request, self.camera_id, self.token)
        try:
            lease = await out.media.streams.acquire(self.camera_id, self.stream)
        except NotFoundError as exc:
            raise NotFound(f"Not Found ({exc})") from None
        try:
            subscriber = lease.hub.subscribe(f"rtsp:{self.client}", "keyframe")
        except SubscriberClosed as exc:
            lease.release()
            raise RtspStatusError(503, f"Service Unavailable ({exc.reason})") from None
        self._sink, self._lease, self._subscriber = sink, lease, subscriber
        self._need_keyframe = True
        out._add(self)
        if out.access.live.is_revoked(self.claims.jti):  # revoked while we were getting here
            self.stop()
            raise Forbidden("Forbidden (the grant behind this stream token was revoked)")
        delay = max(0.0, self.claims.expires_at - time.time())
        self._expiry = asyncio.get_running_loop().call_later(
            delay, self.end, "the stream token has expired; connect again with a new one", "expired"
        )
        self._task = asyncio.get_running_loop().create_task(
            self._pump(lease.hub, subscriber, sink), name=f"rtsp out camera {self.camera_id}"
        )
        out.stats.sessions_started += 1
        if self._media0 is None:
            return [TrackStart(self._sequence, self._ts0)]
        # after a PAUSE: the time of the next keyframe is known only when it is cached already
        sequence = self._packetizer.sequence if self._packetizer else self._sequence
        gop = lease.hub.gop
        if gop and self._last_media is not None and gop[0].media_time > self._last_media:
            rtptime = self._ts0 + gop[0].media_time - self._media0
            return [TrackStart(sequence, rtptime & 0xFFFFFFFF)]
        return [None]

    def stop(self) -> None:
        """PAUSE, TEARDOWN, disconnect: stop sending and give the lease back."""
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        subscriber, self._subscriber = self._subscriber, None
        if subscriber is not None:
            subscriber.close("the RTSP session ended")
        lease, self._lease = self._lease, None
        if lease is not None:
            lease.release()
        self._sink = None
        self.out._remove(self)

    def end(self, reason: str, kind: str) -> None:
        """Close the session and its client's connection (revoked, expired, stream ended)."""
        sink = self._sink
        if sink is None or sink.closed:
            return
        stats = self.out.stats
        if kind == "revoked":
            stats.revoked_closes += 1
        elif kind == "expired":
            stats.expired_closes += 1
        else:
            stats.ended_closes += 1
        log.info(
            "RTSP out: camera %s session of %s closed: %s", self.camera_id, self.client, reason
        )
        sink.close(reason)

    async def _pump(self, hub: StreamHub, subscriber: Subscriber, sink: Sink) -> None:
        first = True
        try:
            while not sink.closed:
                frames = await subscriber.next_batch(FIRST_BATCH_LIMIT if first else BATCH_LIMIT)
                first = False
                codec = hub.codec
                for index, frame in enumerate(frames):
                    if sink.closed:
                        return
                    if codec is not None:
                        self._send(frame, codec, sink)
                    if index + 1 < len(frames):
                        await asyncio.sleep(0)  # let a catch-up burst drain between frames
        except SubscriberClosed as exc:
            self.end(f"the camera stream ended: {exc.reason}", "ended")
        except Exception:
            log.exception("RTSP out: camera %s session failed", self.camera_id)
            self.end("internal error", "ended")

    def _send(self, frame: Frame, codec: Codec, sink: Sink) -> None:
        packetizer = self._packetizer
        if packetizer is None:
            self._codec = codec
            packetizer = self._packetizer = packetizer_for(
                codec, ssrc=self._ssrc, sequence=self._sequence
            )
        elif codec != self._codec:
            self.end("the camera changed its codec; connect again", "ended")
            return
        if self._need_keyframe:
            # a PLAY (after PAUSE, too) starts at a keyframe not older than what was sent
            if not frame.is_keyframe or (
                self._last_media is not None and frame.media_time <= self._last_media
            ):
                return
            self._need_keyframe = False
        if self._media0 is None:
            self._media0 = frame.media_time
        self._last_media = frame.media_time
        timestamp = self._ts0 + frame.media_time - self._media0
        nals: Sequence[bytes] = frame.au.nal_units
        if frame.is_keyframe:
            nals = with_parameter_sets(codec, frame.au.nal_units, frame.au.parameter_sets)
        packets = packetizer.packetize(nals, timestamp)
        resume = frame.is_keyframe
        for packet in packets:
            sink.send_rtp(0, packet, resume_point=resume)
            resume = False
        self.frames_sent += 1
        stats = self.out.stats
        stats.frames_sent += 1
        stats.packets_sent += len(packets)


# --- the service --------------------------------------------------------------------------------


class RtspOut:
    """The RTSP re-serving server of one process, over its MediaService.

    Start it in the event loop that runs `media` (after `media.start()`), stop it before
    `media.stop()`. In a process that does not issue the tokens itself (a media worker) pass
    digest=False: it cannot check Digest answers, so it offers Basic only.
    """

    def __init__(
        self,
        media: MediaService,
        access: AccessService,
        bus: EventBus,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        digest: bool = True,
        describe_timeout: float = 5.0,
        session_timeout: float = 60.0,
        realm: str = "Argus",
    ) -> None:
        self.media = media
        self.access = access
        self.bus = bus
        self.describe_timeout = describe_timeout
        self.stats = RtspOutStats()
        self.auth = TokenAuth(access, realm=realm, digest=digest)
        self.server = _OutServer(
            self,
            self.auth,
            host=host,
            port=port,
            session_timeout=session_timeout,
            realm=realm,
        )
        self._by_jti: dict[str, set[_CameraMount]] = {}
        self._feed: RevocationFeed | None = None

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        """The bound port (after start(); useful with port=0)."""
        return self.server.port

    @property
    def sessions(self) -> int:
        """Sessions playing now."""
        return sum(len(mounts) for mounts in self._by_jti.values())

    def url(self, camera_id: int, stream: StreamName = "main") -> str:
        """The URL of a camera stream (append ?token=… or give the token as the password)."""
        return f"rtsp://{self.host}:{self.port}/cameras/{camera_id}/{stream}"

    async def start(self) -> None:
        """Listen, and close sessions whose grants are revoked from now on."""
        self._feed = RevocationFeed(self.bus, lambda event: self.revoke(event.jtis, event.reason))
        self._feed.attach(asyncio.get_running_loop())
        await self.server.start()
        log.info("RTSP re-serving on rtsp://%s:%d/cameras/{id}/main", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and end every session (their leases are released)."""
        if self._feed is not None:
            self._feed.close()
            self._feed = None
        await self.server.stop()
        for mounts in list(self._by_jti.values()):
            for mount in list(mounts):
                mount.stop()
        self._by_jti.clear()

    async def __aenter__(self) -> RtspOut:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def snapshot(self) -> dict[str, Any]:
        """Counters for the API and metrics."""
        server = self.server.stats
        return {
            "sessions": self.sessions,
            "describes": self.stats.describes,
            "sessions_started": self.stats.sessions_started,
            "challenges": self.stats.challenges,
            "refusals": self.stats.refusals,
            "refusal_codes": dict(self.stats.refusal_codes),
            "forms": dict(self.stats.forms),
            "not_served": self.stats.not_served,
            "unavailable": self.stats.unavailable,
            "revoked_closes": self.stats.revoked_closes,
            "expired_closes": self.stats.expired_closes,
            "ended_closes": self.stats.ended_closes,
            "frames_sent": self.stats.frames_sent,
            "packets_sent": self.stats.packets_sent,
            "dropped_packets": server.dropped_packets,
            "slow_disconnects": server.slow_disconnects,
            "connections": server.connections,
        }

    # tokens ------------------------------------------------------------------------------------

    async def authorize(
        self, request: Request, camera_id: int, fallback: str | None = None
    ) -> tuple[StreamClaims, str]:
        """The claims and token of a request (or `fallback`, the session's token, when it
        carries none); Unauthorized or Forbidden with the reason otherwise."""
        client = _CLIENT.get()

        def check() -> tuple[StreamClaims, str, str] | None:
            presented = self.auth.presented(request, camera_id)
            form: str
            if presented is not None:
                token, form = presented.token, presented.form
            elif fallback is not None:
                token, form = fallback, "session"
            else:
                return None
            return self.access.check(token, camera_id, "live", client), token, form

        try:
            checked = await asyncio.to_thread(check)
        except TokenError as exc:
            self._refused(exc.code)
            if exc.code in _UNAUTHORIZED_CODES:
                raise Unauthorized(f"Unauthorized ({exc})") from None
            raise Forbidden(f"Forbidden ({exc})") from None
        except Unauthorized:
            self._refused("credentials")
            raise
        if checked is None:
            self.stats.challenges += 1
            raise Unauthorized(
                "Unauthorized (a stream token is needed: ?token=… in the URL, or the token as "
                "the RTSP password)"
            )
        claims, token, form = checked
        forms = self.stats.forms
        forms[form] = forms.get(form, 0) + 1
        return claims, token

    def _refused(self, code: str) -> None:
        self.stats.refusals += 1
        self.stats.refusal_codes[code] = self.stats.refusal_codes.get(code, 0) + 1

    # the resolver ------------------------------------------------------------------------------

    async def _resolve(self, path: str, request: Request) -> _CameraMount:
        match = _PATH.match(path)
        if match is None:
            raise NotFound(f"Not Found (no camera stream at {path[:80]}; use /cameras/ID/main)")
        camera_id = int(match.group(1))
        stream: StreamName = "main" if match.group(2) == "main" else "sub"
        if not self.media.serves(camera_id):
            self.stats.not_served += 1
            raise NotFound(f"Not Found (camera {camera_id} is served by another media worker)")
        claims, token = await self.authorize(request, camera_id)
        description = None
        if request.method.upper() == "DESCRIBE":
            self.stats.describes += 1
            description = await self._describe(camera_id, stream)
        return _CameraMount(self, camera_id, stream, token, claims, description)

    async def _describe(self, camera_id: int, stream: StreamName) -> str:
        """The SDP of a camera stream, from its latest keyframe (waiting for one if need be)."""
        try:
            lease = await self.media.streams.acquire(camera_id, stream)
        except NotFoundError as exc:
            raise NotFound(f"Not Found ({exc})") from None
        try:
            hub = lease.hub
            try:
                subscriber = hub.subscribe("rtsp:describe", "keyframe")
            except SubscriberClosed as exc:
                raise self._unavailable(f"the camera stream ended: {exc.reason}") from None
            try:
                frames = await asyncio.wait_for(subscriber.next_batch(1), self.describe_timeout)
            except TimeoutError:
                state = self._pull_state(camera_id, stream)
                raise self._unavailable(
                    f"camera {camera_id} sent no picture within {self.describe_timeout:g} s"
                    + (f"; {state}" if state else "")
                ) from None
            except SubscriberClosed as exc:
                raise self._unavailable(f"the camera stream ended: {exc.reason}") from None
            finally:
                subscriber.close("described")
            frame, codec = frames[0], hub.codec
            ps = frame.au.parameter_sets
            if codec is None or ps.sps is None or ps.pps is None:
                raise self._unavailable(f"camera {camera_id} has not sent its parameter sets")
            if codec == "h264":
                fmtp = h264_fmtp(ps.sps, ps.pps)
            elif ps.vps is not None:
                fmtp = h265_fmtp(ps.vps, ps.sps, ps.pps)
            else:  # no VPS seen: give what there is
                fmtp = f"sprop-sps={_b64(ps.sps)};sprop-pps={_b64(ps.pps)}"
            framerate = round(90000 / frame.duration, 3) if frame.duration > 0 else None
            return video_sdp(
                codec=codec,
                fmtp=fmtp,
                control=TRACK.control,
                session_name=f"Argus camera {camera_id} {stream}",
                framerate=framerate,
                origin_host=self.host,
            )
        finally:
            lease.release()

    def _unavailable(self, why: str) -> RtspStatusError:
        self.stats.unavailable += 1
        return RtspStatusError(503, f"Service Unavailable ({why})")

    def _pull_state(self, camera_id: int, stream: StreamName) -> str:
        for row in self.media.streams.snapshot():
            if row.get("camera_id") == camera_id and row.get("stream") == stream:
                state = row.get("state")
                error = row.get("last_error")
                if state is None:
                    return ""
                return f"pull {state}" + (f": {error}" if error else "")
        return ""

    # playing sessions by token, for revocation --------------------------------------------------

    def _add(self, mount: _CameraMount) -> None:
        self._by_jti.setdefault(mount.claims.jti, set()).add(mount)

    def _remove(self, mount: _CameraMount) -> None:
        jti = mount.claims.jti
        mounts = self._by_jti.get(jti)
        if mounts is not None:
            mounts.discard(mount)
            if not mounts:
                del self._by_jti[jti]

    def revoke(self, jtis: Sequence[str], reason: str) -> int:
        """Close at once every session playing with one of these tokens; how many closed."""
        closed = 0
        for jti in jtis:
            for mount in list(self._by_jti.get(jti, ())):
                mount.end(f"access revoked: {reason}", "revoked")
                closed += 1
        return closed
