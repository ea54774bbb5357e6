"""Agreements over the database: their lifecycle, the policy snapshot, and audited decisions.

Every change and every refusal is written to the audit log: a change in the same transaction as
the change itself, a refusal in a transaction of its own after the refused one rolled back (so a
refused request changes nothing but the log). When an agreement that has been in force is
revoked, suspended, narrowed or expires, ``on_change(agreement_id, kind)`` is called after the
commit, with kind one of ``revoked``, ``suspended``, ``narrowed``, ``expired``; the grants layer
turns that into revocation events for the open grants.

Expiry is by time: ``expire_due()`` marks every agreement whose ``valid_until`` has passed as
expired. The service runs it before each change and listing; a server should also run it
periodically (``authorize`` refuses an agreement past its ``valid_until`` whatever its status).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record
from argus.db import transaction, utcnow
from argus.errors import ArgusError, ConflictError, FieldError
from argus.identity.principal import Principal
from argus.registry.models import Agency, RegistryRevision
from argus.sharing import rights, store
from argus.sharing.models import Agreement
from argus.sharing.policy import (
    CameraFacts,
    Decision,
    IncidentFacts,
    PolicySnapshot,
    authorize,
)
from argus.sharing.schemas import AgreementCreate, AgreementOut, AgreementPatch
from argus.sharing.terms import widening
from argus.sharing.vocab import (
    AccessPurpose,
    AgreementStatus,
    Capability,
    parse_capability,
)

log = logging.getLogger(__name__)

OnChange = Callable[[int, str], None]
Clock = Callable[[], datetime]

LIVE_STATUSES = (
    AgreementStatus.DRAFT,
    AgreementStatus.PROPOSED,
    AgreementStatus.ACCEPTED,
    AgreementStatus.SUSPENDED,
)
IN_FORCE = (AgreementStatus.ACCEPTED, AgreementStatus.SUSPENDED)


IncidentLookup = Callable[[int, int, datetime], IncidentFacts | None]
"""(agency id, camera id, moment) → the incident that lists the camera for that agency, if any."""
ModeLookup = Callable[[CameraFacts, datetime], CameraFacts]
"""The camera's facts with its mode at the moment filled in (``argus.modes``)."""


def _no_change(_agreement_id: int, _kind: str) -> None:
    return None


@dataclass(frozen=True)
class _Transition:
    sources: tuple[AgreementStatus, ...]
    target: AgreementStatus
    by_owner: bool  # else by the agency that drafted it
    notify: str | None  # the on_change kind, when the agreement was in force


TRANSITIONS: dict[str, _Transition] = {
    "propose": _Transition((AgreementStatus.DRAFT,), AgreementStatus.PROPOSED, False, None),
    "accept": _Transition((AgreementStatus.PROPOSED,), AgreementStatus.ACCEPTED, True, None),
    "suspend": _Transition(
        (AgreementStatus.ACCEPTED,), AgreementStatus.SUSPENDED, True, "suspended"
    ),
    "resume": _Transition((AgreementStatus.SUSPENDED,), AgreementStatus.ACCEPTED, True, None),
    "revoke": _Transition(LIVE_STATUSES, AgreementStatus.REVOKED, True, "revoked"),
}


@dataclass
class _Change:
    row: Agreement
    details: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    notify: str | None = None
    audit: bool = True


