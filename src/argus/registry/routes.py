"""REST routes of the registry: agencies, sites, cameras, GeoJSON and spatial look-ups."""

from __future__ import annotations

import gzip
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from argus.identity.deps import current_principal
from argus.identity.principal import Principal
from argus.registry.query import CameraQuery, parse_bbox, parse_point, parse_sort
from argus.registry.schemas import (
    AgencyCreate,
    AgencyOut,
    AgencyUpdate,
    CameraCreate,
    CameraOut,
    CameraUpdate,
    NearbyCamera,
    Page,
    SiteCreate,
    SiteOut,
    SiteUpdate,
)
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, CameraType, Purpose

router = APIRouter(prefix="/api")


def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


RegistryDep = Annotated[Registry, Depends(get_registry)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
Limit = Annotated[int, Query(ge=1, le=1000, description="page size")]
Offset = Annotated[int, Query(ge=0, description="items to skip")]


def camera_query(
    agency_id: Annotated[int | None, Query(description="owner agency id")] = None,
    district: Annotated[
        str | None, Query(description="district, e.g. 동구 or 광주광역시 동구")
    ] = None,
    purpose: Annotated[Purpose | None, Query(description="standard purpose")] = None,
    camera_type: Annotated[CameraType | None, Query()] = None,
    enabled: Annotated[bool | None, Query()] = None,
    synthetic: Annotated[bool | None, Query()] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="text in name, address or camera id")
    ] = None,
    bbox: Annotated[
        str | None, Query(description="min_lon,min_lat,max_lon,max_lat (WGS84)")
    ] = None,
    near: Annotated[str | None, Query(description="lat,lon: only cameras within radius")] = None,
    radius: Annotated[float, Query(description="metres around near")] = 500.0,
) -> CameraQuery:
    return CameraQuery(
        agency_id=agency_id,
        district=district,
        purpose=purpose,
        camera_type=camera_type,
        enabled=enabled,
        synthetic=synthetic,
        q=q,
        bbox=parse_bbox(bbox) if bbox is not None else None,
        near=parse_point(near) if near is not None else None,
        radius_m=radius,
    )


CameraQueryDep = Annotated[CameraQuery, Depends(camera_query)]


# -- agencies ---------------------------------------------------------------------------


@router.get("/agencies", response_model=list[AgencyOut], tags=["registry"])
def list_agencies(
    registry: RegistryDep, principal: PrincipalDep, kind: AgencyKind | None = None
) -> list[AgencyOut]:
    return registry.list_agencies(kind.value if kind else None)


@router.post(
    "/agencies", response_model=AgencyOut, status_code=status.HTTP_201_CREATED, tags=["registry"]
)
def create_agency(registry: RegistryDep, principal: PrincipalDep, body: AgencyCreate) -> AgencyOut:
    return registry.create_agency(body, principal)


@router.get("/agencies/{agency_id}", response_model=AgencyOut, tags=["registry"])
def get_agency(registry: RegistryDep, principal: PrincipalDep, agency_id: int) -> AgencyOut:
    return registry.get_agency(agency_id)


@router.patch("/agencies/{agency_id}", response_model=AgencyOut, tags=["registry"])
def update_agency(
    registry: RegistryDep, principal: PrincipalDep, agency_id: int, body: AgencyUpdate
) -> AgencyOut:
    return registry.update_agency(agency_id, body, principal)


