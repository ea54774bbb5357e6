"""Relocation plans: which camera goes where, what is newly installed, what it changes.

:func:`relocate` solves a prepared :class:`argus.planning.model.RelocationProblem` for a budget
twice, greedily (:mod:`argus.planning.greedy`) and exactly (:mod:`argus.planning.milp`, with the
greedy plan as its first incumbent), and turns each solution into concrete moves (camera, from,
to, aim) and new installations:

* *Which camera.* The model chooses "a camera of class c to site j"; the cameras of a class are
  assigned to its chosen sites by least total travel (``scipy.optimize.linear_sum_assignment``
  on haversine distances), using free cameras (whose leaving uncovers nothing) before any bound
  one the solver let leave.
* *Nothing idle.* A move or new installation that adds no covered weight is dropped (new
  installations first, then moves by camera id), so money is never spent for nothing.
* *Cheaper where it is free.* Several plans may cover the same weight; a new installation is
  then replaced by the move of an unused free camera (the nearest of the first class, in class
  order, whose shape at that site, with some aim, covers every point only the new camera
  covers), saving the difference. This is a deterministic clean-up, not a proof that no
  cheaper plan of the same coverage exists.
* *Checked.* Covered weights before and after are recomputed from the cameras' footprints at
  their final places (:mod:`argus.planning.coverage`), independently of the model's matrix.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from argus.errors import ArgusError
from argus.planning.cameras import PlanCamera
from argus.planning.coverage import Footprint, footprint_at
from argus.planning.greedy import solve_greedy
from argus.planning.milp import SolverReport, solve_exact
from argus.planning.model import (
    ModelStats,
    RelocationParams,
    RelocationProblem,
    Selection,
    model_value,
)
from argus.registry.spatial import haversine_m, haversine_many_m

__all__ = [
    "GreedyOutcome",
    "Move",
    "NewInstall",
    "Plan",
    "PointChange",
    "cameras_after",
    "evaluate",
    "relocate",
]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

_PREFER_FREE = 1e9
"""Added to the travel of a bound camera so that free cameras are always used first."""


@dataclass(frozen=True)
class Move:
    """Camera ``camera_id`` leaves (from_lat, from_lon) for site ``site_id`` at (to_lat, to_lon).

    ``azimuth_deg`` is the direction a fixed camera is aimed at its new site (None: a PTZ).
    """

    camera_id: int
    owner_id: int
    from_lat: float
    from_lon: float
    to_lat: float
    to_lon: float
    site_id: str
    azimuth_deg: float | None
    distance_m: float
    cost_krw: float


@dataclass(frozen=True)
class NewInstall:
    site_id: str
    lat: float
    lon: float
    azimuth_deg: float | None
    cost_krw: float


@dataclass(frozen=True)
class PointChange:
    """One demand point, covered before the plan and after it."""

    demand_id: str
    layer: str
    lat: float
    lon: float
    weight: float
    before: bool
    after: bool


@dataclass(frozen=True)
class GreedyOutcome:
    """The greedy plan of the same run, for comparison."""

    moves: tuple[Move, ...]
    new_installs: tuple[NewInstall, ...]
    covered_weight: float
    spent_krw: float
    time_s: float


@dataclass(frozen=True)
class Plan:
    """The exact plan for one budget, with the greedy one beside it."""

    budget_krw: float
    moves: tuple[Move, ...]
    new_installs: tuple[NewInstall, ...]
    points: tuple[PointChange, ...]
    total_weight: float
    covered_before: float
    covered_after: float
    spent_krw: float
    solver: SolverReport
    greedy: GreedyOutcome
    model: ModelStats
    params: RelocationParams

    @property
    def gap(self) -> float:
        """HiGHS's proven relative optimality gap (0 when optimal)."""
        return self.solver.mip_gap

    @property
    def newly_covered(self) -> tuple[PointChange, ...]:
        return tuple(p for p in self.points if p.after and not p.before)

    @property
    def lost(self) -> tuple[PointChange, ...]:
        return tuple(p for p in self.points if p.before and not p.after)


def relocate(problem: RelocationProblem, budget_krw: float) -> Plan:
    """The best relocation (and new installations) for ``budget_krw`` KRW, and the greedy one."""
    if not (np.isfinite(budget_krw) and budget_krw >= 0):
        raise ArgusError(f"the budget must be a number of KRW >= 0, got {budget_krw}")
    started = time.perf_counter()
    greedy_sel = solve_greedy(problem, budget_krw)
    g_moves, g_new = _plan_actions(problem, greedy_sel)
    g_time = time.perf_counter() - started
    g_after = evaluate(problem, g_moves, g_new)
    greedy = GreedyOutcome(
        g_moves,
        g_new,
        float(problem.weights[g_after].sum()),
        _spent(g_moves, g_new),
        g_time,
    )

    selection, report = solve_exact(problem, budget_krw, warm_start=greedy_sel)
    if not report.optimal and model_value(problem, greedy_sel) > report.objective:
        selection = greedy_sel  # HiGHS stopped (time limit) without doing better than greedy
    moves, new = _plan_actions(problem, selection)
    after = evaluate(problem, moves, new)
    before = problem.home_counts > 0
    points = tuple(
        PointChange(p.id, p.layer, p.lat, p.lon, p.weight, bool(b), bool(a))
        for p, b, a in zip(problem.demand, before, after, strict=True)
    )
    return Plan(
        budget_krw=float(budget_krw),
        moves=moves,
        new_installs=new,
        points=points,
        total_weight=problem.total_weight,
        covered_before=problem.covered_before,
        covered_after=float(problem.weights[after].sum()),
        spent_krw=_spent(moves, new),
        solver=report,
        greedy=greedy,
        model=problem.stats,
        params=problem.params,
    )