class SharingService:
    """Agreements, their audited lifecycle, and audited access decisions over one database."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        on_change: OnChange | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.sessions = sessions
        self.on_change: OnChange = on_change or _no_change
        self.clock = clock
        self._lock = threading.Lock()
        self._snapshot: PolicySnapshot | None = None
        self._snapshot_key: tuple[int, int] | None = None
        self.incidents: IncidentLookup | None = None  # set by the incidents package
        self.camera_modes: ModeLookup | None = None  # set by the modes package

    # -- reading ------------------------------------------------------------------------

    def list_agreements(
        self, principal: Principal, status: AgreementStatus | None = None
    ) -> list[AgreementOut]:
        """The agreements the caller's agency owns or consumes (every one, for a system admin)."""
        self.expire_due()
        with self.sessions() as session:
            stmt = select(Agreement).order_by(Agreement.id)
            if not rights.sees_all(principal):
                stmt = stmt.where(
                    or_(
                        Agreement.owner_agency_id == principal.agency_id,
                        Agreement.consumer_agency_id == principal.agency_id,
                    )
                )
            if status is not None:
                stmt = stmt.where(Agreement.status == status.value)
            rows = list(session.scalars(stmt))
            names = store.agency_names(session, {a for r in rows for a in store.agencies_of(r)})
            return [store.agreement_out(row, names) for row in rows]

    def get_agreement(self, principal: Principal, agreement_id: int) -> AgreementOut:
        self.expire_due()
        with self.sessions() as session:
            row = store.readable(session, principal, agreement_id)
            return store.agreement_out(row, store.agency_names(session, store.agencies_of(row)))

    # -- changes ------------------------------------------------------------------------

    def create(self, principal: Principal, body: AgreementCreate) -> AgreementOut:
        """A new draft, offered by the owner or requested by the consumer."""

        def work(session: Session, now: datetime) -> _Change:
            rights.ensure_may_create(principal, body.owner_agency_id, body.consumer_agency_id)
            owner = store.agency_or_field_error(session, body.owner_agency_id, "owner_agency_id")
            store.agency_or_field_error(session, body.consumer_agency_id, "consumer_agency_id")
            terms = store.terms_from_fields(
                body.owner_agency_id,
                body.consumer_agency_id,
                store.request_fields(body),
                now,
            )
            store.check_references(session, terms, owner)
            row = Agreement(
                title=body.title,
                owner_agency_id=terms.owner_agency_id,
                consumer_agency_id=terms.consumer_agency_id,
                requested_by_agency_id=principal.agency_id,
                status=AgreementStatus.DRAFT.value,
                created_by_user_id=principal.user_id,
                version=1,
                created_at=now,
                updated_at=now,
            )
            store.store_terms(row, terms)
            session.add(row)
            session.flush()
            return _Change(row, {"terms": store.terms_summary(terms)})

        parties = {
            "owner_agency_id": body.owner_agency_id,
            "consumer_agency_id": body.consumer_agency_id,
        }
        return self._change(principal, "agreement.create", None, work, parties=parties)

    def update(self, principal: Principal, agreement_id: int, body: AgreementPatch) -> AgreementOut:
        """Edit a draft (by the agency that drafted it), or narrow an agreement (by the owner)."""
        action = "agreement.update"

        def work(session: Session, now: datetime) -> _Change:
            row = store.readable(session, principal, agreement_id, lock=True)
            status = AgreementStatus(row.status)
            names = store.agency_names(session, store.agencies_of(row))
            if status is AgreementStatus.DRAFT:
                rights.ensure_requester_admin(principal, row.requested_by_agency_id, "edit")
            else:
                rights.ensure_owner_admin(
                    principal, row.owner_agency_id, names[row.owner_agency_id], "narrow"
                )
                store.ensure_not_ended(row, status, "change")
            old = store.terms_of(row)
            merged = store.merge_patch(row, body)
            new = store.terms_from_fields(row.owner_agency_id, row.consumer_agency_id, merged, now)
            if status is not AgreementStatus.DRAFT:
                wider = widening(old, new)
                if wider is not None:
                    raise wider
            owner = session.get_one(Agency, row.owner_agency_id)
            store.check_references(session, new, owner)
            title_changed = "title" in body.model_fields_set and body.title != row.title
            if new == old and not title_changed:
                return _Change(row, audit=False)
            store.store_terms(row, new)
            if title_changed:
                row.title = body.title
            row.version += 1
            row.updated_at = now
            session.flush()
            narrowed = status is not AgreementStatus.DRAFT and new != old
            return _Change(
                row,
                {"before": store.terms_summary(old), "after": store.terms_summary(new)},
                notify="narrowed" if narrowed and status in IN_FORCE else None,
            )

        return self._change(principal, action, agreement_id, work, narrow_action=True)

    def transition(
        self, principal: Principal, agreement_id: int, verb: str, note: str | None = None
    ) -> AgreementOut:
        """propose, accept, suspend, resume or revoke, by whoever ``rights`` allows."""
        step = TRANSITIONS[verb]

        def work(session: Session, now: datetime) -> _Change:
            row = store.readable(session, principal, agreement_id, lock=True)
            names = store.agency_names(session, store.agencies_of(row))
            if step.by_owner:
                rights.ensure_owner_admin(
                    principal, row.owner_agency_id, names[row.owner_agency_id], verb
                )
            else:
                rights.ensure_requester_admin(principal, row.requested_by_agency_id, verb)
            status = AgreementStatus(row.status)
            store.ensure_not_ended(row, status, verb)
            if status not in step.sources:
                allowed = " or ".join(s.value for s in step.sources)
                raise ConflictError(
                    f"agreement {row.id} is {status.value}; it can be {_past(verb)} only "
                    f"when {allowed}"
                )
            if step.target is AgreementStatus.ACCEPTED:
                store.terms_of(row)  # still valid by today's rules
            row.status = step.target.value
            row.version += 1
            row.updated_at = now
            if verb == "propose":
                row.proposed_at = now
            elif verb == "accept":
                row.accepted_at = now
                row.accepted_by_user_id = principal.user_id
            elif verb == "revoke":
                row.ended_at = now
            if note is not None:
                row.status_note = note
            session.flush()
            return _Change(
                row,
                {"from": status.value, "to": step.target.value},
                note=note,
                notify=step.notify if status in IN_FORCE else None,
            )

        return self._change(principal, f"agreement.{verb}", agreement_id, work)

    def propose(self, principal: Principal, agreement_id: int) -> AgreementOut:
        return self.transition(principal, agreement_id, "propose")

    def accept(self, principal: Principal, agreement_id: int) -> AgreementOut:
        return self.transition(principal, agreement_id, "accept")

    def suspend(
        self, principal: Principal, agreement_id: int, note: str | None = None
    ) -> AgreementOut:
        return self.transition(principal, agreement_id, "suspend", note)

    def resume(self, principal: Principal, agreement_id: int) -> AgreementOut:
        return self.transition(principal, agreement_id, "resume")

    def revoke(
        self, principal: Principal, agreement_id: int, note: str | None = None
    ) -> AgreementOut:
        return self.transition(principal, agreement_id, "revoke", note)

    def expire_due(self) -> list[int]:
        """Mark agreements past their ``valid_until`` as expired; returns their ids."""
        now = self.clock()
        with self.sessions() as session:
            due = session.execute(
                select(Agreement.id, Agreement.status).where(
                    Agreement.status.in_([s.value for s in LIVE_STATUSES]),
                    Agreement.valid_until.is_not(None),
                    Agreement.valid_until <= now,
                )
            ).all()
        expired: list[tuple[int, AgreementStatus]] = []
        for agreement_id, status_text in due:
            status = AgreementStatus(status_text)
            with transaction(self.sessions) as session:
                result = session.execute(
                    update(Agreement)
                    .where(Agreement.id == agreement_id, Agreement.status == status.value)
                    .values(
                        status=AgreementStatus.EXPIRED.value,
                        ended_at=now,
                        updated_at=now,
                        version=Agreement.version + 1,
                    )
                    .execution_options(synchronize_session=False)
                )
                if getattr(result, "rowcount", 0) != 1:
                    continue  # another process expired or changed it first
                record(
                    session,
                    AuditEvent(
                        action="agreement.expire",
                        outcome=Outcome.OK,
                        target=f"agreement:{agreement_id}",
                        reason="valid_until has passed",
                        details={"from": status.value, "to": "expired", "via": "expiry"},
                    ),
                )
            expired.append((agreement_id, status))
        for agreement_id, status in expired:
            if status in IN_FORCE:
                self._notify(agreement_id, "expired")
        return [agreement_id for agreement_id, _ in expired]

    # -- decisions ----------------------------------------------------------------------

    def snapshot(self) -> PolicySnapshot:
        """The policy as it is in the database now (rebuilt only when something changed)."""
        with self.sessions() as session:
            versions = session.scalar(select(func.coalesce(func.sum(Agreement.version), 0)))
            registry = session.scalar(
                select(RegistryRevision.revision).where(RegistryRevision.id == 1)
            )
            key = (int(versions or 0), int(registry or 0))
            with self._lock:
                if self._snapshot is not None and self._snapshot_key == key:
                    return self._snapshot
            snapshot = store.build_snapshot(session, version=key[0])
        with self._lock:
            self._snapshot, self._snapshot_key = snapshot, key
        return snapshot

    def camera_facts(self, camera_id: int) -> CameraFacts:
        with self.sessions() as session:
            return store.camera_facts(session, camera_id)

    def decide(
        self,
        principal: Principal,
        camera_id: int,
        capability: Capability | str,
        purpose: AccessPurpose | str | None,
        *,
        case_number: str | None = None,
        incident: IncidentFacts | None = None,
        at: datetime | None = None,
        action: str = "access.check",
        extra: Mapping[str, Any] | None = None,
    ) -> Decision:
        """``authorize`` over the database's facts, with the decision written to the audit log.

        An unknown camera or capability is refused (404 / 422) and audited as a denial.
        """
        moment = at or self.clock()
        purpose_text = purpose.value if isinstance(purpose, AccessPurpose) else purpose
        try:
            wanted = (
                capability if isinstance(capability, Capability) else parse_capability(capability)
            )
            camera = self.camera_facts(camera_id)
        except ArgusError as exc:
            self._audit(
                principal,
                action,
                Outcome.DENY,
                target=f"camera:{camera_id}",
                purpose=purpose_text,
                reason=str(exc),
                details={"code": "invalid_request", "capability": str(capability)},
            )
            raise
        policy = self.snapshot()
        if self.camera_modes is not None:
            camera = self.camera_modes(camera, moment)
        if incident is None and self.incidents is not None:
            incident = self.incidents(principal.agency_id, camera_id, moment)
        decision = authorize(
            principal,
            camera,
            wanted,
            purpose,
            moment,
            incident,
            policy=policy,
            case_number=case_number,
        )
        details: dict[str, Any] = {"code": decision.code.value, "capability": wanted.value}
        details["actor_name"] = principal.username
        if decision.grant and decision.grant.startswith("agreement:"):
            rule = policy.find(int(decision.grant.split(":", 1)[1]))
            if rule is not None:  # what the PIPA ledger shows as 법령상 근거 and 제공받는 자
                details["legal_basis"] = rule.terms.legal_basis
                details["recipient"] = policy.agency_name(rule.terms.consumer_agency_id)
        if decision.grant and decision.grant.startswith("incident:") and incident is not None:
            details["legal_basis"] = incident.legal_basis
            details["recipient"] = policy.agency_name(principal.agency_id)
        details.update(extra or {})
        if case_number:
            details["case_number"] = case_number
        if incident is not None:
            details["incident"] = incident.id
        self._audit(
            principal,
            action,
            Outcome.ALLOW if decision.allowed else Outcome.DENY,
            target=f"camera:{camera_id}",
            purpose=purpose_text,
            reason=decision.reason,
            grant=decision.grant,
            details=details,
        )
        return decision

    # -- plumbing -----------------------------------------------------------------------

    def _change(
        self,
        principal: Principal,
        action: str,
        agreement_id: int | None,
        work: Callable[[Session, datetime], _Change],
        narrow_action: bool = False,
        parties: dict[str, int] | None = None,
    ) -> AgreementOut:
        self.expire_due()
        now = self.clock()
        try:
            with transaction(self.sessions) as session:
                change = work(session, now)
                out = store.agreement_out(
                    change.row, store.agency_names(session, store.agencies_of(change.row))
                )
                if change.audit:
                    if narrow_action and change.row.status != AgreementStatus.DRAFT.value:
                        action = "agreement.narrow"
                    record(
                        session,
                        self._event(
                            principal,
                            action,
                            Outcome.OK,
                            target=f"agreement:{change.row.id}",
                            reason=change.note,
                            details={**store.parties(change.row), **change.details},
                        ),
                    )
        except ArgusError as exc:
            details: dict[str, Any] = {"refused": type(exc).__name__}
            if isinstance(exc, FieldError):
                details["field"] = exc.field
            details.update(parties or self._parties_of(agreement_id))
            self._audit(
                principal,
                action,
                Outcome.DENY,
                target=None if agreement_id is None else f"agreement:{agreement_id}",
                reason=str(exc),
                details=details,
            )
            raise
        if change.notify:
            self._notify(change.row.id, change.notify)
        return out

    def _parties_of(self, agreement_id: int | None) -> dict[str, int]:
        if agreement_id is None:
            return {}
        with self.sessions() as session:
            row = session.get(Agreement, agreement_id)
            return {} if row is None else store.parties(row)

    def _notify(self, agreement_id: int, kind: str) -> None:
        try:
            self.on_change(agreement_id, kind)
        except Exception:  # the change is committed; a failing listener must not undo the answer
            log.exception("on_change(%s, %s) failed", agreement_id, kind)

    def _event(
        self,
        principal: Principal,
        action: str,
        outcome: Outcome,
        *,
        target: str | None = None,
        purpose: str | None = None,
        reason: str | None = None,
        grant: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        return AuditEvent(
            action=action,
            outcome=outcome,
            actor_user_id=principal.user_id,
            actor_agency_id=principal.agency_id,
            target=target,
            purpose=purpose,
            reason=reason,
            grant=grant,
            client=principal.client,
            details={"via": principal.extra.get("via", principal.method.value), **(details or {})},
        )

    def _audit(self, principal: Principal, action: str, outcome: Outcome, **kwargs: Any) -> None:
        with transaction(self.sessions) as session:
            record(session, self._event(principal, action, outcome, **kwargs))


def _past(verb: str) -> str:
    return {"propose": "proposed", "accept": "accepted", "suspend": "suspended"}.get(
        verb, f"{verb}d"
    )