@router.delete("/agencies/{agency_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["registry"])
def delete_agency(registry: RegistryDep, principal: PrincipalDep, agency_id: int) -> Response:
    registry.delete_agency(agency_id, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- sites ------------------------------------------------------------------------------


@router.get("/sites", response_model=Page[SiteOut], tags=["registry"])
def list_sites(
    registry: RegistryDep,
    principal: PrincipalDep,
    agency_id: int | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[SiteOut]:
    return registry.list_sites(agency_id, limit, offset)


@router.post(
    "/sites", response_model=SiteOut, status_code=status.HTTP_201_CREATED, tags=["registry"]
)
def create_site(registry: RegistryDep, principal: PrincipalDep, body: SiteCreate) -> SiteOut:
    return registry.create_site(body, principal)


@router.get("/sites/{site_id}", response_model=SiteOut, tags=["registry"])
def get_site(registry: RegistryDep, principal: PrincipalDep, site_id: int) -> SiteOut:
    return registry.get_site(site_id)


@router.patch("/sites/{site_id}", response_model=SiteOut, tags=["registry"])
def update_site(
    registry: RegistryDep, principal: PrincipalDep, site_id: int, body: SiteUpdate
) -> SiteOut:
    return registry.update_site(site_id, body, principal)


@router.delete("/sites/{site_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["registry"])
def delete_site(registry: RegistryDep, principal: PrincipalDep, site_id: int) -> Response:
    registry.delete_site(site_id, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- cameras ----------------------------------------------------------------------------


@router.get("/cameras", response_model=Page[CameraOut], tags=["registry"])
def list_cameras(
    registry: RegistryDep,
    principal: PrincipalDep,
    query: CameraQueryDep,
    sort: Annotated[
        str | None,
        Query(
            description="id, name, purpose, installed, retention_days, owner_id or distance; "
            "prefix - to reverse; default id, or distance with near"
        ),
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[CameraOut]:
    order = parse_sort(sort or ("distance" if query.near else "id"), query.near is not None)
    return registry.list_cameras(query, order, limit, offset)


@router.get("/cameras.geojson", tags=["registry"], response_model=None)
def cameras_geojson(
    registry: RegistryDep, principal: PrincipalDep, query: CameraQueryDep, request: Request
) -> Response:
    """Every matching camera as a GeoJSON FeatureCollection (RFC 7946, unpaged); gzip-encoded
    when the client accepts it (the whole Gwangju deployment is ~10 MB of JSON, ~1 MB gzipped)."""
    features = [
        {
            "type": "Feature",
            "id": cam.id,
            "geometry": {"type": "Point", "coordinates": [cam.lon, cam.lat]},
            "properties": cam.model_dump(
                mode="json", exclude={"lat", "lon", "created_at", "updated_at"}
            ),
        }
        for cam in registry.iter_cameras(query)
    ]
    body = json.dumps(
        {"type": "FeatureCollection", "features": features},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    headers = {"Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        body = gzip.compress(body, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/geo+json", headers=headers)


@router.get("/cameras/nearest", response_model=list[NearbyCamera], tags=["registry"])
def nearest_cameras(
    registry: RegistryDep,
    principal: PrincipalDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    k: Annotated[int, Query(ge=1, le=1000)] = 10,
) -> list[NearbyCamera]:
    return [
        NearbyCamera(camera_id=cid, distance_m=round(d, 2))
        for cid, d in registry.nearest(lat, lon, k)
    ]


@router.post(
    "/cameras", response_model=CameraOut, status_code=status.HTTP_201_CREATED, tags=["registry"]
)
def create_camera(registry: RegistryDep, principal: PrincipalDep, body: CameraCreate) -> CameraOut:
    return registry.create_camera(body, principal)


@router.get("/cameras/{camera_id}", response_model=CameraOut, tags=["registry"])
def get_camera(registry: RegistryDep, principal: PrincipalDep, camera_id: int) -> CameraOut:
    return registry.get_camera(camera_id)


@router.patch("/cameras/{camera_id}", response_model=CameraOut, tags=["registry"])
def update_camera(
    registry: RegistryDep, principal: PrincipalDep, camera_id: int, body: CameraUpdate
) -> CameraOut:
    return registry.update_camera(camera_id, body, principal)


@router.delete("/cameras/{camera_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["registry"])
def delete_camera(registry: RegistryDep, principal: PrincipalDep, camera_id: int) -> Response:
    registry.delete_camera(camera_id, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
