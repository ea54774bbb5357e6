"""The decision: may this user use this camera for this capability and purpose, now?

``authorize`` is a pure function of its arguments: it reads no database, no clock and no
settings. The service builds a ``PolicySnapshot`` (the agreements, indexed by consumer agency and
then owner agency) from the database and hands it in; callers give the facts of the camera and,
where an incident is involved, of the incident.

Order of the checks, and so which reason a refused request reads:

1. the caller holds a role with video access at all (auditors and planners do not), and one that
   may use the capability (an operator may not export: that takes a supervisor or an agency admin);
2. a purpose is declared and known; investigation names a case number;
3. the camera is enabled;
4. **ownership**: operators, supervisors and agency admins of the owner agency use its cameras
   (responders do not: they act through agreements and incidents);
5. **agreement**: an accepted agreement from the camera's owner to the caller's agency whose
   selector covers the camera, valid at ``at``, for the purpose and capability, inside its time
   windows, or outside them while an open incident lists the camera and the caller's agency, if
   the agreement says so (``unless_incident``; such an allow names the incident it hangs on).
   When several allow, PTZ takes the highest priority; otherwise the lowest id, preferring one
   that does not hang on an incident;
6. **incident**: an open incident that lists the camera and the caller's agency among its
   responders, for one of its capabilities and purposes.

A refusal reports the candidate that came closest to allowing: an agreement that covers the
camera but not the purpose says so, rather than "no agreement". A suspended, revoked or expired
agreement is named ("agreement 7 was revoked") when it alone would have allowed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from argus.identity.principal import Principal, Role
from argus.sharing.terms import AgreementTerms
from argus.sharing.vocab import (
    PURPOSES_NEEDING_CASE_NUMBER,
    AccessPurpose,
    AgreementStatus,
    Basis,
    Capability,
    ReasonCode,
    lookup_purpose,
    missing_purpose_message,
    purpose_label,
    unknown_purpose_message,
)
from argus.sharing.windows import windows_text, zone_info

ALL_CAPABILITIES = frozenset(Capability)
ROLE_CAPABILITIES: Mapping[Role, frozenset[Capability]] = {
    Role.OPERATOR: frozenset({Capability.LIVE, Capability.PLAYBACK, Capability.PTZ}),
    Role.SUPERVISOR: ALL_CAPABILITIES,
    Role.AGENCY_ADMIN: ALL_CAPABILITIES,
    Role.RESPONDER: ALL_CAPABILITIES,
}
"""Roles with video access and what each may do; the basis may allow less, never more."""

OWNERSHIP_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY_ADMIN})
"""Roles that use their own agency's cameras without an agreement or incident."""


@dataclass(frozen=True)
class CameraFacts:
    id: int
    owner_agency_id: int
    site_id: int
    purpose: str  # the registry's standard installation purpose, e.g. "교통단속"
    district: str | None
    lat: float
    lon: float
    enabled: bool = True
    region: str | None = None  # "광주광역시": lets a selector name "광주광역시 북구"
    mode: str | None = None  # its mode now (argus.modes): enforcement, crime_prevention, incident
    mode_purposes: frozenset[AccessPurpose] | None = None  # what that mode admits; None: any
    mode_until: datetime | None = None  # UTC: when the scheduled mode changes


@dataclass(frozen=True)
class IncidentFacts:
    id: int
    open: bool
    responding_agency_ids: frozenset[int]
    camera_ids: frozenset[int]
    capabilities: frozenset[Capability]
    purposes: frozenset[AccessPurpose]
    lingering: frozenset[Capability] = frozenset()  # still granted after it closed (playback)
    until: datetime | None = None  # UTC: when what it grants ends by itself (the linger's end)
    legal_basis: str = ""  # what the PIPA ledger shows as 법령상 근거 of its provisions
    footage_from: datetime | None = None  # UTC: the earliest footage its playback covers
    footage_until: datetime | None = None  # UTC: the latest (when it closed; None while open)
    label: str = ""  # "112 assault (폭행)", for reasons people read

    def involves(self, agency_id: int, camera_id: int) -> bool:
        return agency_id in self.responding_agency_ids and camera_id in self.camera_ids


@dataclass(frozen=True)
class Decision:
    allowed: bool
    code: ReasonCode
    reason: str
    basis: Basis | None = None
    grant: str | None = None  # "ownership:3" (agency), "agreement:7", "incident:12"
    ptz_priority: int | None = None  # the agreement's, for a PTZ allow through an agreement
    until: datetime | None = None  # UTC: when this allow ends by itself (window or validity end)
    incident_id: int | None = None  # the incident this allow hangs on: it ends when that closes
    footage_from: datetime | None = None  # UTC: playback only of footage from then (an incident)
    footage_until: datetime | None = None  # UTC: … and until then

    def as_json(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "code": self.code.value,
            "reason": self.reason,
            "basis": None if self.basis is None else self.basis.value,
            "grant": self.grant,
            "ptz_priority": self.ptz_priority,
            "until": None if self.until is None else self.until.isoformat(),
            "incident_id": self.incident_id,
        }


