"""The incident lifecycle: intake, camera selection, temporary grants, close.

``raise_incident`` decides at intake what the incident provides (``provision_for``), picks the
responding agency, selects and ranks the cameras around the point, stores all of it, audits it
(``incident.raise``), makes the cameras record (``recording_triggers``) and publishes an
``IncidentChanged`` event that the push sends to every screen that may see it.

The grants are not stored: while an incident lists a camera for an agency, ``authorize`` allows
that agency's users live view, playback and PTZ of it for the incident's purposes
(``lookup``, which ``SharingService.decide`` asks for every decision). Each allowed use is
audited with the incident as its basis and its legal basis, so the camera owner's PIPA ledger
shows it as 제공.

``close`` ends live view at once: the live stream tokens resting on the incident are revoked,
so their streams close within a second; playback lingers for ``incident_linger_minutes``
(footage from ``incident_playback_minutes`` before the incident opened). The recording triggers
stop at close.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record
from argus.audit.query import as_utc
from argus.config import Settings
from argus.db import transaction, utcnow
from argus.errors import ArgusError, ConflictError, FieldError, ForbiddenError, NotFoundError
from argus.events import EventBus
from argus.identity.principal import Principal, Role
from argus.incidents.geometry import circumscribing_radius_m, open_ring, vertex_mean
from argus.incidents.models import Incident, IncidentCamera
from argus.incidents.provision import provision_for
from argus.incidents.schemas import IncidentCameraOut, IncidentIntake, IncidentOut
from argus.incidents.selection import MAX_RADIUS_M, SelectedCamera
from argus.incidents.vocab import (
    INCIDENT_TYPES,
    LIVE_STATUSES,
    IncidentSource,
    IncidentStatus,
    parse_source,
    parse_type,
    type_label,
)
from argus.recording.models import RecordingTrigger
from argus.recording.triggers import start_triggers
from argus.registry.models import Agency, Camera
from argus.registry.vocab import AgencyKind
from argus.sharing.policy import IncidentFacts
from argus.sharing.vocab import AccessPurpose, Capability

log = logging.getLogger(__name__)

DEFAULT_PRIORITY = {
    IncidentSource.POLICE_112: 1,
    IncidentSource.FIRE_119: 1,
    IncidentSource.DISASTER_ROOM: 2,
    IncidentSource.EMERGENCY_BELL: 2,
    IncidentSource.OPERATOR: 3,
}
CENTRE_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.AUDITOR})
"""Roles of the control centre (an agency of kind city) that see every incident."""
RESPONDER_KINDS = {
    AgencyKind.POLICE: IncidentSource.POLICE_112,
    AgencyKind.FIRE: IncidentSource.FIRE_119,
    AgencyKind.DISASTER: IncidentSource.DISASTER_ROOM,
}


class CameraPicker(Protocol):
    def pick(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        area: Sequence[tuple[float, float]] | None,
        limit: int,
    ) -> Sequence[SelectedCamera]: ...


@dataclass(frozen=True)
class IncidentChanged:
    """Published on the bus whenever an incident is raised, activated, updated or closed."""

    change: str  # raised, activated, updated, closed
    incident: IncidentOut
    popup_camera_id: int | None = None  # an emergency bell: the camera to open at once


@dataclass(frozen=True)
class Actor:
    """Who acts on an incident: a signed-in user, or a room's system through the webhook."""

    principal: Principal | None
    via: str  # api, webhook, cap, cli

    @property
    def user_id(self) -> int | None:
        return None if self.principal is None else self.principal.user_id

    @property
    def agency_id(self) -> int | None:
        return None if self.principal is None else self.principal.agency_id


