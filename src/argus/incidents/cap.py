"""CAP 1.2 (OASIS Common Alerting Protocol) intake: parse an alert, and turn it into an incident.

    alert = parse_cap(body)          # CapAlert, or CapError (HTTP 422) naming the fault
    incident = incident_of(alert)    # CapIncident: kind, priority, place, Alert/Update/Cancel

This module is the public face; the work is done in ``cap_xml`` (safe XML and the message's
structure), ``cap_values`` and ``cap_shapes`` (values), ``cap_incident`` and ``cap_kinds`` (what
Argus makes of an alert) and ``cap_model`` (the dataclasses).
"""

from __future__ import annotations

from argus.incidents.cap_incident import DEFAULT_RADIUS_M, CapIncident, CapPlace, incident_of
from argus.incidents.cap_kinds import KINDS, kind_of, priority_of
from argus.incidents.cap_model import (
    CAP_NAMESPACE,
    CapAlert,
    CapArea,
    CapCircle,
    CapError,
    CapInfo,
    CapReference,
    CapResource,
    external_id,
)
from argus.incidents.cap_xml import MAX_CAP_BYTES, parse_cap

__all__ = [
    "CAP_NAMESPACE",
    "DEFAULT_RADIUS_M",
    "KINDS",
    "MAX_CAP_BYTES",
    "CapAlert",
    "CapArea",
    "CapCircle",
    "CapError",
    "CapIncident",
    "CapInfo",
    "CapPlace",
    "CapReference",
    "CapResource",
    "external_id",
    "incident_of",
    "kind_of",
    "parse_cap",
    "priority_of",
]
