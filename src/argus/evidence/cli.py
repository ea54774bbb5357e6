"""`argus export verify`: check an evidence export (folder or zip) offline.

Exit codes: 0 intact, 1 not intact (one line per finding), 2 the command could not run (no
such path, unreadable key, bad settings) — one line on standard error, no traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from argus.audit.signing import parse_private_key, parse_public_key
from argus.cli_report import print_report
from argus.config import load_settings
from argus.errors import ArgusError
from argus.evidence.manifest import KEY_FILE, verify_export

app = typer.Typer(no_args_is_help=True)


@app.callback()
def export_group() -> None:
    """Evidence exports: MP4 files with a signed manifest."""  # keeps `verify` a subcommand


def _deployment_key() -> Ed25519PublicKey | None:
    """The public half of this deployment's export key, or None when it has none (yet).

    Verifying never creates the key file.
    """
    path = Path(load_settings().data_dir) / KEY_FILE
    if not path.is_file():
        return None
    try:
        pem = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArgusError(f"{path}: cannot be read ({exc})") from None
    return parse_private_key(pem, source=str(path)).public_key()


def _given_key(file: Path) -> Ed25519PublicKey:
    if not file.is_file():
        raise ArgusError(f"--public-key: {file}: no such file")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArgusError(f"--public-key: {file}: cannot be read ({exc})") from None
    return parse_public_key(text, source=str(file))


@app.command("verify")
def verify_command(
    path: Annotated[Path, typer.Argument(help="the export folder, or a .zip of it")],
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            help="the issuer's public key (PEM); default: this deployment's export key",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Check every file against the signed manifest; exit 0 when intact, 1 when not."""
    try:
        key = _given_key(public_key) if public_key is not None else _deployment_key()
        report = verify_export(path, key)
    except ArgusError as exc:
        sys.stderr.write(f"argus: {exc}\n")
        raise typer.Exit(2) from None
    print_report(report, as_json)
    raise typer.Exit(0 if report.ok else 1)
