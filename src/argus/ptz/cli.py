"""`argus ptz …`: the owner's tours of a camera from the command line (audited as ptz.tour).

A running `argus serve` picks a changed tour up at its next re-read of tours (30 s).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from argus.config import load_settings
from argus.db import make_engine, make_sessionmaker, transaction
from argus.errors import FieldError
from argus.ptz.store import load_tours, put_tour
from argus.ptz.tours import build_tour
from argus.schema import ensure_schema

app = typer.Typer(no_args_is_help=True)


def parse_stop(text: str) -> dict[str, object]:
    """ "gate=20": preset token gate, dwell 20 s."""
    preset, sep, dwell = text.rpartition("=")
    if not sep or not preset.strip() or not dwell.strip().isdigit():
        raise FieldError("stop", f"{text!r} is not PRESET=SECONDS, e.g. 1=20", "body")
    return {"preset": preset.strip(), "dwell_s": int(dwell)}


@app.command("tour")
def set_tour(
    camera: Annotated[int, typer.Argument(help="camera id")],
    stop: Annotated[list[str], typer.Option(help="PRESET=SECONDS, in tour order; repeat")],
    kind: Annotated[str, typer.Option(help="enforcement or patrol")] = "enforcement",
    revisit: Annotated[
        int | None, typer.Option(help="enforcement: seconds to the second photo, 300–600")
    ] = None,
    enabled: Annotated[bool, typer.Option(help="whether the tour runs")] = True,
) -> None:
    """Set a camera's enforcement tour or idle patrol."""
    tour = build_tour(camera, kind, [parse_stop(s) for s in stop], revisit, enabled)
    engine = make_engine(load_settings().db_url)
    try:
        ensure_schema(engine)
        with transaction(make_sessionmaker(engine)) as session:
            put_tour(session, tour)
    finally:
        engine.dispose()
    typer.echo(json.dumps(tour.as_json(), ensure_ascii=False))


@app.command("tours")
def list_tours(
    camera: Annotated[int | None, typer.Argument(help="only this camera")] = None,
) -> None:
    """The tours, one JSON object a line (disabled ones too)."""
    engine = make_engine(load_settings().db_url)
    try:
        ensure_schema(engine)
        with make_sessionmaker(engine)() as session:
            tours = load_tours(session, enabled_only=False)
    finally:
        engine.dispose()
    for tour in tours:
        if camera is None or tour.camera_id == camera:
            typer.echo(json.dumps(tour.as_json(), ensure_ascii=False))
