"""`argus agreements …`: the agreement lifecycle from the command line, acting as a named user.

Every command takes ``--as USERNAME`` and runs with exactly that user's agency and roles, through
the same service as the API: the same checks, the same audit entries. A disabled or unknown user
is refused.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from argus.config import load_settings
from argus.db import make_engine, make_sessionmaker
from argus.errors import ArgusError, FieldError
from argus.identity.lookup import principal_of
from argus.identity.principal import Principal
from argus.registry.query import parse_bbox, parse_point
from argus.registry.service import find_agency_id
from argus.schema import ensure_schema
from argus.sharing.schemas import AgreementCreate, AgreementOut, AgreementPatch
from argus.sharing.service import SharingService
from argus.sharing.vocab import AgreementStatus

app = typer.Typer(no_args_is_help=True)
out = Console()

AsUser = Annotated[str, typer.Option("--as", help="act as this user (their agency and roles)")]
AgreementId = Annotated[int, typer.Argument(help="agreement id")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]
Note = Annotated[str | None, typer.Option(help="why (kept with the agreement and in the log)")]


@contextmanager
def _service() -> Iterator[SharingService]:
    engine = make_engine(load_settings().db_url)
    try:
        ensure_schema(engine)
        yield SharingService(make_sessionmaker(engine))
    finally:
        engine.dispose()


def principal_for(service: SharingService, username: str) -> Principal:
    """The principal of an enabled user, as the API would see them signed in."""
    return principal_of(service.sessions, username=username, client="cli", extra={"via": "cli"})


def _agency_id(service: SharingService, ref: str, field: str) -> int:
    with service.sessions() as session:
        found = find_agency_id(session, ref)
    if found is None:
        raise FieldError(field, f"no agency named {ref!r}", "option")
    return int(found)


def _window(text: str) -> dict[str, Any]:
    """ "22:00-07:00" or "22:00-07:00@fri,sat"."""
    span, _, days = text.partition("@")
    start, sep, end = span.replace("–", "-").partition("-")
    if not sep:
        raise FieldError("window", f"{text!r}: write START-END, e.g. 22:00-07:00[@mon,tue]")
    window: dict[str, Any] = {"start": start.strip(), "end": end.strip()}
    if days:
        window["days"] = [d.strip() for d in days.split(",") if d.strip()]
    return window


def _selector(
    cameras: list[int] | None,
    sites: list[int] | None,
    camera_purposes: list[str] | None,
    districts: list[str] | None,
    bbox: str | None,
    near: str | None,
    radius: float,
) -> dict[str, Any] | None:
    selector: dict[str, Any] = {}
    if cameras:
        selector["camera_ids"] = cameras
    if sites:
        selector["site_ids"] = sites
    if camera_purposes:
        selector["purposes"] = camera_purposes
    if districts:
        selector["districts"] = districts
    if bbox and near:
        raise FieldError("area", "give --bbox or --near, not both", "option")
    if bbox:
        selector["area"] = {"bbox": list(parse_bbox(bbox))}
    elif near:
        lat, lon = parse_point(near)
        selector["area"] = {"circle": {"lat": lat, "lon": lon, "radius_m": radius}}
    return selector or None


def _body(model: type[AgreementCreate] | type[AgreementPatch], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "request"
        raise FieldError(field, str(first.get("msg", "invalid")), "option") from None


def _read_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArgusError(f"{path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ArgusError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ArgusError(f"{path}: give a JSON object with the agreement's fields")
    return data


def _show(agreement: AgreementOut, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(agreement.model_dump_json() + "\n")
        return
    windows = ", ".join(
        f"{w.start}–{w.end}" + (f" {','.join(w.days)}" if w.days else "") for w in agreement.windows
    )
    rows = [
        ("agreement", f"{agreement.id} {agreement.title or ''}".strip()),
        ("status", agreement.status.value),
        ("owner → consumer", f"{agreement.owner_name} → {agreement.consumer_name}"),
        ("cameras", agreement.selector_text),
        ("purposes", ", ".join(agreement.purposes)),
        ("capabilities", ", ".join(agreement.capabilities)),
        ("ptz priority", "" if agreement.ptz_priority is None else str(agreement.ptz_priority)),
        ("windows", f"{windows} ({agreement.timezone})" if windows else "at any hour"),
        ("unless incident", "yes" if agreement.unless_incident else "no"),
        ("valid", f"{agreement.valid_from.isoformat()} – {_when(agreement.valid_until)}"),
        ("legal basis", agreement.legal_basis),
        ("note", agreement.status_note or ""),
        ("version", str(agreement.version)),
    ]
    for key, value in rows:
        out.print(f"[bold]{key}[/bold]: {value}", highlight=False)


def _when(value: datetime | None) -> str:
    return "until revoked" if value is None else value.isoformat()


@app.command("list")
def list_agreements(
    as_user: AsUser,
    status: Annotated[AgreementStatus | None, typer.Option(help="only this status")] = None,
    as_json: AsJson = False,
) -> None:
    """Agreements your agency owns or consumes."""
    with _service() as service:
        found = service.list_agreements(principal_for(service, as_user), status)
    if as_json:
        for agreement in found:
            sys.stdout.write(agreement.model_dump_json() + "\n")
        return
    table = Table(title=f"{len(found)} agreement(s)")
    for column in ("id", "status", "owner", "consumer", "cameras", "purposes", "capabilities"):
        table.add_column(column)
    for a in found:
        table.add_row(
            str(a.id),
            a.status.value,
            a.owner_name,
            a.consumer_name,
            a.selector_text,
            ", ".join(a.purposes),
            ", ".join(a.capabilities),
        )
    out.print(table)


@app.command("show")
def show(agreement_id: AgreementId, as_user: AsUser, as_json: AsJson = False) -> None:
    """Show one agreement."""
    with _service() as service:
        agreement = service.get_agreement(principal_for(service, as_user), agreement_id)
    _show(agreement, as_json)


@app.command("create")
def create(
    as_user: AsUser,
    owner: Annotated[str | None, typer.Option(help="owner agency: id or exact name")] = None,
    consumer: Annotated[str | None, typer.Option(help="consumer agency: id or exact name")] = None,
    title: Annotated[str | None, typer.Option()] = None,
    camera: Annotated[list[int] | None, typer.Option(help="camera id (repeat)")] = None,
    site: Annotated[list[int] | None, typer.Option(help="site id (repeat)")] = None,
    camera_purpose: Annotated[
        list[str] | None, typer.Option(help="standard camera purpose, e.g. 교통단속 (repeat)")
    ] = None,
    district: Annotated[list[str] | None, typer.Option(help="e.g. 북구 (repeat)")] = None,
    bbox: Annotated[str | None, typer.Option(help="min_lon,min_lat,max_lon,max_lat")] = None,
    near: Annotated[str | None, typer.Option(help="lat,lon: a circle of --radius")] = None,
    radius: Annotated[float, typer.Option(help="metres around --near")] = 500.0,
    purpose: Annotated[list[str] | None, typer.Option(help="access purpose (repeat)")] = None,
    capability: Annotated[list[str] | None, typer.Option(help="live, playback, …")] = None,
    ptz_priority: Annotated[int | None, typer.Option(help="1–100, with ptz")] = None,
    window: Annotated[
        list[str] | None, typer.Option(help="22:00-07:00 or 22:00-07:00@fri,sat (repeat)")
    ] = None,
    timezone: Annotated[str | None, typer.Option(help="default Asia/Seoul")] = None,
    unless_incident: Annotated[
        bool, typer.Option(help="allow outside the windows while an incident is open")
    ] = False,
    valid_from: Annotated[str | None, typer.Option(help="ISO 8601; default now")] = None,
    valid_until: Annotated[str | None, typer.Option(help="ISO 8601; default until revoked")] = None,
    legal_basis: Annotated[str | None, typer.Option(help="law and article, agreement")] = None,
    file: Annotated[
        Path | None, typer.Option(help="JSON with the fields of POST /api/agreements")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Draft an agreement (options, or --file; options win over the file)."""
    with _service() as service:
        principal = principal_for(service, as_user)
        data = _read_file(file)
        options: dict[str, Any] = {
            "title": title,
            "selector": _selector(camera, site, camera_purpose, district, bbox, near, radius),
            "purposes": purpose,
            "capabilities": capability,
            "ptz_priority": ptz_priority,
            "windows": [_window(w) for w in window] if window else None,
            "timezone": timezone,
            "unless_incident": unless_incident or None,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "legal_basis": legal_basis,
        }
        if owner is not None:
            options["owner_agency_id"] = _agency_id(service, owner, "owner")
        if consumer is not None:
            options["consumer_agency_id"] = _agency_id(service, consumer, "consumer")
        data.update({k: v for k, v in options.items() if v is not None})
        for needed in ("owner_agency_id", "consumer_agency_id"):
            if needed not in data:
                raise FieldError(needed.removesuffix("_agency_id"), "required", "option")
        agreement = service.create(principal, _body(AgreementCreate, data))
    _show(agreement, as_json)


