"""Who may manage which user accounts.

* A **system admin** manages every user of every agency.
* An **agency admin** manages the users of their own agency, except accounts that hold
  ``system_admin``; they cannot grant ``system_admin`` nor move a user to another agency.
* Everyone else manages nobody (they change their own password through ``/api/auth``).
* The **console** (``argus users …`` on the server) has full authority: whoever can run it can
  open the database anyway. It is audited as the operating-system user who ran it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from argus.errors import ForbiddenError
from argus.identity.principal import Principal, Role

MANAGERS = (Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN)


@dataclass(frozen=True)
class Console:
    """The deployment's operator at the server's command line."""

    os_user: str | None = None


Actor = Principal | Console


def ensure_manager(actor: Actor) -> None:
    if isinstance(actor, Console) or actor.has(*MANAGERS):
        return
    raise ForbiddenError("managing users needs one of the roles: agency_admin, system_admin")


def visible_agency(actor: Actor) -> int | None:
    """The one agency whose users ``actor`` may see, or None for every agency."""
    ensure_manager(actor)
    if isinstance(actor, Console) or actor.has(Role.SYSTEM_ADMIN):
        return None
    return actor.agency_id


def ensure_may_manage(actor: Actor, agency_id: int, roles: Iterable[Role], username: str) -> None:
    """May ``actor`` change the account ``username`` of ``agency_id`` holding ``roles``?"""
    ensure_manager(actor)
    if isinstance(actor, Console) or actor.has(Role.SYSTEM_ADMIN):
        return
    if agency_id != actor.agency_id:
        raise ForbiddenError(
            f"agency admins manage the users of their own agency only; {username!r} belongs "
            f"to agency {agency_id}, yours is {actor.agency_id}"
        )
    if Role.SYSTEM_ADMIN in set(roles):
        raise ForbiddenError(f"only a system admin may manage {username!r}, a system admin")


def ensure_may_grant(actor: Actor, roles: Iterable[Role]) -> None:
    if isinstance(actor, Console) or actor.has(Role.SYSTEM_ADMIN):
        return
    if Role.SYSTEM_ADMIN in set(roles):
        raise ForbiddenError("only a system admin may grant the system_admin role")


def ensure_may_move(actor: Actor, from_agency: int, to_agency: int) -> None:
    if from_agency == to_agency:
        return
    if isinstance(actor, Console) or actor.has(Role.SYSTEM_ADMIN):
        return
    raise ForbiddenError("only a system admin may move a user to another agency")


def audit_actor(actor: Actor) -> tuple[int | None, int | None, dict[str, str]]:
    """(actor_user_id, actor_agency_id, details) for the audit log."""
    if isinstance(actor, Console):
        details = {"via": "console"}
        if actor.os_user:
            details["os_user"] = actor.os_user
        return None, None, details
    return actor.user_id, actor.agency_id, {"via": actor.method.value}
