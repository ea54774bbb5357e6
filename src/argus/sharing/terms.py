"""What an agreement grants, checked field by field, and whether a change only narrows it.

``build_terms`` turns the fields of a request into ``AgreementTerms`` or raises a ``FieldError``
naming the first bad field; nothing here touches the database (the service checks that agencies,
cameras and sites exist). ``widening`` compares two versions of the terms: a change that only
removes cameras, purposes, capabilities or hours (or lowers the PTZ priority, shortens validity,
or drops the incident exception) is a narrowing; anything else needs a new acceptance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argus.errors import FieldError
from argus.sharing.selectors import CameraSelector, parse_selector
from argus.sharing.vocab import (
    DEFAULT_TIMEZONE,
    PTZ_PRIORITY_DEFAULT,
    PTZ_PRIORITY_MAX,
    PTZ_PRIORITY_MIN,
    AccessPurpose,
    Capability,
    lookup_purpose,
    unknown_purpose_message,
)
from argus.sharing.windows import (
    TimeWindow,
    check_no_overlap,
    parse_window,
    parse_zone,
    union_mask,
    zone_info,
)

MAX_LEGAL_BASIS = 2000


@dataclass(frozen=True)
class AgreementTerms:
    owner_agency_id: int
    consumer_agency_id: int
    selector: CameraSelector
    purposes: frozenset[AccessPurpose]
    capabilities: frozenset[Capability]
    ptz_priority: int | None  # set exactly when PTZ is granted; higher wins
    windows: tuple[TimeWindow, ...]  # empty: at any hour
    timezone: str
    unless_incident: bool  # outside the windows too while an incident covering the camera is open
    valid_from: datetime  # UTC
    valid_until: datetime | None  # UTC; None: until revoked
    legal_basis: str

    def windows_json(self) -> list[dict[str, object]]:
        return [w.as_json() for w in self.windows]


def as_utc(value: datetime, zone: str) -> datetime:
    """An aware UTC time; a time without offset is read in the agreement's zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone_info(zone))
    return value.astimezone(UTC)


def _purposes(values: Sequence[str] | None) -> frozenset[AccessPurpose]:
    if not values:
        raise FieldError("purposes", "give at least one access purpose", "body")
    found: set[AccessPurpose] = set()
    for value in values:
        purpose = lookup_purpose(value) if isinstance(value, str) else None
        if purpose is None:
            raise FieldError("purposes", unknown_purpose_message(str(value)), "body")
        found.add(purpose)
    return frozenset(found)


def _capabilities(values: Sequence[str] | None) -> frozenset[Capability]:
    if not values:
        raise FieldError("capabilities", "give at least one capability", "body")
    found: set[Capability] = set()
    for value in values:
        try:
            found.add(Capability(str(value).strip().lower()))
        except ValueError:
            allowed = ", ".join(c.value for c in Capability)
            raise FieldError(
                "capabilities", f"unknown capability {value!r}: use one of {allowed}", "body"
            ) from None
    return frozenset(found)


def _ptz_priority(value: int | None, capabilities: frozenset[Capability]) -> int | None:
    if Capability.PTZ not in capabilities:
        if value is not None:
            raise FieldError("ptz_priority", "only an agreement granting ptz has one", "body")
        return None
    if value is None:
        return PTZ_PRIORITY_DEFAULT
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError("ptz_priority", f"{value!r} is not an integer", "body")
    if not PTZ_PRIORITY_MIN <= value <= PTZ_PRIORITY_MAX:
        raise FieldError(
            "ptz_priority",
            f"{value} is out of range: give {PTZ_PRIORITY_MIN}–{PTZ_PRIORITY_MAX} "
            "(higher wins a PTZ conflict)",
            "body",
        )
    return value


def _windows(values: Sequence[Mapping[str, Any]] | None) -> tuple[TimeWindow, ...]:
    windows: list[TimeWindow] = []
    for index, value in enumerate(values or ()):
        field = f"windows[{index}]"
        if not isinstance(value, Mapping) or not {"start", "end"} <= set(value):
            raise FieldError(field, "give start and end as HH:MM (and optional days)", "body")
        extra = set(value) - {"start", "end", "days"}
        if extra:
            raise FieldError(f"{field}.{sorted(extra)[0]}", "unknown field", "body")
        windows.append(parse_window(value["start"], value["end"], value.get("days"), field))
    check_no_overlap(windows)
    return tuple(sorted(windows, key=lambda w: (w.start, w.end, sorted(w.days or ()))))


