"""`argus incident …`: raise, activate and close incidents on the running server, and list them.

Raising and closing go to the running `argus serve` (``--server``, by default the settings'
bind address) as signed webhook requests with this deployment's incident key, exactly as a
112 or 119 room's system would send them: the server selects the cameras, grants them and
pushes the incident to the console. Without a running server nothing is raised, and the
command says so. `argus incident list` reads the database directly.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from argus.config import Settings, load_settings
from argus.db import make_engine, make_sessionmaker
from argus.errors import ArgusError
from argus.events import EventBus
from argus.identity.principal import Principal, Role
from argus.incidents.cameras import RegistryCameraPicker
from argus.incidents.service import IncidentService
from argus.incidents.vocab import default_source, parse_type
from argus.incidents.webhook import load_key, sign
from argus.registry.query import parse_point
from argus.schema import ensure_schema

app = typer.Typer(no_args_is_help=True)


def _server(settings: Settings, server: str | None) -> str:
    return (server or f"http://{settings.bind}").rstrip("/")


def _post(settings: Settings, server: str | None, path: str, body: bytes, kind: str) -> Any:
    url = _server(settings, server) + path
    headers = {"Content-Type": kind, **sign(load_key(Path(settings.data_dir)), body)}
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=10.0)
    except httpx.HTTPError as exc:
        raise ArgusError(
            f"no Argus server answers at {url} ({exc.__class__.__name__}): start it with "
            "`make demo` or `argus serve`, or give --server"
        ) from None
    try:
        payload = response.json()
    except ValueError:
        payload = {"message": response.text}
    if response.status_code >= 400:
        raise ArgusError(f"the server refused ({response.status_code}): {payload.get('message')}")
    return payload


def _show(incident: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(incident, ensure_ascii=False) + "\n")
        return
    typer.echo(
        f"incident {incident['id']}: {incident['source']} {incident['type_label']}, "
        f"{incident['status']}, at {incident['lat']:.5f},{incident['lon']:.5f} "
        f"r={incident['radius_m']:.0f} m"
    )
    if not incident["provides"]:
        typer.echo(f"  no video: {incident['provision_reason']}")
        return
    typer.echo(f"  video for {incident['responding_agency']}: {incident['provision_reason']}")
    for camera in incident["cameras"]:
        typer.echo(
            f"  #{camera['rank']} camera {camera['camera_id']} {camera['distance_m']:.0f} m, "
            f"facing {camera['facing']}  {camera['owner'] or ''} {camera['name'] or ''}"
        )


@app.command("raise")
def raise_command(
    kind: Annotated[str, typer.Option("--type", help="assault, fire, flood, emergency_bell, …")],
    at: Annotated[str, typer.Option(help="lat,lon, for example 35.1468,126.9222")],
    source: Annotated[
        str | None, typer.Option(help="112, 119, disaster_room, emergency_bell, operator")
    ] = None,
    radius: Annotated[float | None, typer.Option(help="metres (default from settings)")] = None,
    priority: Annotated[int | None, typer.Option(min=1, max=5)] = None,
    title: Annotated[str | None, typer.Option()] = None,
    external_id: Annotated[
        str | None, typer.Option(help="the room's id of the report (default: a new one)")
    ] = None,
    agency: Annotated[
        int | None, typer.Option("--agency", help="the responding agency's id")
    ] = None,
    server: Annotated[str | None, typer.Option(help="the running server's URL")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Raise an incident on the running server, as the room's system would."""
    settings = load_settings()
    code = parse_type(kind, "--type")
    lat, lon = parse_point(at, "--at")
    incident: dict[str, Any] = {
        "source": source or default_source(code).value,
        "type": code,
        "at": {"lat": lat, "lon": lon},
        "external_id": external_id or f"cli-{uuid.uuid4()}",
    }
    for key, value in (
        ("radius_m", radius),
        ("priority", priority),
        ("title", title),
        ("responding_agency_id", agency),
    ):
        if value is not None:
            incident[key] = value
    body = json.dumps({"action": "raise", "incident": incident}, ensure_ascii=False).encode()
    _show(_post(settings, server, "/api/incidents/webhook", body, "application/json"), as_json)


def _change(action: str, incident_id: int, reason: str, server: str | None, as_json: bool) -> None:
    settings = load_settings()
    body = json.dumps({"action": action, "incident_id": incident_id, "reason": reason}).encode()
    _show(_post(settings, server, "/api/incidents/webhook", body, "application/json"), as_json)


@app.command("activate")
def activate_command(
    incident_id: Annotated[int, typer.Argument()],
    server: Annotated[str | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Mark an incident as being worked."""
    _change("activate", incident_id, "", server, as_json)


@app.command("close")
def close_command(
    incident_id: Annotated[int, typer.Argument()],
    reason: Annotated[str, typer.Option()] = "",
    server: Annotated[str | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Close an incident: its live views end within a second."""
    _change("close", incident_id, reason, server, as_json)


@app.command("cap")
def cap_command(
    file: Annotated[Path, typer.Argument(help="a CAP 1.2 alert (XML)")],
    server: Annotated[str | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Send a CAP 1.2 alert to the running server, as the disaster room would."""
    settings = load_settings()
    body = file.read_bytes()
    _show(_post(settings, server, "/api/incidents/cap", body, "application/cap+xml"), as_json)


@app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help="open, active, closed or live")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The latest incidents (from the database)."""
    settings = load_settings()
    engine = make_engine(settings.db_url)
    try:
        ensure_schema(engine)
        sessions = make_sessionmaker(engine)
        service = IncidentService(
            settings, sessions, EventBus(), RegistryCameraPicker(sessions), lambda _id: None
        )
        reader = Principal(0, "cli", 0, frozenset({Role.SYSTEM_ADMIN}))
        for incident in service.list_for(reader, status, limit):
            _show(incident.model_dump(mode="json"), as_json)
    finally:
        engine.dispose()


@app.command("key")
def key_command() -> None:
    """Print the key that signs webhook and CAP requests (give it to the rooms' systems)."""
    settings = load_settings()
    typer.echo(load_key(Path(settings.data_dir)).decode())
