"""The exact solution: the reduced relocation model as a MIP, solved by HiGHS (highspy).

The model is passed to HiGHS column-wise (a ``HighsLp``), with no modelling layer in between.

Columns, in this order
    ``y_c`` one per model column (:class:`argus.planning.model.Column`): a camera of a class,
    or a new camera, to a site and aim; binary, objective 0.
    ``s_i`` one per bound movable camera: it leaves its home; binary, objective 0.
    ``z_k`` one per model row (an unsettled demand point): covered; continuous in [0, 1]
    (integral at an optimum once ``y`` and ``s`` are), objective ``w_k``.

Rows, in this order
    class ``c``:  ``Σ_{y of c} y − Σ_{i bound in c} s_i ≤ F_c`` (its free cameras);
    budget:      ``(c_m Σ_{moves} y + c_n Σ_{new} y) / 10³ ≤ B' / 10³`` (thousand KRW), where
                 ``B'`` is :func:`budget_bound`: midway between the dearest count of moves and
                 new cameras that fits the budget ``B`` and the cheapest that does not, so
                 that HiGHS's feasibility tolerance (10⁻⁶ on the row) can never let a plan
                 spend more than ``B``;
    point ``k``: ``z_k − Σ_{y covering k} y + Σ_{i bound, covering k at home} s_i ≤ H_k``,
    where ``H_k`` is the number of bound cameras covering ``k`` at home — i.e.
    ``z_k ≤ Σ (1 − s_i) + Σ y``.

The objective is maximised. HiGHS runs with ``mip_rel_gap`` (0: prove optimality), a time
limit, a fixed ``random_seed`` and ``threads``; the greedy solution is given as a starting
incumbent. The report carries HiGHS's model status, its ``mip_gap`` (relative, on this
objective, i.e. on the weight the plan can still change, not on the settled part) and its dual
bound.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import highspy
import numpy as np

from argus.errors import ArgusError
from argus.planning.model import RelocationProblem, Selection, model_value, row_counts

__all__ = ["SolverReport", "budget_bound", "solve_exact"]

SOLVER = (
    f"HiGHS {highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}"
    f".{highspy.HIGHS_VERSION_PATCH}"
)
_banner_lock = threading.Lock()
_banner_done = False


@dataclass(frozen=True)
class SolverReport:
    solver: str
    status: str  # HiGHS's model status, e.g. "Optimal", "Time limit reached"
    optimal: bool
    mip_gap: float  # HiGHS info mip_gap: |primal - dual| / |primal| on the model objective
    objective: float  # the model objective of the returned selection
    dual_bound: float
    nodes: int
    time_s: float
    rows: int
    columns: int
    nonzeros: int
    integer_columns: int


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence file descriptor 1 (HiGHS prints its banner there when the first instance is made).

    It is done once per process: a command printing JSON must not get the banner in front.
    """
    global _banner_done
    with _banner_lock:
        if _banner_done:
            yield
            return
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            _banner_done = True


def new_highs() -> highspy.Highs:
    """A HiGHS instance with its output off."""
    with _quiet_stdout():
        h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    return h


def budget_bound(
    budget_krw: float, move_cost_krw: float, new_cost_krw: float, max_new: int
) -> float:
    """The budget row's bound, KRW: midway between the dearest plan cost within ``budget_krw``
    and the cheapest beyond it, over every count of moves and of new cameras (at most
    ``max_new``). A plan's cost is ``m · move + n · new``; every cost that fits is at least half
    the distance between the two below the bound, and every cost that does not, as far above.
    """
    within = 0.0  # no action at all costs nothing, and a budget is >= 0
    beyond = math.inf
    n_top = min(max_new, math.floor(budget_krw / new_cost_krw) + 1)
    for n in range(n_top + 1):
        base = n * new_cost_krw
        if base > budget_krw:
            beyond = min(beyond, base)
            continue
        m = math.floor((budget_krw - base) / move_cost_krw)
        while m > 0 and base + m * move_cost_krw > budget_krw:  # floor() of a rounded quotient
            m -= 1
        while base + (m + 1) * move_cost_krw <= budget_krw:
            m += 1
        within = max(within, base + m * move_cost_krw)
        beyond = min(beyond, base + (m + 1) * move_cost_krw)
    return (within + beyond) / 2


