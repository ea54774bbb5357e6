"""registry: agencies, sites, cameras

Revision ID: 0001
Revises:
Create Date: 2026-11-25 13:46:35.842715
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=40), nullable=True),
        sa.Column("district", sa.String(length=60), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind in ('city','district','police','fire','disaster','other')",
            name=op.f("ck_agencies_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["agencies.id"], name=op.f("fk_agencies_parent_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
        sa.UniqueConstraint("name", name=op.f("uq_agencies_name")),
    )
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agencies_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "registry_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_revision")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("road_address", sa.String(length=300), nullable=True),
        sa.Column("lot_address", sa.String(length=300), nullable=True),
        sa.Column("region", sa.String(length=40), nullable=True),
        sa.Column("district", sa.String(length=60), nullable=True),
        sa.Column("source_key", sa.String(length=200), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "lat between -90 and 90 and lon between -180 and 180", name=op.f("ck_sites_latlon")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["agencies.id"], name=op.f("fk_sites_owner_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("source_key", name=op.f("uq_sites_source_key")),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sites_district"), ["district"], unique=False)
        batch_op.create_index("ix_sites_lat_lon", ["lat", "lon"], unique=False)
        batch_op.create_index(batch_op.f("ix_sites_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "cameras",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("purpose_raw", sa.String(length=100), nullable=True),
        sa.Column("camera_type", sa.String(length=10), nullable=False),
        sa.Column("resolution_mp", sa.Float(), nullable=True),
        sa.Column("resolution_raw", sa.String(length=60), nullable=True),
        sa.Column("facing", sa.Text(), nullable=True),
        sa.Column("azimuth_deg", sa.Float(), nullable=True),
        sa.Column("fov_deg", sa.Float(), nullable=True),
        sa.Column("range_m", sa.Float(), nullable=True),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("installed_year", sa.Integer(), nullable=True),
        sa.Column("installed_month", sa.Integer(), nullable=True),
        sa.Column("main_stream_url", sa.String(length=500), nullable=True),
        sa.Column("sub_stream_url", sa.String(length=500), nullable=True),
        sa.Column("onvif_url", sa.String(length=500), nullable=True),
        sa.Column("credentials_enc", sa.LargeBinary(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("provenance", sa.String(length=200), nullable=True),
        sa.Column("manage_no", sa.String(length=100), nullable=True),
        sa.Column("source_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("camera_type in ('fixed','ptz')", name=op.f("ck_cameras_camera_type")),
        sa.CheckConstraint(
            "azimuth_deg is null or (azimuth_deg >= 0 and azimuth_deg < 360)",
            name=op.f("ck_cameras_azimuth"),
        ),
        sa.CheckConstraint(
            "fov_deg is null or (fov_deg > 0 and fov_deg <= 360)", name=op.f("ck_cameras_fov")
        ),
        sa.CheckConstraint(
            "lat between -90 and 90 and lon between -180 and 180", name=op.f("ck_cameras_latlon")
        ),
        sa.CheckConstraint("retention_days >= 1", name=op.f("ck_cameras_retention")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["agencies.id"], name=op.f("fk_cameras_owner_id_agencies")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_cameras_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameras")),
        sa.UniqueConstraint("source_key", name=op.f("uq_cameras_source_key")),
    )
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.create_index("ix_cameras_lat_lon", ["lat", "lon"], unique=False)
        batch_op.create_index(batch_op.f("ix_cameras_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cameras_purpose"), ["purpose"], unique=False)
        batch_op.create_index(batch_op.f("ix_cameras_site_id"), ["site_id"], unique=False)

    op.bulk_insert(
        sa.table(
            "registry_revision", sa.column("id", sa.Integer), sa.column("revision", sa.Integer)
        ),
        [{"id": 1, "revision": 0}],
    )


def downgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cameras_site_id"))
        batch_op.drop_index(batch_op.f("ix_cameras_purpose"))
        batch_op.drop_index(batch_op.f("ix_cameras_owner_id"))
        batch_op.drop_index("ix_cameras_lat_lon")

    op.drop_table("cameras")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sites_owner_id"))
        batch_op.drop_index("ix_sites_lat_lon")
        batch_op.drop_index(batch_op.f("ix_sites_district"))

    op.drop_table("sites")
    op.drop_table("registry_revision")
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agencies_parent_id"))

    op.drop_table("agencies")
