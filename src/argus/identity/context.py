"""What the identity services share: the database, the hasher, the session policy, the clock.

The clock is injectable so that tests can move time (lock-outs, idle sessions) without sleeping.
Password hashing and checking against the history happen outside any database transaction:
each takes about 0.1 s, and SQLite must not hold a write lock that long.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from argus.db import utcnow
from argus.errors import FieldError
from argus.identity.models import PasswordHistory, User
from argus.identity.passwords import HISTORY, Hasher, require_valid_password
from argus.identity.principal import Role
from argus.identity.schemas import UserOut
from argus.identity.sessions import SessionPolicy

Clock = Callable[[], datetime]
ROLE_ORDER = list(Role)


@dataclass(frozen=True)
class UserChanged:
    """Told to listeners after a change to an account is committed."""

    action: str  # "user.disable", "user.enable", "user.update", "user.reset_password"
    user: UserOut
    at: datetime


@dataclass
class IdentityContext:
    sessions: sessionmaker[Session]
    hasher: Hasher = field(default_factory=Hasher)
    policy: SessionPolicy = field(default_factory=SessionPolicy)
    clock: Clock = utcnow
    # Called after each committed account change, e.g. to close a disabled user's streams.
    listeners: list[Callable[[UserChanged], None]] = field(default_factory=list)

    def now(self) -> datetime:
        return self.clock()

    def tell(self, action: str, user: UserOut, at: datetime) -> None:
        change = UserChanged(action, user, at)
        for listener in self.listeners:
            listener(change)

    def recent_hashes(self, user_id: int) -> list[str]:
        with self.sessions() as db:
            stmt = (
                select(PasswordHistory.password_hash)
                .where(PasswordHistory.user_id == user_id)
                .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
                .limit(HISTORY)
            )
            return list(db.scalars(stmt))

    def new_password_hash(
        self, username: str, password: str, user_id: int | None = None, field: str = "password"
    ) -> str:
        """The hash of an acceptable new password; a 422 naming ``field`` otherwise."""
        require_valid_password(password, username, field)
        if user_id is not None:
            for old in self.recent_hashes(user_id):
                if self.hasher.verify(old, password):
                    raise FieldError(
                        field,
                        f"must differ from the last {HISTORY} passwords of {username!r}",
                        location="body",
                    )
        return self.hasher.hash(password)


def store_password(db: Session, user: User, password_hash: str, now: datetime) -> None:
    """Make ``password_hash`` the user's password and keep it in the (pruned) history."""
    user.password_hash = password_hash
    user.password_changed_at = now
    db.add(PasswordHistory(user_id=user.id, password_hash=password_hash, created_at=now))
    db.flush()
    keep = select(PasswordHistory.id).where(PasswordHistory.user_id == user.id)
    keep = keep.order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
    kept = list(db.scalars(keep.limit(HISTORY)))
    db.execute(
        delete(PasswordHistory).where(
            PasswordHistory.user_id == user.id, PasswordHistory.id.not_in(kept)
        )
    )


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        agency_id=user.agency_id,
        agency_name=user.agency.name,
        roles=sorted(user.roles, key=ROLE_ORDER.index),
        disabled=user.disabled,
        disabled_at=user.disabled_at,
        last_login_at=user.last_login_at,
        password_changed_at=user.password_changed_at,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )
