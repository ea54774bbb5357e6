"""`argus check` (the recording fsck) and `argus recording …` (plans, retention sweep)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from argus.config import load_settings
from argus.db import make_engine, make_sessionmaker, transaction
from argus.errors import FieldError
from argus.recording.check import check
from argus.recording.lock import RecordingLock
from argus.recording.plans import parse_windows, set_plans
from argus.recording.retention import enforce_floor, sweep
from argus.recording.triggers import start_triggers
from argus.recording.volumes import volumes_of
from argus.schema import ensure_schema

app = typer.Typer(no_args_is_help=True)


def check_command(
    repair: Annotated[
        bool, typer.Option(help="fix what can be fixed (stop 'argus serve' first)")
    ] = False,
    deep: Annotated[bool, typer.Option(help="also parse every segment and compare hashes")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Check that the recording index matches the files on disk (invariant 4)."""
    settings = load_settings()
    engine = make_engine(settings.db_url)
    lock = RecordingLock(settings.data_dir)
    try:
        ensure_schema(engine)
        live = False
        if repair:
            lock.acquire_exclusive()
        else:
            live = lock.held_by_others()
        report = check(
            make_sessionmaker(engine), volumes_of(settings), repair=repair, deep=deep, live=live
        )
    finally:
        lock.release()
        engine.dispose()
    if as_json:
        sys.stdout.write(json.dumps(report.as_json(), ensure_ascii=False) + "\n")
    else:
        for problem in report.problems:
            line = f"{problem.kind}: {problem.message}"
            if problem.repaired:
                line += f" — repaired: {problem.repaired}"
            typer.echo(line)
        verdict = "ok" if report.ok else "PROBLEMS FOUND"
        recording = f", {report.recording} being recorded" if report.recording else ""
        typer.echo(
            f"{verdict}: {report.segments} indexed segments, {report.files} files{recording}, "
            f"{len(report.problems)} problems"
        )
    raise typer.Exit(0 if report.ok else 1)


@app.command("plan")
def plan(
    cameras: Annotated[list[int], typer.Argument(help="camera ids")],
    mode: Annotated[str, typer.Option(help="continuous, scheduled or off")] = "continuous",
    window: Annotated[
        list[str] | None,
        typer.Option(help='a local-time window for scheduled plans, e.g. "22:00-07:00"'),
    ] = None,
    timezone: Annotated[str, typer.Option(help="zone of the windows")] = "Asia/Seoul",
    stream: Annotated[str, typer.Option(help="main or sub")] = "main",
) -> None:
    """Set how cameras are recorded (media workers pick the change up within seconds)."""
    raw = []
    for text in window or []:
        start, sep, end = text.partition("-")
        if not sep:
            raise FieldError("window", f"{text!r} is not HH:MM-HH:MM", "body")
        raw.append({"start": start, "end": end, "days": None})
    windows = parse_windows(raw)
    settings = load_settings()
    engine = make_engine(settings.db_url)
    try:
        ensure_schema(engine)
        with transaction(make_sessionmaker(engine)) as session:
            set_plans(session, cameras, mode, stream, windows, timezone)
    finally:
        engine.dispose()
    typer.echo(f"{len(cameras)} cameras: {mode}")


@app.command("trigger")
def trigger(
    cameras: Annotated[list[int], typer.Argument(help="camera ids")],
    reason: Annotated[str, typer.Option(help="why: the incident, the report")],
    minutes: Annotated[float, typer.Option(help="how long to record")] = 30.0,
    incident: Annotated[int | None, typer.Option(help="the incident's id")] = None,
) -> None:
    """Record cameras from now for a while, whatever their plans (recording on incident)."""
    settings = load_settings()
    engine = make_engine(settings.db_url)
    try:
        ensure_schema(engine)
        ids = start_triggers(
            make_sessionmaker(engine), cameras, minutes, reason, incident_id=incident
        )
    finally:
        engine.dispose()
    typer.echo(f"{len(ids)} cameras recorded for {minutes:g} minutes (triggers {ids})")


@app.command("sweep")
def sweep_command() -> None:
    """Destroy footage past retention and below the storage floor now (written to the ledger)."""
    settings = load_settings()
    engine = make_engine(settings.db_url)
    try:
        ensure_schema(engine)
        sessions = make_sessionmaker(engine)
        volumes = volumes_of(settings)
        report = sweep(sessions, volumes)
        floors = [enforce_floor(sessions, v) for v in volumes]
    finally:
        engine.dispose()
    typer.echo(
        json.dumps({"retention": report.as_json(), "volumes": [f.as_json() for f in floors]})
    )
