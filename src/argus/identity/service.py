"""Identity: signing in and out, telling who a request comes from, changing one's password.

:class:`IdentityService` is the one object the API and the CLI use; user administration lives in
``.users`` (:class:`argus.identity.users.UserAdmin`). Sign-in runs in three steps so that the
slow argon2id check (about 0.1 s) holds no database transaction: read (lock-out, user), verify,
then write (session, throttle counters, audit entries) after re-reading the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record
from argus.db import make_sessionmaker, transaction
from argus.errors import ArgusError, FieldError, NotSignedInError
from argus.identity import keys, sessions, throttle
from argus.identity.context import IdentityContext, store_password, user_out
from argus.identity.models import User
from argus.identity.passwords import Hasher
from argus.identity.principal import AuthMethod, Principal
from argus.identity.schemas import UserOut
from argus.identity.sessions import SessionPolicy, TokenKind
from argus.identity.tokens import csrf_token
from argus.identity.users import UserAdmin

WRONG_CREDENTIALS = "the username or the password is wrong"
_NOUN = {TokenKind.SESSION: "session", TokenKind.BEARER: "bearer token"}
_ACTION = {TokenKind.SESSION: "auth.login", TokenKind.BEARER: "auth.token"}


@dataclass(frozen=True)
class Credential:
    """What a request presented: a session cookie, a bearer token, or an API key."""

    method: AuthMethod
    secret: str


@dataclass(frozen=True)
class SignIn:
    secret: str  # the session id for the cookie, or the bearer token
    user: UserOut
    expires_at: datetime
    csrf_token: str | None  # for a browser session


class DisabledAccountError(ArgusError):
    status_code = 403


@dataclass(frozen=True)
class _Attempt:
    user_id: int | None
    agency_id: int | None
    password_hash: str | None
    disabled: bool


class IdentityService:
    def __init__(self, ctx: IdentityContext) -> None:
        self.ctx = ctx
        self.users = UserAdmin(ctx)
        self._decoy: str | None = None

    @classmethod
    def for_engine(
        cls, engine: Engine, policy: SessionPolicy | None = None, hasher: Hasher | None = None
    ) -> IdentityService:
        return cls(
            IdentityContext(
                make_sessionmaker(engine),
                hasher=hasher or Hasher(),
                policy=policy or SessionPolicy(),
            )
        )

    # -- signing in and out -------------------------------------------------------------

    def sign_in(self, username: str, password: str, client: str | None, kind: TokenKind) -> SignIn:
        """A new session or bearer token; 401/403/429 (audited) when refused."""
        ctx = self.ctx
        name = throttle.normalize_username(username)
        now = ctx.now()
        with ctx.sessions() as db:
            lock = throttle.current_lock(db, name, client, now)
            attempt = _read_attempt(db, name)
        if lock is not None:
            self._refuse(kind, name, client, attempt, f"refused while locked: {lock.describe()}")
            raise throttle.TooManyAttemptsError(lock, now)
        stored = attempt.password_hash or self._decoy_hash()
        verified = ctx.hasher.verify(stored, password) and attempt.user_id is not None
        if not verified:
            self._failed(kind, name, client, attempt, now)
            raise NotSignedInError(WRONG_CREDENTIALS)
        if attempt.disabled:
            self._refuse(kind, name, client, attempt, "the account is disabled")
            raise DisabledAccountError("this account is disabled; ask your agency admin")
        rehash = ctx.hasher.hash(password) if ctx.hasher.needs_rehash(stored) else None
        with transaction(ctx.sessions) as db:
            user = db.get(User, attempt.user_id)
            if user is None or user.disabled or user.password_hash != stored:
                raise NotSignedInError("the account changed while signing in; try again")
            if rehash is not None:
                user.password_hash = rehash
            user.last_login_at = now
            throttle.clear(db, name)
            sessions.purge_expired(db, now, ctx.policy)
            secret, token = sessions.issue(db, user.id, kind, now, ctx.policy, client)
            record(
                db,
                AuditEvent(
                    action=_ACTION[kind],
                    outcome=Outcome.OK,
                    actor_user_id=user.id,
                    actor_agency_id=user.agency_id,
                    target=f"user:{user.id}",
                    client=client,
                    details={
                        "username": name,
                        "credential": f"{kind.value}:{token.id}",
                        "owner_agency_id": user.agency_id,
                    },
                ),
            )
            result = SignIn(
                secret=secret,
                user=user_out(user),
                expires_at=sessions.as_utc(token.expires_at),
                csrf_token=csrf_token(secret) if kind is TokenKind.SESSION else None,
            )
        return result

    def sign_out(self, principal: Principal) -> None:
        """End the session or bearer token the request came with."""
        if principal.method is AuthMethod.API_KEY:
            raise ArgusError("an API key cannot sign out; an admin revokes it instead")
        kind, _, token_id = principal.extra.get("credential", "").partition(":")
        if kind not in (TokenKind.SESSION, TokenKind.BEARER) or not token_id.isdigit():
            raise NotSignedInError("no session or bearer token came with this request")
        with transaction(self.ctx.sessions) as db:
            sessions.revoke(db, int(token_id))
            record(
                db,
                AuditEvent(
                    action="auth.logout",
                    outcome=Outcome.OK,
                    actor_user_id=principal.user_id,
                    actor_agency_id=principal.agency_id,
                    target=f"user:{principal.user_id}",
                    client=principal.client,
                    details=_owned(
                        {"credential": principal.extra["credential"]}, principal.agency_id
                    ),
                ),
            )

    def _decoy_hash(self) -> str:
        """A hash to verify against when the username is unknown, so the answer takes as long."""
        if self._decoy is None:
            self._decoy = self.ctx.hasher.hash("argus decoy password, never valid")
        return self._decoy

    def _failed(
        self,
        kind: TokenKind,
        name: str,
        client: str | None,
        attempt: _Attempt,
        now: datetime,
    ) -> None:
        reason = "wrong password" if attempt.user_id is not None else "unknown username"
        with transaction(self.ctx.sessions) as db:
            locks = throttle.record_failure(db, name, client, now)
            record(db, _refusal(kind, name, client, attempt, Outcome.ERROR, reason))
            for lock in locks:
                record(db, _lockout(lock, name, client, attempt.user_id, attempt.agency_id))

    def _refuse(
        self,
        kind: TokenKind,
        name: str,
        client: str | None,
        attempt: _Attempt,
        reason: str,
    ) -> None:
        with transaction(self.ctx.sessions) as db:
            record(db, _refusal(kind, name, client, attempt, Outcome.DENY, reason))

    # -- who is calling -----------------------------------------------------------------

    def authenticate(self, credential: Credential, client: str | None) -> Principal:
        """The principal behind ``credential``; 401 naming what is wrong otherwise."""
        ctx = self.ctx
        now = ctx.now()
        with transaction(ctx.sessions) as db:
            if credential.method is AuthMethod.API_KEY:
                key = keys.find(db, credential.secret)
                if key is None:
                    raise NotSignedInError("the API key is not valid")
                why = keys.why_unusable(key, now)
                if why:
                    raise NotSignedInError(f"the API key {key.prefix}… {why}")
                keys.touch(key, now)
                user_id, ref = key.user_id, f"api_key:{key.id}"
            else:
                kind = TokenKind(credential.method.value)
                token = sessions.find(db, kind, credential.secret)
                if token is None:
                    raise NotSignedInError(f"the {_NOUN[kind]} is not valid: sign in again")
                why = sessions.why_expired(token, now, ctx.policy)
                if why:
                    raise NotSignedInError(f"the {_NOUN[kind]} {why}: sign in again")
                sessions.touch(token, now)
                user_id, ref = token.user_id, f"{kind.value}:{token.id}"
            user = db.get(User, user_id)
            if user is None or user.disabled:
                raise NotSignedInError("this account is disabled")
            return Principal(
                user_id=user.id,
                username=user.username,
                agency_id=user.agency_id,
                roles=user.roles,
                method=credential.method,
                client=client,
                extra={"credential": ref},
            )

    def refuse_csrf(self, principal: Principal, method: str, path: str) -> None:
        """Audit a cookie-authenticated unsafe request that came without the right CSRF token."""
        with transaction(self.ctx.sessions) as db:
            record(
                db,
                AuditEvent(
                    action="auth.csrf",
                    outcome=Outcome.DENY,
                    actor_user_id=principal.user_id,
                    actor_agency_id=principal.agency_id,
                    target=f"route:{method} {path}",
                    reason="missing or wrong X-CSRF-Token header",
                    client=principal.client,
                ),
            )

    def me(self, principal: Principal) -> UserOut:
        with self.ctx.sessions() as db:
            user = db.get(User, principal.user_id)
            if user is None:
                raise NotSignedInError("this account no longer exists")
            return user_out(user)

    # -- one's own password -------------------------------------------------------------

    def change_password(self, principal: Principal, current: str, new: str) -> None:
        """Change the caller's password; other sessions and bearer tokens end."""
        ctx = self.ctx
        now = ctx.now()
        name, client = principal.username, principal.client
        with ctx.sessions() as db:
            lock = throttle.current_lock(db, name, client, now)
            user = db.get(User, principal.user_id)
            if user is None:
                raise NotSignedInError("this account no longer exists")
            stored = user.password_hash
        if lock is not None:
            raise throttle.TooManyAttemptsError(lock, now)
        if not ctx.hasher.verify(stored, current):
            with transaction(ctx.sessions) as db:
                locks = throttle.record_failure(db, name, client, now)
                record(db, _password_event(principal, Outcome.ERROR, "wrong current password"))
                for lock in locks:
                    record(db, _lockout(lock, name, client, principal.user_id, principal.agency_id))
            raise FieldError("current_password", "is wrong", location="body")
        new_hash = ctx.new_password_hash(principal.username, new, principal.user_id, "new_password")
        kind, _, token_id = principal.extra.get("credential", "").partition(":")
        keep = int(token_id) if kind in ("session", "bearer") and token_id.isdigit() else None
        with transaction(ctx.sessions) as db:
            user = db.get(User, principal.user_id)
            if user is None or user.password_hash != stored:
                raise ArgusError("the password changed meanwhile; try again")
            store_password(db, user, new_hash, now)
            sessions.revoke_all(db, user.id, keep=keep)
            record(db, _password_event(principal, Outcome.OK, None))


