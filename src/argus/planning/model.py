"""The relocation problem: a maximal covering location model, built once and reduced exactly.

Given every camera (each covering its footprint where it stands), the *movable* ones (e.g. from
:mod:`argus.planning.redundancy`), weighted demand points and candidate sites, choose which
movable cameras go to which sites, and which sites get a new camera, to maximise the covered
demand weight within a budget. :func:`prepare` builds the budget-independent part here;
:mod:`argus.planning.milp` solves it exactly and :mod:`argus.planning.greedy` heuristically.

The model as stated
-------------------
Sets: movable cameras ``i ∈ M``; candidate sites ``j ∈ J``; aims ``a ∈ A_i`` (one for a PTZ
camera, a circle; ``fixed_directions`` azimuths 0°, 45°, … for a fixed one, which is aimed anew
at its new site with its own range and field of view); demand points ``k ∈ K`` with weight
``w_k``. ``c_m`` is the cost of a move (4 M KRW), ``c_n`` of a new installation (25 M KRW, a new
camera of ``new_camera``'s kind, a PTZ circle by default), ``B`` the budget.

Variables: ``x_ija ∈ {0,1}`` camera ``i`` moves to site ``j`` aimed ``a``; ``n_ja ∈ {0,1}`` a new
camera at site ``j`` aimed ``a``; ``z_k ∈ [0,1]`` demand point ``k`` is covered.

* each movable camera moves at most once: ``Σ_ja x_ija ≤ 1`` for every ``i``;
* budget: ``c_m Σ x + c_n Σ n ≤ B``;
* coverage linking: ``z_k ≤ S_k + Σ_{i∈M: i covers k at home} (1 − Σ_ja x_ija)
  + Σ_{(i,j,a) covers k} x_ija + Σ_{(j,a) covers k} n_ja``, where ``S_k`` is 1 if a camera that
  does not move covers ``k`` (and then ``z_k = 1``) — a camera that leaves stops covering home;
* objective: maximise ``Σ_k w_k z_k``.

Several cameras may go to one site (a pole holds several cameras). "Covers" is the coverage
model of :mod:`argus.planning.coverage`.

Exact reductions (the solved model has the same optimum)
--------------------------------------------------------
1. *Settled demand*: a point covered by a camera that cannot move is covered whatever happens;
   it leaves the model (its weight is a constant). So do points of weight 0 and points no
   candidate and no movable camera at home can cover.
2. *Interchangeable cameras*: a move costs the same whatever the camera, and cameras with the
   same shape (radius and field of view) cover the same points from a given site and aim. So
   movable cameras are grouped into *classes* by shape, and a column ``y_cja`` (a camera of class
   ``c`` to site ``j`` aimed ``a``) replaces the ``x_ija`` of all its members. The cameras of a
   class whose home footprint covers no unsettled point are *free*: their leaving costs nothing.
   The others get a binary *leave* variable ``s_i``, and ``Σ_ja y_cja − Σ_{i∈c} s_i ≤ F_c`` (the
   free count) replaces "each moves at most once". A solution of either model maps to the other
   with the same coverage and cost; which member of a class goes where is decided afterwards
   (least total travel, :mod:`argus.planning.relocate`).
3. *Candidate pairs*: a column exists only where the site, so aimed, covers some unsettled point.
4. *Dominated columns*: of two columns of the same class (or both new installations) where one
   covers a subset of the other's points, the smaller goes (equal sets: the one of the earlier
   site and aim stays). Costs and resources are equal, and there is no site capacity, so
   swapping to the larger column never loses coverage.

Everything is sorted (cameras by id, points and sites by id, classes by shape), so the same
inputs give the same model, column for column.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from argus.errors import ArgusError
from argus.planning.cameras import PlanCamera
from argus.planning.coverage import (
    CoverageParams,
    PointSet,
    Shape,
    footprint,
    mobile_shape,
)
from argus.planning.demand import DemandPoint
from argus.planning.sites import CandidateSite
from argus.registry.vocab import CameraType, Purpose

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_MOVE_COST_KRW: Final = 4_000_000.0
"""Converting or moving an existing camera (the Gwangju figure in DESIGN.md §1)."""
DEFAULT_NEW_COST_KRW: Final = 25_000_000.0
"""A new crime-prevention site (pole, camera, line, works)."""

__all__ = [
    "DEFAULT_MOVE_COST_KRW",
    "DEFAULT_NEW_COST_KRW",
    "CameraClass",
    "Column",
    "ModelStats",
    "NewCamera",
    "RelocationParams",
    "RelocationProblem",
    "Selection",
    "model_value",
    "prepare",
    "row_counts",
]


@dataclass(frozen=True)
class NewCamera:
    """The kind of camera a new installation gets (its coverage follows the coverage model)."""

    camera_type: str = CameraType.PTZ.value
    resolution_mp: float = 2.0
    fov_deg: float | None = None
    purpose: str = Purpose.CRIME_PREVENTION.value

    def as_camera(self) -> PlanCamera:
        return PlanCamera(
            id=0,
            owner_id=0,
            lat=0.0,
            lon=0.0,
            camera_type=self.camera_type,
            fov_deg=self.fov_deg,
            resolution_mp=self.resolution_mp,
            purpose=self.purpose,
        )


@dataclass(frozen=True)
class RelocationParams:
    """Costs, the model's choices and the solver's settings.

    ``fixed_directions``: the aims a moved fixed camera (or a fixed new camera) may be given,
    evenly spaced from north. ``mip_rel_gap`` 0 asks HiGHS to prove optimality (its absolute gap
    tolerance, 1e-6 of weight, still applies). ``threads`` 1 and ``random_seed`` keep runs
    identical.
    """

    move_cost_krw: float = DEFAULT_MOVE_COST_KRW
    new_cost_krw: float = DEFAULT_NEW_COST_KRW
    allow_new: bool = True
    new_camera: NewCamera = field(default_factory=NewCamera)
    fixed_directions: int = 8
    time_limit_s: float = 300.0
    mip_rel_gap: float = 0.0
    random_seed: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        for name in ("move_cost_krw", "new_cost_krw", "time_limit_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value}")
        if self.fixed_directions < 1:
            raise ValueError("fixed_directions must be >= 1")
        if not 0 <= self.mip_rel_gap < 1:
            raise ValueError("mip_rel_gap must be in [0, 1)")
        if self.threads < 1:
            raise ValueError("threads must be >= 1")


@dataclass(frozen=True)
class CameraClass:
    """Movable cameras of one shape. ``bound_ids`` are those whose leaving uncovers points."""

    shape: Shape
    camera_ids: tuple[int, ...]
    free_ids: tuple[int, ...]
    bound_ids: tuple[int, ...]


@dataclass(frozen=True)
class Column:
    """A candidate action: a camera of class ``cls`` (kind "move") or a new camera (kind "new",
    ``cls`` -1) at ``sites[site]`` aimed ``azimuth_deg`` (None: a circle), covering ``rows``."""

    kind: Literal["move", "new"]
    cls: int
    site: int
    azimuth_deg: float | None
    rows: tuple[int, ...]


@dataclass(frozen=True)
class ModelStats:
    """Sizes before and after each reduction, and the time it took to build."""

    cameras: int
    movable: int
    demand_points: int
    sites: int
    settled_points: int  # covered by cameras that do not move
    model_rows: int  # unsettled points the model keeps
    classes: int
    bound_cameras: int
    full_pairs: int  # |M| × |J| × aims: the x_ija of the stated model
    candidate_columns: int  # after reductions 2 and 3 (class columns covering something)
    columns: int  # after removing dominated ones
    build_s: float


@dataclass(frozen=True)
class RelocationProblem:
    """Everything the solvers need, for any budget. Build it with :func:`prepare`."""

    cameras: tuple[PlanCamera, ...]
    movable: tuple[int, ...]
    demand: tuple[DemandPoint, ...]
    sites: tuple[CandidateSite, ...]
    coverage: CoverageParams
    params: RelocationParams
    weights: FloatArray  # per demand point
    home_counts: IntArray  # cameras covering each point where they stand now
    settled: BoolArray  # points covered by cameras that do not move
    rows: IntArray  # model row -> demand index
    classes: tuple[CameraClass, ...]
    columns: tuple[Column, ...]
    home_rows: dict[int, tuple[int, ...]]  # bound camera -> the model rows it covers at home
    home_cover: dict[int, IntArray]  # movable camera -> demand indices it covers at home
    class_of: dict[int, int]  # movable camera -> class index
    new_shape: Shape | None
    stats: ModelStats
    points: PointSet = field(repr=False)

    @property
    def total_weight(self) -> float:
        return float(self.weights.sum())

    @property
    def covered_before(self) -> float:
        return float(self.weights[self.home_counts > 0].sum())

    @property
    def settled_weight(self) -> float:
        return float(self.weights[self.settled].sum())


def prepare(
    cameras: Sequence[PlanCamera],
    movable: Iterable[int],
    demand: Sequence[DemandPoint],
    sites: Sequence[CandidateSite],
    coverage: CoverageParams | None = None,
    params: RelocationParams | None = None,
) -> RelocationProblem:
    """The reduced relocation model (see the module docstring) for the given inputs."""
    started = time.perf_counter()
    coverage = coverage or CoverageParams()
    params = params or RelocationParams()
    cams = tuple(sorted(cameras, key=lambda c: c.id))
    pts = tuple(sorted(demand, key=lambda p: p.id))
    spots = tuple(sorted(sites, key=lambda s: s.id))
    _check_unique([c.id for c in cams], "camera")
    _check_unique([p.id for p in pts], "demand point")
    _check_unique([s.id for s in spots], "candidate site")
    by_id = {c.id: c for c in cams}
    moving = tuple(sorted(set(movable)))
    unknown = [i for i in moving if i not in by_id]
    if unknown:
        raise ArgusError(f"movable cameras not among the cameras: {unknown[:10]}")
    moving_set = set(moving)
    for p in pts:
        if not (math.isfinite(p.weight) and p.weight >= 0):
            raise ArgusError(f"demand point {p.id}: weight {p.weight} is not a number >= 0")

    weights = np.array([p.weight for p in pts], dtype=np.float64)
    points = PointSet([p.lat for p in pts], [p.lon for p in pts], coverage)
    home_counts = np.zeros(len(pts), dtype=np.int64)
    settled = np.zeros(len(pts), dtype=bool)
    home_cover: dict[int, IntArray] = {}
    for camera in cams:
        hit = points.covered_by(footprint(camera, coverage))
        home_counts[hit] += 1
        if camera.id in moving_set:
            home_cover[camera.id] = hit
        else:
            settled[hit] = True
    open_pts = ~settled & (weights > 0)

    # classes of interchangeable movable cameras
    shapes: dict[tuple[float, float], list[int]] = {}
    for i in moving:
        s = mobile_shape(by_id[i], coverage)
        shapes.setdefault((s.radius_m, s.fov_deg), []).append(i)
    class_keys = sorted(shapes)
    class_of = {i: n for n, key in enumerate(class_keys) for i in shapes[key]}
    new_shape = mobile_shape(params.new_camera.as_camera(), coverage) if params.allow_new else None

    # candidate columns over the open points
    open_idx = np.flatnonzero(open_pts)
    open_set = PointSet(points.lats[open_idx], points.lons[open_idx], coverage)
    groups: list[tuple[Shape, int]] = [
        (Shape(key[0], key[1]), n) for n, key in enumerate(class_keys)
    ]
    if new_shape is not None:
        groups.append((new_shape, -1))
    directions = [d * 360.0 / params.fixed_directions for d in range(params.fixed_directions)]
    raw: dict[int, list[tuple[int, float | None, tuple[int, ...]]]] = {g: [] for _, g in groups}
    reach = max((s.radius_m for s, _ in groups), default=0.0)
    if open_idx.size and groups:
        for j, site in enumerate(spots):
            near, dist = open_set.near(site.lat, site.lon, reach)
            if near.size == 0:
                continue
            for shape, g in groups:
                aims: list[float | None] = [None] if shape.circle else list(directions)
                for aim in aims:
                    got = open_set.select(
                        site.lat, site.lon, near, dist, shape.radius_m, aim, shape.fov_deg
                    )
                    if got.size:
                        raw[g].append((j, aim, tuple(int(v) for v in open_idx[got])))
    candidate_columns = sum(len(v) for v in raw.values())

    kept: list[tuple[int, int, float | None, tuple[int, ...]]] = []
    for _, g in groups:
        cols = raw[g]
        for n in _undominated([c[2] for c in cols]):
            j, aim, cover = cols[n]
            kept.append((g, j, aim, cover))

    # the free and bound cameras of each class
    column_pts: set[int] = {k for _, _, _, cover in kept for k in cover}
    bound_home: dict[int, tuple[int, ...]] = {}
    for i in moving:
        mine = tuple(int(k) for k in home_cover[i] if open_pts[k])
        if mine:
            bound_home[i] = mine
    model_pts = sorted(column_pts | {k for v in bound_home.values() for k in v})
    row_of = {k: r for r, k in enumerate(model_pts)}
    classes = tuple(
        CameraClass(
            shape=Shape(key[0], key[1]),
            camera_ids=tuple(shapes[key]),
            free_ids=tuple(i for i in shapes[key] if i not in bound_home),
            bound_ids=tuple(i for i in shapes[key] if i in bound_home),
        )
        for key in class_keys
    )
    columns = tuple(
        Column("new" if g < 0 else "move", g, j, aim, tuple(sorted(row_of[k] for k in cover)))
        for g, j, aim, cover in kept
    )
    home_rows = {i: tuple(sorted(row_of[k] for k in v)) for i, v in bound_home.items()}
    n_aims = sum(
        len(c.camera_ids) * (1 if c.shape.circle else params.fixed_directions) for c in classes
    )
    stats = ModelStats(
        cameras=len(cams),
        movable=len(moving),
        demand_points=len(pts),
        sites=len(spots),
        settled_points=int(settled.sum()),
        model_rows=len(model_pts),
        classes=len(classes),
        bound_cameras=len(bound_home),
        full_pairs=n_aims * len(spots),
        candidate_columns=candidate_columns,
        columns=len(columns),
        build_s=time.perf_counter() - started,
    )
    return RelocationProblem(
        cameras=cams,
        movable=moving,
        demand=pts,
        sites=spots,
        coverage=coverage,
        params=params,
        weights=weights,
        home_counts=home_counts,
        settled=settled,
        rows=np.array(model_pts, dtype=np.int64),
        classes=classes,
        columns=columns,
        home_rows=home_rows,
        home_cover=home_cover,
        class_of=class_of,
        new_shape=new_shape,
        stats=stats,
        points=points,
    )


def _check_unique(ids: Sequence[object], what: str) -> None:
    seen: set[object] = set()
    for i in ids:
        if i in seen:
            raise ArgusError(f"two {what}s have the id {i!r}")
        seen.add(i)


def _undominated(sets: Sequence[tuple[int, ...]]) -> list[int]:
    """Indices (ascending) of the sets no other set contains; of equal sets the first stays."""
    order = sorted(range(len(sets)), key=lambda n: (-len(sets[n]), n))
    holders: dict[int, list[int]] = {}
    frozen = [frozenset(s) for s in sets]
    kept: list[int] = []
    for n in order:
        mine = frozen[n]
        lists = [holders.get(k, []) for k in mine]
        rarest = min(lists, key=len)
        if any(mine <= frozen[m] for m in rarest):
            continue
        kept.append(n)
        for k in mine:
            holders.setdefault(k, []).append(n)
    return sorted(kept)


@dataclass(frozen=True)
class Selection:
    """A solution in model terms: chosen column indices and the bound cameras that leave."""

    columns: tuple[int, ...]
    leaving: tuple[int, ...]


def model_value(problem: RelocationProblem, selection: Selection) -> float:
    """Weight of the model rows the selection covers (the MIP objective, without constants)."""
    return float(problem.weights[problem.rows[row_counts(problem, selection) > 0]].sum())


def row_counts(problem: RelocationProblem, selection: Selection) -> IntArray:
    """Cameras covering each model row: the bound cameras that stay, and the chosen columns."""
    count = np.zeros(problem.rows.shape[0], dtype=np.int64)
    leaving = set(selection.leaving)
    for i, rows in problem.home_rows.items():
        if i not in leaving:
            count[list(rows)] += 1
    for n in selection.columns:
        count[list(problem.columns[n].rows)] += 1
    return count