def solve_exact(
    problem: RelocationProblem, budget_krw: float, *, warm_start: Selection | None = None
) -> tuple[Selection, SolverReport]:
    """The optimal selection for ``budget_krw`` (or the best found within the time limit)."""
    p = problem.params
    cols = problem.columns
    n_y = len(cols)
    bound = [i for c in problem.classes for i in c.bound_ids]
    n_s = len(bound)
    n_z = int(problem.rows.shape[0])
    n_cls = len(problem.classes)
    budget_row = n_cls
    first_point = n_cls + 1
    n_rows = n_cls + 1 + n_z
    n_cols = n_y + n_s + n_z
    if n_y == 0:
        # nothing can be placed: keeping every camera home is optimal
        empty = Selection((), ())
        worth = model_value(problem, empty)
        return empty, SolverReport(
            SOLVER, "Optimal", True, 0.0, worth, worth, 0, 0.0,
            n_rows, n_cols, 0, 0,
        )  # fmt: skip

    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    move_k = p.move_cost_krw / 1e3
    new_k = p.new_cost_krw / 1e3
    for col in cols:
        starts.append(len(index))
        if col.kind == "move":
            index += [col.cls, budget_row]
            value += [1.0, move_k]
        else:
            index.append(budget_row)
            value.append(new_k)
        index += [first_point + r for r in col.rows]
        value += [-1.0] * len(col.rows)
    home_count = np.zeros(n_z, dtype=np.float64)
    for i in bound:
        starts.append(len(index))
        rows = problem.home_rows[i]
        index.append(problem.class_of[i])
        value.append(-1.0)
        index += [first_point + r for r in rows]
        value += [1.0] * len(rows)
        home_count[list(rows)] += 1.0
    for r in range(n_z):
        starts.append(len(index))
        index.append(first_point + r)
        value.append(1.0)
    starts.append(len(index))

    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate(
        (np.zeros(n_y + n_s), problem.weights[problem.rows].astype(np.float64))
    )
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.ones(n_cols)
    free_counts = [float(len(c.free_ids)) for c in problem.classes]
    max_new = sum(1 for col in cols if col.kind != "move")
    bound_krw = budget_bound(budget_krw, p.move_cost_krw, p.new_cost_krw, max_new)
    lp.row_lower_ = np.full(n_rows, -inf)
    lp.row_upper_ = np.concatenate(
        (np.array(free_counts, dtype=np.float64), [bound_krw / 1e3], home_count)
    )
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = n_rows
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=np.float64)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * (n_y + n_s) + [
        highspy.HighsVarType.kContinuous
    ] * n_z

    h = new_highs()
    for name, option in (
        ("random_seed", int(p.random_seed)),
        ("threads", int(p.threads)),
        ("time_limit", float(p.time_limit_s)),
        ("mip_rel_gap", float(p.mip_rel_gap)),
    ):
        if h.setOptionValue(name, option) != highspy.HighsStatus.kOk:
            raise ArgusError(f"HiGHS refused the option {name}={option!r}")
    if h.passModel(lp) != highspy.HighsStatus.kOk:
        raise ArgusError("HiGHS refused the relocation model")
    if warm_start is not None:
        h.setSolution(_solution_vector(problem, warm_start, bound))
    started = time.perf_counter()
    h.run()
    elapsed = time.perf_counter() - started

    status = h.getModelStatus()
    info = h.getInfo()
    selection = _read_selection(h, n_y, n_s, bound)
    status_text = h.modelStatusToString(status)
    optimal = status == highspy.HighsModelStatus.kOptimal
    objective = model_value(problem, selection)
    gap = float(info.mip_gap)
    if optimal and not np.isfinite(gap):
        gap = 0.0  # HiGHS reports an infinite relative gap when the optimum is 0
    dual_bound = float(info.mip_dual_bound)
    nodes = int(info.mip_node_count)
    report = SolverReport(
        solver=SOLVER,
        status=status_text,
        optimal=optimal,
        mip_gap=gap,
        objective=objective,
        dual_bound=dual_bound,
        nodes=nodes,
        time_s=elapsed,
        rows=n_rows,
        columns=n_cols,
        nonzeros=len(index),
        integer_columns=n_y + n_s,
    )
    return selection, report


def _read_selection(h: highspy.Highs, n_y: int, n_s: int, bound: list[int]) -> Selection:
    solution = h.getSolution()
    if not solution.value_valid:
        return Selection((), ())
    x = np.asarray(solution.col_value, dtype=np.float64)
    chosen = tuple(int(n) for n in np.flatnonzero(x[:n_y] > 0.5))
    leaving = tuple(sorted(bound[n] for n in np.flatnonzero(x[n_y : n_y + n_s] > 0.5)))
    return Selection(chosen, leaving)


def _solution_vector(
    problem: RelocationProblem, selection: Selection, bound: list[int]
) -> highspy.HighsSolution:
    n_y = len(problem.columns)
    n_z = int(problem.rows.shape[0])
    x = np.zeros(n_y + len(bound) + n_z, dtype=np.float64)
    x[list(selection.columns)] = 1.0
    leaving = set(selection.leaving)
    for n, i in enumerate(bound):
        if i in leaving:
            x[n_y + n] = 1.0
    x[n_y + len(bound) :] = (row_counts(problem, selection) > 0).astype(np.float64)
    sol = highspy.HighsSolution()
    sol.col_value = x
    return sol
