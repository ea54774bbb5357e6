"""Who may change the registry: the owner agency's admins, and system admins.

Reading the registry (where cameras are, who owns them) is open to every signed-in user of the
deployment: the map shows every camera. Seeing video is another matter, decided by
``argus.sharing`` for each camera, capability and purpose.
"""

from __future__ import annotations

from argus.errors import ForbiddenError
from argus.identity.principal import Principal, Role


def ensure_system_admin(principal: Principal, what: str) -> None:
    if not principal.has(Role.SYSTEM_ADMIN):
        raise ForbiddenError(f"only a system admin may {what}")


def ensure_owner_admin(principal: Principal, owner_id: int, what: str) -> None:
    """Allow a system admin, or an agency admin of the owning agency."""
    if principal.has(Role.SYSTEM_ADMIN):
        return
    if principal.has(Role.AGENCY_ADMIN) and principal.agency_id == owner_id:
        return
    raise ForbiddenError(
        f"only an agency admin of the owning agency (id {owner_id}) or a system admin may {what}"
    )
