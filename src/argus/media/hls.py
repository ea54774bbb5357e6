"""LL-HLS and plain HLS out of the stream hub: fMP4 parts and segments cut once per camera stream.

One `HlsStream` per pulled camera stream (not per viewer) reads the hub through one subscriber and
cuts the frames into Media Segments that begin at keyframes, each made of Partial Segments
("parts", RFC 8216bis §4.4.4.9) of a few frames. A part is one fMP4 fragment (moof + mdat with
the part's samples) and a segment is its parts one after another, so a segment costs no bytes of
its own. The last `window` segments are listed and a couple more kept for late downloads.

Timing. Times are the hub's 90 kHz media times; a sample lasts until the next frame's time, so a
part is closed only when the frame after it arrives. The part target is a whole number of frames
(from the first frame interval) close to `part_target` seconds, plus a tenth of a frame for
jitter, so that parts stay between 85 % and 100 % of EXT-X-PART-INF:PART-TARGET. A segment ends at
the first keyframe once it has lasted `min_segment` seconds; the Target Duration is the first
such segment's length rounded up (one GOP, e.g. 2 s; at most `max_first_segment`) and is never
changed afterwards; playlists are served from then on. A later
segment that would outgrow it is cut without a keyframe (its first part then lacks
INDEPENDENT=YES), so EXTINF rounded never exceeds EXT-X-TARGETDURATION. New parameter sets start
a new segment with a new EXT-X-MAP (init-{n}.mp4) after an EXT-X-DISCONTINUITY; a stall in the
camera's clock (a gap of over a second) starts a new segment after one too.

Playlists. `index.m3u8` is the LL-HLS media playlist (EXT-X-PART, EXT-X-PART-INF,
EXT-X-SERVER-CONTROL with CAN-BLOCK-RELOAD and PART-HOLD-BACK, EXT-X-PRELOAD-HINT for the next
part); `plain.m3u8` lists whole segments only, for players without LL-HLS. Blocking reloads
(`_HLS_msn`, `_HLS_part`, §6.2.5.2) wait for the part asked for, answer 400 for one too far ahead
and 503 after three Target Durations. Every URI in a playlist carries the viewer's stream token.

Life. The first playlist request for a camera stream starts its HlsStream (a lease on the stream,
so the camera is pulled); it stops and gives the lease back after `idle_timeout` seconds without a
request, so an idle camera costs nothing. A revoked grant ends the requests waiting under it at
once (403), as the live WebSocket views do. Every request's token is checked: the first time with
AccessService.check in a thread (which also audits a refusal); after that the verified claims are
remembered, and expiry, camera and revocation are checked again on each request in the loop.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import quote

from argus.errors import ArgusError, NotFoundError
from argus.events import EventBus
from argus.media.fmp4 import Fmp4Error, Sample, VideoFormat, media_segment, sample_data
from argus.media.hub import Codec, Frame, SubscriberClosed
from argus.media.live_fmp4 import format_of, init_of
from argus.media.nal import ParameterSets
from argus.media.revocations import RevocationFeed
from argus.media.streams import StreamKey, StreamLease, StreamManager, StreamName
from argus.sharing.access import AccessService
from argus.sharing.tokens import StreamClaims, TokenError

log = logging.getLogger(__name__)

TICKS = 90000  # the hub's media clock
SAMPLE_KEY = "sample"  # frame cache slot of the length-prefixed NAL units (as in live_fmp4)
VERSION = 6  # EXT-X-MAP in a playlist without EXT-X-I-FRAMES-ONLY needs version 6
BATCH = 256
VERIFIED_TOKENS = 4096  # tokens whose signature was checked, so a player's next requests
# (several a second) need no thread hop; expiry, camera and revocation are checked every time


class HlsUnavailable(ArgusError):
    """The stream cannot answer in time (not started yet, ended, or a blocking reload timed out)."""

    status_code = 503
    code = "stream_unavailable"


class HlsRevoked(ArgusError):
    """The grant behind the stream token was revoked."""

    status_code = 403
    code = "revoked"


@dataclass(frozen=True, slots=True)
class HlsConfig:
    """How HLS streams are cut and how long they live."""

    part_target: float = 0.5  # seconds of a part, rounded down to whole frames
    min_segment: float = 1.0  # a segment ends at the first keyframe after this many seconds
    max_first_segment: float = 6.0  # the first segment is cut here even without a keyframe
    window: int = 6  # segments listed in a playlist (more if they last < 3 target durations)
    retain: int = 2  # segments kept downloadable after they left the playlist
    idle_timeout: float = 30.0  # seconds without a request before the stream stops
    startup_timeout: float = 15.0  # how long the first playlist request waits for a segment


class Resume(NamedTuple):
    """The first media sequence, discontinuity sequence and map numbers of a stream."""

    msn: int = 0
    dsn: int = 0
    map_id: int = 0


@dataclass(slots=True, eq=False)
class Part:
    """One Partial Segment: one fMP4 fragment of consecutive frames."""

    msn: int
    index: int
    start: int  # media time of its first frame
    duration: int  # ticks
    independent: bool  # begins with a keyframe
    frames: int
    data: bytes


@dataclass(slots=True, eq=False)
class Segment:
    """One Media Segment: its parts, the init segment it needs and where it stands."""

    msn: int
    map_id: int
    dsn: int  # discontinuity sequence number
    discontinuity: bool  # an EXT-X-DISCONTINUITY precedes it
    start: int
    parts: list[Part] = field(default_factory=list)
    duration: int = 0
    complete: bool = False
    _data: bytes | None = None

    @property
    def data(self) -> bytes:
        """The whole segment: its parts' fragments one after another."""
        if self._data is None:
            joined = b"".join(part.data for part in self.parts)
            if not self.complete:
                return joined
            self._data = joined
        return self._data


