"""Enforcement tours for a few of the districts' PTZ cameras, for `make demo`.

The first ``count`` parking-enforcement (교통단속) PTZ cameras of the districts get what a
district admin would set: an enforcement tour over the four presets the simulated cameras come
with (15 s at each, the second photo 5 minutes after the first), and the mode schedule of the
guidance: enforcement 07:00–22:00, crime prevention otherwise. Existing tours and schedules are
left as they are, so running it twice changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from argus.modes.models import CameraModeSchedule
from argus.modes.schedule import build_schedule
from argus.modes.store import set_schedule
from argus.ptz.models import PtzTour
from argus.ptz.store import put_tour
from argus.ptz.tours import TourKind, build_tour
from argus.registry.models import Agency, Camera
from argus.registry.vocab import AgencyKind, CameraType, Purpose

DWELL_S = 15
REVISIT_S = 300
PRESETS = ("1", "2", "3", "4")


def demo_tours(session: Session, count: int) -> list[int]:
    """The cameras given a tour and a schedule now (none if they all had them)."""
    cameras = list(
        session.scalars(
            select(Camera.id)
            .join(Agency, Agency.id == Camera.owner_id)
            .where(
                Agency.kind == AgencyKind.DISTRICT.value,
                Camera.purpose == Purpose.TRAFFIC_ENFORCEMENT.value,
                Camera.camera_type == CameraType.PTZ.value,
                Camera.onvif_url.is_not(None),
            )
            .order_by(Camera.id)
            .limit(count)
        )
    )
    schedule = build_schedule([{"start": "07:00", "end": "22:00", "mode": "enforcement"}])
    made = []
    for camera_id in cameras:
        if session.get(PtzTour, (camera_id, TourKind.ENFORCEMENT.value)) is None:
            stops = [{"preset": p, "dwell_s": DWELL_S} for p in PRESETS]
            put_tour(session, build_tour(camera_id, TourKind.ENFORCEMENT, stops, REVISIT_S))
            made.append(camera_id)
        if session.get(CameraModeSchedule, camera_id) is None:
            set_schedule(session, camera_id, schedule)
            if camera_id not in made:
                made.append(camera_id)
    return made
