"""The API's error responses: every error is JSON {message, code[, detail]}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from argus.errors import ArgusError, FieldError


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


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(ArgusError, _on_argus_error)
