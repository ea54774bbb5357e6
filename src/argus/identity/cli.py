"""`argus users`: user accounts and API keys, from the server's command line.

The console acts with full authority (whoever runs it can open the database) and is audited as
the operating-system user. The first system admin of a new deployment is made here:

    argus users add admin --agency 광주광역시 --role system_admin
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console as RichConsole
from rich.table import Table

from argus.config import load_settings
from argus.db import make_engine
from argus.errors import ArgusError
from argus.identity.access import Console
from argus.identity.principal import Role
from argus.identity.schemas import ApiKeyCreate, UserCreate, UserOut
from argus.identity.service import IdentityService
from argus.schema import ensure_schema

app = typer.Typer(no_args_is_help=True)
key_app = typer.Typer(help="API keys for integrations.", no_args_is_help=True)
app.add_typer(key_app, name="key")

out = RichConsole()
err = RichConsole(stderr=True)
M = TypeVar("M", bound=BaseModel)

PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="read the password from the first line of stdin"),
]
AsJson = Annotated[bool, typer.Option("--json", help="JSON Lines, one object per line")]


@contextmanager
def _identity() -> Iterator[IdentityService]:
    engine = make_engine(load_settings().db_url)
    try:
        ensure_schema(engine)
        yield IdentityService.for_engine(engine)
    finally:
        engine.dispose()


def _console() -> Console:
    try:
        return Console(os_user=getpass.getuser())
    except (KeyError, OSError):  # no passwd entry (containers)
        return Console()


def _validated(model: type[M], **data: Any) -> M:
    """The model, or an ArgusError naming the field (one line on the command line)."""
    try:
        return model(**data)
    except ValidationError as exc:
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
        ]
        raise ArgusError("; ".join(parts)) from None


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise ArgusError("--password-stdin: nothing on stdin")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ArgusError("no terminal to ask for the password: use --password-stdin")
    value: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return value


def _describe(user: UserOut) -> str:
    roles = ", ".join(r.value for r in user.roles)
    state = " (disabled)" if user.disabled else ""
    return f"{user.username!r} (id {user.id}), {user.agency_name}, roles {roles}{state}"


# -- users --------------------------------------------------------------------------------


@app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="2–64 characters: a-z 0-9 . _ @ -")],
    agency: Annotated[str, typer.Option("--agency", help="the user's agency: name or id")],
    role: Annotated[list[Role], typer.Option("--role", help="a role; repeat for several")],
    display_name: Annotated[str | None, typer.Option(help="the person's name")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user (the password is asked for twice, or read with --password-stdin)."""
    with _identity() as identity:
        agency_id = identity.users.agency_id_of(agency)
        password = _password(password_stdin)
        data = _validated(
            UserCreate,
            username=username,
            agency_id=agency_id,
            roles=role,
            password=password,
            display_name=display_name,
        )
        user = identity.users.create_user(_console(), data)
    err.print(f"added {_describe(user)}", highlight=False)


@app.command("list")
def list_users(
    agency: Annotated[str | None, typer.Option("--agency", help="only this agency")] = None,
    as_json: AsJson = False,
) -> None:
    """List the users (of one agency with --agency)."""
    with _identity() as identity:
        agency_id = identity.users.agency_id_of(agency) if agency else None
        users = identity.users.list_users(_console(), agency_id)
    if as_json:
        for user in users:
            sys.stdout.write(user.model_dump_json() + "\n")
        return
    table = Table(title=f"{len(users)} user(s)")
    for column in ("id", "username", "name", "agency", "roles", "state", "last sign-in"):
        table.add_column(column)
    for user in users:
        table.add_row(
            str(user.id),
            user.username,
            user.display_name or "",
            user.agency_name,
            ", ".join(r.value for r in user.roles),
            "disabled" if user.disabled else "active",
            user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "",
        )
    out.print(table)


@app.command("disable")
def disable(username: Annotated[str, typer.Argument()]) -> None:
    """Disable a user: their sessions end at once and their API keys stop working."""
    with _identity() as identity:
        user = identity.users.disable_user(_console(), identity.users.id_of(username))
    err.print(f"disabled {_describe(user)}", highlight=False)


@app.command("enable")
def enable(username: Annotated[str, typer.Argument()]) -> None:
    """Enable a disabled user again."""
    with _identity() as identity:
        user = identity.users.enable_user(_console(), identity.users.id_of(username))
    err.print(f"enabled {_describe(user)}", highlight=False)


@app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Argument()], password_stdin: PasswordStdin = False
) -> None:
    """Set a new password; the user's sessions end and any lock-out is lifted."""
    with _identity() as identity:
        user_id = identity.users.id_of(username)
        password = _password(password_stdin)
        user = identity.users.reset_password(_console(), user_id, password)
    err.print(f"new password set for {_describe(user)}", highlight=False)


# -- API keys -----------------------------------------------------------------------------


@key_app.command("create")
def key_create(
    username: Annotated[str, typer.Argument(help="the user the key acts as")],
    name: Annotated[str, typer.Option(help="what the key is for")] = "integration",
    as_json: Annotated[bool, typer.Option("--json", help="print the key's record as JSON")] = False,
) -> None:
    """Create an API key; it is printed once (stdout) and stored only as a digest."""
    with _identity() as identity:
        data = _validated(ApiKeyCreate, name=name)
        created = identity.users.create_key(_console(), identity.users.id_of(username), data)
    if as_json:
        sys.stdout.write(created.model_dump_json() + "\n")
    else:
        sys.stdout.write(created.key + "\n")
    err.print(
        f"API key {created.id} ({created.prefix}…) for {created.username!r}: "
        "shown this once, keep it safe",
        highlight=False,
    )


@key_app.command("list")
def key_list(
    username: Annotated[str | None, typer.Argument(help="only this user's keys")] = None,
    as_json: AsJson = False,
) -> None:
    """List API keys (never the keys themselves)."""
    with _identity() as identity:
        user_id = identity.users.id_of(username) if username else None
        found = identity.users.list_keys(_console(), user_id)
    if as_json:
        for key in found:
            sys.stdout.write(key.model_dump_json() + "\n")
        return
    table = Table(title=f"{len(found)} API key(s)")
    for column in ("id", "user", "name", "prefix", "created", "last used", "state"):
        table.add_column(column)
    for key in found:
        table.add_row(
            str(key.id),
            key.username,
            key.name,
            key.prefix + "…",
            key.created_at.strftime("%Y-%m-%d %H:%M"),
            key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "never",
            "revoked" if key.revoked_at else "active",
        )
    out.print(table)


@key_app.command("revoke")
def key_revoke(key_id: Annotated[int, typer.Argument(help="the key's id (see key list)")]) -> None:
    """Revoke an API key: it stops working at once."""
    with _identity() as identity:
        key = identity.users.revoke_key(_console(), key_id)
    err.print(f"revoked API key {key.id} ({key.prefix}…) of {key.username!r}", highlight=False)
