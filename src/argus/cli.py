"""The `argus` command line: serve, import, scenario, cameras, db."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from argus.config import Settings, load_settings
from argus.db import make_engine, make_sessionmaker, transaction
from argus.errors import ArgusError
from argus.registry.query import CameraQuery, parse_bbox, parse_point
from argus.registry.vocab import CameraType, Purpose
from argus.schema import ensure_schema, upgrade_schema

LAZY: dict[str, tuple[str, str, str]] = {
    "users": ("argus.identity.cli", "app", "User accounts of the agencies."),
    "agreements": ("argus.sharing.cli", "app", "Sharing agreements between agencies."),
    "audit": ("argus.audit.cli", "app", "The audit log and the PIPA ledger."),
    "recording": ("argus.recording.cli", "app", "Recording plans and retention."),
    "export": ("argus.evidence.cli", "app", "Evidence exports: verify a signed export."),
    "incident": ("argus.incidents.cli", "app", "Incidents: raise, close, list."),
    "ptz": ("argus.ptz.cli", "app", "PTZ: the owners' enforcement tours and patrols."),
    "modes": ("argus.modes.cli", "app", "Camera modes: enforcement hours and the rest."),
    "plan": ("argus.planning.cli", "app", "Coverage, redundancy and relocation planning."),
    "check": ("argus.recording.cli", "check_command", ""),
}
"""Command groups imported only when they are run (or listed by --help): name → (module,
attribute, help). Each pulls in its own domain package, so one command starts in about a
second instead of importing every package of Argus (:func:`register_commands`)."""


def register_commands(argv: list[str]) -> None:
    """Add the lazy command groups that ``argv`` (the arguments after ``argus``) may run: the
    one it names, or all of them when it names none of them (``--help``, a mistake)."""
    wanted = [n for n in LAZY if argv[:1] == [n]] or list(LAZY)
    registered = {info.name for info in app.registered_groups}
    registered |= {info.name for info in app.registered_commands}
    for name in wanted:
        if name in registered:
            continue
        module, attribute, help_text = LAZY[name]
        target = getattr(importlib.import_module(module), attribute)
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=name, help=help_text)
        else:
            app.command(name)(target)


app = typer.Typer(
    help="Argus: share the CCTV cameras agencies already own, purpose-bound and audited.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
import_app = typer.Typer(help="Import camera inventories.", no_args_is_help=True)
scenario_app = typer.Typer(help="Reference deployments.", no_args_is_help=True)
cameras_app = typer.Typer(help="Look at the camera registry.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(scenario_app, name="scenario")
app.add_typer(cameras_app, name="cameras")

out = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    return load_settings()


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.db_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=None, default=str) + "\n")


# -- serve -------------------------------------------------------------------------------


@app.command()
def serve(
    bind: Annotated[str | None, typer.Option(help="host:port (default from settings)")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="media worker processes (default: settings, else one per core); "
            "0 pulls the cameras in the API process"
        ),
    ] = None,
) -> None:
    """Serve the API (OpenAPI at /docs) and start the media workers."""
    import os

    import uvicorn

    from argus.api.app import create_app
    from argus.media.workers.plan import WorkerPlan

    settings = load_settings(bind=bind) if bind else _settings()
    engine = make_engine(settings.db_url)
    ensure_schema(engine)
    count = workers if workers is not None else settings.media_workers
    if count is None:
        count = os.cpu_count() or 1
    plan = WorkerPlan(count, settings.host, settings.media_worker_port) if count > 0 else None
    application = create_app(settings, engine, workers=plan, upkeep=True)
    where = "in this process" if plan is None else f"{count} media workers from port {plan.port(0)}"
    err.print(
        f"Argus API on http://{settings.host}:{settings.port} (docs at /docs, player at /player/); "
        f"cameras pulled by {where}"
    )
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="info")


@app.command("media-worker", hidden=True)
def media_worker(
    index: Annotated[int, typer.Option(help="this worker's number, from 0")],
    count: Annotated[int, typer.Option(help="how many workers share the cameras")],
) -> None:
    """One media worker (started by `argus serve`, not by hand)."""
    import uvicorn

    from argus.media.workers.plan import WorkerPlan
    from argus.media.workers.worker import create_worker_app, settings_from_env

    settings, key = settings_from_env()
    plan = WorkerPlan(count, settings.host, settings.media_worker_port)
    engine = make_engine(settings.db_url)
    application = create_worker_app(settings, engine, plan, index, key)
    uvicorn.run(
        application, host=settings.host, port=plan.port(index), log_level="warning", loop="uvloop"
    )


@app.command()
def simulate(
    bind: Annotated[
        str | None, typer.Option(help="host:port (default: settings' simulator host and port)")
    ] = None,
    h265_every: Annotated[
        int,
        typer.Option(help="every Nth camera id sends H.265 (0: none)", min=0),
    ] = 0,
    onvif: Annotated[
        bool, typer.Option(help="serve ONVIF (device, media, PTZ) for every camera too")
    ] = True,
    onvif_port: Annotated[
        int | None, typer.Option(help="ONVIF port (default: settings' simulator_onvif_port)")
    ] = None,
    discovery_port: Annotated[
        int | None, typer.Option(help="answer WS-Discovery probes on this UDP port")
    ] = None,
    discovery_cameras: Annotated[
        str, typer.Option(help="the camera ids discovery announces, FIRST-LAST")
    ] = "1-16",
) -> None:
    """Serve simulated cameras over RTSP: rtsp://HOST:PORT/cameras/{id}/main and /sub, and
    their ONVIF services (PTZ moves show in the picture and the per-frame stamp):
    http://HOST:ONVIF_PORT/onvif/{id}/device_service, login admin / admin."""

    import uvloop

    from argus.media.simulator.service import run_simulator

    settings = _settings()
    host, port = settings.simulator_host, settings.simulator_port
    if bind:
        host, _, port_text = bind.rpartition(":")
        if not host or not port_text.isdigit():
            raise typer.BadParameter("bind must be host:port, for example 127.0.0.1:8554")
        port = int(port_text)
    rule = None if h265_every == 0 else (lambda camera_id: camera_id % h265_every == 0)
    err.print(f"camera simulator on rtsp://{host}:{port}/cameras/{{id}}/main (and /sub)")
    onvif_at = (onvif_port or settings.simulator_onvif_port) if onvif else None
    if onvif_at is not None:
        err.print(f"ONVIF on http://{host}:{onvif_at}/onvif/{{id}}/device_service (admin/admin)")
    first, _, last = discovery_cameras.partition("-")
    if not (first.isdigit() and last.isdigit() and 1 <= int(first) <= int(last)):
        raise typer.BadParameter("--discovery-cameras must be FIRST-LAST, for example 1-16")
    with suppress(KeyboardInterrupt):
        uvloop.run(
            run_simulator(
                settings,
                host=host,
                port=port,
                h265=rule,
                onvif_port=onvif_at,
                discovery_port=discovery_port if onvif_at is not None else None,
                discovery_ids=range(int(first), int(last) + 1),
            )
        )


