"""A small app with the PTZ and mode routers, its caller set by the test (no sign-in)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from argus.api.errors import install_error_handlers
from argus.identity.deps import current_principal
from argus.identity.principal import Principal
from argus.modes.routes import router as modes_router
from argus.modes.service import ModeService
from argus.ptz.routes import router as ptz_router
from argus.ptz.service import PtzService

SignIn = Callable[[Principal], None]


@asynccontextmanager
async def api_client(
    ptz: PtzService, modes: ModeService
) -> AsyncIterator[tuple[httpx.AsyncClient, SignIn]]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(ptz_router)
    app.include_router(modes_router)
    app.state.ptz = ptz
    app.state.modes = modes
    signed: list[Principal] = []
    app.dependency_overrides[current_principal] = lambda: signed[-1]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://argus.test") as client:
        yield client, signed.append


def field_of(response: httpx.Response) -> list[Any]:
    """The locations a 422 names."""
    assert response.status_code == 422, response.text
    return [d["loc"] for d in response.json()["detail"]]
