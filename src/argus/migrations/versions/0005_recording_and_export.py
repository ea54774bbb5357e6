"""recording and evidence export: the segment index, recording plans, legal holds, export
requests and their approvals

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("requester_agency_id", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("case_number", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("directory", sa.String(length=300), nullable=True),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "state in ('pending','approved','ready','refused','failed','expired')",
            name=op.f("ck_export_requests_export_state"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_requests")),
    )
    op.create_index(
        op.f("ix_export_requests_requester_agency_id"),
        "export_requests",
        ["requester_agency_id"],
        unique=False,
    )
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("case_number", sa.String(length=100), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.Integer(), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("end_time > start_time", name=op.f("ck_legal_holds_hold_extent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    op.create_index(op.f("ix_legal_holds_camera_id"), "legal_holds", ["camera_id"], unique=False)
    op.create_table(
        "recording_plans",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("stream", sa.String(length=8), nullable=False),
        sa.Column("windows", sa.JSON(), nullable=False),
        sa.Column("timezone", sa.String(length=40), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "mode in ('continuous','scheduled','off')", name=op.f("ck_recording_plans_plan_mode")
        ),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_recording_plans")),
    )
    op.create_table(
        "recording_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=8), nullable=False),
        sa.Column("volume", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("codec", sa.String(length=8), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("keyframes", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state in ('open','closed','recovered','destroying')",
            name=op.f("ck_recording_segments_segment_state"),
        ),
        sa.CheckConstraint(
            "bytes >= 0 and end_time >= start_time",
            name=op.f("ck_recording_segments_segment_extent"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_segments")),
    )
    op.create_index(
        "ix_recording_segments_camera_time",
        "recording_segments",
        ["camera_id", "start_time"],
        unique=False,
    )
    op.create_index("ix_recording_segments_end", "recording_segments", ["end_time"], unique=False)
    op.create_index(
        "uq_recording_segments_file", "recording_segments", ["volume", "path"], unique=True
    )
    op.create_table(
        "export_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("owner_agency_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state in ('pending','approved','refused')",
            name=op.f("ck_export_approvals_approval_state"),
        ),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["export_requests.id"],
            name=op.f("fk_export_approvals_export_id_export_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_approvals")),
    )
    op.create_index(
        op.f("ix_export_approvals_export_id"), "export_approvals", ["export_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_export_approvals_export_id"), table_name="export_approvals")
    op.drop_table("export_approvals")
    op.drop_index("uq_recording_segments_file", table_name="recording_segments")
    op.drop_index("ix_recording_segments_end", table_name="recording_segments")
    op.drop_index("ix_recording_segments_camera_time", table_name="recording_segments")
    op.drop_table("recording_segments")
    op.drop_table("recording_plans")
    op.drop_index(op.f("ix_legal_holds_camera_id"), table_name="legal_holds")
    op.drop_table("legal_holds")
    op.drop_index(op.f("ix_export_requests_requester_agency_id"), table_name="export_requests")
    op.drop_table("export_requests")
