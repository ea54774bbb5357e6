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
The same runs are served by the API (:mod:`argus.planning.routes`).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from argus.config import load_settings
from argus.db import make_engine, make_sessionmaker
from argus.errors import ArgusError, FieldError
from argus.planning.analysis import analyse_coverage
from argus.planning.cameras import PlanCamera
from argus.planning.demand import load_demand_file
from argus.planning.headline import Headline
from argus.planning.model import DEFAULT_MOVE_COST_KRW, DEFAULT_NEW_COST_KRW, RelocationParams
from argus.planning.redundancy import find_redundancy
from argus.planning.runs import (
    MIN_GRID_M,
    Inputs,
    candidate_sites,
    gather_inputs,
    read_registry,
    run_relocation,
    write_outputs,
)
from argus.planning.views import coverage_json, redundancy_json
from argus.schema import ensure_schema

__all__ = ["app", "load_inputs"]

app = typer.Typer(no_args_is_help=True, help="Camera coverage and relocation planner.")

DemandOpt = Annotated[
    list[Path] | None,
    typer.Option("--demand", help="a demand file (CSV or GeoJSON); repeatable"),
]
DataOpt = Annotated[
    Path | None, typer.Option(help="the shared public data folder (default: ../shared/data)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]


def _load_registry() -> tuple[list[PlanCamera], dict[int, str]]:
    """The cameras and the owners' names of the settings' database."""
    settings = load_settings()
    engine = make_engine(settings.db_url)
    try:
        ensure_schema(engine)
        return read_registry(make_sessionmaker(engine))
    finally:
        engine.dispose()


def load_inputs(demand_files: list[Path] | None, data: Path | None) -> Inputs:
    """Cameras from the settings' database, demand layers, and the district boundaries."""
    files = list(demand_files or [])
    for path in files:
        if not path.is_file():
            raise ArgusError(f"demand file not found: {path}")
    layers = [load_demand_file(path) for path in files]
    cameras, owners = _load_registry()
    return gather_inputs(cameras, owners, layers, data)


def _out(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


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
    if grid is not None and not (math.isfinite(grid) and grid >= MIN_GRID_M):
        raise FieldError("--grid", f"must be at least {MIN_GRID_M:g} metres, got {grid}", "option")
    inputs = load_inputs(demand, data)
    params = RelocationParams(move_cost_krw=move_cost, new_cost_krw=new_cost)
    run = run_relocation(
        inputs, candidate_sites(inputs, sites, grid), budget_krw=budget, params=params
    )
    if out is not None:
        write_outputs(run, out, budgets)
    if as_json:
        summary = run.summary()
        if out is not None:
            summary["out"] = str(out)
        _out(summary)
        return
    _print_headline(run.figures, out)


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
