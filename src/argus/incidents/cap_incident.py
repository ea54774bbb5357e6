"""``incident_of``: what Argus makes of a parsed CAP alert — an incident to open, update or cancel.

Which ``<info>``: the first block with an area Argus can place (a ``<polygon>`` or ``<circle>``);
its first such area gives the place, and its event, urgency, severity, headline and description
give the rest. Where the incident is:

* a polygon: its area centroid, the polygon itself, and as radius the largest distance from the
  centroid to a corner (the circle that holds the whole polygon);
* otherwise a circle: its centre and radius;
* a radius of zero (a point, or a circle of radius 0) becomes ``DEFAULT_RADIUS_M``.

What to do with it: ``msg_type`` is Alert (open), Update (replace the incident opened by the
messages in ``references``) or Cancel (close them); ``references`` lists their external ids
(``sender,identifier``, the same form as ``external_id``). An Update or Cancel must reference
something. A Cancel may carry no area at all; then ``place`` is None. Ack and Error messages
are about other messages, not incidents, and are refused here, as are Alerts and Updates with
no placeable area (an area given only by geocodes cannot be placed yet) or whose polygon
crosses itself.

Only ``actual`` incidents (CAP status ``Actual``) are real; Exercise, System, Test and Draft
messages are parsed the same way so that they can be shown or logged, but the caller must not
open a real incident, nor hand out camera grants, for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import numpy as np
import shapely

from argus.incidents.cap_kinds import kind_of, priority_of
from argus.incidents.cap_model import (
    CapAlert,
    CapArea,
    CapError,
    CapInfo,
    Certainty,
    Ring,
    Severity,
    Status,
    Urgency,
)
from argus.incidents.geometry import circumscribing_radius_m, ring_centroid, to_local_m

DEFAULT_RADIUS_M: Final = 500.0
"""Radius given to an incident whose CAP area is a point."""

IncidentMsgType = Literal["Alert", "Update", "Cancel"]


@dataclass(frozen=True, slots=True)
class CapPlace:
    """Where a CAP incident is: a point, a radius around it, and the polygon if there was one."""

    lat: float
    lon: float
    radius_m: float
    polygon: Ring | None
    area_desc: str


@dataclass(frozen=True, slots=True)
class CapIncident:
    """An incident as a CAP message describes it (see the module docstring)."""

    external_id: str
    msg_type: IncidentMsgType
    status: Status
    actual: bool
    """True only for status Actual: only such a message may open or change a real incident."""
    references: tuple[str, ...]
    kind: str
    priority: int
    place: CapPlace | None
    event: str | None
    headline: str | None
    description: str | None
    language: str | None
    urgency: Urgency | None
    severity: Severity | None
    certainty: Certainty | None
    sent: datetime
    onset: datetime | None
    expires: datetime | None


def incident_of(alert: CapAlert, *, default_radius_m: float = DEFAULT_RADIUS_M) -> CapIncident:
    """The incident ``alert`` describes; ``CapError`` if it describes none Argus can place."""
    msg_type = alert.msg_type
    if msg_type not in ("Alert", "Update", "Cancel"):
        raise CapError(
            "alert/msgType",
            f"{msg_type} messages answer other messages; they describe no incident",
        )
    refs = tuple(dict.fromkeys(r.external_id for r in alert.references))
    if msg_type != "Alert" and not refs:
        raise CapError(
            "alert/references", f"an {msg_type} must name the earlier message(s) it applies to"
        )
    found = _first_placeable(alert.infos)
    if found is None and msg_type != "Cancel":
        raise CapError(
            "alert",
            "has no area Argus can place: no <info> has an <area> with a <polygon> or <circle> "
            "(areas given only by geocodes are not placed yet)",
        )
    info = found[0] if found else (alert.infos[0] if alert.infos else None)
    place = _place(found[1], default_radius_m) if found else None
    return CapIncident(
        external_id=alert.external_id,
        msg_type=msg_type,
        status=alert.status,
        actual=alert.status == "Actual",
        references=refs,
        kind=kind_of(info) if info else "other",
        priority=priority_of(info.urgency, info.severity, info.certainty) if info else 5,
        place=place,
        event=info.event if info else None,
        headline=info.headline if info else None,
        description=info.description if info else None,
        language=info.language if info else None,
        urgency=info.urgency if info else None,
        severity=info.severity if info else None,
        certainty=info.certainty if info else None,
        sent=alert.sent,
        onset=info.onset if info else None,
        expires=info.expires if info else None,
    )


def _first_placeable(infos: tuple[CapInfo, ...]) -> tuple[CapInfo, CapArea] | None:
    for info in infos:
        for area in info.areas:
            if area.placeable:
                return info, area
    return None


def _place(area: CapArea, default_radius_m: float) -> CapPlace:
    if area.polygons:
        ring = area.polygons[0]
        lat, lon = ring_centroid(ring)
        _check_simple(ring, lat, lon, area.area_desc)
        radius = circumscribing_radius_m((lat, lon), ring)
        polygon: Ring | None = ring
    else:
        circle = area.circles[0]
        lat, lon = circle.lat, circle.lon
        radius = circle.radius_km * 1000.0
        polygon = None
    if radius <= 0.0:
        radius = default_radius_m
    return CapPlace(lat, lon, radius, polygon, area.area_desc)


def _check_simple(ring: Ring, lat: float, lon: float, area_desc: str) -> None:
    """A polygon that crosses itself has no inside to select cameras in."""
    x, y = to_local_m(lat, lon, np.array([p[0] for p in ring]), np.array([p[1] for p in ring]))
    if not shapely.Polygon(np.column_stack((x, y))).is_valid:
        raise CapError(
            "alert/info/area/polygon",
            f"the polygon of area {area_desc!r} crosses itself; Argus cannot place it",
        )
