"""Schema versions: create an empty database, refuse to run on an outdated one."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from argus.db import alembic_config, current_revision, upgrade
from argus.errors import ArgusError


class SchemaOutdatedError(ArgusError):
    pass


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None
    return head


def upgrade_schema(engine: Engine) -> tuple[str, str]:
    """Upgrade to the newest schema; returns (before, after), "empty" for a new database."""
    before = current_revision(engine) or "empty"
    upgrade(engine)
    return before, current_revision(engine) or "empty"


def ensure_schema(engine: Engine) -> None:
    """Create the schema in an empty database; an older schema must be upgraded on purpose."""
    current = current_revision(engine)
    if current is None:
        upgrade(engine)
        return
    head = head_revision(engine)
    if current != head:
        raise SchemaOutdatedError(
            f"the database schema is at {current}, this Argus needs {head}: "
            "back up the database, then run 'argus db upgrade'"
        )
