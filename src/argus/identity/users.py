"""User administration: accounts, roles, disabling, password resets and API keys.

Every method takes the acting :data:`~argus.identity.access.Actor` (a signed-in admin, or the
console) and checks it first (:mod:`argus.identity.access`); every change is written to the audit
log in the same transaction as the change itself, so one never exists without the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record
from argus.db import transaction
from argus.errors import ArgusError, ConflictError, FieldError, ForbiddenError, NotFoundError
from argus.identity import keys, sessions, throttle
from argus.identity.access import (
    MANAGERS,
    Actor,
    audit_actor,
    ensure_manager,
    ensure_may_grant,
    ensure_may_manage,
    ensure_may_move,
    visible_agency,
)
from argus.identity.context import IdentityContext, store_password, user_out
from argus.identity.models import ApiKey, User, UserRole
from argus.identity.principal import Principal, Role
from argus.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from argus.identity.sessions import as_utc
from argus.registry.models import Agency
from argus.registry.service import find_agency_id


class UserAdmin:
    def __init__(self, ctx: IdentityContext) -> None:
        self.ctx = ctx

    # -- reading ------------------------------------------------------------------------

    def list_users(self, actor: Actor, agency_id: int | None = None) -> list[UserOut]:
        only = visible_agency(actor)
        if only is not None and agency_id not in (None, only):
            raise ForbiddenError(
                f"agency admins see the users of their own agency only (agency {only})"
            )
        agency_id = only if only is not None else agency_id
        with self.ctx.sessions() as db:
            stmt = select(User).order_by(User.id)
            if agency_id is not None:
                stmt = stmt.where(User.agency_id == agency_id)
            return [user_out(u) for u in db.scalars(stmt)]

    def get_user(self, actor: Actor, user_id: int) -> UserOut:
        ensure_manager(actor)
        with self.ctx.sessions() as db:
            user = _user(db, user_id)
            if visible_agency(actor) is not None:
                ensure_may_manage(actor, user.agency_id, (), user.username)
            return user_out(user)

    def id_of(self, username: str) -> int:
        """The id of the user named ``username`` (for the console)."""
        with self.ctx.sessions() as db:
            found = db.scalar(select(User.id).where(User.username == username.strip().lower()))
            if found is None:
                raise NotFoundError(f"no user named {username!r}")
            return found

    def agency_id_of(self, ref: str) -> int:
        """The id of the agency named ``ref`` exactly, or with id ``ref`` (for the console)."""
        with self.ctx.sessions() as db:
            found = find_agency_id(db, ref)
            if found is None:
                raise NotFoundError(f"no agency named or numbered {ref!r}")
            return found

    # -- changing -----------------------------------------------------------------------

    def create_user(self, actor: Actor, data: UserCreate) -> UserOut:
        ensure_may_manage(actor, data.agency_id, (), data.username)
        ensure_may_grant(actor, data.roles)
        with self.ctx.sessions() as db:
            _check_new_user(db, data)
        password_hash = self.ctx.new_password_hash(data.username, data.password)
        now = self.ctx.now()
        try:
            return self._insert_user(actor, data, password_hash, now)
        except IntegrityError:  # the same username, created meanwhile by someone else
            raise ConflictError(f"username {data.username!r} is already taken") from None

    def _insert_user(
        self, actor: Actor, data: UserCreate, password_hash: str, now: datetime
    ) -> UserOut:
        with transaction(self.ctx.sessions) as db:
            _check_new_user(db, data)
            user = User(
                agency_id=data.agency_id,
                username=data.username,
                display_name=data.display_name,
                password_hash=password_hash,
                password_changed_at=now,
                created_at=now,
                updated_at=now,
                role_rows=[UserRole(role=r.value) for r in data.roles],
            )
            db.add(user)
            db.flush()
            store_password(db, user, password_hash, now)
            details = {
                "username": user.username,
                "agency_id": user.agency_id,
                "roles": [r.value for r in data.roles],
            }
            _audit(db, actor, "user.create", user, details)
            db.refresh(user)
            return user_out(user)

    def update_user(self, actor: Actor, user_id: int, data: UserUpdate) -> UserOut:
        """Change the fields ``data`` sets (roles, display_name, agency_id)."""
        fields = data.model_fields_set
        roles, display_name, agency_id = data.roles, data.display_name, data.agency_id
        with transaction(self.ctx.sessions) as db:
            user = _user(db, user_id)
            ensure_may_manage(actor, user.agency_id, user.roles, user.username)
            changes: dict[str, Any] = {}
            if "agency_id" in fields and agency_id is not None and agency_id != user.agency_id:
                ensure_may_move(actor, user.agency_id, agency_id)
                _agency(db, agency_id)
                changes["agency_id"] = [user.agency_id, agency_id]
                user.agency_id = agency_id
            if "roles" in fields and roles is not None and set(roles) != set(user.roles):
                ensure_may_grant(actor, set(roles) - set(user.roles))
                _keep_own_admin(actor, user, set(roles))
                changes["roles"] = [_role_names(user.roles), _role_names(roles)]
                kept = {row.role: row for row in user.role_rows}
                user.role_rows = [kept.get(r.value) or UserRole(role=r.value) for r in roles]
            if "display_name" in fields and display_name != user.display_name:
                changes["display_name"] = [user.display_name, display_name]
                user.display_name = display_name
            if changes:
                user.updated_at = self.ctx.now()
                db.flush()
                _audit(db, actor, "user.update", user, {"changes": changes})
            db.flush()
            db.refresh(user)
            result = user_out(user)
        if changes:
            self.ctx.tell("user.update", result, result.updated_at)
        return result

    def disable_user(self, actor: Actor, user_id: int) -> UserOut:
        """Disable the account: its sessions and bearer tokens end, its API keys stop working."""
        now = self.ctx.now()
        with transaction(self.ctx.sessions) as db:
            user = _user(db, user_id)
            ensure_may_manage(actor, user.agency_id, user.roles, user.username)
            if isinstance(actor, Principal) and actor.user_id == user.id:
                raise ArgusError("you cannot disable your own account")
            changed = not user.disabled
            if changed:
                user.disabled = True
                user.disabled_at = now
                user.updated_at = now
                sessions.revoke_all(db, user.id)
                _audit(db, actor, "user.disable", user, {"username": user.username})
            result = user_out(user)
        if changed:
            self.ctx.tell("user.disable", result, now)
        return result

    def enable_user(self, actor: Actor, user_id: int) -> UserOut:
        now = self.ctx.now()
        with transaction(self.ctx.sessions) as db:
            user = _user(db, user_id)
            ensure_may_manage(actor, user.agency_id, user.roles, user.username)
            changed = user.disabled
            if changed:
                user.disabled = False
                user.disabled_at = None
                user.updated_at = now
                _audit(db, actor, "user.enable", user, {"username": user.username})
            result = user_out(user)
        if changed:
            self.ctx.tell("user.enable", result, now)
        return result

    def reset_password(self, actor: Actor, user_id: int, password: str) -> UserOut:
        """Set a new password chosen by an admin; the user's sessions end, any lock-out too."""
        with self.ctx.sessions() as db:
            user = _user(db, user_id)
            ensure_may_manage(actor, user.agency_id, user.roles, user.username)
            username = user.username
        password_hash = self.ctx.new_password_hash(username, password, user_id)
        now = self.ctx.now()
        with transaction(self.ctx.sessions) as db:
            user = _user(db, user_id)
            store_password(db, user, password_hash, now)
            user.updated_at = now
            sessions.revoke_all(db, user.id)
            throttle.clear(db, user.username)
            _audit(db, actor, "user.reset_password", user, {"username": user.username})
            result = user_out(user)
        self.ctx.tell("user.reset_password", result, now)
        return result

    # -- API keys -----------------------------------------------------------------------

    def create_key(self, actor: Actor, user_id: int, data: ApiKeyCreate) -> ApiKeyCreated:
        now = self.ctx.now()
        if data.expires_at is not None and as_utc(data.expires_at) <= now:
            raise FieldError("expires_at", "must be in the future", location="body")
        with transaction(self.ctx.sessions) as db:
            user = _user(db, user_id)
            ensure_may_manage(actor, user.agency_id, user.roles, user.username)
            creator = actor.user_id if isinstance(actor, Principal) else None
            secret, key = keys.create(db, user.id, data.name, now, creator, data.expires_at)
            _audit(
                db,
                actor,
                "apikey.create",
                user,
                {"api_key": key.id, "name": key.name, "prefix": key.prefix},
            )
            return ApiKeyCreated(key=secret, **_key_out(key, user).model_dump())

    def list_keys(self, actor: Actor, user_id: int | None = None) -> list[ApiKeyOut]:
        only = visible_agency(actor)
        with self.ctx.sessions() as db:
            stmt = select(ApiKey, User).join(User, User.id == ApiKey.user_id).order_by(ApiKey.id)
            if user_id is not None:
                user = _user(db, user_id)
                if only is not None:
                    ensure_may_manage(actor, user.agency_id, (), user.username)
                stmt = stmt.where(ApiKey.user_id == user_id)
            elif only is not None:
                stmt = stmt.where(User.agency_id == only)
            return [_key_out(key, user) for key, user in db.execute(stmt)]

    def revoke_key(self, actor: Actor, key_id: int, user_id: int | None = None) -> ApiKeyOut:
        now = self.ctx.now()
        with transaction(self.ctx.sessions) as db:
            key = db.get(ApiKey, key_id)
            if key is None or (user_id is not None and key.user_id != user_id):
                raise NotFoundError(f"no API key {key_id}")
            user = _user(db, key.user_id)
            ensure_may_manage(actor, user.agency_id, user.roles, user.username)
            if key.revoked_at is None:
                key.revoked_at = now
                key.revoked_by_id = actor.user_id if isinstance(actor, Principal) else None
                _audit(
                    db,
                    actor,
                    "apikey.revoke",
                    user,
                    {"api_key": key.id, "name": key.name, "prefix": key.prefix},
                )
            return _key_out(key, user)


