"""Reference deployments planned from real public data, and the writer that stores a plan."""

from __future__ import annotations

from argus.scenario.gwangju import plan_gwangju
from argus.scenario.model import (
    Colocation,
    PlannedAgency,
    PlannedCamera,
    PlannedSite,
    ScenarioPlan,
)

__all__ = [
    "Colocation",
    "PlannedAgency",
    "PlannedCamera",
    "PlannedSite",
    "ScenarioPlan",
    "plan_gwangju",
]
