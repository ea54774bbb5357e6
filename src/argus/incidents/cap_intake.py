"""What a CAP alert does to Argus's incidents.

- ``Alert`` (status ``Actual``) raises an incident from the disaster room at the alert's place,
  its external id ``sender,identifier``, so the same alert sent twice raises one incident.
- ``Update`` amends the live incidents it references: headline, description and priority, and
  keeps the message in their details. Their cameras stay as they were selected (a moved area
  is not selected anew: close and raise for that).
- ``Cancel`` closes the incidents it references.
- Exercise, System, Test and Draft messages raise nothing (``NotActual``), and say so.
"""

from __future__ import annotations

from argus.errors import ArgusError, NotFoundError
from argus.incidents.cap import CapAlert, incident_of
from argus.incidents.schemas import IncidentIntake, IncidentOut, Point
from argus.incidents.service import Actor, IncidentService
from argus.incidents.vocab import IncidentSource


class NotActual(ArgusError):
    """A CAP message that is not an actual alert: accepted, and nothing raised."""

    status_code = 202
    code = "not_actual"


def intake_of_cap(
    incidents: IncidentService, actor: Actor, alert: CapAlert
) -> tuple[IncidentOut, bool]:
    """The incident the alert raised, amended or closed, and whether it is new."""
    cap = incident_of(alert, default_radius_m=incidents.settings.incident_radius_m)
    if not cap.actual:
        raise NotActual(f"CAP status {cap.status}: not an actual alert, no incident raised")
    source = IncidentSource.DISASTER_ROOM.value
    if cap.msg_type == "Alert":
        assert cap.place is not None
        polygon = cap.place.polygon
        intake = IncidentIntake(
            source=source,
            type=cap.kind,
            priority=cap.priority,
            at=Point(lat=cap.place.lat, lon=cap.place.lon),
            area=[Point(lat=a, lon=b) for a, b in polygon] if polygon else None,
            radius_m=min(cap.place.radius_m, 10_000.0),
            title=(cap.headline or cap.event or cap.place.area_desc)[:300],
            description=(cap.description or "")[:4000] or None,
            external_id=cap.external_id[:300],
        )
        return incidents.raise_incident(actor, intake)
    touched: list[IncidentOut] = []
    for reference in cap.references:
        try:
            found = incidents.find_external(source, reference)
        except NotFoundError:
            continue
        if found.status == "closed":
            continue
        if cap.msg_type == "Cancel":
            touched.append(
                incidents.close(actor, found.id, f"cancelled by CAP message {cap.external_id}")
            )
        else:
            touched.append(
                incidents.amend(
                    actor,
                    found.id,
                    title=cap.headline,
                    description=cap.description,
                    priority=cap.priority,
                    note=f"updated by CAP message {cap.external_id}",
                )
            )
    if not touched:
        raise NotFoundError(
            f"the CAP {cap.msg_type} references no live incident: {', '.join(cap.references)}"
        )
    return touched[0], False