def _user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFoundError(f"no user with id {user_id}")
    return user


def _agency(db: Session, agency_id: int) -> Agency:
    agency = db.get(Agency, agency_id)
    if agency is None:
        raise FieldError("agency_id", f"no agency with id {agency_id}", location="body")
    return agency


def _check_new_user(db: Session, data: UserCreate) -> None:
    _agency(db, data.agency_id)
    if db.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise ConflictError(f"username {data.username!r} is already taken")


def _role_names(roles: Iterable[Role]) -> list[str]:
    return sorted(Role(r).value for r in roles)


def _keep_own_admin(actor: Actor, user: User, roles: set[Role]) -> None:
    """An admin may not take their own admin role away (and lock everyone out by mistake)."""
    if not isinstance(actor, Principal) or actor.user_id != user.id:
        return
    lost = set(user.roles).intersection(MANAGERS) - roles
    if lost:
        names = ", ".join(_role_names(lost))
        raise ArgusError(f"you cannot remove your own role(s) {names}; ask another admin")


def _key_out(key: ApiKey, user: User) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        user_id=key.user_id,
        username=user.username,
        name=key.name,
        prefix=key.prefix,
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


def _audit(db: Session, actor: Actor, action: str, user: User, details: dict[str, Any]) -> None:
    user_id, agency_id, via = audit_actor(actor)
    client = actor.client if isinstance(actor, Principal) else None
    record(
        db,
        AuditEvent(
            action=action,
            outcome=Outcome.OK,
            actor_user_id=user_id,
            actor_agency_id=agency_id,
            target=f"user:{user.id}",
            client=client,
            details={**details, **via, "owner_agency_id": user.agency_id},
        ),
    )
