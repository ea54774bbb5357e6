"""PTZ tours (enforcement tour, idle patrol) and camera mode schedules

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ptz_tours",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("stops", sa.JSON(), nullable=False),
        sa.Column("revisit_delay_s", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind in ('enforcement','patrol')", name=op.f("ck_ptz_tours_tour_kind")),
        sa.CheckConstraint(
            "(kind = 'patrol' and revisit_delay_s is null) or "
            "(kind = 'enforcement' and revisit_delay_s between 300 and 600)",
            name=op.f("ck_ptz_tours_tour_revisit"),
        ),
        sa.PrimaryKeyConstraint("camera_id", "kind", name=op.f("pk_ptz_tours")),
    )
    op.create_table(
        "camera_mode_schedules",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("windows", sa.JSON(), nullable=False),
        sa.Column("otherwise", sa.String(length=20), nullable=False),
        sa.Column("timezone", sa.String(length=40), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "otherwise in ('enforcement','crime_prevention')",
            name=op.f("ck_camera_mode_schedules_mode_otherwise"),
        ),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_mode_schedules")),
    )


def downgrade() -> None:
    op.drop_table("camera_mode_schedules")
    op.drop_table("ptz_tours")
