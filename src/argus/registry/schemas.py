"""Request and response models of the registry API (pydantic v2)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from argus.registry.vocab import AgencyKind, CameraType, Purpose

Lat = Annotated[float, Field(ge=-90, le=90, description="WGS84 latitude")]
Lon = Annotated[float, Field(ge=-180, le=180, description="WGS84 longitude")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Url = Annotated[str, Field(min_length=1, max_length=500)]

_URL_SCHEMES = {
    "main_stream_url": ("rtsp://", "rtsps://"),
    "sub_stream_url": ("rtsp://", "rtsps://"),
    "onvif_url": ("http://", "https://"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AgencyCreate(_Strict):
    name: Name
    kind: AgencyKind
    parent_id: int | None = None
    region: str | None = Field(default=None, max_length=40)
    district: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, max_length=40)


class AgencyUpdate(_Strict):
    name: Name | None = None
    kind: AgencyKind | None = None
    parent_id: int | None = None
    region: str | None = Field(default=None, max_length=40)
    district: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, max_length=40)


class AgencyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: AgencyKind
    parent_id: int | None
    region: str | None
    district: str | None
    phone: str | None
    synthetic: bool
    created_at: datetime
    updated_at: datetime


class SiteCreate(_Strict):
    owner_id: int
    name: str | None = Field(default=None, max_length=200)
    lat: Lat
    lon: Lon
    road_address: str | None = Field(default=None, max_length=300)
    lot_address: str | None = Field(default=None, max_length=300)
    region: str | None = Field(default=None, max_length=40)
    district: str | None = Field(default=None, max_length=60)


class SiteUpdate(_Strict):
    owner_id: int | None = None
    name: str | None = Field(default=None, max_length=200)
    lat: Lat | None = None
    lon: Lon | None = None
    road_address: str | None = Field(default=None, max_length=300)
    lot_address: str | None = Field(default=None, max_length=300)
    region: str | None = Field(default=None, max_length=40)
    district: str | None = Field(default=None, max_length=60)


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_id: int
    name: str | None
    lat: float
    lon: float
    road_address: str | None
    lot_address: str | None
    region: str | None
    district: str | None
    synthetic: bool
    created_at: datetime
    updated_at: datetime


class Credentials(_Strict):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(max_length=500)


class _CameraFields(_Strict):
    name: str | None = Field(default=None, max_length=200)
    purpose_raw: str | None = Field(default=None, max_length=100)
    camera_type: CameraType | None = None
    resolution_mp: float | None = Field(default=None, gt=0, le=100)
    facing: str | None = Field(default=None, max_length=2000)
    azimuth_deg: float | None = Field(default=None, ge=0, lt=360)
    fov_deg: float | None = Field(default=None, gt=0, le=360)
    range_m: float | None = Field(default=None, gt=0, le=5000)
    retention_days: int | None = Field(default=None, ge=1, le=3650)
    installed_year: int | None = Field(default=None, ge=1980, le=2100)
    installed_month: int | None = Field(default=None, ge=1, le=12)
    main_stream_url: Url | None = None
    sub_stream_url: Url | None = None
    onvif_url: Url | None = None
    credentials: Credentials | None = None
    enabled: bool | None = None
    tags: list[Annotated[str, Field(min_length=1, max_length=60)]] | None = None

    @model_validator(mode="after")
    def _check_urls(self) -> _CameraFields:
        for field, schemes in _URL_SCHEMES.items():
            value = getattr(self, field)
            if value is not None and not value.lower().startswith(schemes):
                raise ValueError(f"{field} must start with {' or '.join(schemes)}")
        return self


class CameraCreate(_CameraFields):
    site_id: int
    owner_id: int | None = Field(default=None, description="default: the owner of the site")
    purpose: Purpose
    lat: Lat | None = Field(default=None, description="default: the site's latitude")
    lon: Lon | None = Field(default=None, description="default: the site's longitude")

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, tags: list[str] | None) -> list[str] | None:
        return None if tags is None else sorted(set(tags))


class CameraUpdate(_CameraFields):
    site_id: int | None = None
    owner_id: int | None = None
    purpose: Purpose | None = None
    lat: Lat | None = None
    lon: Lon | None = None


class CameraOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_id: int
    owner_name: str
    site_id: int
    name: str | None
    lat: float
    lon: float
    region: str | None
    district: str | None
    road_address: str | None
    lot_address: str | None
    purpose: Purpose
    purpose_raw: str | None
    camera_type: CameraType
    resolution_mp: float | None
    facing: str | None
    azimuth_deg: float | None
    fov_deg: float | None
    range_m: float | None
    retention_days: int
    installed_year: int | None
    installed_month: int | None
    main_stream_url: str | None
    sub_stream_url: str | None
    onvif_url: str | None
    has_credentials: bool
    enabled: bool
    tags: list[str]
    synthetic: bool
    provenance: str | None
    manage_no: str | None
    stream_status: str | None = Field(
        default=None,
        description="the main stream as the media plane last saw it while pulling it "
        "(see stream_status_since): connecting, streaming, backoff (offline, retrying), "
        "failed_auth; null if never pulled",
    )
    stream_status_since: datetime | None = None
    stream_error: str | None = None
    distance_m: float | None = None
    created_at: datetime
    updated_at: datetime


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class NearbyCamera(BaseModel):
    camera_id: int
    distance_m: float