class IncidentService:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        bus: EventBus,
        picker: CameraPicker,
        on_closed: Callable[[int], object],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.bus = bus
        self.picker = picker
        self.on_closed = on_closed
        self.clock = clock

    # -- intake -------------------------------------------------------------------------

    def raise_incident(self, actor: Actor, intake: IncidentIntake) -> tuple[IncidentOut, bool]:
        """The incident (new, or the one already raised with this external id) and whether it
        is new. Bad input raises FieldError and stores nothing."""
        source = self._source_of(actor, intake)
        kind = parse_type(intake.type)
        provision = provision_for(source, kind, self.settings.incident_112_video_types)
        area = [(p.lat, p.lon) for p in intake.area] if intake.area else None
        lat, lon = (
            (intake.at.lat, intake.at.lon) if intake.at else vertex_mean(open_ring(area or []))
        )
        radius = intake.radius_m or self.settings.incident_radius_m
        if area and not intake.radius_m:  # the circle that holds the area, within the limit
            radius = min(max(radius, circumscribing_radius_m((lat, lon), area)), MAX_RADIUS_M)
        now = self.clock()
        if intake.external_id is not None:
            existing = self._by_external(source, intake.external_id)
            if existing is not None:
                return existing, False
        with transaction(self.sessions) as session:
            responder = self._responder(session, actor, source, provision.responder_kind, intake)
            picked: Sequence[SelectedCamera] = []
            if provision.provides:
                picked = self.picker.pick(
                    lat, lon, radius, area, self.settings.incident_max_cameras
                )
            row = Incident(
                source=source.value,
                external_id=intake.external_id,
                kind=kind,
                priority=intake.priority or DEFAULT_PRIORITY[source],
                status=IncidentStatus.OPEN.value,
                title=intake.title,
                description=intake.description,
                lat=lat,
                lon=lon,
                radius_m=radius,
                area=[[a, b] for a, b in area] if area else None,
                responding_agency_id=responder,
                provides=provision.provides,
                provision_reason=provision.reason,
                capabilities=sorted(c.value for c in provision.capabilities),
                purposes=sorted(p.value for p in provision.purposes),
                legal_basis=provision.legal_basis,
                details={"via": actor.via},
                raised_by=actor.user_id,
                opened_at=now,
                playback_from=now - timedelta(minutes=self.settings.incident_playback_minutes),
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # the same report, raised at the same moment by another call
                session.rollback()
                raise ConflictError(
                    f"an incident from {source.value} with id {intake.external_id!r} exists"
                ) from None
            session.add_all(
                IncidentCamera(
                    incident_id=row.id,
                    camera_id=p.camera_id,
                    rank=p.rank,
                    distance_m=round(p.distance_m, 1),
                    bearing_deg=None if p.bearing_deg is None else round(p.bearing_deg, 1),
                    facing=p.facing,
                )
                for p in picked
            )
            record(
                session,
                self._event(
                    actor,
                    "incident.raise",
                    row.id,
                    reason=provision.reason,
                    details={
                        "source": source.value,
                        "type": kind,
                        "provides": provision.provides,
                        "responding_agency": responder,
                        "cameras": [p.camera_id for p in picked],
                        "lat": lat,
                        "lon": lon,
                        "radius_m": radius,
                        "external_id": intake.external_id,
                    },
                ),
            )
            incident_id = row.id
        if picked:
            self._record(incident_id, [p.camera_id for p in picked], actor, kind, now)
        out = self.get(incident_id)
        popup = picked[0].camera_id if source is IncidentSource.EMERGENCY_BELL and picked else None
        self.bus.publish(IncidentChanged("raised", out, popup))
        return out, True

    def _source_of(self, actor: Actor, intake: IncidentIntake) -> IncidentSource:
        principal = actor.principal
        if principal is None or principal.has(Role.SYSTEM_ADMIN):
            if intake.source is None:
                raise FieldError("source", "say which room the incident comes from", "body")
            return parse_source(intake.source)
        with self.sessions() as session:
            agency = session.get(Agency, principal.agency_id)
            kind = AgencyKind(agency.kind) if agency is not None else AgencyKind.OTHER
        own = RESPONDER_KINDS.get(kind, IncidentSource.OPERATOR)
        if principal.has(Role.RESPONDER) and kind not in RESPONDER_KINDS:
            own = IncidentSource.OPERATOR
        if intake.source is None:
            return own
        asked = parse_source(intake.source)
        if asked is not own:
            raise ForbiddenError(
                f"you raise incidents as {own.value}, not {asked.value}: a room's system sends "
                "its own through the signed webhook"
            )
        return asked

    def _responder(
        self,
        session: Session,
        actor: Actor,
        source: IncidentSource,
        kind: AgencyKind | None,
        intake: IncidentIntake,
    ) -> int | None:
        if intake.responding_agency_id is not None:
            agency = session.get(Agency, intake.responding_agency_id)
            if agency is None:
                raise FieldError(
                    "responding_agency_id",
                    f"agency {intake.responding_agency_id} does not exist",
                    "body",
                )
            return agency.id
        if kind is None:  # an operator's incident: the operator's own agency responds
            return actor.agency_id
        if actor.principal is not None and source in RESPONDER_KINDS.values():
            return actor.agency_id  # a police responder raising a 112 incident
        ids = list(session.scalars(select(Agency.id).where(Agency.kind == kind.value)))
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise FieldError(
                "responding_agency_id",
                f"no agency of kind {kind.value} is registered to respond to {source.value}",
                "body",
            )
        raise FieldError(
            "responding_agency_id",
            f"{len(ids)} agencies of kind {kind.value} could respond: name one",
            "body",
        )

    def _record(
        self, incident_id: int, cameras: list[int], actor: Actor, kind: str, now: datetime
    ) -> None:
        try:
            start_triggers(
                self.sessions,
                cameras,
                self.settings.incident_record_minutes,
                f"incident {incident_id}: {type_label(kind)}",
                incident_id=incident_id,
                user_id=actor.user_id,
                agency_id=actor.agency_id,
                now=now,
            )
        except ArgusError:  # recording is a help, not a condition of the grant
            log.exception("incident %s: recording triggers not started", incident_id)

    # -- lifecycle ----------------------------------------------------------------------

    def activate(self, actor: Actor, incident_id: int) -> IncidentOut:
        now = self.clock()
        with transaction(self.sessions) as session:
            row = self._row(session, incident_id)
            self._may_work(session, actor, row)
            if row.status != IncidentStatus.OPEN.value:
                raise ConflictError(f"incident {incident_id} is {row.status}, not open")
            row.status = IncidentStatus.ACTIVE.value
            row.activated_at = now
            row.activated_by = actor.user_id
            record(session, self._event(actor, "incident.activate", incident_id))
        out = self.get(incident_id)
        self.bus.publish(IncidentChanged("activated", out))
        return out

    def close(self, actor: Actor, incident_id: int, reason: str = "") -> IncidentOut:
        now = self.clock()
        with transaction(self.sessions) as session:
            row = self._row(session, incident_id)
            self._may_work(session, actor, row)
            if row.status == IncidentStatus.CLOSED.value:
                raise ConflictError(f"incident {incident_id} is already closed")
            row.status = IncidentStatus.CLOSED.value
            row.closed_at = now
            row.closed_by = actor.user_id
            row.close_reason = reason.strip() or None
            row.linger_until = now + timedelta(minutes=self.settings.incident_linger_minutes)
            triggers = list(
                session.scalars(
                    select(RecordingTrigger).where(
                        RecordingTrigger.incident_id == incident_id,
                        RecordingTrigger.end_time > now,
                    )
                )
            )
            for trigger in triggers:
                trigger.end_time = max(now, as_utc(trigger.start_time) + timedelta(microseconds=1))
                trigger.stopped_by = actor.user_id
            record(
                session,
                self._event(
                    actor,
                    "incident.close",
                    incident_id,
                    reason=row.close_reason,
                    details={"recording_stopped": [t.camera_id for t in triggers]},
                ),
            )
        self.on_closed(incident_id)  # live views resting on it close now
        out = self.get(incident_id)
        self.bus.publish(IncidentChanged("closed", out))
        return out

    def amend(
        self,
        actor: Actor,
        incident_id: int,
        *,
        title: str | None,
        description: str | None,
        priority: int | None,
        note: str,
    ) -> IncidentOut:
        """Change the words and urgency of a live incident (a CAP Update); its cameras stay."""
        with transaction(self.sessions) as session:
            row = self._row(session, incident_id)
            self._may_work(session, actor, row)
            if row.status == IncidentStatus.CLOSED.value:
                raise ConflictError(f"incident {incident_id} is closed")
            if title:
                row.title = title[:300]
            if description:
                row.description = description[:4000]
            if priority is not None:
                row.priority = priority
            details = dict(row.details or {})
            row.details = {**details, "updates": [*details.get("updates", []), note]}
            record(session, self._event(actor, "incident.update", incident_id, reason=note))
        out = self.get(incident_id)
        self.bus.publish(IncidentChanged("updated", out))
        return out

    def close_by_external(
        self, actor: Actor, source: str, external_id: str, reason: str
    ) -> IncidentOut:
        return self.close(actor, self.find_external(source, external_id).id, reason)

    def find_external(self, source: str, external_id: str) -> IncidentOut:
        found = self._by_external(parse_source(source), external_id)
        if found is None:
            raise NotFoundError(f"no incident from {source} with id {external_id!r}")
        return found

    def _may_work(self, session: Session, actor: Actor, row: Incident) -> None:
        """Who may activate or close: the room's system, the responding agency's responders,
        the centre's supervisors and operators, a system admin."""
        principal = actor.principal
        if principal is None or principal.has(Role.SYSTEM_ADMIN):
            return
        if principal.agency_id == row.responding_agency_id and principal.has(
            Role.RESPONDER, Role.SUPERVISOR, Role.OPERATOR
        ):
            return
        if self._is_centre(session, principal) and principal.has(Role.SUPERVISOR, Role.OPERATOR):
            return
        raise ForbiddenError(
            f"incident {row.id} is worked by its responding agency and the control centre"
        )

    # -- reading ------------------------------------------------------------------------

    def get(self, incident_id: int, principal: Principal | None = None) -> IncidentOut:
        with self.sessions() as session:
            row = self._row(session, incident_id)
            if principal is not None and not self._visible(session, principal, row):
                raise NotFoundError(f"incident {incident_id} does not exist")
            return self._out(session, row)

    def list_for(
        self, principal: Principal, status: str | None = None, limit: int = 100
    ) -> list[IncidentOut]:
        if status is not None and status not in {s.value for s in IncidentStatus} | {"live"}:
            allowed = ", ".join([*(s.value for s in IncidentStatus), "live"])
            raise FieldError("status", f"unknown status {status!r}: use one of {allowed}")
        with self.sessions() as session:
            query = select(Incident).order_by(Incident.id.desc())
            if status == "live":
                query = query.where(Incident.status != IncidentStatus.CLOSED.value)
            elif status is not None:
                query = query.where(Incident.status == status)
            rows = [r for r in session.scalars(query.limit(max(1, min(limit, 1000))))]
            return [self._out(session, r) for r in rows if self._visible(session, principal, r)]

    def visible_to(self, principal: Principal, incident: IncidentOut) -> bool:
        with self.sessions() as session:
            row = session.get(Incident, incident.id)
            return row is not None and self._visible(session, principal, row)

    def lookup(self, agency_id: int, camera_id: int, at: datetime) -> IncidentFacts | None:
        """The incident listing ``camera_id`` for ``agency_id`` that grants the most at ``at``:
        an open one (the most urgent, then the newest), else one whose playback lingers."""
        with self.sessions() as session:
            rows = list(
                session.scalars(
                    select(Incident)
                    .join(IncidentCamera, IncidentCamera.incident_id == Incident.id)
                    .where(
                        IncidentCamera.camera_id == camera_id,
                        Incident.responding_agency_id == agency_id,
                        Incident.provides.is_(True),
                        or_(
                            Incident.status != IncidentStatus.CLOSED.value,
                            Incident.linger_until > at,
                        ),
                    )
                )
            )
        if not rows:
            return None
        rows.sort(key=lambda r: (r.status == IncidentStatus.CLOSED.value, r.priority, -r.id))
        row = rows[0]
        open_ = IncidentStatus(row.status) in LIVE_STATUSES
        capabilities = frozenset(Capability(c) for c in row.capabilities)
        return IncidentFacts(
            id=row.id,
            open=open_,
            responding_agency_ids=frozenset({agency_id}),
            camera_ids=frozenset({camera_id}),
            capabilities=capabilities,
            purposes=frozenset(AccessPurpose(p) for p in row.purposes),
            lingering=capabilities & {Capability.PLAYBACK},
            until=None if open_ or row.linger_until is None else as_utc(row.linger_until),
            legal_basis=f"{row.legal_basis} · incident {row.id}",
            footage_from=as_utc(row.playback_from),
            footage_until=None if row.closed_at is None else as_utc(row.closed_at),
            label=f"{row.source} {row.kind} · {INCIDENT_TYPES.get(row.kind, row.kind)}",
        )

    def in_use(self) -> dict[int, list[int]]:
        """Camera id → the live incidents listing it (for the console's map)."""
        with self.sessions() as session:
            rows = session.execute(
                select(IncidentCamera.camera_id, Incident.id)
                .join(Incident, IncidentCamera.incident_id == Incident.id)
                .where(Incident.status != IncidentStatus.CLOSED.value)
            )
            used: dict[int, list[int]] = {}
            for camera_id, incident_id in rows:
                used.setdefault(camera_id, []).append(incident_id)
            return used

    # -- plumbing -----------------------------------------------------------------------

    def _by_external(self, source: IncidentSource, external_id: str) -> IncidentOut | None:
        with self.sessions() as session:
            row = session.scalar(
                select(Incident).where(
                    Incident.source == source.value, Incident.external_id == external_id
                )
            )
            return None if row is None else self._out(session, row)

    @staticmethod
    def _row(session: Session, incident_id: int) -> Incident:
        row = session.get(Incident, incident_id)
        if row is None:
            raise NotFoundError(f"incident {incident_id} does not exist")
        return row

    @staticmethod
    def _is_centre(session: Session, principal: Principal) -> bool:
        agency = session.get(Agency, principal.agency_id)
        return agency is not None and agency.kind == AgencyKind.CITY.value

    def _visible(self, session: Session, principal: Principal, row: Incident) -> bool:
        if principal.has(Role.SYSTEM_ADMIN) or principal.agency_id == row.responding_agency_id:
            return True
        if self._is_centre(session, principal) and principal.has(*CENTRE_ROLES):
            return True
        owners = session.scalars(
            select(Camera.owner_id)
            .join(IncidentCamera, IncidentCamera.camera_id == Camera.id)
            .where(IncidentCamera.incident_id == row.id)
        )
        return principal.agency_id in set(owners)

    def _out(self, session: Session, row: Incident) -> IncidentOut:
        cameras = session.execute(
            select(IncidentCamera, Camera.name, Camera.lat, Camera.lon, Agency.name)
            .outerjoin(Camera, Camera.id == IncidentCamera.camera_id)
            .outerjoin(Agency, Agency.id == Camera.owner_id)
            .where(IncidentCamera.incident_id == row.id)
            .order_by(IncidentCamera.rank)
        ).all()
        responder = (
            session.get(Agency, row.responding_agency_id) if row.responding_agency_id else None
        )
        return IncidentOut(
            id=row.id,
            source=row.source,
            type=row.kind,
            type_label=type_label(row.kind),
            priority=row.priority,
            status=row.status,
            title=row.title,
            description=row.description,
            lat=row.lat,
            lon=row.lon,
            radius_m=row.radius_m,
            area=row.area,
            external_id=row.external_id,
            responding_agency_id=row.responding_agency_id,
            responding_agency=responder.name if responder else None,
            provides=row.provides,
            provision_reason=row.provision_reason,
            capabilities=list(row.capabilities),
            purposes=list(row.purposes),
            legal_basis=row.legal_basis,
            opened_at=as_utc(row.opened_at),
            activated_at=None if row.activated_at is None else as_utc(row.activated_at),
            closed_at=None if row.closed_at is None else as_utc(row.closed_at),
            close_reason=row.close_reason,
            linger_until=None if row.linger_until is None else as_utc(row.linger_until),
            playback_from=as_utc(row.playback_from),
            cameras=[
                IncidentCameraOut(
                    camera_id=link.camera_id,
                    rank=link.rank,
                    distance_m=link.distance_m,
                    bearing_deg=link.bearing_deg,
                    facing=link.facing,
                    name=name,
                    owner=owner,
                    lat=lat,
                    lon=lon,
                )
                for link, name, lat, lon, owner in cameras
            ],
            details=dict(row.details or {}),
        )

    def _event(
        self,
        actor: Actor,
        action: str,
        incident_id: int,
        *,
        reason: str | None = None,
        details: dict[str, object] | None = None,
    ) -> AuditEvent:
        via = actor.via if actor.principal is None else actor.principal.method.value
        return AuditEvent(
            action=action,
            outcome=Outcome.OK,
            actor_user_id=actor.user_id,
            actor_agency_id=actor.agency_id,
            target=f"incident:{incident_id}",
            reason=reason,
            client=None if actor.principal is None else actor.principal.client,
            details={"via": via, **(details or {})},
        )
