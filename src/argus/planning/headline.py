"""The headline figures of a plan, in the terms Gwangju's announcement used.

Gwangju linked its districts' 1,350 parking-enforcement cameras to the city's control centre
and planned to relocate duplicated cameras, announcing "the effect of 1,650 new cameras" and
"over 5 billion KRW saved". Read as arithmetic, 1,650 is the linked cameras plus the relocated
ones (1,350 + about 300), and the saving is what the relocated cameras would have cost as new
sites less what moving them costs (249 moved × (25 M − 4 M) ≈ 5.2 billion). So, for a plan:

``linked``
    cameras of other owners the centre can use: the analysed cameras whose owner is not the
    centre's (:func:`linked_cameras`), or a count the caller knows.
``relocated``
    cameras the plan moves.
``new_installs``
    new cameras the plan buys.
``effective_new = linked + relocated``
    cameras that watch for the centre as new ones would, without being bought (new
    installations are counted apart, in ``new_installs``).
``saved_krw = relocated × new_cost − relocated × move_cost``
    each relocated camera avoids one new installation (25 M KRW by default) and costs one move
    (4 M KRW).
``spent_krw``
    moves and new installations, KRW.
``covered_before``, ``covered_after``, ``total_demand``
    demand weight covered with every camera at home, after the plan, and in all.
``gap``, ``status``
    HiGHS's proven relative optimality gap (0 when optimal; None when HiGHS stopped, e.g. at its
    time limit, before it had a bound) and its model status for the plan.
``greedy_covered``
    what the greedy plan of the same run covers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from argus.planning.cameras import PlanCamera
from argus.planning.relocate import Plan

__all__ = ["Headline", "headline", "linked_cameras"]


@dataclass(frozen=True)
class Headline:
    linked: int
    relocated: int
    new_installs: int
    effective_new: int
    saved_krw: float
    spent_krw: float
    budget_krw: float
    covered_before: float
    covered_after: float
    total_demand: float
    gap: float | None
    status: str
    greedy_covered: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def linked_cameras(cameras: Iterable[PlanCamera], centre_owner_id: int) -> int:
    """How many of the cameras belong to owners other than the centre's."""
    return sum(1 for c in cameras if c.owner_id != centre_owner_id)


def headline(plan: Plan, *, linked: int) -> Headline:
    """The headline figures of ``plan`` (see the module docstring for each definition)."""
    p = plan.params
    relocated = len(plan.moves)
    return Headline(
        linked=linked,
        relocated=relocated,
        new_installs=len(plan.new_installs),
        effective_new=linked + relocated,
        saved_krw=relocated * p.new_cost_krw - relocated * p.move_cost_krw,
        spent_krw=plan.spent_krw,
        budget_krw=plan.budget_krw,
        covered_before=plan.covered_before,
        covered_after=plan.covered_after,
        total_demand=plan.total_weight,
        gap=plan.gap if math.isfinite(plan.gap) else None,
        status=plan.solver.status,
        greedy_covered=plan.greedy.covered_weight,
    )