@dataclass(frozen=True)
class AgreementRule:
    """One agreement as the decision sees it."""

    id: int
    status: AgreementStatus
    terms: AgreementTerms


Index = Mapping[int, Mapping[int, tuple[AgreementRule, ...]]]


@dataclass(frozen=True)
class PolicySnapshot:
    """Agreements indexed by consumer agency, then owner agency (accepted ones, and the others)."""

    active: Index
    inactive: Index
    agency_names: Mapping[int, str] = field(default_factory=dict)
    version: int = 0

    @classmethod
    def build(
        cls,
        rules: Iterable[AgreementRule],
        agency_names: Mapping[int, str] | None = None,
        version: int = 0,
    ) -> PolicySnapshot:
        """Index ``rules``; drafts and proposals are left out (they allow nothing)."""
        active: dict[int, dict[int, list[AgreementRule]]] = defaultdict(lambda: defaultdict(list))
        inactive: dict[int, dict[int, list[AgreementRule]]] = defaultdict(lambda: defaultdict(list))
        for rule in sorted(rules, key=lambda r: r.id):
            terms = rule.terms
            if rule.status is AgreementStatus.ACCEPTED:
                target = active
            elif rule.status in (
                AgreementStatus.SUSPENDED,
                AgreementStatus.REVOKED,
                AgreementStatus.EXPIRED,
            ):
                target = inactive
            else:
                continue
            target[terms.consumer_agency_id][terms.owner_agency_id].append(rule)
        return cls(
            active=_freeze(active),
            inactive=_freeze(inactive),
            agency_names=dict(agency_names or {}),
            version=version,
        )

    def agency_name(self, agency_id: int) -> str:
        return self.agency_names.get(agency_id) or f"agency {agency_id}"

    def find(self, agreement_id: int) -> AgreementRule | None:
        """The accepted or ended agreement with this id, if the snapshot holds it."""
        for index in (self.active, self.inactive):
            for owners in index.values():
                for rules in owners.values():
                    for rule in rules:
                        if rule.id == agreement_id:
                            return rule
        return None

    @property
    def agreement_count(self) -> int:
        return sum(len(rules) for owners in self.active.values() for rules in owners.values())


def _freeze(index: dict[int, dict[int, list[AgreementRule]]]) -> Index:
    return {
        consumer: {owner: tuple(rules) for owner, rules in owners.items()}
        for consumer, owners in index.items()
    }


_NO_RULES: tuple[AgreementRule, ...] = ()
_EMPTY: Mapping[int, tuple[AgreementRule, ...]] = {}

# How close a refusal came to allowing; the closest one is reported.
_COVERED = 1
_VALIDITY = 2
_PURPOSE = 3
_CAPABILITY = 4
_WINDOW = 5
_STATUS = 6


def _deny(code: ReasonCode, reason: str) -> Decision:
    return Decision(False, code, reason)


def authorize(
    subject: Principal,
    camera: CameraFacts,
    capability: Capability,
    purpose: AccessPurpose | str | None,
    at: datetime,
    incident: IncidentFacts | None,
    *,
    policy: PolicySnapshot,
    case_number: str | None = None,
) -> Decision:
    """Allow or refuse one use of one camera, with its basis and a reason a person can read.

    The camera's mode (``CameraFacts.mode``) binds what others may use it for: an allow through
    an agreement or an incident holds only for a purpose the mode admits (a parking-enforcement
    camera in its enforcement hours serves traffic only), and ends when the mode changes. Its
    owner's own use is not bound by it."""
    decision = _authorize(
        subject, camera, capability, purpose, at, incident, policy=policy, case_number=case_number
    )
    if not decision.allowed or decision.basis is Basis.OWNERSHIP or camera.mode_purposes is None:
        return decision
    declared = purpose if isinstance(purpose, AccessPurpose) else lookup_purpose(str(purpose))
    if declared not in camera.mode_purposes:
        admitted = ", ".join(sorted(p.value for p in camera.mode_purposes)) or "nothing"
        return _deny(
            ReasonCode.OUTSIDE_MODE,
            f"camera {camera.id} is in {camera.mode} mode now, which admits {admitted}, "
            f"not {purpose_label(declared) if declared else purpose}",
        )
    if camera.mode_until is not None and (
        decision.until is None or camera.mode_until < decision.until
    ):
        return replace(decision, until=camera.mode_until)
    return decision


