"""`argus modes …`: a camera's mode schedule, and its mode at a moment (audited as
mode.schedule)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer

from argus.config import load_settings
from argus.db import make_engine, make_sessionmaker, transaction
from argus.errors import FieldError
from argus.modes.schedule import build_schedule
from argus.modes.service import ModeService
from argus.modes.store import set_schedule
from argus.schema import ensure_schema
from argus.sharing.vocab import DEFAULT_TIMEZONE

app = typer.Typer(no_args_is_help=True)


def parse_window_option(text: str) -> dict[str, object]:
    """ "07:00-22:00=enforcement", or with weekdays "09:00-18:00/sat,sun=enforcement"."""
    span, sep, mode = text.rpartition("=")
    times, _, days = span.partition("/")
    start, dash, end = times.partition("-")
    if not sep or not dash:
        raise FieldError(
            "window", f"{text!r} is not START-END[/DAYS]=MODE, e.g. 07:00-22:00=enforcement"
        )
    return {
        "start": start,
        "end": end,
        "days": [d for d in days.split(",") if d] if days else None,
        "mode": mode,
    }


@app.command("set")
def set_command(
    camera: Annotated[int, typer.Argument(help="camera id")],
    window: Annotated[
        list[str] | None,
        typer.Option(
            help="START-END=MODE or START-END/DAYS=MODE, e.g. 07:00-22:00=enforcement; repeat"
        ),
    ] = None,
    otherwise: Annotated[str, typer.Option(help="the mode outside the windows")] = (
        "crime_prevention"
    ),
    timezone: Annotated[str, typer.Option(help="zone of the windows")] = DEFAULT_TIMEZONE,
) -> None:
    """Set a camera's mode schedule."""
    schedule = build_schedule([parse_window_option(w) for w in window or []], otherwise, timezone)
    engine = make_engine(load_settings().db_url)
    try:
        ensure_schema(engine)
        with transaction(make_sessionmaker(engine)) as session:
            set_schedule(session, camera, schedule)
    finally:
        engine.dispose()
    typer.echo(schedule.text())


@app.command("show")
def show(
    camera: Annotated[int, typer.Argument(help="camera id")],
    at: Annotated[str | None, typer.Option(help="ISO 8601 time with offset; default now")] = None,
) -> None:
    """The camera's schedule and its mode at a moment, as JSON (incidents not considered)."""
    moment = None
    if at is not None:
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise FieldError("at", f"{at!r} needs an offset, e.g. 2026-03-04T07:00+09:00")
    engine = make_engine(load_settings().db_url)
    try:
        ensure_schema(engine)
        modes = ModeService(make_sessionmaker(engine))
        schedule = modes.schedule(camera)
        mode = modes.camera_mode(camera, moment)
    finally:
        engine.dispose()
    out = {
        "camera_id": camera,
        "schedule": None if schedule is None else schedule.as_json(),
        "mode": None if mode is None else mode.as_json(),
    }
    typer.echo(json.dumps(out, ensure_ascii=False))
