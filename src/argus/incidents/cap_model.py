"""A CAP 1.2 alert as Argus holds it: frozen dataclasses, the value sets, and ``CapError``.

The dataclasses mirror the OASIS Common Alerting Protocol 1.2 message structure (alert → info →
resource / area) with Python names. Every value has been checked by ``argus.incidents.cap_xml``
before one of these is made: enumerations are members of the value sets below, times are
timezone-aware, coordinates are WGS 84 degrees in range and polygons are closed rings.

Free text (headline, description, areaDesc, …) is kept as sent with leading and trailing XML
white space removed; an optional element that is absent is ``None`` (or an empty tuple).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, get_args

from argus.errors import ArgusError

CAP_NAMESPACE: Final = "urn:oasis:names:tc:emergency:cap:1.2"
"""The only namespace accepted: CAP 1.1 and 1.0 alerts are refused, not guessed at."""

XMLDSIG_NAMESPACE: Final = "http://www.w3.org/2000/09/xmldsig#"

Status = Literal["Actual", "Exercise", "System", "Test", "Draft"]
MsgType = Literal["Alert", "Update", "Cancel", "Ack", "Error"]
Scope = Literal["Public", "Restricted", "Private"]
Category = Literal[
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
]
ResponseType = Literal[
    "Shelter",
    "Evacuate",
    "Prepare",
    "Execute",
    "Avoid",
    "Monitor",
    "Assess",
    "AllClear",
    "None",
]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]

STATUSES: Final[tuple[Status, ...]] = get_args(Status)
MSG_TYPES: Final[tuple[MsgType, ...]] = get_args(MsgType)
SCOPES: Final[tuple[Scope, ...]] = get_args(Scope)
CATEGORIES: Final[tuple[Category, ...]] = get_args(Category)
RESPONSE_TYPES: Final[tuple[ResponseType, ...]] = get_args(ResponseType)
URGENCIES: Final[tuple[Urgency, ...]] = get_args(Urgency)
SEVERITIES: Final[tuple[Severity, ...]] = get_args(Severity)
CERTAINTIES: Final[tuple[Certainty, ...]] = get_args(Certainty)

LatLon = tuple[float, float]
Ring = tuple[LatLon, ...]
NamedValue = tuple[str, str]
"""A CAP (valueName, value) pair: eventCode, parameter, geocode."""


class CapError(ArgusError):
    """A CAP message Argus cannot take; the message names the element and what is wrong."""

    status_code = 422
    code = "invalid_cap"

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def external_id(sender: str, identifier: str) -> str:
    """Argus's key for a CAP message: ``sender,identifier``.

    CAP forbids commas and white space in both parts, so the key is unambiguous, and it is the
    first two fields of the ``sender,identifier,sent`` triplets that ``<references>`` lists.
    """
    return f"{sender},{identifier}"


@dataclass(frozen=True, slots=True)
class CapReference:
    """One earlier message named in ``<references>``."""

    sender: str
    identifier: str
    sent: datetime

    @property
    def external_id(self) -> str:
        return external_id(self.sender, self.identifier)


@dataclass(frozen=True, slots=True)
class CapCircle:
    """A CAP ``<circle>``: centre in WGS 84 degrees and radius in kilometres (may be 0)."""

    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True, slots=True)
class CapArea:
    """A CAP ``<area>``. Polygons are closed rings of (lat, lon) with at least four points."""

    area_desc: str
    polygons: tuple[Ring, ...] = ()
    circles: tuple[CapCircle, ...] = ()
    geocodes: tuple[NamedValue, ...] = ()
    altitude: float | None = None
    ceiling: float | None = None

    @property
    def placeable(self) -> bool:
        """Whether the area has a shape Argus can put on a map (geocodes alone are not)."""
        return bool(self.polygons or self.circles)


@dataclass(frozen=True, slots=True)
class CapResource:
    """A CAP ``<resource>`` (a file that goes with the alert); Argus does not fetch it."""

    resource_desc: str
    mime_type: str
    size: int | None = None
    uri: str | None = None
    deref_uri: str | None = None
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class CapInfo:
    """A CAP ``<info>`` block: one language's description of the event and where it is."""

    categories: tuple[Category, ...]
    event: str
    urgency: Urgency
    severity: Severity
    certainty: Certainty
    language: str = "en-US"
    response_types: tuple[ResponseType, ...] = ()
    audience: str | None = None
    event_codes: tuple[NamedValue, ...] = ()
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: tuple[NamedValue, ...] = ()
    resources: tuple[CapResource, ...] = ()
    areas: tuple[CapArea, ...] = ()


@dataclass(frozen=True, slots=True)
class CapAlert:
    """A CAP 1.2 ``<alert>``.

    ``signed`` says that the message carries an XML signature; Argus does not verify it here.
    """

    identifier: str
    sender: str
    sent: datetime
    status: Status
    msg_type: MsgType
    scope: Scope
    source: str | None = None
    restriction: str | None = None
    addresses: str | None = None
    codes: tuple[str, ...] = ()
    note: str | None = None
    references: tuple[CapReference, ...] = ()
    incidents: tuple[str, ...] = ()
    infos: tuple[CapInfo, ...] = ()
    signed: bool = False

    @property
    def external_id(self) -> str:
        return external_id(self.sender, self.identifier)
