"""Command line interface of the coverage and relocation planner (``argus plan``).

``argus plan coverage`` prints covered demand per layer and district and the blind spots;
``argus plan redundancy`` the clusters of co-located cameras; ``argus plan relocate`` solves
the relocation for a budget and, with ``--out DIR``, writes ``report.html``, ``plan.geojson``
and ``plan.csv``. Cameras come from the database of the settings; demand is Gwangju's school
zones and fatal crashes unless ``--demand FILE`` is given (repeatable).

Candidate sites are the demand points themselves unless ``--sites FILE`` and/or
``--grid METRES`` are given, which then replace them (``--grid`` covers the bounding box of
demand and cameras, inside the districts when their boundaries are found).

The default budget is enough to move every movable camera once (movable × ``--move-cost``).
"""

from __future__ import annotations

import csv
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from argus.config import load_settings
from argus.db import make_engine, make_sessionmaker
from argus.errors import ArgusError, FieldError
from argus.planning.analysis import CoverageReport, analyse_coverage
from argus.planning.cameras import PlanCamera, load_cameras, load_owner_names
from argus.planning.demand import (
    DemandPoint,
    combine_layers,
    fatal_crash_layer,
    load_demand_file,
    school_zone_layer,
)
from argus.planning.headline import Headline, headline, linked_cameras
from argus.planning.model import (
    DEFAULT_MOVE_COST_KRW,
    DEFAULT_NEW_COST_KRW,
    RelocationParams,
    RelocationProblem,
    prepare,
)
from argus.planning.redundancy import Redundancy, find_redundancy
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
from argus.schema import ensure_schema

__all__ = ["CENTRE_OWNER", "Inputs", "app", "load_inputs", "write_plan_files"]

app = typer.Typer(no_args_is_help=True, help="Camera coverage and relocation planner.")

CENTRE_OWNER = "광주광역시"
"""The agency whose control centre the other owners' cameras are linked to."""

