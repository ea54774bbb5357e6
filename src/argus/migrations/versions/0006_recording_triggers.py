"""recording on incident: triggers that make a camera record for a while, whatever its plan

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recording_triggers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "end_time > start_time", name=op.f("ck_recording_triggers_trigger_extent")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_triggers")),
    )
    op.create_index(
        op.f("ix_recording_triggers_camera_id"), "recording_triggers", ["camera_id"], unique=False
    )
    op.create_index(
        op.f("ix_recording_triggers_end_time"), "recording_triggers", ["end_time"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_recording_triggers_end_time"), table_name="recording_triggers")
    op.drop_index(op.f("ix_recording_triggers_camera_id"), table_name="recording_triggers")
    op.drop_table("recording_triggers")