# -- db ----------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the schema, or bring it to the newest version."""
    settings = _settings()
    with _engine(settings) as engine:
        before, after = upgrade_schema(engine)
    err.print(f"database {engine.url.render_as_string(hide_password=True)}: {before} → {after}")


# -- import ------------------------------------------------------------------------------


@import_app.command("cctv-std")
def import_cctv_std(
    file: Annotated[Path, typer.Argument(help="CSV (CP949/EUC-KR or UTF-8) or GeoJSON file")],
    strict: Annotated[bool, typer.Option(help="import nothing if any row is unusable")] = False,
    dry_run: Annotated[bool, typer.Option(help="report only; write nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Import the national CCTV standard data (전국CCTV표준데이터), any of its layouts."""
    from argus.registry.importer import StandardDataImport
    from argus.registry.stdimport import parse_file

    if not file.is_file():
        raise ArgusError(f"{file}: no such file")
    settings = _settings()
    show = not as_json and err.is_terminal
    with _progress(show) as progress:
        task = progress.add_task("reading", total=None)
        parsed = parse_file(file, progress=lambda n: progress.update(task, completed=n))
        progress.update(task, total=parsed.total_rows, completed=parsed.total_rows)
        write = progress.add_task("writing", total=sum(r.count for r in parsed.rows))
        with _engine(settings) as engine:
            ensure_schema(engine)
            sessions = make_sessionmaker(engine)
            job = StandardDataImport(parsed)
            with sessions() as session:  # one transaction: all of the file or nothing
                summary = job.run(
                    session,
                    strict=strict,
                    progress=lambda n: progress.update(write, completed=n),
                )
                if dry_run:
                    session.rollback()
                else:
                    session.commit()
            summary.dry_run = dry_run
            summary.written = not dry_run
    if as_json:
        _print_json(summary.as_json())
        return
    _print_import(summary.as_json())


def _print_import(summary: dict[str, Any]) -> None:
    head = "dry run, nothing written: " if summary["dry_run"] else ""
    out.print(
        f"{head}{summary['file']} ({summary['layout']}, {summary['format']}, "
        f"{summary['encoding']}): {summary['rows']} rows, {summary['imported']} usable, "
        f"{len({r['line'] for r in summary['rejected']})} rejected; {summary['sites']} sites, "
        f"{summary['cameras']} cameras, {len(summary['agencies'])} agencies"
    )
    out.print(
        "cameras created {c}, updated {u}, unchanged {n}; sites created {s}".format(
            c=summary["created"].get("cameras", 0),
            u=summary["updated"].get("cameras", 0),
            n=summary["unchanged"].get("cameras", 0),
            s=summary["created"].get("sites", 0),
        )
    )
    for kind in ("rejected", "warnings"):
        items = summary[kind]
        if not items:
            continue
        out.print(f"{kind} ({len(items)}):")
        for item in items[:50]:
            column = f" [{item['column']}]" if item["column"] else ""
            out.print(f"  line {item['line']}{column}: {item['reason']}", markup=False)
        if len(items) > 50:
            out.print(f"  … and {len(items) - 50} more (use --json for all)")


@contextmanager
def _progress(show: bool) -> Iterator[Progress]:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not show,
        transient=True,
    )
    with progress:
        yield progress


# -- scenario ----------------------------------------------------------------------------


@scenario_app.command("gwangju")
def scenario_gwangju(
    seed: Annotated[int, typer.Option(help="seed of the generated parts")] = 2026,
    data: Annotated[
        Path | None,
        typer.Option(help="the shared public data folder (default: ../shared/data)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    demo_accounts: Annotated[
        bool, typer.Option(help="also create the demo sign-in accounts (see the README)")
    ] = False,
    demo_tours: Annotated[
        int,
        typer.Option(
            help="give this many district enforcement PTZ cameras a tour and 07–22 schedule",
            min=0,
            max=100,
        ),
    ] = 0,
) -> None:
    """Build the Gwangju reference deployment (real sites, generated district cameras)."""
    from argus.scenario import plan_gwangju
    from argus.scenario.writer import find_data_dir, write_plan

    settings = _settings()
    data_dir = find_data_dir(data)
    plan = plan_gwangju(data_dir, seed=seed)
    with _engine(settings) as engine:
        ensure_schema(engine)
        with transaction(make_sessionmaker(engine)) as session:
            result = write_plan(session, plan, settings)
        if demo_tours:
            from argus.scenario.demo_ptz import demo_tours as make_tours

            with transaction(make_sessionmaker(engine)) as session:
                result["demo_tours"] = make_tours(session, demo_tours)
            if result["demo_tours"] and not as_json:
                err.print(f"enforcement tours and schedules for cameras {result['demo_tours']}")
        if demo_accounts:
            from argus.scenario.accounts import DEMO_PASSWORD, create_demo_accounts

            result["demo_accounts"] = create_demo_accounts(engine)
            if result["demo_accounts"] and not as_json:
                err.print(
                    f"demo accounts created: {', '.join(result['demo_accounts'])} "
                    f"(password {DEMO_PASSWORD}; for a demo on 127.0.0.1 only)",
                    markup=False,
                )
    if as_json:
        _print_json(result)
        return
    out.print(
        f"Gwangju scenario (seed {seed}): {result['agencies']} agencies, {result['sites']} sites, "
        f"{result['cameras']} cameras; created {result['created']['cameras']} cameras, "
        f"{result['created']['sites']} sites"
    )


# -- cameras -----------------------------------------------------------------------------


def _registry(engine: Engine, settings: Settings) -> Any:
    from argus.registry.service import Registry
    from argus.secretbox import load_secret_box

    return Registry(make_sessionmaker(engine), load_secret_box(settings))


@cameras_app.command("list")
def cameras_list(
    agency_id: Annotated[int | None, typer.Option("--agency", help="owner agency id")] = None,
    district: Annotated[str | None, typer.Option(help="동구, or 광주광역시 동구")] = None,
    purpose: Annotated[Purpose | None, typer.Option(help="standard purpose")] = None,
    camera_type: Annotated[CameraType | None, typer.Option("--type")] = None,
    bbox: Annotated[str | None, typer.Option(help="min_lon,min_lat,max_lon,max_lat")] = None,
    near: Annotated[str | None, typer.Option(help="lat,lon")] = None,
    radius: Annotated[float, typer.Option(help="metres around --near")] = 500.0,
    q: Annotated[str | None, typer.Option(help="text in name or address")] = None,
    limit: Annotated[int, typer.Option(help="rows in the table (not with --json)")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="every match as JSON Lines")] = False,
) -> None:
    """List cameras (a table of the first --limit, or every match with --json)."""
    query = CameraQuery(
        agency_id=agency_id,
        district=district,
        purpose=purpose,
        camera_type=camera_type,
        bbox=parse_bbox(bbox) if bbox else None,
        near=parse_point(near) if near else None,
        radius_m=radius,
        q=q,
    )
    settings = _settings()
    with _engine(settings) as engine:
        ensure_schema(engine)
        registry = _registry(engine, settings)
        if as_json:
            for camera in registry.iter_cameras(query):
                sys.stdout.write(camera.model_dump_json() + "\n")
            return
        sort = ("distance", False) if near else ("id", False)
        page = registry.list_cameras(query, sort, limit=limit)
    table = Table(
        title=f"{page.total} camera(s)" + (f", first {limit}" if page.total > limit else "")
    )
    for column in ("id", "owner", "district", "purpose", "type", "address", "distance m"):
        table.add_column(column)
    for cam in page.items:
        table.add_row(
            str(cam.id),
            cam.owner_name,
            cam.district or "",
            cam.purpose.value,
            cam.camera_type.value,
            cam.lot_address or cam.road_address or "",
            "" if cam.distance_m is None else f"{cam.distance_m:.0f}",
        )
    out.print(table)


@cameras_app.command("show")
def cameras_show(
    camera_id: Annotated[int, typer.Argument(help="camera id")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show one camera."""
    settings = _settings()
    with _engine(settings) as engine:
        ensure_schema(engine)
        camera = _registry(engine, settings).get_camera(camera_id)
    if as_json:
        sys.stdout.write(camera.model_dump_json() + "\n")
        return
    for key, value in camera.model_dump().items():
        out.print(f"[bold]{key}[/bold]: {value}", highlight=False)


def main() -> None:
    try:
        register_commands(sys.argv[1:])
        app()
    except ArgusError as exc:
        sys.stderr.write(f"argus: {exc}\n")
        sys.exit(2)
    except OperationalError as exc:
        sys.stderr.write(f"argus: database error: {exc.orig}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
