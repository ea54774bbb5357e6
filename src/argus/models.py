"""Imports every package's tables, so that metadata-wide tools (Alembic) see them all."""

from argus.audit import models as audit_models
from argus.console import models as console_models
from argus.evidence import models as evidence_models
from argus.identity import models as identity_models
from argus.incidents import models as incident_models
from argus.modes import models as mode_models
from argus.ptz import models as ptz_models
from argus.recording import models as recording_models
from argus.registry import models as registry_models
from argus.sharing import models as sharing_models

__all__ = [
    "audit_models",
    "console_models",
    "evidence_models",
    "identity_models",
    "incident_models",
    "mode_models",
    "ptz_models",
    "recording_models",
    "registry_models",
    "sharing_models",
]