def _read_attempt(db: Session, name: str) -> _Attempt:
    row = db.execute(
        select(User.id, User.agency_id, User.password_hash, User.disabled).where(
            User.username == name
        )
    ).first()
    if row is None:
        return _Attempt(None, None, None, False)
    return _Attempt(row.id, row.agency_id, row.password_hash, row.disabled)


def _refusal(
    kind: TokenKind,
    name: str,
    client: str | None,
    attempt: _Attempt,
    outcome: Outcome,
    reason: str,
) -> AuditEvent:
    user_id = attempt.user_id
    return AuditEvent(
        action=_ACTION[kind],
        outcome=outcome,
        actor_user_id=user_id,
        actor_agency_id=attempt.agency_id,
        target=f"user:{user_id}" if user_id is not None else None,
        reason=reason,
        client=client,
        details=_owned({"username": name}, attempt.agency_id),
    )


def _lockout(
    lock: throttle.Lock, name: str, client: str | None, user_id: int | None, agency_id: int | None
) -> AuditEvent:
    minutes = int(throttle.WINDOW.total_seconds() // 60)
    return AuditEvent(
        action="auth.lockout",
        outcome=Outcome.DENY,
        actor_user_id=user_id,
        actor_agency_id=agency_id,
        target=f"{lock.scope.value}:{lock.key}",
        reason=f"{throttle.LIMITS[lock.scope]} failed sign-ins within {minutes} minutes",
        client=client,
        details=_owned({"username": name, "locked_until": lock.until.isoformat()}, agency_id),
    )


def _password_event(principal: Principal, outcome: Outcome, reason: str | None) -> AuditEvent:
    return AuditEvent(
        action="auth.password_change",
        outcome=outcome,
        actor_user_id=principal.user_id,
        actor_agency_id=principal.agency_id,
        target=f"user:{principal.user_id}",
        reason=reason,
        client=principal.client,
        details=_owned({}, principal.agency_id),
    )


def _owned(details: dict[str, Any], agency_id: int | None) -> dict[str, Any]:
    """``details`` with the account's agency, whose part of the log the entry belongs to."""
    return details if agency_id is None else {**details, "owner_agency_id": agency_id}
