"""Registry tables: agencies, sites, cameras, and the registry revision counter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from argus.db import Base, utcnow


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    region: Mapped[str | None] = mapped_column(String(40))
    district: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(40))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    parent: Mapped[Agency | None] = relationship(remote_side=[id])

    __table_args__ = (
        CheckConstraint(
            "kind in ('city','district','police','fire','disaster','other')", name="kind"
        ),
    )


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    road_address: Mapped[str | None] = mapped_column(String(300))
    lot_address: Mapped[str | None] = mapped_column(String(300))
    region: Mapped[str | None] = mapped_column(String(40))
    district: Mapped[str | None] = mapped_column(String(60), index=True)
    source_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner: Mapped[Agency] = relationship()

    __table_args__ = (
        CheckConstraint("lat between -90 and 90 and lon between -180 and 180", name="latlon"),
        Index("ix_sites_lat_lon", "lat", "lon"),
    )


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    purpose: Mapped[str] = mapped_column(String(20), index=True)
    purpose_raw: Mapped[str | None] = mapped_column(String(100))
    camera_type: Mapped[str] = mapped_column(String(10), default="fixed")
    resolution_mp: Mapped[float | None] = mapped_column(Float)
    resolution_raw: Mapped[str | None] = mapped_column(String(60))
    facing: Mapped[str | None] = mapped_column(Text)
    azimuth_deg: Mapped[float | None] = mapped_column(Float)
    fov_deg: Mapped[float | None] = mapped_column(Float)
    range_m: Mapped[float | None] = mapped_column(Float)
    retention_days: Mapped[int] = mapped_column(Integer, default=30)
    installed_year: Mapped[int | None] = mapped_column(Integer)
    installed_month: Mapped[int | None] = mapped_column(Integer)
    main_stream_url: Mapped[str | None] = mapped_column(String(500))
    sub_stream_url: Mapped[str | None] = mapped_column(String(500))
    onvif_url: Mapped[str | None] = mapped_column(String(500))
    credentials_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    provenance: Mapped[str | None] = mapped_column(String(200))
    manage_no: Mapped[str | None] = mapped_column(String(100))
    # kept by the media plane: the main stream's pull state, since when, and the last error
    stream_status: Mapped[str | None] = mapped_column(String(20))
    stream_status_since: Mapped[datetime | None] = mapped_column()
    stream_error: Mapped[str | None] = mapped_column(String(300))
    source_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner: Mapped[Agency] = relationship()
    site: Mapped[Site] = relationship()

    __table_args__ = (
        CheckConstraint("lat between -90 and 90 and lon between -180 and 180", name="latlon"),
        CheckConstraint("camera_type in ('fixed','ptz')", name="camera_type"),
        CheckConstraint("retention_days >= 1", name="retention"),
        CheckConstraint(
            "azimuth_deg is null or (azimuth_deg >= 0 and azimuth_deg < 360)", name="azimuth"
        ),
        CheckConstraint("fov_deg is null or (fov_deg > 0 and fov_deg <= 360)", name="fov"),
        Index("ix_cameras_lat_lon", "lat", "lon"),
    )


class RegistryRevision(Base):
    """One row; its counter moves on every registry change so readers can tell a stale cache."""

    __tablename__ = "registry_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)


def as_dict(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}
