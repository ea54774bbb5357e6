"""Who may do what with an agreement. Only agency admins act; no other role, not even a system
admin, signs, changes or ends an agreement (the owner keeps control: DESIGN.md invariant 2).

=====================  ===========================================================
read (list, show)      any user of the owner or the consumer agency; a system admin
create a draft         an agency admin of the owner (an offer) or of the consumer (a
                       request for the owner's cameras)
edit a draft           an agency admin of the agency that created it
propose                an agency admin of the agency that created it
accept                 an agency admin of the owner
narrow                 an agency admin of the owner (proposed, accepted or suspended)
suspend, resume        an agency admin of the owner
revoke                 an agency admin of the owner (at any state but revoked or expired)
=====================  ===========================================================

Expiry needs nobody: it happens when ``valid_until`` passes.
"""

from __future__ import annotations

from argus.errors import ForbiddenError, NotFoundError
from argus.identity.principal import Principal, Role


def sees_all(principal: Principal) -> bool:
    return principal.has(Role.SYSTEM_ADMIN)


def may_read(principal: Principal, owner_id: int, consumer_id: int) -> bool:
    return sees_all(principal) or principal.agency_id in (owner_id, consumer_id)


def ensure_may_read(
    principal: Principal, agreement_id: int, owner_id: int, consumer_id: int
) -> None:
    """Agreements of other agencies are not shown, and not said to exist."""
    if not may_read(principal, owner_id, consumer_id):
        raise NotFoundError(f"agreement {agreement_id} does not exist")


def _is_admin_of(principal: Principal, agency_id: int) -> bool:
    return principal.has(Role.AGENCY_ADMIN) and principal.agency_id == agency_id


def ensure_may_create(principal: Principal, owner_id: int, consumer_id: int) -> None:
    if _is_admin_of(principal, owner_id) or _is_admin_of(principal, consumer_id):
        return
    raise ForbiddenError(
        "only an agency admin of the owner or of the consumer agency may draft an agreement"
    )


def ensure_requester_admin(principal: Principal, requester_id: int, verb: str) -> None:
    if not _is_admin_of(principal, requester_id):
        raise ForbiddenError(
            f"only an agency admin of the agency that drafted it (agency {requester_id}) "
            f"may {verb} this draft"
        )


def ensure_owner_admin(principal: Principal, owner_id: int, owner_name: str, verb: str) -> None:
    if not _is_admin_of(principal, owner_id):
        raise ForbiddenError(
            f"only an agency admin of the owner ({owner_name}) may {verb} this agreement"
        )
