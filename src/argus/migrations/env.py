"""Alembic environment: runs on the connection that argus.db.upgrade hands over."""

from __future__ import annotations

from alembic import context

import argus.models  # noqa: F401  (registers every table)
from argus.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through 'argus db upgrade'")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
