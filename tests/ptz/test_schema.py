"""Migration 0009 builds exactly the tables the PTZ and mode models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import argus.modes.models
import argus.ptz.models  # noqa: F401
from argus.db import Base

OURS = {"ptz_tours", "camera_mode_schedules"}


def _table_of(difference: object) -> str | None:
    for part in difference if isinstance(difference, list) else [difference]:
        for item in part if isinstance(part, tuple) else ():
            name = getattr(item, "name", None)
            table = getattr(item, "table", None)
            if table is not None and getattr(table, "name", None) in OURS:
                return str(table.name)
            if name in OURS:
                return str(name)
            if isinstance(item, str) and item in OURS:
                return item
    return None


def test_migration_matches_the_models(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= OURS
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    ours = [d for d in differences if _table_of(d) is not None]
    assert ours == []
