"""`argus audit`: verify, checkpoint, public-key, export, ledger.

The command line reads with the database's own credentials, so it sees every entry; each read
is recorded (action ``audit.read``, client ``cli:<os user>``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer
from sqlalchemy import select

from argus.audit.events import Outcome
from argus.audit.ledger import LedgerQuery
from argus.audit.query import AuditFilter
from argus.audit.service import AuditService, Reader
from argus.audit.signing import load_signer, parse_public_key, public_key_pem
from argus.audit.verify import verify
from argus.cli_report import print_report
from argus.config import load_settings
from argus.db import make_engine
from argus.errors import ArgusError
from argus.registry.models import Agency
from argus.schema import ensure_schema

app = typer.Typer(no_args_is_help=True)


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


class LedgerFormat(StrEnum):
    CSV = "csv"
    HTML = "html"


@contextmanager
def _service() -> Iterator[AuditService]:
    settings = load_settings()
    engine = make_engine(settings.db_url)
    try:
        ensure_schema(engine)
        yield AuditService(engine, settings)
    finally:
        engine.dispose()


def _time(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ArgusError(
            f"{option}: {value!r} is not an ISO 8601 time (e.g. 2026-03-01 or "
            "2026-03-01T09:00:00+09:00; without an offset it is UTC)"
        ) from None


def _write(pieces: Iterable[str], out: Path | None) -> None:
    if out is None:
        sys.stdout.writelines(pieces)
        return
    with out.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(pieces)


def _say(text: str, stream: TextIO = sys.stderr) -> None:
    stream.write(text + "\n")


@app.command("verify")
def verify_command(
    public_key: Annotated[
        Path | None,
        typer.Option(help="the public key (PEM) to check checkpoints with; default: our own"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Walk the whole log; exit 0 when intact, 1 with one line per finding when not."""
    with _service() as audit:
        key = audit.signer.public_key
        if public_key is not None:
            if not public_key.is_file():
                raise ArgusError(f"{public_key}: no such file")
            key = parse_public_key(public_key.read_text(), source=str(public_key))
        with audit.sessions() as session:
            report = verify(session, key)
        try:
            audit.open_read(Reader.command_line(), "verify", intact=report.intact)
        except Exception as exc:  # a log too damaged to append to is still reported on
            _say(f"argus: the read could not be recorded: {exc}")
    print_report(report, as_json)
    raise typer.Exit(0 if report.intact else 1)


@app.command("checkpoint")
def checkpoint_command() -> None:
    """Sign a checkpoint over the newest entry now (and any missed every-N checkpoint)."""
    with _service() as audit:
        signed = audit.checkpoint()
        key = audit.signer.key_id
    if not signed:
        _say("nothing to sign: the newest entry already has a checkpoint", sys.stdout)
        return
    listed = ", ".join(map(str, signed[:10])) + (" …" if len(signed) > 10 else "")
    _say(f"signed {len(signed)} checkpoint(s) with key {key}: seq {listed}", sys.stdout)


@app.command("public-key")
def public_key_command(
    out: Annotated[Path | None, typer.Option(help="write it to this file")] = None,
) -> None:
    """Print the public key (PEM) that verifies the checkpoints, for auditors."""
    pem = public_key_pem(load_signer(load_settings()).public_key)
    _write([pem], out)


@app.command("export")
def export_command(
    export_format: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.JSONL,
    out: Annotated[Path | None, typer.Option(help="file (default: standard output)")] = None,
    actor: Annotated[int | None, typer.Option(help="actor user id")] = None,
    agency: Annotated[int | None, typer.Option(help="actor or owner agency id")] = None,
    camera: Annotated[int | None, typer.Option(help="camera id")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. access.live or access.*")] = None,
    outcome: Annotated[Outcome | None, typer.Option()] = None,
    since: Annotated[str | None, typer.Option(help="ISO 8601 time, inclusive")] = None,
    until: Annotated[str | None, typer.Option(help="ISO 8601 time, exclusive")] = None,
) -> None:
    """Export entries, oldest first, as JSON Lines or CSV."""
    filters = AuditFilter(
        actor=actor,
        agency=agency,
        camera=camera,
        action=action,
        outcome=outcome,
        since=_time("--since", since),
        until=_time("--until", until),
    )
    with _service() as audit:
        what = f"export.{export_format.value}"
        audit.open_read(Reader.command_line(), what, filters=filters.as_json())
        if export_format is ExportFormat.JSONL:
            _write(audit.export_jsonl(filters, None), out)
        else:
            _write(audit.export_csv(filters, None), out)


def _agency_id(audit: AuditService, agency: str | None) -> int | None:
    if agency is None:
        return None
    if agency.isdigit():
        return int(agency)
    with audit.sessions() as session:
        found = session.scalar(select(Agency.id).where(Agency.name == agency))
    if found is None:
        raise ArgusError(f"--agency: no agency named {agency!r} (give its name or id)")
    return int(found)


@app.command("ledger")
def ledger_command(
    out: Annotated[Path, typer.Option(help="the file to write")],
    ledger_format: Annotated[LedgerFormat, typer.Option("--format")] = LedgerFormat.CSV,
    agency: Annotated[
        str | None, typer.Option(help="owner agency, by id or name (default: all)")
    ] = None,
    since: Annotated[str | None, typer.Option(help="ISO 8601 time, inclusive")] = None,
    until: Annotated[str | None, typer.Option(help="ISO 8601 time, exclusive")] = None,
) -> None:
    """Write the PIPA ledger (개인영상정보 관리대장) as CSV (Excel) or printable HTML."""
    start, end = _time("--since", since), _time("--until", until)
    with _service() as audit:
        query = LedgerQuery(agency=_agency_id(audit, agency), since=start, until=end)
        what = f"ledger.{ledger_format.value}"
        audit.open_read(Reader.command_line(), what, agency=query.agency)
        if ledger_format is LedgerFormat.CSV:
            _write(audit.ledger_csv(query), out)
        else:
            _write(audit.ledger_html(query), out)
    _say(f"wrote {out}")
