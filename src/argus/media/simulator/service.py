"""The camera simulator: every camera id served over RTSP at /cameras/{id}/main and /sub.

`Simulator` is the object tests use (`async with Simulator(port=0, cache_dir=tmp) as sim`);
`run_simulator` is what `argus simulate` runs. A camera costs nothing until it is pulled:
there is no per-camera state, task or timer, only a clip (encoded on the first pull, then
cached on disk and in memory) and, while played, a place in the shared frame clock.

Given a `ptz` source (the ONVIF simulator's `PtzRegistry`), the cameras are PTZ cameras: every
stamp carries the position and the picture shows the heading (see `ptz_view`).
`run_simulator(..., onvif_port=…)` serves ONVIF (device, media, PTZ) beside RTSP on that state,
and WS-Discovery with `discovery_port`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Collection, Container, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from argus.config import Settings
from argus.media.rtsp.messages import Request
from argus.media.rtsp.server import (
    NotFound,
    RtspServer,
    RtspStatusError,
    Unauthorized,
    query_params,
)
from argus.media.simulator.cameras import CameraStream, FrameClock
from argus.media.simulator.clips import (
    MAIN_STREAM,
    SUB_STREAM,
    ClipKey,
    ClipStore,
    Codec,
    StreamSettings,
)
from argus.media.simulator.faults import Fault, FaultSyntaxError
from argus.media.simulator.ptz_view import DEFAULT_SECTORS, PtzPositions, PtzView

if TYPE_CHECKING:
    from argus.onvif.motion import MotionSettings
    from argus.onvif.simulator import SimulatedDevice

log = logging.getLogger(__name__)

StreamKind = Literal["main", "sub"]
H265Rule = Callable[[int], bool] | Collection[int] | None
"""Which cameras send H.265: a predicate on the camera id, a set of ids, or None (none)."""
LabelRule = bool | Callable[[int], bool]
"""Whether a camera's picture shows its id (a clip encoded per camera) or the shared clip."""

_PATH = re.compile(r"^/cameras/(\d{1,10})/(main|sub)/?$")


@dataclass(frozen=True, slots=True)
class SimulatorStats:
    """What the simulator is doing now."""

    playing_streams: int
    clocks_running: int
    clips_in_memory: int
    clips_encoded: int
    clips_loaded_from_disk: int


class Simulator:
    """Simulated cameras behind one RTSP server."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8554,
        cache_dir: Path | None = None,
        main: StreamSettings = MAIN_STREAM,
        sub: StreamSettings = SUB_STREAM,
        h265: H265Rule = None,
        label: LabelRule = True,
        camera_ids: Container[int] | None = None,
        session_timeout: float = 60.0,
        clip_memory_limit: int = 512 * 1024 * 1024,
        ptz: PtzPositions | None = None,
        ptz_sectors: int = DEFAULT_SECTORS,
    ) -> None:
        self.settings: dict[StreamKind, StreamSettings] = {"main": main, "sub": sub}
        self.ptz = ptz
        """Where the cameras point (None: fixed cameras, stamps and pictures without a heading)."""
        self.ptz_sectors = ptz_sectors
        self.h265 = h265
        self.label = label
        self.camera_ids = camera_ids
        self.clips = ClipStore(cache_dir, memory_limit=clip_memory_limit)
        self.server = RtspServer(
            self._resolve, host=host, port=port, session_timeout=session_timeout
        )
        self.faults: dict[int, Fault] = {}
        self.clocks: dict[float, FrameClock] = {}

    # lifecycle -------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    async def start(self) -> None:
        await self.server.start()
        log.info("camera simulator on rtsp://%s:%d/cameras/{id}/main", self.host, self.port)

    async def stop(self) -> None:
        await self.server.stop()
        self.clips.close()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # configuration ---------------------------------------------------------------------------

    def url(
        self, camera_id: int, kind: StreamKind = "main", *, fault: Fault | str | None = None
    ) -> str:
        """The RTSP URL of a camera's stream, with a fault in the query if given."""
        url = f"rtsp://{self.host}:{self.port}/cameras/{camera_id}/{kind}"
        if fault:
            url += "?fault=" + quote(str(fault), safe=":,.")
        return url

    def set_fault(self, camera_id: int, fault: Fault | None) -> None:
        """Give a camera a fault now (streams playing take it up at their next frame)."""
        if fault is None:
            self.faults.pop(camera_id, None)
        else:
            self.faults[camera_id] = fault

    def codec_of(self, camera_id: int) -> Codec:
        rule = self.h265
        if rule is None:
            return "h264"
        chosen = rule(camera_id) if callable(rule) else camera_id in rule
        return "h265" if chosen else "h264"

    def labelled(self, camera_id: int) -> bool:
        return self.label(camera_id) if callable(self.label) else self.label

    def clip_key(self, camera_id: int, kind: StreamKind, heading: int | None = None) -> ClipKey:
        label = camera_id if self.labelled(camera_id) else None
        return ClipKey(self.codec_of(camera_id), self.settings[kind], label, heading)

    def ptz_view(self, camera_id: int, kind: StreamKind) -> PtzView | None:
        """How a stream of this camera follows its PTZ position (None without a `ptz` source)."""
        if self.ptz is None:
            return None
        return PtzView(
            camera_id,
            self.ptz,
            self.clips,
            lambda heading: self.clip_key(camera_id, kind, heading),
            self.ptz_sectors,
        )

    async def prepare(
        self,
        camera_ids: Collection[int],
        kinds: Collection[StreamKind],
        headings: Collection[int] | None = None,
    ) -> None:
        """Encode (or load) the clips of these cameras ahead of their first pull.

        For PTZ cameras: the clips of their current headings, or of each of `headings`.
        """
        for camera_id in camera_ids:
            for kind in kinds:
                view = self.ptz_view(camera_id, kind)
                if view is None:
                    await self.clips.get(self.clip_key(camera_id, kind))
                    continue
                for heading in headings if headings is not None else [view.heading()]:
                    await self.clips.get(self.clip_key(camera_id, kind, heading))

    @property
    def stats(self) -> SimulatorStats:
        return SimulatorStats(
            playing_streams=sum(len(clock) for clock in self.clocks.values()),
            clocks_running=sum(1 for clock in self.clocks.values() if clock.running),
            clips_in_memory=self.clips.in_memory,
            clips_encoded=self.clips.encoded,
            clips_loaded_from_disk=self.clips.loaded,
        )

    # the resolver ----------------------------------------------------------------------------

    async def _resolve(self, path: str, request: Request) -> CameraStream:
        match = _PATH.match(path)
        if match is None:
            raise NotFound(f"no simulated camera at {path[:80]}")
        camera_id = int(match.group(1))
        kind: StreamKind = "main" if match.group(2) == "main" else "sub"
        if camera_id > 0xFFFFFFFF or (
            self.camera_ids is not None and camera_id not in self.camera_ids
        ):
            raise NotFound(f"no simulated camera {camera_id}")
        query_fault = _query_fault(request.url)
        fault = query_fault if query_fault is not None else self.faults.get(camera_id)
        if fault is not None and fault.unauthorized:
            raise Unauthorized()
        settings = self.settings[kind]
        clock = self.clocks.get(settings.fps)
        if clock is None:
            clock = self.clocks[settings.fps] = FrameClock(settings.fps)
        view = self.ptz_view(camera_id, kind)
        heading = view.heading() if view is not None else None
        clip = await self.clips.get(self.clip_key(camera_id, kind, heading))
        faults = self.faults

        def current_fault() -> Fault | None:
            return query_fault if query_fault is not None else faults.get(camera_id)

        return CameraStream(
            camera_id=camera_id,
            kind=kind,
            clip=clip,
            clock=clock,
            fault=current_fault,
            credentials=fault.credentials if fault is not None else None,
            host=self.host,
            view=view,
        )


