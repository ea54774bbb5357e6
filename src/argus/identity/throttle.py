"""Sign-in throttling: failed attempts are counted per username and per client address.

* **Username**: :data:`USERNAME_LIMIT` (5) failures within :data:`WINDOW` (15 minutes) lock the
  username for :data:`LOCKOUT` (15 minutes). The count is kept for the name as typed
  (case-folded), whether or not such a user exists, so that the answers never tell the two
  apart.
* **Client address**: :data:`CLIENT_LIMIT` (20) failures within the same window block the
  address for the same time. The limit is higher than the username's because a control centre
  signs in many operators from behind one address: one person's typos must not lock the room
  out, while one address trying many usernames (password spraying) is still stopped.

While locked, sign-in is refused without looking at the password. A successful sign-in clears
the username's count, not the address's. Every failure and every lock-out is audited by the
caller. Constants, not settings: change them here, with the documentation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from argus.errors import ArgusError
from argus.identity.models import LoginFailure, LoginLockout
from argus.identity.sessions import as_utc

USERNAME_LIMIT = 5
CLIENT_LIMIT = 20
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
KEY_LENGTH = 200


class Scope(StrEnum):
    USERNAME = "username"
    CLIENT = "client"


LIMITS = {Scope.USERNAME: USERNAME_LIMIT, Scope.CLIENT: CLIENT_LIMIT}


@dataclass(frozen=True)
class Lock:
    scope: Scope
    key: str
    until: datetime

    def describe(self) -> str:
        whom = "for this username" if self.scope is Scope.USERNAME else "from this address"
        return (
            f"too many failed sign-ins {whom}: try again after "
            f"{self.until.strftime('%Y-%m-%d %H:%M:%S')} UTC"
        )


class TooManyAttemptsError(ArgusError):
    status_code = 429

    def __init__(self, lock: Lock, now: datetime) -> None:
        super().__init__(lock.describe())
        self.lock = lock
        self.retry_after = max(1, int((lock.until - now).total_seconds() + 0.999))


def normalize_username(username: str) -> str:
    return username.strip().casefold()[:KEY_LENGTH]


def _keys(username: str, client: str | None) -> list[tuple[Scope, str]]:
    keys = [(Scope.USERNAME, normalize_username(username))]
    if client:
        keys.append((Scope.CLIENT, client[:KEY_LENGTH]))
    return keys


def current_lock(db: Session, username: str, client: str | None, now: datetime) -> Lock | None:
    """The lock that refuses this attempt at ``now``, if any (the username's first)."""
    for scope, key in _keys(username, client):
        row = db.get(LoginLockout, (scope.value, key))
        if row is not None and as_utc(row.locked_until) > now:
            return Lock(scope, key, as_utc(row.locked_until))
    return None


def record_failure(db: Session, username: str, client: str | None, now: datetime) -> list[Lock]:
    """Count one failure against the username and the address; the locks this one set off."""
    new_locks: list[Lock] = []
    for scope, key in _keys(username, client):
        since = now - WINDOW
        db.execute(
            delete(LoginFailure).where(
                LoginFailure.scope == scope.value, LoginFailure.key == key, LoginFailure.at <= since
            )
        )
        db.add(LoginFailure(scope=scope.value, key=key, at=now))
        db.flush()
        count = db.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.scope == scope.value, LoginFailure.key == key)
        )
        if (count or 0) >= LIMITS[scope]:
            until = now + LOCKOUT
            row = db.get(LoginLockout, (scope.value, key))
            if row is None:
                db.add(LoginLockout(scope=scope.value, key=key, locked_until=until))
            else:
                row.locked_until = until
            _forget(db, scope, key)
            new_locks.append(Lock(scope, key, until))
    return new_locks


def clear(db: Session, username: str) -> None:
    """Forget the username's failures and lock (after a successful sign-in or a reset)."""
    key = normalize_username(username)
    _forget(db, Scope.USERNAME, key)
    db.execute(
        delete(LoginLockout).where(
            LoginLockout.scope == Scope.USERNAME.value, LoginLockout.key == key
        )
    )


def _forget(db: Session, scope: Scope, key: str) -> None:
    db.execute(
        delete(LoginFailure).where(LoginFailure.scope == scope.value, LoginFailure.key == key)
    )
