"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import argus.models  # noqa: F401
from argus.db import Base, current_revision, make_engine
from argus.schema import SchemaOutdatedError, ensure_schema, head_revision, upgrade_schema


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_database_is_at_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision(engine)


def test_empty_database_is_created_and_outdated_refused(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    ensure_schema(engine)
    assert current_revision(engine) == head_revision(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("update alembic_version set version_num = 'older'")
    with pytest.raises(SchemaOutdatedError, match="argus db upgrade"):
        ensure_schema(engine)
    engine.dispose()


def test_upgrade_reports_versions(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert upgrade_schema(engine) == ("empty", head_revision(engine))
    assert upgrade_schema(engine) == (head_revision(engine), head_revision(engine))
    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
    engine.dispose()
