"""The FastAPI application: settings, database, registry, routers and error handling."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from argus import __version__
from argus.api.errors import install_error_handlers
from argus.api.services import build_services
from argus.audit.routes import router as audit_router
from argus.config import Settings
from argus.console.routes import api as console_api
from argus.console.routes import router as console_router
from argus.db import make_engine, make_sessionmaker
from argus.events import EventBus
from argus.evidence.routes import router as export_router
from argus.evidence.service import ExportService
from argus.identity.routes import router as identity_router
from argus.incidents.cameras import RegistryCameraPicker
from argus.incidents.push import IncidentPush
from argus.incidents.routes import router as incident_router
from argus.incidents.service import IncidentChanged, IncidentService
from argus.incidents.webhook import load_key as load_incident_key
from argus.keyfiles import read_or_create
from argus.media.front import InProcessFront, MediaFront
from argus.media.hls_routes import router as hls_router
from argus.media.live_ws import LiveViews
from argus.media.player_routes import router as player_router
from argus.media.pulling import rtsp_puller_factory
from argus.media.routes import live_router
from argus.media.routes import router as media_router
from argus.media.rtsp_out import RtspOut
from argus.media.service import MediaService
from argus.media.streams import PullerFactory
from argus.media.workers.plan import WorkerPlan
from argus.media.workers.pool import WorkerPool
from argus.modes.routes import router as modes_router
from argus.modes.service import ModeService
from argus.planning.routes import router as planning_router
from argus.planning.service import Planner
from argus.ptz.arbitration import parse_order
from argus.ptz.authz import sharing_authorizer
from argus.ptz.onvif_drivers import OnvifDrivers
from argus.ptz.routes import router as ptz_router
from argus.ptz.service import PtzService
from argus.recording.playback_ws import PlaybackServer
from argus.recording.routes import router as recording_router
from argus.recording.upkeep import RecordingUpkeep
from argus.recording.volumes import volumes_of
from argus.registry.routes import router as registry_router
from argus.registry.service import Registry
from argus.secretbox import load_secret_box
from argus.sharing.access_routes import router as access_router
from argus.sharing.routes import router as sharing_router

WORKER_KEY_FILE = "media-worker.key"


def follow_incidents(
    bus: EventBus, app: FastAPI, loop: asyncio.AbstractEventLoop
) -> Callable[[], None]:
    """When an incident opens or closes, its cameras' modes change: re-read the tours at once
    (a camera an incident lists stops touring; after the close it tours again), rather than at
    the PTZ service's next periodic re-read; and at the close, end the PTZ control resting on
    the incident."""
    pending: set[asyncio.Task[object]] = set()

    def run(work: Coroutine[Any, Any, object]) -> None:
        task = loop.create_task(work)
        pending.add(task)
        task.add_done_callback(pending.discard)

    def changed(event: IncidentChanged) -> None:
        if event.change == "closed":  # PTZ control resting on it ends with it
            run(app.state.ptz.end_grant(f"incident:{event.incident.id}"))
        run(app.state.ptz.sync_tours())

    def on_event(event: object) -> None:
        if isinstance(event, IncidentChanged) and event.change in ("raised", "closed"):
            loop.call_soon_threadsafe(changed, event)

    return bus.subscribe(on_event)


def create_app(
    settings: Settings,
    engine: Engine | None = None,
    *,
    puller_factory: PullerFactory | None = None,
    workers: WorkerPlan | None = None,
    upkeep: bool = False,
) -> FastAPI:
    """The API over ``settings``' database (or ``engine``), with the schema already upgraded.

    With ``workers``, media worker processes pull the cameras and serve the viewers; without,
    this process does, pulling with ``puller_factory`` (default: RTSP over the network). With
    ``upkeep`` (as `argus serve` runs it), this process sweeps retention and keeps the storage
    floor of the recording volumes."""
    engine = engine or make_engine(settings.db_url)
    sessions = make_sessionmaker(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await app.state.media_front.start()
        await app.state.ptz.start()
        stop_following = follow_incidents(services.bus, app, asyncio.get_running_loop())
        playback_views.attach(asyncio.get_running_loop())
        if recording_upkeep is not None:
            recording_upkeep.start()
        rtsp_out: RtspOut | None = None
        if workers is None and settings.media_rtsp_port is not None:
            rtsp_out = RtspOut(
                app.state.media,
                services.access,
                services.bus,
                host=settings.host,
                port=settings.media_rtsp_port,
            )
            await rtsp_out.start()
        app.state.rtsp_out = rtsp_out
        try:
            yield
        finally:
            if recording_upkeep is not None:
                await recording_upkeep.stop()
            playback_views.close()
            stop_following()
            await app.state.ptz.close()
            if rtsp_out is not None:
                await rtsp_out.stop()
            await app.state.media_front.stop()

    app = FastAPI(
        title="Argus",
        version=__version__,
        description="Share the CCTV cameras agencies already own: purpose-bound and audited.",
        lifespan=lifespan,
    )
    services = build_services(settings, engine)
    registry = Registry(sessions, load_secret_box(settings))
    app.state.settings = settings
    app.state.engine = engine
    app.state.rtsp_out = None
    app.state.registry = registry
    app.state.identity = services.identity
    app.state.sharing = services.sharing
    app.state.access = services.access
    app.state.bus = services.bus
    app.state.audit = services.audit
    playback_views = LiveViews(services.bus)
    app.state.playback = PlaybackServer(
        services.access, sessions, volumes_of(settings), playback_views
    )
    app.state.exports = ExportService(settings, sessions, services.sharing)
    incidents = IncidentService(
        settings,
        sessions,
        services.bus,
        RegistryCameraPicker(sessions),
        services.access.on_incident_closed,
    )
    services.sharing.incidents = incidents.lookup
    app.state.incidents = incidents
    app.state.incident_push = IncidentPush(services.bus, incidents)
    app.state.incident_key = load_incident_key(Path(settings.data_dir))
    modes = ModeService(sessions, incident_cameras=lambda _at: incidents.in_use().keys())
    services.sharing.camera_modes = modes.with_mode
    app.state.modes = modes
    app.state.planner = Planner(sessions)
    # PTZ leases live in this process's memory: one API process controls the cameras
    app.state.ptz = PtzService(
        sessions,
        OnvifDrivers(registry),
        sharing_authorizer(services.sharing),
        tours=modes,
        arbitration=parse_order(settings.ptz_priority_order),
        idle_release=timedelta(seconds=settings.ptz_idle_release_s),
        max_hold=timedelta(seconds=settings.ptz_max_hold_s),
        notify=services.bus.publish,
    )
    recording_upkeep = RecordingUpkeep(settings, sessions, app.state.exports) if upkeep else None
    front: MediaFront
    if workers is None:
        app.state.media = MediaService(
            settings,
            registry,
            services.access,
            services.bus,
            puller_factory or rtsp_puller_factory,
        )
        front = InProcessFront(
            app.state.media, lambda: app.state.rtsp_out.port if app.state.rtsp_out else None
        )
        app.include_router(live_router)
        app.include_router(hls_router)
    else:
        key = read_or_create(
            Path(settings.data_dir) / WORKER_KEY_FILE, lambda: secrets.token_urlsafe(32).encode()
        ).decode()
        front = WorkerPool(settings, workers, key, services.bus, services.access.live)
    app.state.media_front = front
    install_error_handlers(app)
    app.include_router(identity_router)
    app.include_router(registry_router)
    app.include_router(sharing_router)
    app.include_router(access_router)
    app.include_router(audit_router)
    app.include_router(media_router)
    app.include_router(player_router)
    app.include_router(recording_router)
    app.include_router(export_router)
    app.include_router(incident_router)
    app.include_router(ptz_router)
    app.include_router(modes_router)
    app.include_router(planning_router)
    app.include_router(console_router)
    app.include_router(console_api)

    @app.get("/api/health", tags=["system"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__, "database": engine.dialect.name}

    return app
