"""The cameras a plan works on: frozen, database-free copies of registry rows.

Planning reads the registry and never writes to it. :func:`load_cameras` takes the rows of
``argus.registry.models.Camera`` from a session (all owners or some, enabled ones by default);
:func:`cameras_from_plan` builds the same records from a scenario plan that was never stored
(ids are then positions in the plan, not registry ids).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from argus.registry.models import Agency, Camera, Site
from argus.registry.vocab import CameraType, Purpose
from argus.scenario.model import ScenarioPlan

__all__ = ["PlanCamera", "cameras_from_plan", "load_cameras", "load_owner_names"]


@dataclass(frozen=True)
class PlanCamera:
    """What the planner needs to know of one camera.

    ``camera_type`` is "fixed" or "ptz"; ``purpose`` a 설치목적구분 value
    (:class:`argus.registry.vocab.Purpose`); ``azimuth_deg`` clockwise from north (None: not
    recorded, or a PTZ unit); ``fov_deg`` the horizontal field of view (None: not recorded);
    ``range_m`` a recorded reach, if any, which caps the modelled one; ``district`` the
    district its site is registered in (``Site.district``), if known.
    """

    id: int
    owner_id: int
    lat: float
    lon: float
    camera_type: str = CameraType.FIXED.value
    azimuth_deg: float | None = None
    fov_deg: float | None = None
    range_m: float | None = None
    resolution_mp: float | None = None
    purpose: str = Purpose.OTHER.value
    installed_year: int | None = None
    site_id: int | None = None
    name: str | None = None
    district: str | None = None

    @property
    def is_ptz(self) -> bool:
        return self.camera_type == CameraType.PTZ.value


def load_cameras(
    session: Session, *, owner_ids: Iterable[int] | None = None, include_disabled: bool = False
) -> list[PlanCamera]:
    """The registry's cameras (of the given owners, if any), sorted by id."""
    query = select(Camera, Site.district).join(Site, Camera.site_id == Site.id).order_by(Camera.id)
    if owner_ids is not None:
        query = query.where(Camera.owner_id.in_(sorted(set(owner_ids))))
    if not include_disabled:
        query = query.where(Camera.enabled.is_(True))
    return [
        PlanCamera(
            id=row.id,
            owner_id=row.owner_id,
            lat=row.lat,
            lon=row.lon,
            camera_type=row.camera_type,
            azimuth_deg=row.azimuth_deg,
            fov_deg=row.fov_deg,
            range_m=row.range_m,
            resolution_mp=row.resolution_mp,
            purpose=row.purpose,
            installed_year=row.installed_year,
            site_id=row.site_id,
            name=row.name,
            district=district,
        )
        for row, district in session.execute(query)
    ]


def load_owner_names(session: Session) -> dict[int, str]:
    """Agency names by id, for labelling owners in reports."""
    return {int(i): str(n) for i, n in session.execute(select(Agency.id, Agency.name))}


def cameras_from_plan(plan: ScenarioPlan) -> tuple[list[PlanCamera], dict[str, int]]:
    """The cameras of an unstored scenario plan, and the owner id given to each agency name.

    Cameras are numbered 1, 2, … in plan order, agencies likewise, sites by their order in
    ``plan.sites``: stable for a given plan, but not the ids a database would assign.
    """
    owners = {a.name: n for n, a in enumerate(plan.agencies, start=1)}
    sites = {s.key: (n, s) for n, s in enumerate(plan.sites, start=1)}
    out: list[PlanCamera] = []
    for number, camera in enumerate(plan.cameras, start=1):
        site_id, site = sites[camera.site_key]
        out.append(
            PlanCamera(
                id=number,
                owner_id=owners[camera.owner],
                lat=site.lat,
                lon=site.lon,
                camera_type=camera.camera_type.value,
                azimuth_deg=camera.azimuth_deg,
                fov_deg=camera.fov_deg,
                range_m=camera.range_m,
                resolution_mp=camera.resolution_mp,
                purpose=camera.purpose.value,
                installed_year=camera.installed_year,
                site_id=site_id,
                name=camera.name,
                district=site.district,
            )
        )
    return out, owners