DemandOpt = Annotated[
    list[Path] | None,
    typer.Option("--demand", help="a demand file (CSV or GeoJSON); repeatable"),
]
DataOpt = Annotated[
    Path | None, typer.Option(help="the shared public data folder (default: ../shared/data)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]


@dataclass(frozen=True)
class Inputs:
    cameras: list[PlanCamera]
    owners: dict[int, str]
    demand: list[DemandPoint]
    sources: list[str]
    districts: Districts | None
    districts_path: Path | None


def _load_registry() -> tuple[list[PlanCamera], dict[int, str]]:
    """The cameras and the owners' names of the settings' database."""
    settings = load_settings()
    engine = make_engine(settings.db_url)
    try:
        ensure_schema(engine)
        with make_sessionmaker(engine)() as session:
            return load_cameras(session), load_owner_names(session)
    finally:
        engine.dispose()


def load_inputs(demand_files: list[Path] | None, data: Path | None) -> Inputs:
    """Cameras from the settings' database, demand layers, and the district boundaries."""
    files = list(demand_files or [])
    for path in files:
        if not path.is_file():
            raise ArgusError(f"demand file not found: {path}")
    cameras, owners = _load_registry()
    data_dir: Path | None
    if files:
        layers = [load_demand_file(path) for path in files]
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


def _sites(inputs: Inputs, sites_file: Path | None, grid: float | None) -> list[CandidateSite]:
    groups: list[list[CandidateSite]] = []
    if sites_file is not None:
        if not sites_file.is_file():
            raise ArgusError(f"sites file not found: {sites_file}")
        groups.append(load_sites_file(sites_file))
    if grid is not None:
        if not (math.isfinite(grid) and grid >= 50):
            raise FieldError("--grid", f"must be at least 50 metres, got {grid}", "option")
        lats = [p.lat for p in inputs.demand] + [c.lat for c in inputs.cameras]
        lons = [p.lon for p in inputs.demand] + [c.lon for c in inputs.cameras]
        bbox = (min(lats), min(lons), max(lats), max(lons))  # south, west, north, east
        groups.append(grid_sites(bbox, grid, districts=inputs.districts))
    if not groups:
        groups.append(sites_at_demand(inputs.demand))
    return merge_sites(*groups)


def _centre_id(owners: dict[int, str]) -> int | None:
    for owner_id, name in owners.items():
        if name == CENTRE_OWNER:
            return owner_id
    return None


def _out(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def coverage_json(report: CoverageReport) -> dict[str, Any]:
    return {
        "total_weight": report.total_weight,
        "covered_weight": report.covered_weight,
        "share": report.share,
        "blind_spots": len(report.blind_spots),
        "unknown": len(report.unknown),
        "layers": [
            {
                "layer": x.layer,
                "points": x.points,
                "total_weight": x.total_weight,
                "covered_weight": x.covered_weight,
                "share": x.share,
            }
            for x in report.layers
        ],
        "districts": [
            {
                "district": d.district,
                "status": d.status,
                "cameras": d.cameras,
                "demand_points": d.demand_points,
                "demand_weight": d.demand_weight,
                "covered_weight": d.covered_weight,
                "share": d.share,
            }
            for d in report.districts
        ],
    }


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f}%"


@app.command("coverage")
def coverage_command(
    demand: DemandOpt = None, data: DataOpt = None, as_json: JsonOpt = False
) -> None:
    """Covered demand per layer and district, and the blind spots."""
    inputs = load_inputs(demand, data)
    report = analyse_coverage(inputs.cameras, inputs.demand, districts=inputs.districts)
    if as_json:
        _out(coverage_json(report))
        return
    typer.echo(
        f"{len(inputs.cameras)} cameras, {len(inputs.demand)} demand points: covered "
        f"{report.covered_weight:g} of {report.total_weight:g} ({_pct(report.share)})"
    )
    for x in report.layers:
        typer.echo(
            f"  layer {x.layer}: {x.points} points, covered {x.covered_weight:g} of "
            f"{x.total_weight:g} ({_pct(x.share)})"
        )
    for d in report.districts:
        if d.status == "no_inventory":
            typer.echo(
                f"  district {d.district}: no inventory ({d.demand_points} demand points unknown)"
            )
        else:
            typer.echo(
                f"  district {d.district}: {d.cameras} cameras, {d.demand_points} demand points, "
                f"covered {_pct(d.share)}"
            )
    typer.echo(
        f"blind spots: {len(report.blind_spots)} "
        f"(plus {len(report.unknown)} uncovered in districts without inventory)"
    )


def redundancy_json(red: Redundancy, owners: dict[int, str]) -> dict[str, Any]:
    return {
        "clusters": [
            {
                "id": c.id,
                "lat": c.lat,
                "lon": c.lon,
                "camera_ids": list(c.camera_ids),
                "kept": list(c.kept),
                "movable": [
                    {
                        "camera_id": m.camera_id,
                        "owner": owners.get(m.owner_id, str(m.owner_id)),
                        "criterion": m.criterion,
                        "reason": m.reason,
                        "overlap": m.overlap,
                    }
                    for m in c.movable
                ],
            }
            for c in red.clusters
        ],
        "movable": len(red.movable_ids),
    }


@app.command("redundancy")
def redundancy_command(as_json: JsonOpt = False) -> None:
    """Clusters of co-located cameras of different owners: which to keep, which may move."""
    cameras, owners = _load_registry()
    red = find_redundancy(cameras)
    if as_json:
        _out(redundancy_json(red, owners))
        return
    for c in red.clusters:
        typer.echo(
            f"cluster {c.id} at {c.lat:.6f},{c.lon:.6f}: cameras {list(c.camera_ids)}, "
            f"keep {list(c.kept)}"
        )
        for m in c.movable:
            typer.echo(
                f"  movable {m.camera_id} ({owners.get(m.owner_id, m.owner_id)}): {m.reason}"
            )
    typer.echo(f"{len(red.clusters)} clusters, {len(red.movable_ids)} movable cameras")


def write_plan_files(out: Path, problem: RelocationProblem, plan: Plan) -> None:
    """``plan.geojson`` (moves as LineStrings from → to, new installs as points), ``plan.csv``."""
    features: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for m in plan.moves:
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[m.from_lon, m.from_lat], [m.to_lon, m.to_lat]],
                },
                "properties": {
                    "kind": "move",
                    "camera_id": m.camera_id,
                    "owner_id": m.owner_id,
                    "site_id": m.site_id,
                    "azimuth_deg": m.azimuth_deg,
                    "distance_m": round(m.distance_m, 1),
                    "cost_krw": m.cost_krw,
                },
            }
        )
        rows.append(
            {
                "kind": "move",
                "camera_id": m.camera_id,
                "site_id": m.site_id,
                "from_lat": m.from_lat,
                "from_lon": m.from_lon,
                "to_lat": m.to_lat,
                "to_lon": m.to_lon,
                "azimuth_deg": "" if m.azimuth_deg is None else m.azimuth_deg,
                "distance_m": round(m.distance_m, 1),
                "cost_krw": m.cost_krw,
            }
        )
    for n in plan.new_installs:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [n.lon, n.lat]},
                "properties": {
                    "kind": "new",
                    "site_id": n.site_id,
                    "azimuth_deg": n.azimuth_deg,
                    "cost_krw": n.cost_krw,
                },
            }
        )
        rows.append(
            {
                "kind": "new",
                "camera_id": "",
                "site_id": n.site_id,
                "from_lat": "",
                "from_lon": "",
                "to_lat": n.lat,
                "to_lon": n.lon,
                "azimuth_deg": "" if n.azimuth_deg is None else n.azimuth_deg,
                "distance_m": "",
                "cost_krw": n.cost_krw,
            }
        )
    out.mkdir(parents=True, exist_ok=True)
    collection = {"type": "FeatureCollection", "features": features}
    (out / "plan.geojson").write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    fields = [
        "kind",
        "camera_id",
        "site_id",
        "from_lat",
        "from_lon",
        "to_lat",
        "to_lon",
        "azimuth_deg",
        "distance_m",
        "cost_krw",
    ]
    with (out / "plan.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


@app.command("relocate")
def relocate_command(
    demand: DemandOpt = None,
    sites: Annotated[
        Path | None,
        typer.Option("--sites", help="candidate sites file (CSV or GeoJSON), instead of demand"),
    ] = None,
    grid: Annotated[
        float | None,
        typer.Option("--grid", help="a grid of candidate sites, METRES apart, instead of demand"),
    ] = None,
    budget: Annotated[
        float | None,
        typer.Option(help="budget in KRW (default: enough to move every movable camera)"),
    ] = None,
    move_cost: Annotated[
        float, typer.Option("--move-cost", help="cost of moving one camera, KRW")
    ] = DEFAULT_MOVE_COST_KRW,
    new_cost: Annotated[
        float, typer.Option("--new-cost", help="cost of one new installation, KRW")
    ] = DEFAULT_NEW_COST_KRW,
    out: Annotated[
        Path | None, typer.Option("--out", help="write report.html, plan.geojson, plan.csv here")
    ] = None,
    budgets: Annotated[int, typer.Option(help="budgets in the report's chart", min=2, max=12)] = 5,
    data: DataOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The best relocation of duplicated cameras (and new installations) for a budget."""
    for name, value in (("--move-cost", move_cost), ("--new-cost", new_cost)):
        if not (math.isfinite(value) and value > 0):
            raise FieldError(name, f"must be a positive number of KRW, got {value}", "option")
    if budget is not None and not (math.isfinite(budget) and budget >= 0):
        raise FieldError("--budget", f"must be a number of KRW >= 0, got {budget}", "option")
    inputs = load_inputs(demand, data)
    candidate_sites = _sites(inputs, sites, grid)
    movable = find_redundancy(inputs.cameras).movable_ids
    params = RelocationParams(move_cost_krw=move_cost, new_cost_krw=new_cost)
    problem = prepare(inputs.cameras, movable, inputs.demand, candidate_sites, params=params)
    amount = budget if budget is not None else len(movable) * move_cost
    plan = relocate(problem, amount)
    centre = _centre_id(inputs.owners)
    linked = linked_cameras(inputs.cameras, centre) if centre is not None else len(inputs.cameras)
    figures = headline(plan, linked=linked)
    if out is not None:
        from argus.planning.report import BudgetPoint, render_report

        write_plan_files(out, problem, plan)
        curve = budget_curve(problem, amount, budgets, plan)
        after = analyse_coverage(
            cameras_after(problem, plan), inputs.demand, districts=inputs.districts
        )
        html = render_report(
            problem=problem,
            plan=plan,
            figures=figures,
            curve=[BudgetPoint(b, c, g) for b, c, g in curve],
            after=after,
            districts_path=inputs.districts_path,
            sources=inputs.sources,
            movable=len(movable),
        )
        (out / "report.html").write_text(html, encoding="utf-8")
    if as_json:
        data_out = figures.as_dict()
        data_out["movable"] = len(movable)
        data_out["cameras"] = len(inputs.cameras)
        if out is not None:
            data_out["out"] = str(out)
        _out(data_out)
        return
    _print_headline(figures, out)


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


def _print_headline(h: Headline, out: Path | None) -> None:
    gap = "n/a" if h.gap is None else f"{100 * h.gap:.2f}%"
    lines = [
        f"cameras linked (연계 카메라): {h.linked}",
        f"cameras relocated (재배치): {h.relocated}",
        f"new installations (신규 설치): {h.new_installs}",
        f"effective new cameras (신규 설치 효과): {h.effective_new}",
        f"saved (예산 절감): {h.saved_krw:,.0f} KRW",
        f"spent: {h.spent_krw:,.0f} of {h.budget_krw:,.0f} KRW",
        f"covered demand: {h.covered_before:g} → {h.covered_after:g} of {h.total_demand:g}",
        f"greedy: {h.greedy_covered:g}; optimality gap {gap} ({h.status})",
    ]
    if out is not None:
        lines.append(f"written: {out / 'report.html'}, {out / 'plan.geojson'}, {out / 'plan.csv'}")
    for line in lines:
        typer.echo(line)