@app.command("narrow")
def narrow(
    agreement_id: AgreementId,
    as_user: AsUser,
    file: Annotated[Path, typer.Option(help="JSON with the fields to change (PATCH)")],
    as_json: AsJson = False,
) -> None:
    """Narrow an agreement (or edit a draft) with the fields in --file."""
    with _service() as service:
        principal = principal_for(service, as_user)
        body = _body(AgreementPatch, _read_file(file))
        agreement = service.update(principal, agreement_id, body)
    _show(agreement, as_json)


def _transition(
    verb: str, agreement_id: int, as_user: str, note: str | None, as_json: bool
) -> None:
    with _service() as service:
        principal = principal_for(service, as_user)
        agreement = service.transition(principal, agreement_id, verb, note)
    if as_json:
        _show(agreement, True)
        return
    out.print(f"agreement {agreement.id}: {agreement.status.value}")


@app.command("propose")
def propose(agreement_id: AgreementId, as_user: AsUser, as_json: AsJson = False) -> None:
    """Propose a draft to the owner (by the agency that drafted it)."""
    _transition("propose", agreement_id, as_user, None, as_json)


@app.command("accept")
def accept(agreement_id: AgreementId, as_user: AsUser, as_json: AsJson = False) -> None:
    """Accept a proposed agreement (the owner's agency admin)."""
    _transition("accept", agreement_id, as_user, None, as_json)


@app.command("suspend")
def suspend(
    agreement_id: AgreementId, as_user: AsUser, note: Note = None, as_json: AsJson = False
) -> None:
    """Suspend an accepted agreement (the owner's agency admin)."""
    _transition("suspend", agreement_id, as_user, note, as_json)


@app.command("resume")
def resume(agreement_id: AgreementId, as_user: AsUser, as_json: AsJson = False) -> None:
    """Resume a suspended agreement (the owner's agency admin)."""
    _transition("resume", agreement_id, as_user, None, as_json)


@app.command("revoke")
def revoke(
    agreement_id: AgreementId, as_user: AsUser, note: Note = None, as_json: AsJson = False
) -> None:
    """Revoke an agreement for good (the owner's agency admin)."""
    _transition("revoke", agreement_id, as_user, note, as_json)


@app.command("expire")
def expire() -> None:
    """Mark every agreement past its valid_until as expired (listings and changes do it too)."""
    with _service() as service:
        expired = service.expire_due()
    out.print(f"{len(expired)} agreement(s) expired" + (f": {expired}" if expired else ""))