def cameras_after(
    problem: RelocationProblem, plan: Plan, *, new_owner_id: int = 0
) -> list[PlanCamera]:
    """The cameras as the plan leaves them: moved ones at their sites (aimed), new ones added.

    New cameras get ids -1, -2, … in the plan's order and ``new_owner_id``; moved and new
    cameras have no registered district (their position decides). Feeding the result to
    :func:`argus.planning.analysis.analyse_coverage` gives the coverage after the plan, e.g. per
    district, with the same figures as ``plan.covered_after``.
    """
    moved = {m.camera_id: m for m in plan.moves}
    out: list[PlanCamera] = []
    for camera in problem.cameras:
        m = moved.get(camera.id)
        if m is None:
            out.append(camera)
            continue
        out.append(
            replace(
                camera,
                lat=m.to_lat,
                lon=m.to_lon,
                azimuth_deg=m.azimuth_deg if m.azimuth_deg is not None else camera.azimuth_deg,
                district=None,
                site_id=None,
            )
        )
    spec = problem.params.new_camera
    for k, n in enumerate(plan.new_installs, start=1):
        out.append(
            PlanCamera(
                id=-k,
                owner_id=new_owner_id,
                lat=n.lat,
                lon=n.lon,
                camera_type=spec.camera_type,
                azimuth_deg=n.azimuth_deg,
                fov_deg=spec.fov_deg,
                resolution_mp=spec.resolution_mp,
                purpose=spec.purpose,
                name=f"new at {n.site_id}",
            )
        )
    return out


def evaluate(
    problem: RelocationProblem, moves: Sequence[Move], new_installs: Sequence[NewInstall]
) -> BoolArray:
    """Which demand points are covered once the moves and installations are made (a mask)."""
    return _counts(problem, moves, new_installs) > 0


def _spent(moves: Sequence[Move], new: Sequence[NewInstall]) -> float:
    return float(sum(m.cost_krw for m in moves) + sum(n.cost_krw for n in new))


def _moved_footprint(problem: RelocationProblem, move: Move) -> Footprint:
    shape = problem.classes[problem.class_of[move.camera_id]].shape
    return footprint_at(move.camera_id, shape, move.to_lat, move.to_lon, move.azimuth_deg)


def _new_footprint(problem: RelocationProblem, new: NewInstall) -> Footprint:
    assert problem.new_shape is not None
    return footprint_at(0, problem.new_shape, new.lat, new.lon, new.azimuth_deg)


def _counts(
    problem: RelocationProblem, moves: Sequence[Move], new_installs: Sequence[NewInstall]
) -> IntArray:
    """Cameras covering each demand point after the plan: all at home, less the moved ones'
    home footprints, plus their footprints at the new sites and the new cameras'."""
    pts = problem.points
    counts = problem.home_counts.copy()
    for m in moves:
        counts[problem.home_cover[m.camera_id]] -= 1
    for m in moves:
        counts[pts.covered_by(_moved_footprint(problem, m))] += 1
    for n in new_installs:
        counts[pts.covered_by(_new_footprint(problem, n))] += 1
    return counts


def _plan_actions(
    problem: RelocationProblem, selection: Selection
) -> tuple[tuple[Move, ...], tuple[NewInstall, ...]]:
    """The concrete actions of a selection: assigned, pruned of idle ones, made cheaper."""
    return _cheaper(problem, *_prune(problem, *_actions(problem, selection)))


