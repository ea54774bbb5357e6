"""Relocation: the optimum against brute force, monotone in budget, repeatable; Gwangju."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.planning import (
    CandidateSite,
    CoverageParams,
    DemandPoint,
    PlanCamera,
    RelocationParams,
    analyse_coverage,
    cameras_after,
    find_redundancy,
    headline,
    linked_cameras,
    prepare,
    relocate,
    sites_at_demand,
)
from argus.planning.coverage import PointSet, footprint, footprint_at, mobile_shape
from argus.planning.milp import budget_bound
from argus.planning.model import RelocationProblem
from tests.planning.conftest import Gwangju, covered_by_hand, offset

LAT, LON = 35.1595, 126.8526
M = 4_000_000.0
N = 25_000_000.0


@dataclass(frozen=True)
class Instance:
    cameras: list[PlanCamera]
    movable: list[int]
    demand: list[DemandPoint]
    sites: list[CandidateSite]


def instance(seed: int, n_demand: int = 10, n_sites: int = 6) -> Instance:
    """Two settled PTZ cameras, two movable PTZ and one movable fixed camera, near demand."""
    rng = random.Random(seed)

    def spot(spread: float = 150.0) -> tuple[float, float]:
        return offset(LAT, LON, rng.uniform(0, 360), rng.uniform(0, spread))

    demand = [
        DemandPoint(f"d{k:02d}", "test", *spot(), weight=float(rng.randint(1, 5)))
        for k in range(n_demand)
    ]
    cameras: list[PlanCamera] = []
    for n in range(1, 3):
        p = demand[rng.randrange(n_demand)]
        lat, lon = offset(p.lat, p.lon, rng.uniform(0, 360), rng.uniform(0, 30))
        cameras.append(PlanCamera(n, 1, lat, lon, camera_type="ptz", resolution_mp=2.0))
    for n in range(3, 5):
        p = demand[rng.randrange(n_demand)]
        lat, lon = offset(p.lat, p.lon, rng.uniform(0, 360), rng.uniform(0, 45))
        cameras.append(PlanCamera(n, 2, lat, lon, camera_type="ptz", resolution_mp=2.0))
    lat, lon = spot()
    cameras.append(
        PlanCamera(
            5, 3, lat, lon, camera_type="fixed", azimuth_deg=rng.uniform(0, 360), fov_deg=90.0,
            resolution_mp=4.0,
        )
    )  # fmt: skip
    sites = []
    for j in range(n_sites):
        p = demand[rng.randrange(n_demand)]
        lat, lon = offset(p.lat, p.lon, rng.uniform(0, 360), rng.uniform(0, 25))
        sites.append(CandidateSite(f"s{j}", lat, lon))
    return Instance(cameras, [3, 4, 5], demand, sites)


def brute_force(inst: Instance, budgets: Sequence[float]) -> list[float]:
    """The best covered weight for each budget, enumerating every assignment."""
    params = CoverageParams()
    pts = sorted(inst.demand, key=lambda p: p.id)
    where = PointSet([p.lat for p in pts], [p.lon for p in pts], params)

    def mask(indices: np.ndarray) -> int:
        return sum(1 << int(k) for k in indices)

    weight = [0.0] * (1 << len(pts))
    for m in range(1 << len(pts)):
        weight[m] = sum(p.weight for k, p in enumerate(pts) if m >> k & 1)
    settled = 0
    options: list[list[tuple[int, int]]] = []  # per movable camera: (mask, moves)
    for cam in inst.cameras:
        home = mask(where.covered_by(footprint(cam, params)))
        if cam.id not in inst.movable:
            settled |= home
            continue
        shape = mobile_shape(cam, params)
        aims: list[float | None] = [None] if shape.circle else [a * 45.0 for a in range(8)]
        opts = [(home, 0)]
        for s in inst.sites:
            for aim in aims:
                fp = footprint_at(cam.id, shape, s.lat, s.lon, aim)
                opts.append((mask(where.covered_by(fp)), 1))
        options.append(opts)
    new_shape = mobile_shape(RelocationParams().new_camera.as_camera(), params)
    new_masks = [
        mask(where.covered_by(footprint_at(0, new_shape, s.lat, s.lon, None))) for s in inst.sites
    ]
    top = max(budgets)
    results: list[tuple[float, float]] = []  # (cost, value)
    max_new = int(top // N)
    for combo in itertools.product(*options):
        moves = sum(c[1] for c in combo)
        base = settled
        for c in combo:
            base |= c[0]
        for k in range(max_new + 1):
            cost = moves * M + k * N
            if cost > top:
                break
            for chosen in itertools.combinations(range(len(inst.sites)), k):
                m = base
                for j in chosen:
                    m |= new_masks[j]
                results.append((cost, weight[m]))
    return [max(v for c, v in results if c <= b + 1e-6) for b in budgets]


def solve(inst: Instance, budget: float, **params: object) -> float:
    problem = prepare(inst.cameras, inst.movable, inst.demand, inst.sites)
    return relocate(problem, budget).covered_after


@pytest.mark.parametrize("seed", range(6))
def test_optimum_equals_brute_force(seed: int) -> None:
    inst = instance(seed)
    budgets = [0.0, M, 2 * M, 3 * M, N, N + M, N + 2 * M, 2 * N + M]
    best = brute_force(inst, budgets)
    problem = prepare(inst.cameras, inst.movable, inst.demand, inst.sites)
    for budget, expected in zip(budgets, best, strict=True):
        plan = relocate(problem, budget)
        assert plan.solver.optimal and plan.gap == pytest.approx(0.0, abs=1e-9)
        assert plan.covered_after == pytest.approx(expected), (seed, budget)
        assert plan.spent_krw <= budget + 1e-6
        assert plan.greedy.covered_weight <= plan.covered_after + 1e-9
        assert plan.greedy.spent_krw <= budget + 1e-6
        # the solver's objective agrees with the evaluation from footprints
        assert problem.settled_weight + plan.solver.objective == pytest.approx(plan.covered_after)
        after = analyse_coverage(cameras_after(problem, plan), inst.demand)
        assert after.covered_weight == pytest.approx(plan.covered_after)
        assert len({m.camera_id for m in plan.moves}) == len(plan.moves)


def problem_for(seed: int) -> RelocationProblem:
    inst = instance(seed, n_demand=14, n_sites=10)
    return prepare(inst.cameras, inst.movable, inst.demand, inst.sites)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), budgets=st.lists(st.integers(0, 80), min_size=2, max_size=5))
def test_covered_demand_never_falls_as_the_budget_grows(seed: int, budgets: list[int]) -> None:
    problem = problem_for(seed)
    covered = [relocate(problem, b * 1_000_000.0).covered_after for b in sorted(budgets)]
    assert all(a <= b + 1e-9 for a, b in itertools.pairwise(covered))


def plan_signature(inst: Instance, budget: float) -> tuple[object, ...]:
    problem = prepare(inst.cameras, inst.movable, inst.demand, inst.sites)
    plan = relocate(problem, budget)
    return (plan.moves, plan.new_installs, plan.points, plan.covered_after, plan.greedy.moves)


def test_same_inputs_same_plan() -> None:
    inst = instance(3, n_demand=14, n_sites=10)
    first = plan_signature(inst, 2 * M + N)
    assert plan_signature(inst, 2 * M + N) == first
    rng = random.Random(1)
    shuffled = Instance(
        rng.sample(inst.cameras, len(inst.cameras)),
        list(reversed(inst.movable)),
        rng.sample(inst.demand, len(inst.demand)),
        rng.sample(inst.sites, len(inst.sites)),
    )
    assert plan_signature(shuffled, 2 * M + N) == first


def test_a_leaving_camera_stops_covering_home() -> None:
    home = offset(LAT, LON, 0.0, 5.0)
    away = offset(LAT, LON, 90.0, 500.0)
    cam = PlanCamera(1, 2, LAT, LON, camera_type="ptz", resolution_mp=2.0)
    site = [CandidateSite("s", *away)]
    heavy_home = [DemandPoint("a", "t", *home, 5.0), DemandPoint("b", "t", *away, 1.0)]
    plan = relocate(prepare([cam], [1], heavy_home, site), M)
    assert plan.moves == () and plan.covered_after == 5.0
    heavy_away = [DemandPoint("a", "t", *home, 1.0), DemandPoint("b", "t", *away, 5.0)]
    plan = relocate(prepare([cam], [1], heavy_away, site), M)
    assert [m.camera_id for m in plan.moves] == [1] and plan.covered_after == 5.0
    assert [(p.demand_id, p.before, p.after) for p in plan.points] == [
        ("a", True, False),
        ("b", False, True),
    ]


def test_a_budget_one_won_short_of_a_move_buys_nothing() -> None:
    """HiGHS accepts a row violated by up to 10⁻⁶; the budget row is set so that it never buys
    a move (or a new camera) the budget cannot pay, even by a single won."""
    home = offset(LAT, LON, 0.0, 5.0)
    away = offset(LAT, LON, 90.0, 500.0)
    cam = PlanCamera(1, 2, LAT, LON, camera_type="ptz", resolution_mp=2.0)
    pts = [DemandPoint("a", "t", *home, 1.0), DemandPoint("b", "t", *away, 5.0)]
    problem = prepare([cam], [1], pts, [CandidateSite("s", *away)])
    assert relocate(problem, M - 1).moves == ()
    assert [m.camera_id for m in relocate(problem, M).moves] == [1]
    new_only = prepare([], [], pts[1:], sites_at_demand(pts[1:]))
    assert relocate(new_only, N - 1).new_installs == ()
    assert len(relocate(new_only, N).new_installs) == 1


@settings(max_examples=200, deadline=None)
@given(
    move=st.integers(100_000, 50_000_000),
    new=st.integers(100_000, 90_000_000),
    budget=st.integers(0, 400_000_000),
    max_new=st.integers(0, 12),
)
def test_the_budget_row_bound_separates_what_fits_from_what_does_not(
    move: int, new: int, budget: int, max_new: int
) -> None:
    """Every plan cost (whole won) within the budget lies at least half a won below the bound,
    every cost beyond it at least half a won above: far outside HiGHS's tolerance."""
    bound = budget_bound(float(budget), float(move), float(new), max_new)
    for n in range(max_new + 1):
        for m in range(budget // move + 2):
            cost = m * move + n * new
            if cost <= budget:
                assert bound - cost >= 0.5, (m, n, cost, bound)
            else:
                assert cost - bound >= 0.5, (m, n, cost, bound)


def test_moved_fixed_camera_is_aimed_at_the_demand() -> None:
    cam = PlanCamera(1, 2, LAT, LON, camera_type="fixed", azimuth_deg=0.0, fov_deg=60.0)
    site_at = offset(LAT, LON, 180.0, 800.0)
    east = offset(*site_at, 90.0, 40.0)
    plan = relocate(
        prepare([cam], [1], [DemandPoint("e", "t", *east, 1.0)], [CandidateSite("s", *site_at)]),
        M,
    )
    (move,) = plan.moves
    assert move.azimuth_deg == 90.0 and move.site_id == "s"
    assert move.distance_m == pytest.approx(800.0, rel=1e-6)


def test_no_money_is_spent_for_nothing() -> None:
    cam = PlanCamera(1, 2, LAT, LON, camera_type="ptz")
    pts = [DemandPoint("a", "t", *offset(LAT, LON, 0.0, 5.0), 1.0)]
    sites = [CandidateSite("s", *offset(LAT, LON, 90.0, 900.0))]
    plan = relocate(prepare([cam], [1], pts, sites), 10 * N)
    assert plan.moves == () and plan.new_installs == () and plan.spent_krw == 0.0


def test_new_installations_can_be_switched_off() -> None:
    pts = [DemandPoint("a", "t", *offset(LAT, LON, 0.0, 500.0), 1.0)]
    sites = sites_at_demand(pts)
    assert len(relocate(prepare([], [], pts, sites), N).new_installs) == 1
    off = prepare([], [], pts, sites, params=RelocationParams(allow_new=False))
    assert relocate(off, N).new_installs == ()


def test_headline_figures() -> None:
    inst = instance(4, n_demand=14, n_sites=10)
    plan = relocate(prepare(inst.cameras, inst.movable, inst.demand, inst.sites), 3 * M + N)
    h = headline(plan, linked=linked_cameras(inst.cameras, centre_owner_id=1))
    assert h.linked == 3  # cameras 3, 4, 5 belong to owners 2 and 3
    assert h.relocated == len(plan.moves)
    assert h.effective_new == h.linked + h.relocated
    assert h.saved_krw == h.relocated * (N - M)
    assert h.spent_krw == len(plan.moves) * M + len(plan.new_installs) * N
    assert h.gap == pytest.approx(0.0, abs=1e-9) and h.status == "Optimal"
    assert set(h.as_dict()) >= {
        "linked", "relocated", "effective_new", "saved_krw", "covered_before", "covered_after",
        "gap", "greedy_covered",
    }  # fmt: skip


# -- the Gwangju scenario, checked against a coverage computed here --------------------------


def test_gwangju_relocation(gwangju: Gwangju, gwangju_demand: list[DemandPoint]) -> None:
    cameras = gwangju.cameras
    red = find_redundancy(cameras)
    sites = sites_at_demand(gwangju_demand)
    problem = prepare(cameras, red.movable_ids, gwangju_demand, sites)
    budget = len(red.movable_ids) * M
    plan = relocate(problem, budget)
    assert plan.solver.optimal and plan.gap == 0.0
    assert plan.spent_krw <= budget
    assert plan.greedy.covered_weight <= plan.covered_after
    assert 0 < len(plan.moves) <= len(red.movable_ids)
    assert {m.camera_id for m in plan.moves} <= set(red.movable_ids)

    pts = sorted(gwangju_demand, key=lambda p: p.id)
    lats = np.array([p.lat for p in pts])
    lons = np.array([p.lon for p in pts])
    w = np.array([p.weight for p in pts])
    assert {c.resolution_mp for c in cameras} == {2.0}  # so RADIUS holds for every camera
    home = [(c.lat, c.lon, None if c.is_ptz else c.azimuth_deg) for c in cameras]
    before = covered_by_hand(home, lats, lons)
    assert plan.covered_before == pytest.approx(float(w[before].sum()))
    assert [p.before for p in plan.points] == before.tolist()

    moved = {m.camera_id for m in plan.moves}
    after_cams = [
        (c.lat, c.lon, None if c.is_ptz else c.azimuth_deg) for c in cameras if c.id not in moved
    ]
    after_cams += [(m.to_lat, m.to_lon, m.azimuth_deg) for m in plan.moves]
    after_cams += [(n.lat, n.lon, n.azimuth_deg) for n in plan.new_installs]
    after = covered_by_hand(after_cams, lats, lons)
    assert plan.covered_after == pytest.approx(float(w[after].sum()))
    assert [p.after for p in plan.points] == after.tolist()

    city = gwangju.owners["광주광역시"]
    h = headline(plan, linked=linked_cameras(cameras, city))
    assert h.linked == sum(1 for c in gwangju.plan.cameras if c.owner != "광주광역시") == 1350
    assert h.saved_krw == len(plan.moves) * 21_000_000
    assert h.covered_after > h.covered_before


def test_a_move_is_preferred_to_a_new_installation_of_equal_effect() -> None:
    settled = PlanCamera(1, 1, LAT, LON, camera_type="ptz")
    free = PlanCamera(2, 2, *offset(LAT, LON, 0.0, 3.0), camera_type="ptz")
    target = offset(LAT, LON, 90.0, 700.0)
    pts = [
        DemandPoint("a", "t", *offset(LAT, LON, 0.0, 5.0), 1.0),
        DemandPoint("b", "t", *target, 1.0),
    ]
    for budget in (N + M, 2 * N):
        plan = relocate(prepare([settled, free], [2], pts, sites_at_demand(pts)), budget)
        assert plan.covered_after == 2.0
        assert [m.camera_id for m in plan.moves] == [2] and plan.new_installs == ()
        assert plan.spent_krw == M


def test_highs_prints_nothing_on_stdout(tmp_path: Path) -> None:
    """A command printing JSON must not get HiGHS's banner in front of it."""
    script = (
        "from tests.planning.test_relocate import instance, N\n"
        "from argus.planning import prepare, relocate\n"
        "i = instance(0)\n"
        "plan = relocate(prepare(i.cameras, i.movable, i.demand, i.sites), N)\n"
        "print('{\"covered\": %s}' % plan.covered_after)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith('{"covered": ') and done.stdout.count("\n") == 1
