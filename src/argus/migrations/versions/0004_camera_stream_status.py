"""cameras: the media plane's view of each camera's main stream (online, offline, refused)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:30:00

`stream_status` is null until the camera is first pulled; then the puller's state
(connecting, streaming, backoff, failed_auth, stopped), when it last changed and the last error.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("stream_status", sa.String(length=20), nullable=True))
        batch.add_column(
            sa.Column("stream_status_since", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("stream_error", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("stream_error")
        batch.drop_column("stream_status_since")
        batch.drop_column("stream_status")
