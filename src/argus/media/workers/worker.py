"""One media worker process: its share of the cameras, their viewers, on its own port."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from argus import __version__
from argus.api.errors import install_error_handlers
from argus.api.services import build_services
from argus.config import Settings
from argus.db import make_sessionmaker
from argus.media.hls_routes import router as hls_router
from argus.media.pulling import rtsp_puller_factory
from argus.media.routes import live_router
from argus.media.rtsp_out import RtspOut
from argus.media.service import MediaService
from argus.media.streams import PullerFactory
from argus.media.workers.internal import router as internal_router
from argus.media.workers.plan import WorkerPlan
from argus.media.workers.pool import SETTINGS_ENV
from argus.registry.service import Registry
from argus.secretbox import load_secret_box


def create_worker_app(
    settings: Settings,
    engine: Engine,
    plan: WorkerPlan,
    index: int,
    key: str,
    *,
    puller_factory: PullerFactory | None = None,
) -> FastAPI:
    """The worker's app: live views (and HLS) of its cameras, and the internal API."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await media.start()
        rtsp_out: RtspOut | None = None
        if settings.media_rtsp_port is not None:
            port = settings.media_rtsp_port + index if settings.media_rtsp_port else 0
            rtsp_out = RtspOut(
                media, services.access, services.bus, host=settings.host, port=port, digest=False
            )
            await rtsp_out.start()
        try:
            yield
        finally:
            if rtsp_out is not None:
                await rtsp_out.stop()
            await media.stop()

    app = FastAPI(title=f"Argus media worker {index}", version=__version__, lifespan=lifespan)
    services = build_services(settings, engine)
    registry = Registry(make_sessionmaker(engine), load_secret_box(settings))
    media = MediaService(
        settings,
        registry,
        services.access,
        services.bus,
        puller_factory or rtsp_puller_factory,
        serves=lambda camera_id: plan.worker_for(camera_id) == index,
    )
    app.state.settings = settings
    app.state.access = services.access
    app.state.bus = services.bus
    app.state.media = media
    app.state.worker_key = key
    app.state.worker_index = index
    install_error_handlers(app)
    app.include_router(live_router)
    app.include_router(hls_router)
    app.include_router(internal_router)
    return app


def settings_from_env() -> tuple[Settings, str]:
    """The settings and key the API process handed its workers."""
    text = os.environ.get(SETTINGS_ENV)
    key = os.environ.get("ARGUS_WORKER_KEY")
    if not text or not key:
        raise SystemExit("a media worker is started by `argus serve`, not by hand")
    return Settings.model_validate_json(text), key
