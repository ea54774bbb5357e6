"""The planner as the API serves it: the registry of the API's database, users' files, one solve
at a time.

Users' demand and site files arrive as text (a name ending in .csv, .geojson or .json, and its
content). They are read by the same readers as the CLI's files, from a private temporary folder
that is removed afterwards; a refused file's error names the file as the user named it, with
every bad row or feature. Nothing is stored: planning reads the registry and never writes it.

A relocation solve takes a core for seconds (about 12 s for Gwangju), so one runs at a time per
API process; a second request while one runs is refused at once with :class:`PlannerBusy`
(503), rather than queued behind it.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from argus.errors import ArgusError
from argus.planning.analysis import analyse_coverage
from argus.planning.demand import DemandFileError, DemandLayer, load_demand_file
from argus.planning.model import RelocationParams
from argus.planning.redundancy import find_redundancy
from argus.planning.runs import (
    Inputs,
    RelocationRun,
    candidate_sites,
    gather_inputs,
    read_registry,
    report_html,
    run_relocation,
)
from argus.planning.views import coverage_json, redundancy_json

__all__ = ["Planner", "PlannerBusy", "TextFile"]


class PlannerBusy(ArgusError):
    status_code = 503
    code = "planner_busy"


@dataclass(frozen=True)
class TextFile:
    """A user's file: its name (which says CSV or GeoJSON) and its text."""

    name: str
    content: str


@contextmanager
def _on_disk(upload: TextFile) -> Iterator[Path]:
    """The upload as a file in a private temporary folder, under its own (base) name."""
    with tempfile.TemporaryDirectory(prefix="argus-plan-") as folder:
        path = Path(folder) / Path(upload.name).name
        path.write_text(upload.content, encoding="utf-8")
        try:
            yield path
        except DemandFileError as exc:
            raise DemandFileError(Path(upload.name), exc.problems) from None


class Planner:
    def __init__(self, sessions: sessionmaker[Session], data: Path | None = None) -> None:
        self._sessions = sessions
        self._data = data
        self._solving = threading.Lock()

    def _layers(self, uploads: Sequence[TextFile]) -> list[DemandLayer]:
        layers: list[DemandLayer] = []
        for upload in uploads:
            with _on_disk(upload) as path:
                layers.append(load_demand_file(path, source=upload.name))
        return layers

    def _inputs(self, uploads: Sequence[TextFile]) -> Inputs:
        layers = self._layers(uploads)
        cameras, owners = read_registry(self._sessions)
        return gather_inputs(cameras, owners, layers, self._data)

    def coverage(self, demand: Sequence[TextFile] = ()) -> dict[str, Any]:
        inputs = self._inputs(demand)
        report = analyse_coverage(inputs.cameras, inputs.demand, districts=inputs.districts)
        out = coverage_json(report)
        out["cameras"] = len(inputs.cameras)
        out["sources"] = inputs.sources
        return out

    def redundancy(self) -> dict[str, Any]:
        cameras, owners = read_registry(self._sessions)
        return redundancy_json(find_redundancy(cameras), owners)

    def relocate(
        self,
        *,
        demand: Sequence[TextFile] = (),
        sites: TextFile | None = None,
        grid_m: float | None = None,
        budget_krw: float | None = None,
        params: RelocationParams,
        report_budgets: int | None = None,
    ) -> tuple[RelocationRun, str | None]:
        """Solve a relocation and, given ``report_budgets``, render its report (whose chart
        solves that many budgets); :class:`PlannerBusy` if another solve is running."""
        if not self._solving.acquire(blocking=False):
            raise PlannerBusy(
                "the planner is solving another plan (a Gwangju-sized plan takes about 15 s); "
                "try again when it has finished"
            )
        try:
            inputs = self._inputs(demand)
            if sites is None:
                site_list = candidate_sites(inputs, None, grid_m)
            else:
                with _on_disk(sites) as path:
                    site_list = candidate_sites(inputs, path, grid_m)
            run = run_relocation(inputs, site_list, budget_krw=budget_krw, params=params)
            html = None if report_budgets is None else report_html(run, report_budgets)
            return run, html
        finally:
            self._solving.release()