def _authorize(
    subject: Principal,
    camera: CameraFacts,
    capability: Capability,
    purpose: AccessPurpose | str | None,
    at: datetime,
    incident: IncidentFacts | None,
    *,
    policy: PolicySnapshot,
    case_number: str | None = None,
) -> Decision:
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    roles = subject.roles
    allowed_caps: set[Capability] = set()
    for role in roles:
        allowed_caps |= ROLE_CAPABILITIES.get(role, frozenset())
    if not allowed_caps:
        held = ", ".join(sorted(r.value for r in roles)) or "no role"
        return _deny(ReasonCode.ROLE_NOT_ALLOWED, f"{held}: no video access")
    if capability not in allowed_caps:
        needed = sorted(r.value for r, caps in ROLE_CAPABILITIES.items() if capability in caps)
        held = ", ".join(sorted(r.value for r in roles))
        return _deny(
            ReasonCode.ROLE_NOT_ALLOWED,
            f"{capability.value} needs the role {' or '.join(needed)}; you hold {held}",
        )

    if purpose is None or (isinstance(purpose, str) and not purpose.strip()):
        return _deny(ReasonCode.MISSING_PURPOSE, missing_purpose_message())
    declared = purpose if isinstance(purpose, AccessPurpose) else lookup_purpose(purpose)
    if declared is None:
        return _deny(ReasonCode.UNKNOWN_PURPOSE, unknown_purpose_message(str(purpose)))
    if declared in PURPOSES_NEEDING_CASE_NUMBER and not (case_number and case_number.strip()):
        return _deny(
            ReasonCode.MISSING_CASE_NUMBER, f"purpose {declared.value} needs a case number"
        )

    if not camera.enabled:
        return _deny(ReasonCode.CAMERA_DISABLED, f"camera {camera.id} is disabled")

    owner_id = camera.owner_agency_id
    if owner_id == subject.agency_id and not roles.isdisjoint(OWNERSHIP_ROLES):
        return Decision(
            True,
            ReasonCode.ALLOWED,
            f"camera {camera.id} belongs to your agency ({policy.agency_name(owner_id)})",
            Basis.OWNERSHIP,
            f"ownership:{owner_id}",
        )

    best: tuple[int, Decision] | None = None
    active = policy.active.get(subject.agency_id, _EMPTY).get(owner_id, _NO_RULES)
    allowing: list[Decision] = []
    for rule in active:
        stage, decision = _through_agreement(
            rule, subject, camera, capability, declared, at, incident
        )
        if decision.allowed:
            if capability is not Capability.PTZ and decision.incident_id is None:
                return decision
            allowing.append(decision)
        elif best is None or stage > best[0]:
            best = (stage, decision)
    if allowing:  # the highest PTZ priority; a basis that does not hang on an incident
        return max(allowing, key=lambda d: (d.ptz_priority or 0, d.incident_id is None))

    if incident is not None:
        stage, decision = _through_incident(incident, subject, camera, capability, declared)
        if decision.allowed:
            return decision
        if best is None or stage > best[0]:
            best = (stage, decision)

    inactive = policy.inactive.get(subject.agency_id, _EMPTY).get(owner_id, _NO_RULES)
    for rule in inactive:
        stage, decision = _through_agreement(
            rule, subject, camera, capability, declared, at, incident, ended=True
        )
        if decision.allowed:  # only its status stands in the way
            return _deny(*_status_reason(rule))
    if best is not None and best[0] >= _COVERED:
        return best[1]
    return _deny(ReasonCode.NO_AGREEMENT, _no_agreement_text(camera, capability, policy, incident))


def _through_incident(
    incident: IncidentFacts,
    subject: Principal,
    camera: CameraFacts,
    capability: Capability,
    purpose: AccessPurpose,
) -> tuple[int, Decision]:
    if not incident.involves(subject.agency_id, camera.id):
        return 0, _deny(ReasonCode.NO_AGREEMENT, "")
    if purpose not in incident.purposes:
        allowed = ", ".join(sorted(p.value for p in incident.purposes)) or "none"
        return _PURPOSE, _deny(
            ReasonCode.PURPOSE_NOT_ALLOWED,
            f"incident {incident.id} allows the purposes {allowed}, not {purpose_label(purpose)}",
        )
    if capability not in incident.capabilities:
        granted = ", ".join(sorted(c.value for c in incident.capabilities)) or "nothing"
        return _CAPABILITY, _deny(
            ReasonCode.CAPABILITY_NOT_GRANTED,
            f"incident {incident.id} grants {granted}, not {capability.value}",
        )
    name = f"incident {incident.id}" + (f" ({incident.label})" if incident.label else "")
    if not incident.open:
        if capability not in incident.lingering:
            return _STATUS, _deny(ReasonCode.INCIDENT_CLOSED, f"{name} is closed")
        reason = f"{name} closed; its {capability.value} lingers for camera {camera.id}"
    else:
        reason = f"{name} is open and lists camera {camera.id} for your agency"
    return _STATUS, Decision(
        True,
        ReasonCode.ALLOWED,
        reason,
        Basis.INCIDENT,
        f"incident:{incident.id}",
        until=incident.until,
        incident_id=incident.id,
        footage_from=incident.footage_from,
        footage_until=incident.footage_until,
    )