def _query_fault(url: str) -> Fault | None:
    specs = query_params(url).get("fault")
    if not specs:
        return None
    try:
        return Fault.parse(",".join(specs))
    except FaultSyntaxError as exc:
        raise RtspStatusError(400, f"Bad Request ({exc})"[:200]) from None


async def run_simulator(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    ready: asyncio.Event | None = None,
    h265: H265Rule = None,
    label: LabelRule = True,
    main: StreamSettings = MAIN_STREAM,
    sub: StreamSettings = SUB_STREAM,
    camera_ids: Container[int] | None = None,
    onvif_port: int | None = None,
    discovery_port: int | None = None,
    discovery_ids: Iterable[int] | None = None,
    onvif_devices: Callable[[int], SimulatedDevice] | None = None,
    ptz_motion: MotionSettings | None = None,
    data_dir: Path | None = None,
) -> None:
    """Serve simulated cameras until cancelled (what `argus simulate` runs).

    Listens on settings.simulator_host:simulator_port unless host/port are given; clips are
    cached under settings.data_dir / "simulator-clips". `ready` is set once it listens.

    With `onvif_port` (0: any free port) the cameras are PTZ cameras and their ONVIF device,
    media and PTZ services are served on that port of the same host
    (`http://HOST:PORT/onvif/{id}/device_service`), sharing the PTZ state with the streams;
    `onvif_devices` says what each camera is and whom it lets in (default: admin/admin),
    `ptz_motion` how fast it moves, `data_dir` where the shared data with the ONVIF captures is
    (default: found as the scenario readers find it). With `discovery_port` as well, WS-Discovery
    probes sent there (unicast) are answered for `discovery_ids`, else for `camera_ids`.
    """
    ptz = None
    if onvif_port is not None:
        from argus.onvif.ptz_state import PtzRegistry, spread_presets

        # each camera comes with four presets, as an enforcement unit's installer leaves it
        ptz = PtzRegistry(motion=ptz_motion, preset_seed=spread_presets(4))
    simulator = Simulator(
        host=host or settings.simulator_host,
        port=settings.simulator_port if port is None else port,
        cache_dir=settings.data_dir / "simulator-clips",
        main=main,
        sub=sub,
        h265=h265,
        label=label,
        camera_ids=camera_ids,
        ptz=ptz,
    )
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(simulator)
        if ptz is not None and onvif_port is not None:
            from argus.onvif.discovery import DiscoveryResponder
            from argus.onvif.simulator import OnvifSimulator, default_device

            onvif = OnvifSimulator(
                host=simulator.host,
                port=onvif_port,
                ptz=ptz,
                media=simulator,
                devices=onvif_devices or default_device,
                camera_ids=camera_ids,
                data_dir=data_dir,
            )
            await stack.enter_async_context(onvif)
            if discovery_port is not None:
                ids = discovery_ids
                if ids is None and isinstance(camera_ids, Iterable):
                    ids = camera_ids
                if ids is None:
                    raise ValueError("WS-Discovery needs the camera ids it announces")
                responder = DiscoveryResponder(onvif, ids)
                await responder.start(simulator.host, discovery_port)
                stack.callback(responder.close)
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
