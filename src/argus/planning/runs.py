"""One planning run, the same for ``argus plan`` and ``/api/plan``: gather, solve, report.

* :func:`read_registry` takes the cameras and the owners' names from a database (planning only
  reads it);
* :func:`gather_inputs` adds the demand (Gwangju's school zones and fatal crashes from the shared
  public data, unless the caller gives its own layers, which then replace them) and the
  districts' boundaries when the data folder has them;
* :func:`candidate_sites` is the caller's sites file and/or a grid, or else the demand points;
* :func:`run_relocation` finds the movable cameras, solves the plan for a budget (by default
  enough to move every movable camera once) and works out the headline;
* :func:`report_html` and :func:`write_outputs` turn a run into the report and the plan files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session, sessionmaker

from argus.errors import ArgusError
from argus.planning.analysis import analyse_coverage
from argus.planning.cameras import PlanCamera, load_cameras, load_owner_names
from argus.planning.demand import (
    DemandLayer,
    DemandPoint,
    combine_layers,
    fatal_crash_layer,
    school_zone_layer,
)
from argus.planning.headline import Headline, headline, linked_cameras
from argus.planning.model import RelocationParams, RelocationProblem, prepare
from argus.planning.plan_files import write_plan_files
from argus.planning.redundancy import find_redundancy
from argus.planning.relocate import Plan, cameras_after, relocate
from argus.planning.sites import (
    CandidateSite,
    grid_sites,
    load_sites_file,
    merge_sites,
    sites_at_demand,
)
from argus.scenario.sources import GWANGJU_DISTRICTS_GEOJSON, Districts
from argus.scenario.writer import find_data_dir

__all__ = [
    "CENTRE_OWNER",
    "MIN_GRID_M",
    "Inputs",
    "RelocationRun",
    "budget_curve",
    "candidate_sites",
    "gather_inputs",
    "read_registry",
    "report_html",
    "run_relocation",
    "write_outputs",
]

CENTRE_OWNER: Final = "광주광역시"
"""The agency whose control centre the other owners' cameras are linked to."""

MIN_GRID_M: Final = 50.0
"""The finest grid of candidate sites (a finer one is refused: it would only slow the solve)."""


@dataclass(frozen=True)
class Inputs:
    cameras: list[PlanCamera]
    owners: dict[int, str]
    demand: list[DemandPoint]
    sources: list[str]
    districts: Districts | None
    districts_path: Path | None


def read_registry(sessions: sessionmaker[Session]) -> tuple[list[PlanCamera], dict[int, str]]:
    """The enabled cameras of every owner, and the owners' names."""
    with sessions() as session:
        return load_cameras(session), load_owner_names(session)


def gather_inputs(
    cameras: list[PlanCamera],
    owners: dict[int, str],
    layers: Sequence[DemandLayer] | None = None,
    data: Path | None = None,
) -> Inputs:
    """``layers`` of demand (default: Gwangju's school zones and fatal crashes from the shared
    public data) and the districts' boundaries (when the data folder is found), for ``cameras``.

    Demand layers without a single point are refused.
    """
    data_dir: Path | None
    if layers:
        try:
            data_dir = find_data_dir(data)
        except ArgusError:
            data_dir = None
    else:
        data_dir = find_data_dir(data)
        layers = [school_zone_layer(data_dir), fatal_crash_layer(data_dir)]
    demand = combine_layers(layers)
    if not demand:
        raise ArgusError("the demand layers have no points")
    districts = None
    districts_path = None
    if data_dir is not None and (data_dir / GWANGJU_DISTRICTS_GEOJSON).is_file():
        districts_path = data_dir / GWANGJU_DISTRICTS_GEOJSON
        districts = Districts.read(districts_path)
    sources = [f"{layer.name}: {layer.source}" if layer.source else layer.name for layer in layers]
    return Inputs(cameras, owners, demand, sources, districts, districts_path)


