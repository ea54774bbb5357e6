"""The FastAPI application: settings, database, registry, routers and error handling."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from argus import __version__
from argus.api.services import build_services
from argus.audit.routes import router as audit_router
from argus.config import Settings
from argus.db import make_engine, make_sessionmaker
from argus.errors import ArgusError, FieldError
from argus.identity.routes import router as identity_router
from argus.registry.routes import router as registry_router
from argus.registry.service import Registry
from argus.secretbox import load_secret_box
from argus.sharing.access_routes import router as access_router
from argus.sharing.routes import router as sharing_router


def _validation_message(errors: list[Any]) -> str:
    parts = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        parts.append(f"{'.'.join(loc) or 'request'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    detail = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors
    ]
    return JSONResponse(
        status_code=422,
        content={
            "message": _validation_message(errors),
            "code": "invalid_request",
            "detail": detail,
        },
    )


async def _on_argus_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ArgusError)
    content: dict[str, Any] = {"message": str(exc), "code": exc.code}
    if isinstance(exc, FieldError):
        content["detail"] = [
            {"loc": [exc.location, exc.field], "msg": exc.message, "type": "value_error"}
        ]
    return JSONResponse(status_code=exc.status_code, content=content)


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The API over ``settings``' database (or ``engine``), with the schema already upgraded."""
    engine = engine or make_engine(settings.db_url)
    sessions = make_sessionmaker(engine)
    app = FastAPI(
        title="Argus",
        version=__version__,
        description="Share the CCTV cameras agencies already own: purpose-bound and audited.",
    )
    services = build_services(settings, engine)
    app.state.settings = settings
    app.state.engine = engine
    app.state.registry = Registry(sessions, load_secret_box(settings))
    app.state.identity = services.identity
    app.state.sharing = services.sharing
    app.state.access = services.access
    app.state.bus = services.bus
    app.state.audit = services.audit
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(ArgusError, _on_argus_error)
    app.include_router(identity_router)
    app.include_router(registry_router)
    app.include_router(sharing_router)
    app.include_router(access_router)
    app.include_router(audit_router)

    @app.get("/api/health", tags=["system"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__, "database": engine.dialect.name}

    return app
