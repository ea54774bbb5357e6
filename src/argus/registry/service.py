"""The registry's logic: agencies, sites and cameras kept consistent, and the spatial index in step.

Every change bumps the registry revision in the same transaction. The in-memory spatial index
remembers the revision it reflects: changes made through this object are applied to it at once;
a change made by another process (an import from the CLI while the server runs) shows as a newer
revision, and the index is rebuilt before the next spatial query.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Select, Table, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from argus.db import transaction
from argus.errors import ConflictError, FieldError, NotFoundError
from argus.identity.principal import Principal
from argus.registry.access import ensure_owner_admin, ensure_system_admin
from argus.registry.models import Agency, Camera, RegistryRevision, Site
from argus.registry.query import CameraQuery
from argus.registry.schemas import (
    AgencyCreate,
    AgencyOut,
    AgencyUpdate,
    CameraCreate,
    CameraOut,
    CameraUpdate,
    Page,
    SiteCreate,
    SiteOut,
    SiteUpdate,
)
from argus.registry.spatial import SpatialIndex
from argus.registry.vocab import CameraType, Purpose
from argus.secretbox import SecretBox

IN_CHUNK = 5000  # ids per IN (...) clause: below SQLite's and PostgreSQL's parameter limits


def bump_revision(session: Session) -> int:
    session.execute(
        update(RegistryRevision)
        .where(RegistryRevision.id == 1)
        .values(revision=RegistryRevision.revision + 1)
    )
    return read_revision(session)


def ids_by_source_key(
    session: Session, model: type[Site] | type[Camera], keys: Sequence[str]
) -> dict[str, int]:
    """The ids of the stored rows among ``keys`` (import and scenario keys), by key."""
    found: dict[str, int] = {}
    for start in range(0, len(keys), IN_CHUNK):
        chunk = keys[start : start + IN_CHUNK]
        stmt = select(model.id, model.source_key).where(model.source_key.in_(chunk))
        for row_id, key in session.execute(stmt):
            found[str(key)] = row_id
    return found


def insert_keyed(
    session: Session, model: type[Site] | type[Camera], rows: Sequence[dict[str, Any]]
) -> dict[str, int]:
    """Insert rows that carry a ``source_key`` (plain executemany) and return their ids by key.

    The ids are read back by key rather than with INSERT … RETURNING, whose result handling
    for executemany grows quadratically with the row count in SQLAlchemy.
    """
    table = cast(Table, model.__table__)
    for start in range(0, len(rows), IN_CHUNK):
        session.execute(insert(table), list(rows[start : start + IN_CHUNK]))
    return ids_by_source_key(session, model, [str(r["source_key"]) for r in rows])


def find_agency_id(session: Session, ref: str) -> int | None:
    """The agency named ``ref`` exactly, else the one numbered ``ref`` (for command lines)."""
    ref = ref.strip()
    found = session.scalar(select(Agency.id).where(Agency.name == ref))
    if found is None and ref.isdigit():
        found = session.scalar(select(Agency.id).where(Agency.id == int(ref)))
    return found


def read_revision(session: Session) -> int:
    value = session.scalar(select(RegistryRevision.revision).where(RegistryRevision.id == 1))
    return int(value or 0)


def camera_out(
    camera: Camera, site: Site, owner: Agency, distance: float | None = None
) -> CameraOut:
    return CameraOut(
        id=camera.id,
        owner_id=camera.owner_id,
        owner_name=owner.name,
        site_id=camera.site_id,
        name=camera.name,
        lat=camera.lat,
        lon=camera.lon,
        region=site.region,
        district=site.district,
        road_address=site.road_address,
        lot_address=site.lot_address,
        purpose=Purpose(camera.purpose),
        purpose_raw=camera.purpose_raw,
        camera_type=CameraType(camera.camera_type),
        resolution_mp=camera.resolution_mp,
        facing=camera.facing,
        azimuth_deg=camera.azimuth_deg,
        fov_deg=camera.fov_deg,
        range_m=camera.range_m,
        retention_days=camera.retention_days,
        installed_year=camera.installed_year,
        installed_month=camera.installed_month,
        main_stream_url=camera.main_stream_url,
        sub_stream_url=camera.sub_stream_url,
        onvif_url=camera.onvif_url,
        has_credentials=camera.credentials_enc is not None,
        enabled=camera.enabled,
        tags=list(camera.tags or []),
        synthetic=camera.synthetic,
        provenance=camera.provenance,
        manage_no=camera.manage_no,
        stream_status=camera.stream_status,
        stream_status_since=camera.stream_status_since,
        stream_error=camera.stream_error,
        distance_m=None if distance is None else round(distance, 2),
        created_at=camera.created_at,
        updated_at=camera.updated_at,
    )


class Registry:
    """Agencies, sites and cameras over one database, with the spatial index kept in step."""

    def __init__(self, sessions: sessionmaker[Session], box: SecretBox) -> None:
        self.sessions = sessions
        self.box = box
        self._lock = threading.Lock()
        self._index: SpatialIndex | None = None
        self._index_revision = -1

    # -- spatial index ------------------------------------------------------------------

    def spatial(self) -> SpatialIndex:
        """The index of every camera's position, rebuilt when another process changed the data."""
        with self.sessions() as session:
            revision = read_revision(session)
            with self._lock:
                if self._index is not None and self._index_revision == revision:
                    return self._index
                rows = session.execute(select(Camera.id, Camera.lat, Camera.lon)).all()
                self._index = SpatialIndex.build(
                    [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
                )
                self._index_revision = revision
                return self._index

    def _after_change(
        self,
        revision: int,
        moved: Iterable[tuple[int, float, float]] = (),
        removed: Iterable[int] = (),
    ) -> None:
        with self._lock:
            if self._index is None:
                return
            if self._index_revision != revision - 1:
                self._index = None  # someone else changed the data too: rebuild on next use
                return
            for camera_id, lat, lon in moved:
                self._index.upsert(camera_id, lat, lon)
            for camera_id in removed:
                self._index.remove(camera_id)
            self._index_revision = revision

    def invalidate(self) -> None:
        with self._lock:
            self._index = None

    # -- agencies -----------------------------------------------------------------------

    def list_agencies(self, kind: str | None = None) -> list[AgencyOut]:
        with self.sessions() as session:
            stmt = select(Agency).order_by(Agency.id)
            if kind:
                stmt = stmt.where(Agency.kind == kind)
            return [AgencyOut.model_validate(a) for a in session.scalars(stmt)]

    def get_agency(self, agency_id: int) -> AgencyOut:
        with self.sessions() as session:
            return AgencyOut.model_validate(_agency(session, agency_id))

    def create_agency(self, data: AgencyCreate, actor: Principal | None = None) -> AgencyOut:
        if actor is not None:
            ensure_system_admin(actor, "create agencies")
        with transaction(self.sessions) as session:
            _unique_agency_name(session, data.name)
            if data.parent_id is not None:
                _agency(session, data.parent_id, field="parent_id")
            agency = Agency(**data.model_dump())
            session.add(agency)
            session.flush()
            bump_revision(session)
            return AgencyOut.model_validate(agency)

    def update_agency(
        self, agency_id: int, data: AgencyUpdate, actor: Principal | None = None
    ) -> AgencyOut:
        changes = data.model_dump(exclude_unset=True)
        if actor is not None:
            if {"name", "kind", "parent_id"} & changes.keys():
                ensure_system_admin(actor, "rename an agency or change its kind or parent")
            ensure_owner_admin(actor, agency_id, "change this agency")
        with transaction(self.sessions) as session:
            agency = _agency(session, agency_id)
            if "name" in changes and changes["name"] != agency.name:
                _unique_agency_name(session, changes["name"])
            if changes.get("parent_id") is not None:
                _check_parent(session, agency_id, changes["parent_id"])
            for key, value in changes.items():
                setattr(agency, key, value)
            session.flush()
            bump_revision(session)
            return AgencyOut.model_validate(agency)

    def delete_agency(self, agency_id: int, actor: Principal | None = None) -> None:
        if actor is not None:
            ensure_system_admin(actor, "delete agencies")
        with transaction(self.sessions) as session:
            agency = _agency(session, agency_id)
            owned = session.scalar(select(func.count()).where(Site.owner_id == agency_id)) or 0
            owned += session.scalar(select(func.count()).where(Camera.owner_id == agency_id)) or 0
            children = session.scalar(select(func.count()).where(Agency.parent_id == agency_id))
            if owned or children:
                raise ConflictError(
                    f"agency {agency_id} ({agency.name}) still owns sites or cameras or has "
                    "sub-agencies; move or delete them first"
                )
            session.delete(agency)
            bump_revision(session)

    # -- sites --------------------------------------------------------------------------

    def list_sites(
        self, agency_id: int | None = None, limit: int = 100, offset: int = 0
    ) -> Page[SiteOut]:
        with self.sessions() as session:
            stmt = select(Site)
            if agency_id is not None:
                stmt = stmt.where(Site.owner_id == agency_id)
            total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = session.scalars(stmt.order_by(Site.id).limit(limit).offset(offset))
            items = [SiteOut.model_validate(s) for s in rows]
            return Page[SiteOut](items=items, total=total, limit=limit, offset=offset)

    def get_site(self, site_id: int) -> SiteOut:
        with self.sessions() as session:
            return SiteOut.model_validate(_site(session, site_id))

    def create_site(self, data: SiteCreate, actor: Principal | None = None) -> SiteOut:
        if actor is not None:
            ensure_owner_admin(actor, data.owner_id, "add sites for this agency")
        with transaction(self.sessions) as session:
            _agency(session, data.owner_id, field="owner_id")
            site = Site(**data.model_dump())
            session.add(site)
            session.flush()
            bump_revision(session)
            return SiteOut.model_validate(site)

    def update_site(
        self, site_id: int, data: SiteUpdate, actor: Principal | None = None
    ) -> SiteOut:
        changes = data.model_dump(exclude_unset=True)
        for key in ("lat", "lon", "owner_id"):
            if key in changes and changes[key] is None:
                raise FieldError(key, "must not be null", location="body")
        with transaction(self.sessions) as session:
            site = _site(session, site_id)
            if actor is not None:
                ensure_owner_admin(actor, site.owner_id, "change this site")
                if changes.get("owner_id", site.owner_id) != site.owner_id:
                    ensure_system_admin(actor, "hand a site to another agency")
            if "owner_id" in changes:
                _agency(session, changes["owner_id"], field="owner_id")
            old = (site.lat, site.lon)
            for key, value in changes.items():
                setattr(site, key, value)
            moved: list[tuple[int, float, float]] = []
            if (site.lat, site.lon) != old:
                # cameras that stood at the site's old position move with it
                for camera in session.scalars(select(Camera).where(Camera.site_id == site_id)):
                    if (camera.lat, camera.lon) == old:
                        camera.lat, camera.lon = site.lat, site.lon
                        moved.append((camera.id, camera.lat, camera.lon))
            session.flush()
            revision = bump_revision(session)
            out = SiteOut.model_validate(site)
        self._after_change(revision, moved=moved)
        return out

    def delete_site(self, site_id: int, actor: Principal | None = None) -> None:
        with transaction(self.sessions) as session:
            site = _site(session, site_id)
            if actor is not None:
                ensure_owner_admin(actor, site.owner_id, "delete this site")
            cameras = session.scalar(select(func.count()).where(Camera.site_id == site_id))
            if cameras:
                raise ConflictError(
                    f"site {site_id} still has {cameras} camera(s); move or delete them first"
                )
            session.delete(site)
            bump_revision(session)

    # -- cameras ------------------------------------------------------------------------

    def get_camera(self, camera_id: int) -> CameraOut:
        with self.sessions() as session:
            row = session.execute(_camera_select().where(Camera.id == camera_id)).one_or_none()
            if row is None:
                raise NotFoundError(f"camera {camera_id} does not exist")
            return camera_out(*row)

    def camera_credentials(self, camera_id: int) -> dict[str, str] | None:
        """The decrypted credentials, for the media plane only; never sent by the API."""
        with self.sessions() as session:
            camera = session.get(Camera, camera_id)
            if camera is None:
                raise NotFoundError(f"camera {camera_id} does not exist")
            return None if camera.credentials_enc is None else self.box.open(camera.credentials_enc)

    def create_camera(self, data: CameraCreate, actor: Principal | None = None) -> CameraOut:
        values = data.model_dump(exclude_none=True)
        credentials = values.pop("credentials", None)
        with transaction(self.sessions) as session:
            site = _site(session, data.site_id, field="site_id")
            owner_id = values.pop("owner_id", site.owner_id)
            owner = _agency(session, owner_id, field="owner_id")
            if actor is not None:
                ensure_owner_admin(actor, site.owner_id, "add cameras at this site")
                ensure_owner_admin(actor, owner.id, "add cameras for this agency")
            values.setdefault("lat", site.lat)
            values.setdefault("lon", site.lon)
            camera = Camera(**values, owner_id=owner.id)
            if credentials is not None:
                camera.credentials_enc = self.box.seal(credentials)
            session.add(camera)
            session.flush()
            revision = bump_revision(session)
            out = camera_out(camera, site, owner)
        self._after_change(revision, moved=[(out.id, out.lat, out.lon)])
        return out

    def update_camera(
        self, camera_id: int, data: CameraUpdate, actor: Principal | None = None
    ) -> CameraOut:
        changes = data.model_dump(exclude_unset=True)
        for key in ("lat", "lon", "site_id", "owner_id", "purpose", "camera_type", "enabled"):
            if key in changes and changes[key] is None:
                raise FieldError(key, "must not be null", location="body")
        with transaction(self.sessions) as session:
            camera = session.get(Camera, camera_id)
            if camera is None:
                raise NotFoundError(f"camera {camera_id} does not exist")
            if actor is not None:
                ensure_owner_admin(actor, camera.owner_id, "change this camera")
                if changes.get("owner_id", camera.owner_id) != camera.owner_id:
                    ensure_system_admin(actor, "hand a camera to another agency")
            if "site_id" in changes:
                _site(session, changes["site_id"], field="site_id")
            if "owner_id" in changes:
                _agency(session, changes["owner_id"], field="owner_id")
            if "credentials" in changes:
                creds = changes.pop("credentials")
                camera.credentials_enc = None if creds is None else self.box.seal(creds)
            if changes.get("tags") is not None:
                changes["tags"] = sorted(set(changes["tags"]))
            if "retention_days" in changes and changes["retention_days"] is None:
                changes.pop("retention_days")
            for key, value in changes.items():
                setattr(camera, key, value)
            session.flush()
            revision = bump_revision(session)
            site = session.get_one(Site, camera.site_id)
            owner = session.get_one(Agency, camera.owner_id)
            out = camera_out(camera, site, owner)
        self._after_change(revision, moved=[(out.id, out.lat, out.lon)])
        return out

    def delete_camera(self, camera_id: int, actor: Principal | None = None) -> None:
        with transaction(self.sessions) as session:
            camera = session.get(Camera, camera_id)
            if camera is None:
                raise NotFoundError(f"camera {camera_id} does not exist")
            if actor is not None:
                ensure_owner_admin(actor, camera.owner_id, "delete this camera")
            session.delete(camera)
            revision = bump_revision(session)
        self._after_change(revision, removed=[camera_id])

    def list_cameras(
        self,
        query: CameraQuery,
        sort: tuple[str, bool] = ("id", False),
        limit: int = 100,
        offset: int = 0,
    ) -> Page[CameraOut]:
        if query.near is None:
            with self.sessions() as session:
                stmt = _filtered(query)
                total = (
                    session.scalar(
                        select(func.count()).select_from(
                            stmt.with_only_columns(Camera.id).subquery()
                        )
                    )
                    or 0
                )
                rows = session.execute(
                    stmt.order_by(*_order(sort)).limit(limit).offset(offset)
                ).all()
                items = [camera_out(*row) for row in rows]
            return Page[CameraOut](items=items, total=total, limit=limit, offset=offset)
        matches = list(self._near(query))
        key, descending = sort
        matches.sort(key=lambda m: _sort_value(m, key), reverse=descending)
        items = [camera_out(c, s, a, d) for c, s, a, d in matches[offset : offset + limit]]
        return Page[CameraOut](items=items, total=len(matches), limit=limit, offset=offset)

    def iter_cameras(self, query: CameraQuery) -> Iterator[CameraOut]:
        """Every matching camera, unpaged, in id order (distance order with a point)."""
        if query.near is not None:
            for camera, site, owner, distance in self._near(query):
                yield camera_out(camera, site, owner, distance)
            return
        with self.sessions() as session:
            result = session.execute(
                _filtered(query).order_by(Camera.id).execution_options(yield_per=2000)
            )
            for row in result:
                yield camera_out(*row)

    def nearest(self, lat: float, lon: float, k: int) -> list[tuple[int, float]]:
        return self.spatial().nearest(lat, lon, k)

    def _near(self, query: CameraQuery) -> Iterator[tuple[Camera, Site, Agency, float]]:
        assert query.near is not None
        hits = self.spatial().within(query.near[0], query.near[1], query.radius_m)
        distance = dict(hits)
        ids = [camera_id for camera_id, _ in hits]
        found: list[tuple[Camera, Site, Agency, float]] = []
        with self.sessions() as session:
            for start in range(0, len(ids), IN_CHUNK):
                chunk = ids[start : start + IN_CHUNK]
                stmt = _filtered(query).where(Camera.id.in_(chunk))
                for camera, site, owner in session.execute(stmt):
                    found.append((camera, site, owner, distance[camera.id]))
        found.sort(key=lambda m: (m[3], m[0].id))
        yield from found


def _camera_select() -> Select[Camera, Site, Agency]:
    return (
        select(Camera, Site, Agency)
        .join(Site, Camera.site_id == Site.id)
        .join(Agency, Camera.owner_id == Agency.id)
    )


def _filtered(query: CameraQuery) -> Select[Camera, Site, Agency]:
    stmt = _camera_select()
    conditions: list[Any] = []
    if query.agency_id is not None:
        conditions.append(Camera.owner_id == query.agency_id)
    parts = query.district_parts
    if parts is not None:
        region, district = parts
        conditions.append(Site.district == district)
        if region is not None:
            conditions.append(Site.region == region)
    if query.purpose is not None:
        conditions.append(Camera.purpose == query.purpose.value)
    if query.camera_type is not None:
        conditions.append(Camera.camera_type == query.camera_type.value)
    if query.enabled is not None:
        conditions.append(Camera.enabled == query.enabled)
    if query.synthetic is not None:
        conditions.append(Camera.synthetic == query.synthetic)
    if query.bbox is not None:
        min_lon, min_lat, max_lon, max_lat = query.bbox
        conditions.append(Camera.lat.between(min_lat, max_lat))
        conditions.append(Camera.lon.between(min_lon, max_lon))
    if query.q:
        pattern = f"%{query.q.strip()}%"
        text_match = or_(
            Camera.name.ilike(pattern),
            Site.lot_address.ilike(pattern),
            Site.road_address.ilike(pattern),
            Site.name.ilike(pattern),
            Camera.manage_no.ilike(pattern),
        )
        if query.q.strip().isdigit():
            text_match = or_(text_match, Camera.id == int(query.q.strip()))
        conditions.append(text_match)
    return stmt.where(and_(*conditions)) if conditions else stmt


def _order(sort: tuple[str, bool]) -> Sequence[Any]:
    key, descending = sort
    columns: dict[str, Sequence[Any]] = {
        "id": (Camera.id,),
        "name": (Camera.name, Camera.id),
        "purpose": (Camera.purpose, Camera.id),
        "installed": (Camera.installed_year, Camera.installed_month, Camera.id),
        "retention_days": (Camera.retention_days, Camera.id),
        "owner_id": (Camera.owner_id, Camera.id),
    }
    chosen = columns[key]
    return [c.desc() for c in chosen] if descending else list(chosen)


def _sort_value(match: tuple[Camera, Site, Agency, float], key: str) -> tuple[Any, ...]:
    camera, _, _, distance = match
    values: dict[str, tuple[Any, ...]] = {
        "id": (camera.id,),
        "distance": (distance, camera.id),
        "name": (camera.name or "", camera.id),
        "purpose": (camera.purpose, camera.id),
        "installed": (camera.installed_year or 0, camera.installed_month or 0, camera.id),
        "retention_days": (camera.retention_days, camera.id),
        "owner_id": (camera.owner_id, camera.id),
    }
    return values[key]


def _agency(session: Session, agency_id: int, field: str | None = None) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        if field:
            raise FieldError(field, f"agency {agency_id} does not exist", location="body")
        raise NotFoundError(f"agency {agency_id} does not exist")
    return agency


def _site(session: Session, site_id: int, field: str | None = None) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        if field:
            raise FieldError(field, f"site {site_id} does not exist", location="body")
        raise NotFoundError(f"site {site_id} does not exist")
    return site


def _unique_agency_name(session: Session, name: str) -> None:
    if session.scalar(select(Agency.id).where(Agency.name == name)) is not None:
        raise ConflictError(f"an agency named {name!r} already exists")


def _check_parent(session: Session, agency_id: int, parent_id: int) -> None:
    seen = {agency_id}
    current: int | None = parent_id
    while current is not None:
        if current in seen:
            raise FieldError("parent_id", "would make an agency its own ancestor", "body")
        seen.add(current)
        current = _agency(session, current, field="parent_id").parent_id