def _seconds(ticks: int | float) -> str:
    return f"{ticks / TICKS:.5f}"


class Segmenter:
    """Cuts hub frames into parts and segments and renders the playlists (no I/O, no clock)."""

    def __init__(self, config: HlsConfig | None = None, resume: Resume | None = None) -> None:
        self.config = config or HlsConfig()
        self.segments: deque[Segment] = deque()  # oldest first; the last one may be open
        self.maps: dict[int, bytes] = {}  # init segments by map id
        self.target: int | None = None  # EXT-X-TARGETDURATION in seconds, once known
        self.part_ticks: int | None = None  # EXT-X-PART-INF:PART-TARGET in ticks, once known
        self.frame_ticks: int | None = None  # the stream's frame interval (first one seen)
        self.dropped = 0  # frames that could not be used
        self._format: VideoFormat | None = None
        self._parameter_sets: ParameterSets | None = None
        # a stream that starts again goes on from where the last one of its camera stopped, so
        # that a player still holding the old playlist sees the numbers go forward
        self._next_msn, self._dsn, self._map_id = resume or Resume()
        self._fragments = 0
        self._pending: list[Frame] = []
        self._last_time: int | None = None

    # --- cutting -------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Whether a playlist can be served (the target duration is known)."""
        return self.target is not None

    @property
    def open_segment(self) -> Segment | None:
        if self.segments and not self.segments[-1].complete:
            return self.segments[-1]
        return None

    def feed(self, frame: Frame, codec: Codec) -> bool:
        """Add one frame; True when a part (and maybe a segment) was completed by it."""
        t = frame.media_time
        last = self._last_time
        if last is not None and t <= last:
            self.dropped += 1  # the hub's time only increases; never go back
            return False
        new_format: VideoFormat | None = None
        sets = frame.au.parameter_sets
        if sets is not self._parameter_sets and sets != self._parameter_sets:
            try:
                fmt = format_of(codec, sets)
            except Fmp4Error as exc:
                self.dropped += 1
                log.debug("HLS: frame %s dropped: %s", frame.index, exc)
                return False
            if fmt == self._format:
                self._parameter_sets = sets  # other bytes, same format: nothing to signal
            else:
                new_format = fmt  # adopted below, with the segment it starts
        if last is not None and self.frame_ticks is None:
            self._set_frame_ticks(t - last)
        changed = False
        segment = self.open_segment
        gap = False
        if segment is not None and last is not None:
            step = t - last
            gap = step > self._gap_ticks()
            cut = new_format is not None or gap
            if not cut and frame.is_keyframe:
                cut = t - segment.start >= self.config.min_segment * TICKS
            if not cut:
                cut = t + step - segment.start > self._segment_limit()
            if cut:
                end = last + (self.frame_ticks or step) if gap else t
                self._close_part(segment, end)
                self._close_segment(segment, natural=new_format is None and not gap)
                segment = None
                changed = True
            elif self._pending and (
                frame.is_keyframe or t + step - self._pending[0].media_time > self._part_limit()
            ):
                self._close_part(segment, t)
                changed = True
        if segment is None:
            if new_format is not None:
                if not frame.is_keyframe:
                    self.dropped += 1
                    return changed
                self._format = new_format
                self._parameter_sets = sets
                self._map_id += 1
                self.maps[self._map_id] = init_of(new_format)
            elif not self.segments and not frame.is_keyframe:
                self.dropped += 1
                return changed
            discontinuity = bool(self.segments) and (new_format is not None or gap)
            if discontinuity:
                self._dsn += 1
            self.segments.append(Segment(self._next_msn, self._map_id, self._dsn, discontinuity, t))
            self._next_msn += 1
        self._pending.append(frame)
        self._last_time = t
        return changed

    def _set_frame_ticks(self, step: int) -> None:
        step = max(TICKS // 240, min(step, 2 * TICKS))
        self.frame_ticks = step
        frames = max(1, int(self.config.part_target * TICKS) // step)
        self.part_ticks = frames * step + step // 10

    def _gap_ticks(self) -> int:
        return max(4 * (self.frame_ticks or TICKS), TICKS)

    def _part_limit(self) -> int:
        return self.part_ticks or int(self.config.part_target * TICKS)

    def _segment_limit(self) -> int:
        if self.target is None:
            return int(self.config.max_first_segment * TICKS)
        # EXTINF rounded to the nearest second must not exceed the target duration
        return self.target * TICKS + int(0.4 * TICKS)

    def _close_part(self, segment: Segment, end: int) -> None:
        frames = self._pending
        if not frames:
            return
        self._pending = []
        samples = []
        for i, frame in enumerate(frames):
            until = frames[i + 1].media_time if i + 1 < len(frames) else end
            data = frame.cache.get(SAMPLE_KEY)
            if data is None:
                data = frame.cache[SAMPLE_KEY] = sample_data(frame.au.nal_units)
            samples.append(Sample(data, max(1, until - frame.media_time), frame.is_keyframe))
        self._fragments += 1
        start = frames[0].media_time
        fragment = media_segment(self._fragments, start, samples)
        segment.parts.append(
            Part(
                segment.msn,
                len(segment.parts),
                start,
                max(1, end - start),
                frames[0].is_keyframe,
                len(frames),
                fragment,
            )
        )

    def _close_segment(self, segment: Segment, natural: bool) -> None:
        segment.complete = True
        segment.duration = sum(part.duration for part in segment.parts)
        if not segment.parts:
            self.segments.pop()  # nothing in it (cannot happen with frames pending)
            return
        if self.target is None and natural:
            self.target = max(1, math.ceil(segment.duration / TICKS - 0.001))
        keep = self.config.window + self.config.retain
        while len(self.segments) > keep + 1 and self.segments[0].complete:
            self.segments.popleft()
        used = {s.map_id for s in self.segments} | {self._map_id}
        for map_id in [m for m in self.maps if m not in used]:
            del self.maps[map_id]

    def resume(self) -> Resume:
        """Where a later stream of the same camera stream should start its numbers."""
        return Resume(self._next_msn, self._dsn + 1, self._map_id)

    # --- looking up ----------------------------------------------------------------------------

    def segment(self, msn: int) -> Segment | None:
        if not self.segments:
            return None
        i = msn - self.segments[0].msn
        if 0 <= i < len(self.segments):
            return self.segments[i]
        return None

    def part(self, msn: int, index: int) -> Part | None:
        segment = self.segment(msn)
        if segment is None or not 0 <= index < len(segment.parts):
            return None
        return segment.parts[index]

    def last_part(self) -> tuple[int, int] | None:
        """(msn, part index) of the newest part."""
        for segment in reversed(self.segments):
            if segment.parts:
                return segment.msn, len(segment.parts) - 1
        return None

    def last_complete_msn(self) -> int | None:
        for segment in reversed(self.segments):
            if segment.complete:
                return segment.msn
        return None

    def hint(self) -> tuple[int, int] | None:
        """The part that will come next, if it can be named now (EXT-X-PRELOAD-HINT)."""
        segment = self.open_segment
        if segment is None or (not segment.parts and segment.discontinuity):
            return None
        return segment.msn, len(segment.parts)

    def normalise(self, msn: int, part: int) -> tuple[int, int]:
        """A part index past a complete segment's last means part 0 of the next (§6.2.5.2)."""
        segment = self.segment(msn)
        if segment is not None and segment.complete and part >= len(segment.parts):
            return msn + 1, 0
        return msn, part

    def has_part(self, msn: int, part: int) -> bool:
        """Whether a playlist now would contain that part or a later one."""
        newest = self.last_part()
        return newest is not None and newest >= self.normalise(msn, part)

    def has_segment(self, msn: int) -> bool:
        complete = self.last_complete_msn()
        return complete is not None and complete >= msn

    def advance_part_limit(self) -> int:
        seconds = (self.part_ticks or TICKS) / TICKS
        return math.ceil(3 / seconds) if seconds < 1 else 3

    def too_far(self, msn: int, part: int | None) -> bool:
        """A blocking request that asks too far ahead (§6.2.5.2: answer 400 at once)."""
        newest = self.last_part()
        last_msn = newest[0] if newest is not None else (self.last_complete_msn() or 0)
        if msn > last_msn + 2:
            return True
        if part is None or newest is None:
            return False
        want_msn, want_part = self.normalise(msn, part)
        if want_msn == newest[0]:
            return want_part - newest[1] > self.advance_part_limit()
        return want_msn > newest[0] and want_part > self.advance_part_limit()

    def may_come(self, msn: int, part: int) -> bool:
        """Whether a part not made yet can still come soon (so a request for it may wait)."""
        segment = self.open_segment
        if segment is None:
            return False
        if msn == segment.msn:
            return len(segment.parts) <= part <= len(segment.parts) + self.advance_part_limit()
        return msn == segment.msn + 1 and 0 <= part <= self.advance_part_limit()

    # --- playlists -----------------------------------------------------------------------------

    def _listed(self) -> list[Segment]:
        """The complete segments a playlist lists: the last `window`, at least 3 targets long."""
        done = [s for s in self.segments if s.complete]
        if not done or self.target is None:
            return []
        listed = done[-self.config.window :]
        floor = 3 * self.target * TICKS
        i = len(done) - len(listed)
        total = sum(s.duration for s in listed)
        while i > 0 and total < floor:
            i -= 1
            total += done[i].duration
        return done[i:]

    def playlist(self, query: str, low_latency: bool) -> str:
        """The media playlist; `query` (e.g. ``?token=…``) is added to every URI in it."""
        target = self.target
        if target is None:
            raise HlsUnavailable("the stream has not produced a segment yet")
        listed = self._listed()
        open_segment = self.open_segment if low_latency else None
        shown = list(listed)
        if open_segment is not None and open_segment.parts:
            shown.append(open_segment)
        if not shown:
            raise HlsUnavailable("the stream has not produced a segment yet")
        lines = ["#EXTM3U", f"#EXT-X-VERSION:{VERSION}", f"#EXT-X-TARGETDURATION:{target}"]
        part_ticks = self._part_limit()
        if low_latency:
            lines.append(
                "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
                f"PART-HOLD-BACK={_seconds(3 * part_ticks)}"
            )
            lines.append(f"#EXT-X-PART-INF:PART-TARGET={_seconds(part_ticks)}")
        first = shown[0]
        lines.append(f"#EXT-X-MEDIA-SEQUENCE:{first.msn}")
        lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{first.dsn}")
        # parts are listed near the live edge only (§6.2.2: not beyond three target durations)
        end = shown[-1].start + (
            shown[-1].duration if shown[-1].complete else sum(p.duration for p in shown[-1].parts)
        )
        parts_from = end - 3 * target * TICKS
        current_map: int | None = None
        for segment in shown:
            if segment is not first and segment.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            if segment.map_id != current_map:
                lines.append(f'#EXT-X-MAP:URI="init-{segment.map_id}.mp4{query}"')
                current_map = segment.map_id
            if low_latency and segment.start >= parts_from:
                for part in segment.parts:
                    independent = ",INDEPENDENT=YES" if part.independent else ""
                    lines.append(
                        f"#EXT-X-PART:DURATION={_seconds(part.duration)},"
                        f'URI="part-{part.msn}.{part.index}.m4s{query}"{independent}'
                    )
            if segment.complete:
                lines.append(f"#EXTINF:{_seconds(segment.duration)},")
                lines.append(f"seg-{segment.msn}.m4s{query}")
        hint = self.hint() if low_latency else None
        if hint is not None:
            lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-{hint[0]}.{hint[1]}.m4s{query}"')
        return "\n".join(lines) + "\n"


class HlsStream:
    """The HLS cut of one camera stream, fed by one subscriber on its hub."""

    def __init__(
        self,
        key: StreamKey,
        lease: StreamLease,
        config: HlsConfig,
        on_end: Callable[[HlsStream], None],
        resume: Resume | None = None,
    ) -> None:
        self.key = key
        self.config = config
        self.segmenter = Segmenter(config, resume)
        self.ended: str | None = None
        self.active = 0  # requests being answered now
        self._lease = lease
        self._hub = lease.hub
        self._on_end = on_end
        self._subscriber = self._hub.subscribe(f"hls:{key[0]}/{key[1]}", "keyframe")
        self._changed: asyncio.Future[None] | None = None
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.last_request = loop.time()
        self._idle: asyncio.TimerHandle | None = loop.call_later(
            config.idle_timeout, self._check_idle
        )
        self._task = loop.create_task(self._run())

    def changed(self) -> asyncio.Future[None]:
        """A future that completes at the next change (new part, or the end)."""
        future = self._changed
        if future is None:
            future = self._changed = self._loop.create_future()
        return future

    def touch(self) -> None:
        self.last_request = self._loop.time()

    def stop(self, reason: str) -> None:
        """End the stream: wake every waiting request, release the subscriber and the lease."""
        if self.ended is not None:
            return
        self.ended = reason
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if not self._task.done() and self._task is not asyncio.current_task():
            self._task.cancel()
        self._subscriber.close(reason)
        self._lease.release()
        self._notify()
        self._on_end(self)

    async def _run(self) -> None:
        reason = "the stream ended"
        try:
            while True:
                frames = await self._subscriber.next_batch(BATCH)
                codec = self._hub.codec
                if codec is None:
                    continue
                changed = False
                for frame in frames:
                    try:
                        changed = self.segmenter.feed(frame, codec) or changed
                    except Fmp4Error as exc:
                        self.segmenter.dropped += 1
                        log.warning("HLS %s/%s: frame dropped: %s", *self.key, exc)
                if changed:
                    self._notify()
        except SubscriberClosed as exc:
            reason = exc.reason
        except asyncio.CancelledError:
            return
        except Exception:
            log.exception("HLS %s/%s failed", *self.key)
            reason = "internal error"
        self.stop(reason)

    def _notify(self) -> None:
        future, self._changed = self._changed, None
        if future is not None and not future.done():
            future.set_result(None)

    def _check_idle(self) -> None:
        self._idle = None
        if self.ended is not None:
            return
        now = self._loop.time()
        due = self.last_request + self.config.idle_timeout
        if self.active == 0 and now >= due:
            self.stop("no HLS request for a while")
            return
        delay = self.config.idle_timeout if self.active else due - now
        self._idle = self._loop.call_later(delay, self._check_idle)


class HlsService:
    """The HLS streams of this process, the token check of every request, and revocation."""

    def __init__(
        self,
        access: AccessService,
        streams: StreamManager,
        bus: EventBus,
        config: HlsConfig | None = None,
    ) -> None:
        self.access = access
        self.streams = streams
        self.config = config or HlsConfig()
        self._open: dict[StreamKey, HlsStream] = {}
        self._pending: dict[StreamKey, asyncio.Future[HlsStream]] = {}
        self._blocked: dict[str, set[asyncio.Future[str]]] = {}
        self._resume: dict[StreamKey, Resume] = {}
        self._verified: OrderedDict[str, StreamClaims] = OrderedDict()
        self._feed = RevocationFeed(bus, lambda event: self._revoke(event.jtis, event.reason))

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """The event loop that serves requests (also taken from the first request)."""
        self._feed.attach(loop)

    def open_streams(self) -> list[StreamKey]:
        return sorted(self._open)

    def blocked(self) -> int:
        """Requests waiting now (blocking reloads and hinted parts)."""
        return sum(len(v) for v in self._blocked.values())

    async def close(self) -> None:
        """Stop every HLS stream and stop listening for revocations."""
        self._feed.close()
        for stream in list(self._open.values()):
            stream.stop("the media service is shutting down")

    # --- requests ------------------------------------------------------------------------------

    async def authorize(self, token: str, camera_id: int, client: str | None) -> StreamClaims:
        """The claims of a stream token for live video of this camera; TokenError (401) or
        HlsRevoked (403) otherwise."""
        self._feed.attach(asyncio.get_running_loop())
        if not token:
            raise TokenError("missing", "a stream token is needed (token=…)")
        known = self._verified.get(token)
        if (
            known is not None
            and known.camera_id == camera_id
            and self.access.clock().timestamp() < known.expires_at
            and not self.access.live.is_revoked(known.jti)
        ):
            return known  # its signature was verified before; expiry and revocation just now
        try:
            claims = await asyncio.to_thread(self.access.check, token, camera_id, "live", client)
        except TokenError as exc:
            if exc.code == "revoked":
                raise HlsRevoked(str(exc)) from exc
            raise
        self._verified[token] = claims
        while len(self._verified) > VERIFIED_TOKENS:
            self._verified.popitem(last=False)
        return claims

    async def playlist(
        self,
        claims: StreamClaims,
        token: str,
        stream: StreamName,
        *,
        low_latency: bool,
        msn: int | None = None,
        part: int | None = None,
    ) -> str:
        """The LL-HLS or plain media playlist, after a blocking wait when `msn` is given."""
        hls = await self._stream(claims.camera_id, stream)
        hls.active += 1
        try:
            seg = hls.segmenter
            await self._wait(hls, claims, lambda: seg.ready, self.config.startup_timeout)
            if low_latency and msn is not None:
                if seg.too_far(msn, part):
                    raise ArgusError("_HLS_msn/_HLS_part asks for a part too far ahead")
                await self._wait(hls, claims, _reached(seg, msn, part), 3 * (seg.target or 1))
            self._check_revoked(claims)
            return seg.playlist(_query(token), low_latency)
        finally:
            hls.active -= 1
            hls.touch()

    async def part(self, claims: StreamClaims, stream: StreamName, msn: int, index: int) -> bytes:
        """A part's bytes; a part that is about to be made (the preload hint) is waited for."""
        hls = self._running(claims.camera_id, stream)
        hls.active += 1
        try:
            seg = hls.segmenter
            found = seg.part(msn, index)
            if found is None and seg.ready and seg.may_come(msn, index):
                await self._wait(
                    hls,
                    claims,
                    lambda: seg.part(msn, index) is not None or not seg.may_come(msn, index),
                    3 * (seg.target or 1),
                )
                found = seg.part(msn, index)
            self._check_revoked(claims)
            if found is None:
                raise NotFoundError(f"part {msn}.{index} is not available")
            return found.data
        finally:
            hls.active -= 1
            hls.touch()

    async def segment(self, claims: StreamClaims, stream: StreamName, msn: int) -> bytes:
        """A complete segment's bytes."""
        hls = self._running(claims.camera_id, stream)
        hls.touch()
        found = hls.segmenter.segment(msn)
        if found is None or not found.complete:
            raise NotFoundError(f"segment {msn} is not available")
        return found.data

    async def init(self, claims: StreamClaims, stream: StreamName, map_id: int) -> bytes:
        """The init segment (ftyp + moov) of one map version."""
        hls = self._running(claims.camera_id, stream)
        hls.touch()
        data = hls.segmenter.maps.get(map_id)
        if data is None:
            raise NotFoundError(f"init segment {map_id} is not available")
        return data

    # --- internals -----------------------------------------------------------------------------

    def _running(self, camera_id: int, stream: StreamName) -> HlsStream:
        """The HLS stream that is running; only a playlist request starts one."""
        found = self._open.get((camera_id, stream))
        if found is None or found.ended is not None:
            raise NotFoundError(f"camera {camera_id} has no HLS {stream} stream running now")
        return found

    async def _stream(self, camera_id: int, stream: StreamName) -> HlsStream:
        key: StreamKey = (camera_id, stream)
        found = self._open.get(key)
        if found is not None and found.ended is None:
            return found
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[HlsStream] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            lease = await self.streams.acquire(camera_id, stream)
            try:
                hls = HlsStream(key, lease, self.config, self._ended, self._resume.get(key))
            except SubscriberClosed as exc:
                lease.release()
                raise HlsUnavailable(f"the camera stream ended: {exc.reason}") from exc
            except BaseException:
                lease.release()
                raise
            self._open[key] = hls
            future.set_result(hls)
            return hls
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._pending[key]

    def _ended(self, hls: HlsStream) -> None:
        self._resume[hls.key] = hls.segmenter.resume()
        if self._open.get(hls.key) is hls:
            del self._open[hls.key]

    def _check_revoked(self, claims: StreamClaims) -> None:
        if self.access.live.is_revoked(claims.jti):
            raise HlsRevoked("the grant behind this stream token was revoked")

    async def _wait(
        self, hls: HlsStream, claims: StreamClaims, done: Callable[[], bool], timeout: float
    ) -> None:
        """Wait until `done()`; HlsRevoked at once on revocation, HlsUnavailable on timeout."""
        if done():
            return
        loop = asyncio.get_running_loop()
        revoked: asyncio.Future[str] = loop.create_future()
        waiting = self._blocked.setdefault(claims.jti, set())
        waiting.add(revoked)
        try:
            self._check_revoked(claims)  # revoked between the token check and now
            deadline = loop.time() + timeout
            expires = loop.time() + (claims.expires_at - time.time())
            while not done():
                if hls.ended is not None:
                    raise HlsUnavailable(f"the stream ended: {hls.ended}")
                now = loop.time()
                if now >= expires:
                    raise TokenError("expired", "the stream token has expired; renew it")
                if now >= deadline:
                    raise HlsUnavailable(f"nothing new within {timeout:g} s")
                await asyncio.wait(
                    (hls.changed(), revoked),
                    timeout=min(deadline, expires) - now,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if revoked.done():
                    raise HlsRevoked(f"access revoked: {revoked.result()}")
        finally:
            waiting.discard(revoked)
            if not waiting:
                self._blocked.pop(claims.jti, None)

    def _revoke(self, jtis: tuple[str, ...], reason: str) -> None:
        for jti in jtis:
            for future in list(self._blocked.get(jti, ())):
                if not future.done():
                    future.set_result(reason)


def _reached(seg: Segmenter, msn: int, part: int | None) -> Callable[[], bool]:
    """Whether a blocking reload for segment `msn` (and part `part`) can be answered."""
    if part is None:
        return lambda: seg.has_segment(msn)
    return lambda: seg.has_part(msn, part)


def _query(token: str) -> str:
    return "?token=" + quote(token, safe="")