def build_terms(
    *,
    owner_agency_id: int,
    consumer_agency_id: int,
    selector: Mapping[str, Any] | None,
    purposes: Sequence[str] | None,
    capabilities: Sequence[str] | None,
    ptz_priority: int | None = None,
    windows: Sequence[Mapping[str, Any]] | None = None,
    timezone: str | None = None,
    unless_incident: bool = False,
    valid_from: datetime,
    valid_until: datetime | None = None,
    legal_basis: str | None,
) -> AgreementTerms:
    """Checked terms, or a FieldError naming the first field that is wrong."""
    if owner_agency_id == consumer_agency_id:
        raise FieldError(
            "consumer_agency_id",
            "owner and consumer are the same agency; an agency needs no agreement with itself",
            "body",
        )
    zone = parse_zone(timezone or DEFAULT_TIMEZONE)
    chosen = parse_selector(selector)
    granted_purposes = _purposes(purposes)
    granted = _capabilities(capabilities)
    priority = _ptz_priority(ptz_priority, granted)
    hours = _windows(windows)
    start = as_utc(valid_from, zone)
    end = None if valid_until is None else as_utc(valid_until, zone)
    if end is not None and end <= start:
        raise FieldError(
            "valid_until",
            f"{end.isoformat()} is not after valid_from {start.isoformat()}",
            "body",
        )
    basis = (legal_basis or "").strip()
    if not basis:
        raise FieldError("legal_basis", "name the legal basis (law and article)", "body")
    if len(basis) > MAX_LEGAL_BASIS:
        raise FieldError("legal_basis", f"at most {MAX_LEGAL_BASIS} characters", "body")
    return AgreementTerms(
        owner_agency_id=owner_agency_id,
        consumer_agency_id=consumer_agency_id,
        selector=chosen,
        purposes=granted_purposes,
        capabilities=granted,
        ptz_priority=priority,
        windows=hours,
        timezone=zone,
        unless_incident=bool(unless_incident),
        valid_from=start,
        valid_until=end,
        legal_basis=basis,
    )


def widening(old: AgreementTerms, new: AgreementTerms) -> FieldError | None:
    """Why ``new`` grants what ``old`` did not (naming the field); None if it only narrows."""

    def wider(field: str, message: str) -> FieldError:
        return FieldError(
            field, f"{message}; widening needs a new agreement and its acceptance", "body"
        )

    if (new.owner_agency_id, new.consumer_agency_id) != (
        old.owner_agency_id,
        old.consumer_agency_id,
    ):
        return wider("consumer_agency_id", "the agencies of an agreement cannot change")
    field = new.selector.widening_field(old.selector)
    if field is not None:
        return wider(field, "the new selector is not inside the old one")
    if not new.purposes <= old.purposes:
        extra = ", ".join(sorted(p.value for p in new.purposes - old.purposes))
        return wider("purposes", f"adds {extra}")
    if not new.capabilities <= old.capabilities:
        extra = ", ".join(sorted(c.value for c in new.capabilities - old.capabilities))
        return wider("capabilities", f"adds {extra}")
    if (
        new.ptz_priority is not None
        and old.ptz_priority is not None
        and new.ptz_priority > old.ptz_priority
    ):
        return wider(
            "ptz_priority", f"raises the PTZ priority {old.ptz_priority} → {new.ptz_priority}"
        )
    if new.timezone != old.timezone:
        return wider("timezone", "changes the time zone of the windows")
    if union_mask(new.windows) & ~union_mask(old.windows):
        return wider("windows", "adds hours outside the old windows")
    if new.unless_incident and not old.unless_incident:
        return wider("unless_incident", "adds the incident exception to the windows")
    if new.valid_from < old.valid_from:
        return wider("valid_from", "starts earlier")
    if old.valid_until is not None and (
        new.valid_until is None or new.valid_until > old.valid_until
    ):
        return wider("valid_until", "ends later")
    if new.legal_basis != old.legal_basis:
        return wider("legal_basis", "changes the legal basis")
    return None
