"""Routes of the coverage and relocation planner, for planners and administrators.

- `POST /api/plan/coverage` covered demand per layer and district, and the blind spots
- `GET /api/plan/redundancy` clusters of co-located cameras of different owners: keep and move
- `POST /api/plan/relocate` the best relocation for a budget, as JSON (the headline figures and
  the plan as GeoJSON), or with ``format`` the report (``html``), ``geojson`` or ``csv`` alone

The figures are those of ``argus plan … --json`` on the same database and inputs. Demand is
Gwangju's school zones and fatal crashes unless the body carries the caller's own files (CSV or
GeoJSON text), which then replace them. A bad file is a 422 naming it and each bad row;
nothing is stored. Planners, agency admins and system admins may plan: the plan reads every
owner's camera positions (which every signed-in user can see) and solves for seconds.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from argus.identity.deps import require_roles
from argus.identity.principal import Principal, Role
from argus.planning.model import DEFAULT_MOVE_COST_KRW, DEFAULT_NEW_COST_KRW, RelocationParams
from argus.planning.plan_files import plan_csv, plan_geojson
from argus.planning.runs import MIN_GRID_M
from argus.planning.service import Planner, TextFile

router = APIRouter(prefix="/api/plan", tags=["planning"])

PLANNERS = (Role.PLANNER, Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN)
PlannerDep = Annotated[Principal, Depends(require_roles(*PLANNERS))]

MAX_FILE_CHARS = 16 * 1024 * 1024
"""The largest file a request may carry (16 MiB of text)."""


def get_planner(request: Request) -> Planner:
    planner: Planner = request.app.state.planner
    return planner


PlannerServiceDep = Annotated[Planner, Depends(get_planner)]


class FileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=r"^[^/\\]{1,120}\.(?i:csv|geojson|json)$",
        description="the file's name, ending in .csv, .geojson or .json (it says which it is)",
    )
    content: str = Field(max_length=MAX_FILE_CHARS, description="the file's text")

    def text_file(self) -> TextFile:
        return TextFile(self.name, self.content)


class CoverageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    demand: list[FileIn] = Field(
        default_factory=list,
        max_length=10,
        description="demand layers (CSV: lat, lon, weight; GeoJSON: features with a weight); "
        "none: Gwangju's school zones and fatal crashes",
    )


class RelocateIn(CoverageIn):
    sites: FileIn | None = Field(
        default=None, description="candidate sites (CSV: lat, lon; GeoJSON Points)"
    )
    grid_m: float | None = Field(
        default=None,
        ge=MIN_GRID_M,
        allow_inf_nan=False,
        description="also a grid of candidate sites this many metres apart",
    )
    budget_krw: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="default: enough to move every movable camera once",
    )
    move_cost_krw: float = Field(default=DEFAULT_MOVE_COST_KRW, gt=0, allow_inf_nan=False)
    new_cost_krw: float = Field(default=DEFAULT_NEW_COST_KRW, gt=0, allow_inf_nan=False)
    budgets: int = Field(default=5, ge=2, le=12, description="budgets in the report's chart")
    format: Literal["json", "html", "geojson", "csv"] = "json"


@router.post("/coverage")
async def coverage(body: CoverageIn, planner: PlannerServiceDep, _: PlannerDep) -> dict[str, Any]:
    """Covered demand in all, per layer and per district ("no_inventory" where the registry has
    no camera of the district), and the number of blind spots."""
    files = [f.text_file() for f in body.demand]
    return await asyncio.to_thread(planner.coverage, files)


@router.get("/redundancy")
async def redundancy(planner: PlannerServiceDep, _: PlannerDep) -> dict[str, Any]:
    """Clusters of cameras of different owners within 30 m whose views overlap; for each, the
    cameras kept and the ones that may move, with the reason."""
    return await asyncio.to_thread(planner.redundancy)


@router.post("/relocate", response_model=None)
async def relocate(
    body: RelocateIn, planner: PlannerServiceDep, _: PlannerDep
) -> dict[str, Any] | Response:
    """The relocation plan for a budget: moves of duplicated cameras, new installations, and the
    headline figures; 503 while another plan is being solved."""
    params = RelocationParams(move_cost_krw=body.move_cost_krw, new_cost_krw=body.new_cost_krw)
    run, html = await asyncio.to_thread(
        planner.relocate,
        demand=[f.text_file() for f in body.demand],
        sites=None if body.sites is None else body.sites.text_file(),
        grid_m=body.grid_m,
        budget_krw=body.budget_krw,
        params=params,
        report_budgets=body.budgets if body.format == "html" else None,
    )
    if body.format == "html":
        assert html is not None
        return HTMLResponse(html)
    if body.format == "geojson":
        return JSONResponse(plan_geojson(run.plan), media_type="application/geo+json")
    if body.format == "csv":
        return Response(
            plan_csv(run.plan),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="plan.csv"'},
        )
    return {**run.summary(), "plan": plan_geojson(run.plan)}
