"""Coverage and relocation planning: blind spots, duplicated cameras, and where to move them.

The pieces, each in its own module:

* :mod:`~argus.planning.cameras` — cameras as plain records, from the registry or a scenario;
* :mod:`~argus.planning.coverage` — the coverage model (sectors, effective ranges, PTZ circles);
* :mod:`~argus.planning.demand` — demand layers: school zones, fatal crashes, users' files;
* :mod:`~argus.planning.analysis` — covered demand, blind spots, districts without inventory;
* :mod:`~argus.planning.redundancy` — co-located cameras of different owners; keep and move;
* :mod:`~argus.planning.sites` — candidate sites: demand points, a grid, a user's list;
* :mod:`~argus.planning.model` — the maximal covering location model and its exact reductions;
* :mod:`~argus.planning.milp` / :mod:`~argus.planning.greedy` — exact (HiGHS) and greedy
  solutions;
* :mod:`~argus.planning.relocate` — plans: moves, new installations, coverage per point;
* :mod:`~argus.planning.headline` — the figures in the terms of Gwangju's announcement.

A typical run::

    cameras = load_cameras(session)
    demand = combine_layers([school_zone_layer(), fatal_crash_layer()])
    redundancy = find_redundancy(cameras)
    sites = sites_at_demand(demand)
    problem = prepare(cameras, redundancy.movable_ids, demand, sites)
    plan = relocate(problem, budget_krw=len(redundancy.movable_ids) * 4_000_000)
    figures = headline(plan, linked=linked_cameras(cameras, centre_owner_id))
    after = analyse_coverage(cameras_after(problem, plan), demand, districts=districts)
"""

from __future__ import annotations

from argus.planning.analysis import (
    CoverageReport,
    DistrictCoverage,
    LayerCoverage,
    OwnerInDistrict,
    PointCoverage,
    analyse_coverage,
)
from argus.planning.cameras import PlanCamera, cameras_from_plan, load_cameras, load_owner_names
from argus.planning.coverage import CoverageParams, Footprint, ObstructionLayer, Shape, footprint
from argus.planning.demand import (
    DemandArea,
    DemandFileError,
    DemandLayer,
    DemandPoint,
    combine_layers,
    fatal_crash_layer,
    load_demand_file,
    school_zone_layer,
)
from argus.planning.headline import Headline, headline, linked_cameras
from argus.planning.milp import SolverReport
from argus.planning.model import (
    ModelStats,
    NewCamera,
    RelocationParams,
    RelocationProblem,
    prepare,
)
from argus.planning.redundancy import (
    Cluster,
    MovableCamera,
    Redundancy,
    RedundancyParams,
    find_redundancy,
)
from argus.planning.relocate import (
    GreedyOutcome,
    Move,
    NewInstall,
    Plan,
    PointChange,
    cameras_after,
    relocate,
)
from argus.planning.sites import (
    CandidateSite,
    grid_sites,
    load_sites_file,
    merge_sites,
    sites_at_demand,
)

__all__ = [
    "CandidateSite",
    "Cluster",
    "CoverageParams",
    "CoverageReport",
    "DemandArea",
    "DemandFileError",
    "DemandLayer",
    "DemandPoint",
    "DistrictCoverage",
    "Footprint",
    "GreedyOutcome",
    "Headline",
    "LayerCoverage",
    "ModelStats",
    "MovableCamera",
    "Move",
    "NewCamera",
    "NewInstall",
    "ObstructionLayer",
    "OwnerInDistrict",
    "Plan",
    "PlanCamera",
    "PointChange",
    "PointCoverage",
    "Redundancy",
    "RedundancyParams",
    "RelocationParams",
    "RelocationProblem",
    "Shape",
    "SolverReport",
    "analyse_coverage",
    "cameras_after",
    "cameras_from_plan",
    "combine_layers",
    "fatal_crash_layer",
    "find_redundancy",
    "footprint",
    "grid_sites",
    "headline",
    "linked_cameras",
    "load_cameras",
    "load_demand_file",
    "load_owner_names",
    "load_sites_file",
    "merge_sites",
    "prepare",
    "relocate",
    "school_zone_layer",
    "sites_at_demand",
]
