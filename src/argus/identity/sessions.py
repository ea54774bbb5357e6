"""Browser sessions and bearer tokens: issued, found by digest, expired, revoked.

Lifetimes (constants, not settings; a deployment that needs others changes them here):

* a **browser session** ends after :data:`SESSION_IDLE` without a request (30 minutes, the
  automatic sign-out the public-sector guidance expects of a screen left alone) and at the
  latest :data:`SESSION_LIFETIME` after sign-in (12 hours: one control-centre shift);
* a **bearer token** for integrations lives :data:`BEARER_LIFETIME` (15 minutes), with no idle
  rule; an integration asks for a new one, or uses an API key.

The last-use time is written at most every :data:`TOUCH_EVERY`, so that a busy console does not
write to the database on every request; the idle rule is therefore exact to within a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from argus.identity.models import AuthToken
from argus.identity.tokens import digest, new_secret

SESSION_IDLE = timedelta(minutes=30)
SESSION_LIFETIME = timedelta(hours=12)
BEARER_LIFETIME = timedelta(minutes=15)
TOUCH_EVERY = timedelta(seconds=60)
COOKIE_NAME = "argus_session"


class TokenKind(StrEnum):
    SESSION = "session"
    BEARER = "bearer"


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = SESSION_IDLE
    lifetime: timedelta = SESSION_LIFETIME
    bearer_lifetime: timedelta = BEARER_LIFETIME
    cookie_secure: bool | None = None  # None: Secure exactly when the request came over https

    def lifetime_of(self, kind: TokenKind) -> timedelta:
        return self.lifetime if kind is TokenKind.SESSION else self.bearer_lifetime


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def issue(
    db: Session,
    user_id: int,
    kind: TokenKind,
    now: datetime,
    policy: SessionPolicy,
    client: str | None,
) -> tuple[str, AuthToken]:
    """A new session or bearer token; the secret is returned once and stored as a digest."""
    secret = new_secret()
    token = AuthToken(
        kind=kind.value,
        token_hash=digest(secret),
        user_id=user_id,
        created_at=now,
        expires_at=now + policy.lifetime_of(kind),
        last_used_at=now,
        client=client[:100] if client else None,
    )
    db.add(token)
    db.flush()
    return secret, token


def find(db: Session, kind: TokenKind, secret: str) -> AuthToken | None:
    return db.scalar(
        select(AuthToken).where(AuthToken.token_hash == digest(secret), AuthToken.kind == kind)
    )


def why_expired(token: AuthToken, now: datetime, policy: SessionPolicy) -> str | None:
    """Why ``token`` no longer works at ``now``, or None while it does."""
    if now >= as_utc(token.expires_at):
        return "has expired"
    if token.kind == TokenKind.SESSION and now - as_utc(token.last_used_at) > policy.idle:
        minutes = int(policy.idle.total_seconds() // 60)
        return f"ended after {minutes} minutes without use"
    return None


def touch(token: AuthToken, now: datetime) -> None:
    if now - as_utc(token.last_used_at) >= TOUCH_EVERY:
        token.last_used_at = now


def revoke(db: Session, token_id: int) -> None:
    db.execute(delete(AuthToken).where(AuthToken.id == token_id))


def revoke_all(db: Session, user_id: int, keep: int | None = None) -> None:
    """End every session and bearer token of ``user_id`` (except the one with id ``keep``)."""
    stmt = delete(AuthToken).where(AuthToken.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(AuthToken.id != keep)
    db.execute(stmt)


def purge_expired(db: Session, now: datetime, policy: SessionPolicy) -> None:
    """Forget tokens that can no longer be used (run on sign-in, so the table stays small)."""
    db.execute(delete(AuthToken).where(AuthToken.expires_at <= now))
    db.execute(
        delete(AuthToken).where(
            AuthToken.kind == TokenKind.SESSION.value,
            AuthToken.last_used_at < now - policy.idle,
        )
    )