def candidate_sites(
    inputs: Inputs, sites_file: Path | None = None, grid_m: float | None = None
) -> list[CandidateSite]:
    """The sites file and/or a grid over demand and cameras (inside the districts when their
    boundaries are known); the demand points themselves when neither is given."""
    groups: list[list[CandidateSite]] = []
    if sites_file is not None:
        if not sites_file.is_file():
            raise ArgusError(f"sites file not found: {sites_file}")
        groups.append(load_sites_file(sites_file))
    if grid_m is not None:
        if not (math.isfinite(grid_m) and grid_m >= MIN_GRID_M):
            raise ArgusError(f"a grid must be at least {MIN_GRID_M:g} metres, got {grid_m}")
        lats = [p.lat for p in inputs.demand] + [c.lat for c in inputs.cameras]
        lons = [p.lon for p in inputs.demand] + [c.lon for c in inputs.cameras]
        bbox = (min(lats), min(lons), max(lats), max(lons))  # south, west, north, east
        groups.append(grid_sites(bbox, grid_m, districts=inputs.districts))
    if not groups:
        groups.append(sites_at_demand(inputs.demand))
    return merge_sites(*groups)


def _centre_id(owners: dict[int, str]) -> int | None:
    for owner_id, name in owners.items():
        if name == CENTRE_OWNER:
            return owner_id
    return None


@dataclass(frozen=True)
class RelocationRun:
    """A solved relocation: what went in, the plan, and its headline figures."""

    inputs: Inputs
    problem: RelocationProblem
    plan: Plan
    figures: Headline
    movable: int

    def summary(self) -> dict[str, Any]:
        """The headline figures with the counts of movable and analysed cameras."""
        out = self.figures.as_dict()
        out["movable"] = self.movable
        out["cameras"] = len(self.inputs.cameras)
        return out


def run_relocation(
    inputs: Inputs,
    sites: list[CandidateSite],
    *,
    budget_krw: float | None,
    params: RelocationParams,
) -> RelocationRun:
    """Solve the relocation of the duplicated cameras (and new installations) for a budget."""
    movable = find_redundancy(inputs.cameras).movable_ids
    problem = prepare(inputs.cameras, movable, inputs.demand, sites, params=params)
    amount = budget_krw if budget_krw is not None else len(movable) * params.move_cost_krw
    plan = relocate(problem, amount)
    centre = _centre_id(inputs.owners)
    linked = linked_cameras(inputs.cameras, centre) if centre is not None else len(inputs.cameras)
    return RelocationRun(inputs, problem, plan, headline(plan, linked=linked), len(movable))


def budget_curve(
    problem: RelocationProblem, budget: float, steps: int, plan: Plan
) -> list[tuple[float, float, float]]:
    """(budget, exact covered, greedy covered) for ``steps`` budgets from 0 to ``budget``."""
    out: list[tuple[float, float, float]] = []
    for k in range(steps):
        b = budget * k / (steps - 1)
        p = plan if k == steps - 1 else relocate(problem, b)
        out.append((b, p.covered_after, p.greedy.covered_weight))
    return out


def report_html(run: RelocationRun, budgets: int = 5) -> str:
    """The self-contained HTML report, its chart solved at ``budgets`` budgets up to the run's."""
    from argus.planning.report import BudgetPoint, render_report

    curve = budget_curve(run.problem, run.plan.budget_krw, budgets, run.plan)
    after = analyse_coverage(
        cameras_after(run.problem, run.plan), run.inputs.demand, districts=run.inputs.districts
    )
    return render_report(
        problem=run.problem,
        plan=run.plan,
        figures=run.figures,
        curve=[BudgetPoint(b, c, g) for b, c, g in curve],
        after=after,
        districts_path=run.inputs.districts_path,
        sources=run.inputs.sources,
        movable=run.movable,
    )


def write_outputs(run: RelocationRun, out: Path, budgets: int = 5) -> None:
    """``out/report.html``, ``out/plan.geojson`` and ``out/plan.csv``."""
    write_plan_files(out, run.plan)
    (out / "report.html").write_text(report_html(run, budgets), encoding="utf-8")
