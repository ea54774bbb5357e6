"""Writes a scenario plan into the registry; running it again adds nothing.

Records are keyed by the plan's stable keys, so a second run finds them and leaves them as they
are (an administrator's later edits survive). Stream URLs point at the camera simulator.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from argus.config import Settings
from argus.errors import ArgusError
from argus.registry.models import Agency, Camera, Site
from argus.registry.service import bump_revision, ids_by_source_key, insert_keyed
from argus.scenario.gwangju import ScenarioPlan
from argus.secretbox import load_secret_box


def find_data_dir(explicit: Path | None = None) -> Path:
    """The shared public data folder: given, ARGUS_REFERENCE_DATA, or ../shared/data."""
    candidates: list[Path] = []
    if explicit is not None:
        candidates.append(explicit)
    elif os.environ.get("ARGUS_REFERENCE_DATA"):
        candidates.append(Path(os.environ["ARGUS_REFERENCE_DATA"]))
    else:
        candidates.append(Path.cwd().parent / "shared" / "data")
        candidates.append(Path(__file__).resolve().parents[4] / "shared" / "data")
    for candidate in candidates:
        if (candidate / "gwangju-cctv-safewalk").is_dir():
            return candidate
    raise ArgusError(
        f"the shared public data folder was not found (looked in {candidates[0]}); "
        "give it with --data or ARGUS_REFERENCE_DATA"
    )


SIMULATOR_LOGIN = {"username": "admin", "password": "admin"}
"""What `argus simulate`'s ONVIF devices let in (stored sealed, like any camera's login)."""


def stream_urls(settings: Settings, camera_id: int) -> tuple[str, str]:
    base = f"rtsp://{settings.simulator_host}:{settings.simulator_port}/cameras/{camera_id}"
    return f"{base}/main", f"{base}/sub"


def onvif_url(settings: Settings, camera_id: int) -> str:
    host, port = settings.simulator_host, settings.simulator_onvif_port
    return f"http://{host}:{port}/onvif/{camera_id}/device_service"


def write_plan(session: Session, plan: ScenarioPlan, settings: Settings) -> dict[str, Any]:
    agency_ids = {
        name: agency_id for agency_id, name in session.execute(select(Agency.id, Agency.name))
    }
    created_agencies = 0
    for planned in plan.agencies:  # parents come before their children in the plan
        if planned.name in agency_ids:
            continue
        agency = Agency(
            name=planned.name,
            kind=planned.kind.value,
            region=planned.region,
            district=planned.district,
            parent_id=agency_ids.get(planned.parent) if planned.parent else None,
        )
        session.add(agency)
        session.flush()
        agency_ids[planned.name] = agency.id
        created_agencies += 1

    site_ids = ids_by_source_key(session, Site, [s.key for s in plan.sites])
    new_sites = [
        {
            "owner_id": agency_ids[s.owner],
            "name": s.name,
            "lat": s.lat,
            "lon": s.lon,
            "lot_address": s.lot_address,
            "road_address": s.road_address,
            "region": s.region,
            "district": s.district,
            "source_key": s.key,
            "synthetic": s.synthetic,
        }
        for s in plan.sites
        if s.key not in site_ids
    ]
    site_ids.update(insert_keyed(session, Site, new_sites))

    site_position = {s.key: (s.lat, s.lon) for s in plan.sites}
    camera_ids = ids_by_source_key(session, Camera, [c.key for c in plan.cameras])
    new_cameras = [
        {
            "owner_id": agency_ids[c.owner],
            "site_id": site_ids[c.site_key],
            "name": c.name,
            "lat": site_position[c.site_key][0],
            "lon": site_position[c.site_key][1],
            "purpose": c.purpose.value,
            "purpose_raw": c.purpose.value,
            "camera_type": c.camera_type.value,
            "resolution_mp": c.resolution_mp,
            "range_m": c.range_m,
            "azimuth_deg": c.azimuth_deg,
            "fov_deg": c.fov_deg,
            "retention_days": c.retention_days,
            "installed_year": c.installed_year,
            "installed_month": c.installed_month,
            "tags": list(c.tags),
            "enabled": True,
            "synthetic": c.synthetic,
            "provenance": c.provenance[:200],
            "source_key": c.key,
        }
        for c in plan.cameras
        if c.key not in camera_ids
    ]
    inserted = list(insert_keyed(session, Camera, new_cameras).values())
    if inserted:
        ptz = set(
            session.scalars(
                select(Camera.id).where(Camera.id.in_(inserted), Camera.camera_type == "ptz")
            )
        )
        login = load_secret_box(settings).seal(SIMULATOR_LOGIN) if ptz else None
        urls: list[dict[str, Any]] = []
        for camera_id in inserted:
            main, sub = stream_urls(settings, camera_id)
            row: dict[str, Any] = {"id": camera_id, "main_stream_url": main, "sub_stream_url": sub}
            if camera_id in ptz:  # PTZ through the simulator's ONVIF service
                row.update(onvif_url=onvif_url(settings, camera_id), credentials_enc=login)
            urls.append(row)
        session.execute(update(Camera), urls)  # ORM bulk UPDATE by primary key
    if created_agencies or new_sites or inserted:
        bump_revision(session)
    per_owner = Counter(c.owner for c in plan.cameras)
    return {
        "agencies": len(plan.agencies),
        "sites": len(plan.sites),
        "cameras": len(plan.cameras),
        "colocated_sites": plan.colocated_sites,
        "cameras_per_owner": dict(sorted(per_owner.items())),
        "created": {
            "agencies": created_agencies,
            "sites": len(new_sites),
            "cameras": len(inserted),
        },
    }