def _through_agreement(
    rule: AgreementRule,
    subject: Principal,
    camera: CameraFacts,
    capability: Capability,
    purpose: AccessPurpose,
    at: datetime,
    incident: IncidentFacts | None,
    ended: bool = False,
) -> tuple[int, Decision]:
    """How far ``rule`` gets towards allowing; ``ended``: ignore its validity period."""
    terms = rule.terms
    if not terms.selector.covers(
        camera.id,
        camera.site_id,
        camera.purpose,
        camera.region,
        camera.district,
        camera.lat,
        camera.lon,
    ):
        return 0, _deny(ReasonCode.NO_AGREEMENT, "")
    if not ended:
        if at < terms.valid_from:
            return _VALIDITY, _deny(
                ReasonCode.AGREEMENT_NOT_YET_VALID,
                f"agreement {rule.id} is valid from "
                f"{_local_text(terms.valid_from, terms.timezone)}",
            )
        if terms.valid_until is not None and at >= terms.valid_until:
            return _VALIDITY, _deny(
                ReasonCode.AGREEMENT_EXPIRED,
                f"agreement {rule.id} expired at {_local_text(terms.valid_until, terms.timezone)}",
            )
    if purpose not in terms.purposes:
        allowed = ", ".join(sorted(p.value for p in terms.purposes))
        return _PURPOSE, _deny(
            ReasonCode.PURPOSE_NOT_ALLOWED,
            f"agreement {rule.id} allows the purposes {allowed}, not {purpose_label(purpose)}",
        )
    if capability not in terms.capabilities:
        granted = ", ".join(sorted(c.value for c in terms.capabilities))
        return _CAPABILITY, _deny(
            ReasonCode.CAPABILITY_NOT_GRANTED,
            f"agreement {rule.id} grants {granted}, not {capability.value}",
        )
    until = terms.valid_until
    depends_on: int | None = None
    reason = f"agreement {rule.id} covers camera {camera.id} for {capability.value}"
    if terms.windows:
        local = at.astimezone(zone_info(terms.timezone))
        inside = next((w for w in terms.windows if w.contains(local)), None)
        if inside is not None:
            window_end = inside.ends_after(local).astimezone(UTC)
            until = window_end if until is None else min(until, window_end)
        elif (
            terms.unless_incident
            and incident is not None
            and incident.open
            and incident.involves(subject.agency_id, camera.id)
        ):
            reason += (
                f", outside its {windows_text(terms.windows, terms.timezone)} while "
                f"incident {incident.id} is open"
            )
            depends_on = incident.id
        else:
            return _WINDOW, _deny(
                ReasonCode.OUTSIDE_WINDOW,
                f"outside the {windows_text(terms.windows, terms.timezone)} of agreement {rule.id}",
            )
    return _STATUS, Decision(
        True,
        ReasonCode.ALLOWED,
        reason,
        Basis.AGREEMENT,
        f"agreement:{rule.id}",
        terms.ptz_priority if capability is Capability.PTZ else None,
        until,
        depends_on,
    )


def _status_reason(rule: AgreementRule) -> tuple[ReasonCode, str]:
    if rule.status is AgreementStatus.SUSPENDED:
        return ReasonCode.AGREEMENT_SUSPENDED, f"agreement {rule.id} is suspended"
    if rule.status is AgreementStatus.REVOKED:
        return ReasonCode.AGREEMENT_REVOKED, f"agreement {rule.id} was revoked"
    return ReasonCode.AGREEMENT_EXPIRED, f"agreement {rule.id} has expired"


def _local_text(moment: datetime, zone: str) -> str:
    return f"{moment.astimezone(zone_info(zone)).strftime('%Y-%m-%d %H:%M')} ({zone})"


def _no_agreement_text(
    camera: CameraFacts,
    capability: Capability,
    policy: PolicySnapshot,
    incident: IncidentFacts | None,
) -> str:
    owner = policy.agency_name(camera.owner_agency_id)
    text = f"no agreement covers {owner} {camera.purpose} cameras for {capability.value}"
    if incident is not None:
        text += f", and incident {incident.id} does not list camera {camera.id} for your agency"
    return text
