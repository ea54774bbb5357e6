"""Grants become stream tokens; policy changes reach the tokens already out.

``issue`` runs ``authorize`` (through ``SharingService.decide``, which audits the decision before
any byte can flow) and signs a token for at most ten minutes, and never past the moment the
allow ends by itself (the end of a time window or of the agreement). ``renew`` decides again.
``check`` is what the media plane calls for every stream it opens: a refused token is audited
as a denial with its reason code.

When an agreement is revoked, suspended or expires, every live token resting on it is revoked;
when it is narrowed, each of its live tokens is decided again and revoked if no longer allowed;
when a user is disabled, all of that user's tokens are revoked. Each of these publishes one
``GrantsRevoked`` event naming exactly the tokens affected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record
from argus.db import transaction, utcnow
from argus.errors import ArgusError
from argus.identity.context import UserChanged
from argus.identity.lookup import principal_of
from argus.identity.principal import Principal
from argus.sharing.live_grants import GrantsRevoked, LiveGrants
from argus.sharing.policy import Decision
from argus.sharing.service import SharingService
from argus.sharing.tokens import MAX_TTL, StreamClaims, TokenError, TokenSigner, read_token

MIN_TTL = timedelta(seconds=5)


class AccessDenied(ArgusError):
    """authorize said no; the message is its reason, ``code`` its reason code."""

    status_code = 403

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.code = decision.code.value
        self.decision = decision


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: StreamClaims
    decision: Decision


class AccessService:
    def __init__(
        self,
        sharing: SharingService,
        signer: TokenSigner,
        live: LiveGrants,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sharing = sharing
        self.signer = signer
        self.live = live
        self.clock = clock

    # -- tokens -------------------------------------------------------------------------

    def issue(
        self,
        principal: Principal,
        camera_id: int,
        capability: str,
        purpose: str | None,
        case_number: str | None = None,
        action: str | None = None,
    ) -> IssuedToken:
        now = self.clock()
        decision = self.sharing.decide(
            principal,
            camera_id,
            capability,
            purpose,
            case_number=case_number,
            at=now,
            action=action or f"access.{capability}",
        )
        if not decision.allowed or decision.grant is None:
            raise AccessDenied(decision)
        ttl = MAX_TTL
        if decision.until is not None:
            ttl = min(ttl, max(decision.until - now, MIN_TTL))
        token, claims = self.signer.issue(
            grant=decision.grant,
            camera_id=camera_id,
            capability=capability,
            purpose=str(purpose),
            case_number=case_number,
            user_id=principal.user_id,
            agency_id=principal.agency_id,
            now=now,
            ttl=ttl,
            footage=(decision.footage_from, decision.footage_until),
        )
        self.live.add(claims)
        return IssuedToken(token, claims, decision)

    def renew(self, principal: Principal, token: str) -> IssuedToken:
        """A fresh token for the same camera, capability and purpose, if still allowed."""
        claims = self.check(token, client=principal.client)
        if claims.user_id != principal.user_id:
            self._refused(
                "not_yours",
                "the stream token belongs to another user",
                principal.client,
                claims.camera_id,
            )
        return self.issue(
            principal,
            claims.camera_id,
            claims.capability,
            claims.purpose,
            claims.case_number,
            action=f"access.{claims.capability}",
        )

    def check(
        self,
        token: str,
        camera_id: int | None = None,
        capability: str | None = None,
        client: str | None = None,
    ) -> StreamClaims:
        """The claims of a token the media plane may honour; TokenError (audited) otherwise."""
        try:
            claims = read_token(
                token,
                self.signer.public_key,
                now=self.clock(),
                camera_id=camera_id,
                capability=capability,
            )
        except TokenError as exc:
            self._refused(exc.code, str(exc), client, camera_id)
        if self.live.is_revoked(claims.jti):
            self._refused(
                "revoked",
                "the grant behind this stream token was revoked",
                client,
                claims.camera_id,
            )
        return claims

    def _refused(
        self, code: str, message: str, client: str | None, camera_id: int | None
    ) -> NoReturn:
        with transaction(self.sharing.sessions) as session:
            record(
                session,
                AuditEvent(
                    action="access.token",
                    outcome=Outcome.DENY,
                    target=None if camera_id is None else f"camera:{camera_id}",
                    reason=message,
                    client=client,
                    details={"code": code},
                ),
            )
        raise TokenError(code, message)

    # -- policy changes -----------------------------------------------------------------

    def on_agreement_change(self, agreement_id: int, kind: str) -> None:
        self.revoke_for_agreement(agreement_id, kind)

    def revoke_for_agreement(self, agreement_id: int, kind: str) -> GrantsRevoked | None:
        grant = f"agreement:{agreement_id}"
        now = self.clock()
        if kind != "narrowed":
            return self.live.revoke_grant(
                [grant],
                cause=f"agreement.{kind}",
                reason=f"agreement {agreement_id} was {kind}",
                now=now,
            )
        gone = {c.jti for c in self.live.live(now) if c.grant == grant and not self._still(c, now)}
        return self.live.revoke_where(
            lambda c: c.jti in gone,
            cause="agreement.narrowed",
            reason=f"agreement {agreement_id} was narrowed and no longer covers this view",
            now=now,
        )

    def on_incident_closed(self, incident_id: int) -> GrantsRevoked | None:
        """Close every view an incident granted (the incidents package calls this on close)."""
        return self.live.revoke_grant(
            [f"incident:{incident_id}"],
            cause="incident.close",
            reason=f"incident {incident_id} was closed",
            now=self.clock(),
        )

    def on_user_changed(self, change: UserChanged) -> None:
        if change.action == "user.disable":
            self.live.revoke_user(
                change.user.id, reason=f"user {change.user.username} was disabled", now=self.clock()
            )

    def _still(self, claims: StreamClaims, now: datetime) -> bool:
        try:
            principal = principal_of(
                self.sharing.sessions, user_id=claims.user_id, extra={"via": "recheck"}
            )
        except ArgusError:
            return False
        decision = self.sharing.decide(
            principal,
            claims.camera_id,
            claims.capability,
            claims.purpose,
            case_number=claims.case_number,
            at=now,
            action="access.recheck",
        )
        return decision.allowed and decision.grant == claims.grant