def _actions(
    problem: RelocationProblem, selection: Selection
) -> tuple[tuple[Move, ...], tuple[NewInstall, ...]]:
    """Moves (cameras assigned by least travel) and new installations of a selection."""
    p = problem.params
    by_id = {c.id: c for c in problem.cameras}
    leaving = set(selection.leaving)
    per_class: dict[int, list[int]] = {}
    new: list[NewInstall] = []
    for n in selection.columns:
        col = problem.columns[n]
        if col.kind == "new":
            site = problem.sites[col.site]
            new.append(NewInstall(site.id, site.lat, site.lon, col.azimuth_deg, p.new_cost_krw))
        else:
            per_class.setdefault(col.cls, []).append(n)
    moves: list[Move] = []
    for c, col_ids in sorted(per_class.items()):
        cls = problem.classes[c]
        pool = list(cls.free_ids) + [i for i in cls.bound_ids if i in leaving]
        if len(pool) < len(col_ids):
            raise ArgusError(
                f"internal: class {c} has {len(pool)} cameras for {len(col_ids)} moves"
            )
        pool_lats = np.array([by_id[i].lat for i in pool])
        pool_lons = np.array([by_id[i].lon for i in pool])
        penalty = np.array([_PREFER_FREE if i in leaving else 0.0 for i in pool])
        travel = np.empty((len(col_ids), len(pool)), dtype=np.float64)
        for r, n in enumerate(col_ids):
            site = problem.sites[problem.columns[n].site]
            travel[r] = haversine_many_m(site.lat, site.lon, pool_lats, pool_lons) + penalty
        rows, picks = linear_sum_assignment(travel)
        for r, k in zip(rows.tolist(), picks.tolist(), strict=True):
            col = problem.columns[col_ids[r]]
            site = problem.sites[col.site]
            cam = by_id[pool[k]]
            moves.append(
                Move(
                    camera_id=cam.id,
                    owner_id=cam.owner_id,
                    from_lat=cam.lat,
                    from_lon=cam.lon,
                    to_lat=site.lat,
                    to_lon=site.lon,
                    site_id=site.id,
                    azimuth_deg=col.azimuth_deg,
                    distance_m=haversine_m(cam.lat, cam.lon, site.lat, site.lon),
                    cost_krw=p.move_cost_krw,
                )
            )
    moves.sort(key=lambda m: m.camera_id)
    new.sort(key=lambda x: (x.site_id, -1.0 if x.azimuth_deg is None else x.azimuth_deg))
    return tuple(moves), tuple(new)


def _prune(
    problem: RelocationProblem, moves: Sequence[Move], new: Sequence[NewInstall]
) -> tuple[tuple[Move, ...], tuple[NewInstall, ...]]:
    """Drop actions whose removal loses no covered weight (new installations first)."""
    pts = problem.points
    w = problem.weights
    counts = _counts(problem, moves, new)
    kept_new: list[NewInstall] = []
    for n in new:
        hit = pts.covered_by(_new_footprint(problem, n))
        if float(w[hit][counts[hit] == 1].sum()) > 0:
            kept_new.append(n)
        else:
            counts[hit] -= 1
    kept_moves: list[Move] = []
    for m in moves:
        there = pts.covered_by(_moved_footprint(problem, m))
        home = problem.home_cover[m.camera_id]
        trial = counts.copy()
        trial[there] -= 1
        trial[home] += 1
        if float(w[there][trial[there] == 0].sum()) > 0:
            kept_moves.append(m)
        else:
            counts = trial
    return tuple(kept_moves), tuple(kept_new)


def _cheaper(
    problem: RelocationProblem, moves: Sequence[Move], new: Sequence[NewInstall]
) -> tuple[tuple[Move, ...], tuple[NewInstall, ...]]:
    """Replace new installations by moves of unused free cameras that cover as much."""
    if not new or not problem.classes:
        return tuple(moves), tuple(new)
    p = problem.params
    pts = problem.points
    w = problem.weights
    counts = _counts(problem, moves, new)
    by_id = {c.id: c for c in problem.cameras}
    moved = {m.camera_id for m in moves}
    idle = [[i for i in cls.free_ids if i not in moved] for cls in problem.classes]
    aims_fixed = [d * 360.0 / p.fixed_directions for d in range(p.fixed_directions)]
    out_moves = list(moves)
    out_new: list[NewInstall] = []
    for n in new:
        hit = pts.covered_by(_new_footprint(problem, n))
        needed = set(hit[(counts[hit] == 1) & (w[hit] > 0)].tolist())
        found: tuple[int, float | None, IntArray] | None = None
        for c, cls in enumerate(problem.classes):
            if not idle[c]:
                continue
            for aim in [None] if cls.shape.circle else aims_fixed:
                got = pts.covered_by(footprint_at(0, cls.shape, n.lat, n.lon, aim))
                if needed <= set(got.tolist()):
                    found = (c, aim, got)
                    break
            if found is not None:
                break
        if found is None:
            out_new.append(n)
            continue
        c, aim, got = found
        lats = np.array([by_id[i].lat for i in idle[c]])
        lons = np.array([by_id[i].lon for i in idle[c]])
        dist = haversine_many_m(n.lat, n.lon, lats, lons)
        k = int(np.lexsort((np.array(idle[c]), dist))[0])
        cam = by_id[idle[c].pop(k)]
        counts[hit] -= 1
        counts[problem.home_cover[cam.id]] -= 1
        counts[got] += 1
        out_moves.append(
            Move(
                camera_id=cam.id,
                owner_id=cam.owner_id,
                from_lat=cam.lat,
                from_lon=cam.lon,
                to_lat=n.lat,
                to_lon=n.lon,
                site_id=n.site_id,
                azimuth_deg=aim,
                distance_m=float(dist[k]),
                cost_krw=p.move_cost_krw,
            )
        )
    out_moves.sort(key=lambda m: m.camera_id)
    return tuple(out_moves), tuple(out_new)
