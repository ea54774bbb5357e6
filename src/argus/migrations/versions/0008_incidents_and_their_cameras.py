"""incidents and their cameras

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 15:21:09.169249
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=300), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("area", sa.JSON(), nullable=True),
        sa.Column("responding_agency_id", sa.Integer(), nullable=True),
        sa.Column("provides", sa.Boolean(), nullable=False),
        sa.Column("provision_reason", sa.Text(), nullable=False),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("raised_by", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("linger_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("playback_from", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("priority BETWEEN 1 AND 5", name=op.f("ck_incidents_incident_priority")),
        sa.CheckConstraint("radius_m > 0", name=op.f("ck_incidents_incident_radius")),
        sa.ForeignKeyConstraint(
            ["responding_agency_id"],
            ["agencies.id"],
            name=op.f("fk_incidents_responding_agency_id_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("source", "external_id", name="incident_external_id"),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_status"), ["status"], unique=False)

    op.create_table(
        "incident_cameras",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("bearing_deg", sa.Float(), nullable=True),
        sa.Column("facing", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_cameras_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "camera_id", name=op.f("pk_incident_cameras")),
    )
    with op.batch_alter_table("incident_cameras", schema=None) as batch_op:
        batch_op.create_index("ix_incident_cameras_camera", ["camera_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident_cameras", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_cameras_camera")

    op.drop_table("incident_cameras")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_status"))

    op.drop_table("incidents")
