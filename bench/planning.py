"""Benchmark of the relocation planner (argus.planning) at Gwangju scale, exact against greedy.

    python bench/planning.py [--cameras 10000] [--demand 5000] [--sites 20000] [--repeat 3]
                             [--seed 7]

Inputs (everything seeded):

* Cameras: the Gwangju reference scenario (``argus.scenario.plan_gwangju``: the city's 7,134
  real crime-prevention cameras at 2,479 real sites, and the districts' 1,350 generated
  parking-enforcement PTZ cameras at 348 real school-zone and crash places, 87 of them next to a
  city site), topped up to ``--cameras``: half of the extra are city cameras at copies of real
  city sites moved 0.3–2.5 km (standing for the city's cameras of 남구 and 광산구, absent from
  the public data), half are another agency's fixed cameras (2 or 4 MP, 60° or 90°, traffic
  information or facility purposes) 5–25 m from a real city site, i.e. more co-located
  duplicates.
* Demand: the real 601 school zones (행정안전부) and 732 fatal crashes (도로교통공단) of Gwangju,
  weight 1 each, topped up to ``--demand`` with generated "incident count" points (weight 1–5)
  half near camera sites (50–400 m) and half anywhere in the five districts.
* Candidate sites: every distinct demand position, random points inside the districts (6,000
  or fewer), and points 20–150 m from random demand points, to exactly ``--sites``.

Movable cameras are those ``argus.planning.find_redundancy`` finds (30 m, overlap > 0.5). The
model is built once (``argus.planning.prepare``) and solved for several budgets, from moving a
quarter of the movable cameras to buying 200 new sites; each budget ``--repeat`` times, medians
printed. The baseline, side by side, is the greedy plan of the same run (best covered weight per
KRW first), with its shortfall against the proven optimum. Target: every budget proven optimal,
with the same plan on every run, within 60 s including the model build.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import highspy
import numpy as np
import scipy
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from argus.planning import (
    CandidateSite,
    DemandPoint,
    PlanCamera,
    cameras_from_plan,
    combine_layers,
    fatal_crash_layer,
    find_redundancy,
    headline,
    linked_cameras,
    prepare,
    relocate,
    school_zone_layer,
    sites_at_demand,
)
from argus.planning.greedy import solve_greedy
from argus.scenario import plan_gwangju
from argus.scenario.gwangju import destination
from argus.scenario.sources import GWANGJU_DISTRICTS_GEOJSON, Districts

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TARGET_S = 60.0
OTHER_AGENCY = 10_000  # owner id of the generated co-located agency


def extra_cameras(base: list[PlanCamera], n: int, rng: np.random.Generator) -> list[PlanCamera]:
    city = [c for c in base if c.owner_id == 1]
    sites = sorted({(c.lat, c.lon) for c in city})
    out: list[PlanCamera] = []
    next_id = max(c.id for c in base) + 1
    n_copies = n // 2
    while len(out) < n_copies:
        lat, lon = sites[int(rng.integers(len(sites)))]
        lat, lon = destination(lat, lon, float(rng.uniform(0, 360)), float(rng.uniform(300, 2500)))
        per_site = int(rng.integers(1, 5))
        for k in range(min(per_site, n_copies - len(out))):
            ptz = k == 0
            out.append(
                PlanCamera(
                    id=next_id,
                    owner_id=1,
                    lat=lat,
                    lon=lon,
                    camera_type="ptz" if ptz else "fixed",
                    azimuth_deg=None if ptz else float(rng.uniform(0, 360)),
                    fov_deg=360.0 if ptz else 90.0,
                    resolution_mp=2.0,
                    purpose="생활방범",
                    installed_year=int(rng.integers(2010, 2023)),
                )
            )
            next_id += 1
    while len(out) < n:
        lat, lon = sites[int(rng.integers(len(sites)))]
        lat, lon = destination(lat, lon, float(rng.uniform(0, 360)), float(rng.uniform(5, 25)))
        four = bool(rng.random() < 0.5)
        out.append(
            PlanCamera(
                id=next_id,
                owner_id=OTHER_AGENCY,
                lat=lat,
                lon=lon,
                camera_type="fixed",
                azimuth_deg=float(rng.uniform(0, 360)),
                fov_deg=60.0 if four else 90.0,
                resolution_mp=4.0 if four else 2.0,
                purpose="교통정보수집" if rng.random() < 0.5 else "시설물관리",
                installed_year=int(rng.integers(2008, 2020)),
            )
        )
        next_id += 1
    return out


def in_districts(
    districts: Districts, n: int, rng: np.random.Generator
) -> list[tuple[float, float]]:
    south, west, north, east = 35.052386, 126.646386, 35.258952, 127.021718  # SOURCE.md bbox
    out: list[tuple[float, float]] = []
    while len(out) < n:
        lats = rng.uniform(south, north, 4 * n)
        lons = rng.uniform(west, east, 4 * n)
        where = districts.locate(lats, lons)
        out += [(float(a), float(b)) for a, b, d in zip(lats, lons, where, strict=True) if d]
    return out[:n]


def extra_demand(
    cameras: list[PlanCamera], districts: Districts, n: int, rng: np.random.Generator
) -> list[DemandPoint]:
    out: list[DemandPoint] = []
    near = n // 2
    for k in range(near):
        c = cameras[int(rng.integers(len(cameras)))]
        lat, lon = destination(
            c.lat, c.lon, float(rng.uniform(0, 360)), float(rng.uniform(50, 400))
        )
        out.append(
            DemandPoint(f"incident:{k:05d}", "incident", lat, lon, float(rng.integers(1, 6)))
        )
    for k, (lat, lon) in enumerate(in_districts(districts, n - near, rng), start=near):
        out.append(
            DemandPoint(f"incident:{k:05d}", "incident", lat, lon, float(rng.integers(1, 6)))
        )
    return out


def candidate_sites(
    demand: list[DemandPoint], districts: Districts, n: int, rng: np.random.Generator
) -> list[CandidateSite]:
    sites = sites_at_demand(demand)
    grid = [
        CandidateSite(f"grid:{k:05d}", lat, lon, "", "grid")
        for k, (lat, lon) in enumerate(in_districts(districts, min(6000, n - len(sites)), rng))
    ]
    sites += grid
    k = 0
    while len(sites) < n:
        p = demand[int(rng.integers(len(demand)))]
        lat, lon = destination(
            p.lat, p.lon, float(rng.uniform(0, 360)), float(rng.uniform(20, 150))
        )
        sites.append(CandidateSite(f"near:{k:05d}", lat, lon, "", "near"))
        k += 1
    return sites[:n]


BUDGETS: list[tuple[str, float, int]] = [
    # (label, share of the movable cameras the budget moves, new installations on top)
    ("25 % of movable", 0.25, 0),
    ("50 % + 20 new", 0.5, 20),
    ("30 % + 100 new", 0.3, 100),
    ("every movable", 1.0, 0),
    ("every movable + 40 new", 1.0, 40),
    ("200 new", 0.0, 200),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cameras", type=int, default=10_000)
    parser.add_argument("--demand", type=int, default=5_000)
    parser.add_argument("--sites", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="solves per budget (medians)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"shapely {shapely.__version__}, highspy (HiGHS {highspy.HIGHS_VERSION_MAJOR}."
        f"{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}), {platform.machine()}, "
        f"{len(os.sched_getaffinity(0))} CPUs"
    )
    t0 = time.perf_counter()
    scenario, owners = cameras_from_plan(plan_gwangju(DATA))
    cameras = scenario + extra_cameras(scenario, max(0, args.cameras - len(scenario)), rng)
    districts = Districts.read(DATA / GWANGJU_DISTRICTS_GEOJSON)
    real = combine_layers([school_zone_layer(DATA), fatal_crash_layer(DATA)])
    demand = real + extra_demand(cameras, districts, max(0, args.demand - len(real)), rng)
    sites = candidate_sites(demand, districts, args.sites, rng)
    print(
        f"inputs: {len(cameras):,} cameras, {len(demand):,} demand points "
        f"({len(real):,} real), {len(sites):,} candidate sites   ({time.perf_counter() - t0:.1f} s)"
    )

    t0 = time.perf_counter()
    redundancy = find_redundancy(cameras)
    movable = redundancy.movable_ids
    print(
        f"redundancy: {len(redundancy.clusters):,} clusters, {len(movable):,} movable cameras"
        f"   ({time.perf_counter() - t0:.1f} s)"
    )
    problem = prepare(cameras, movable, demand, sites)
    s = problem.stats
    aims = 1 if problem.new_shape and problem.new_shape.circle else problem.params.fixed_directions
    new_pairs = len(sites) * aims
    print(
        f"model build (coverage of every camera, candidate columns, dominance): {s.build_s:.1f} s"
    )
    print(
        f"  as stated: {s.full_pairs + new_pairs:,} move/new columns "
        f"(x_ija {s.full_pairs:,} + n_ja {new_pairs:,}), {s.demand_points:,} demand rows"
    )
    print(
        f"  reduced:   {s.settled_points:,} points settled by cameras that stay, "
        f"{s.model_rows:,} model rows; {s.classes} camera classes, {s.bound_cameras} bound "
        f"cameras; {s.candidate_columns:,} candidate columns -> {s.columns:,} undominated"
    )
    print()
    header = (
        f"{'budget':<24} {'bn KRW':>7} {'before':>8} {'greedy':>8} {'exact':>8} {'short':>6} "
        f"{'moves':>5} {'new':>4} {'greedy s':>8} {'exact s':>8} {'HiGHS s':>8} {'nodes':>6} "
        f"{'gap':>7}  status"
    )
    print(header)
    print("-" * len(header))
    worst = 0.0
    all_optimal = True
    linked = linked_cameras(cameras, owners["광주광역시"])
    last = None
    for label, share, n_new in BUDGETS:
        budget = math.floor(share * len(movable)) * problem.params.move_cost_krw + n_new * (
            problem.params.new_cost_krw
        )
        greedy_s: list[float] = []
        exact_s: list[float] = []
        highs_s: list[float] = []
        plans = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            solve_greedy(problem, budget)
            greedy_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            plan = relocate(problem, budget)
            exact_s.append(time.perf_counter() - t0)
            highs_s.append(plan.solver.time_s)
            plans.append(plan)
        plan = plans[0]
        same = all(
            (q.moves, q.new_installs, q.covered_after)
            == (plan.moves, plan.new_installs, plan.covered_after)
            for q in plans
        )
        r = plan.solver
        all_optimal &= r.optimal and same
        worst = max(worst, statistics.median(exact_s))
        shortfall = plan.covered_after - plan.greedy.covered_weight
        print(
            f"{label:<24} {budget / 1e9:>7.3f} {plan.covered_before:>8,.0f} "
            f"{plan.greedy.covered_weight:>8,.0f} {plan.covered_after:>8,.0f} {shortfall:>6,.0f} "
            f"{len(plan.moves):>5} {len(plan.new_installs):>4} "
            f"{statistics.median(greedy_s):>8.2f} {statistics.median(exact_s):>8.2f} "
            f"{statistics.median(highs_s):>8.2f} {r.nodes:>6,} {r.mip_gap:>7.1e}  {r.status}"
            f"{'' if same else ' (plans differ between runs!)'}"
        )
        last = plan
    assert last is not None
    r = last.solver
    print(
        f"\nHiGHS model: {r.rows:,} rows, {r.columns:,} columns ({r.integer_columns:,} binary), "
        f"{r.nonzeros:,} nonzeros. 'exact s' is the whole relocate() call (greedy, HiGHS, "
        f"assignment of cameras, clean-up, evaluation); 'short' is the greedy's shortfall in "
        f"covered weight (total demand weight {last.total_weight:,.0f})."
    )
    print(f"headline ({BUDGETS[-1][0]}): {headline(last, linked=linked).as_dict()}")
    total = s.build_s + worst
    verdict = "met" if all_optimal and total <= TARGET_S else "NOT met"
    print(
        f"\ntarget (proven optimal, identical plans on every run, model build + slowest median "
        f"solve <= {TARGET_S:.0f} s): {verdict} ({s.build_s:.1f} + {worst:.1f} = {total:.1f} s)"
    )


if __name__ == "__main__":
    main()
