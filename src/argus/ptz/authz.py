"""The authorization callback of PTZ over Argus's sharing policy (``authorize``, capability
``ptz``), for ``PtzService(authorize=...)``.

``SharingService.decide`` also writes its decision to the audit log (as ``access.ptz``), so a
command leaves that entry and the service's own ``ptz.<command>`` entry.
"""

from __future__ import annotations

from collections.abc import Callable

from argus.identity.principal import Principal
from argus.ptz.service import PtzAuthorizer
from argus.sharing.policy import Decision, IncidentFacts
from argus.sharing.service import SharingService
from argus.sharing.vocab import Capability

IncidentOf = Callable[[Principal, int], IncidentFacts | None]


def sharing_authorizer(
    sharing: SharingService, incident_of: IncidentOf | None = None
) -> PtzAuthorizer:
    """``authorize`` with capability ptz; ``incident_of`` gives the incident a caller acts
    under for a camera, if any (without it, only ownership and agreements allow)."""

    def decide(
        principal: Principal, camera_id: int, purpose: str | None, case_number: str | None
    ) -> Decision:
        incident = None if incident_of is None else incident_of(principal, camera_id)
        return sharing.decide(
            principal,
            camera_id,
            Capability.PTZ,
            purpose,
            case_number=case_number,
            incident=incident,
            action="access.ptz",
        )

    return decide
