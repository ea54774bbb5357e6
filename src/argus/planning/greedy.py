"""The greedy baseline: take the action with the best covered weight per won per step.

Actions are the model's columns (:mod:`argus.planning.model`): move a camera of a class to a
site and aim, or install a new camera there. An action's *net gain* is the weight of the
model's points it newly covers, less, for a move whose class has no free camera left, the
weight that only the moved camera covered at home (the class's camera losing least is taken).
Each step takes the affordable action of highest net gain per KRW (ties: larger gain, then the
earlier column) while that gain is positive.

Gains only fall as coverage grows, so candidates are kept in a heap and re-evaluated lazily
when they reach the top; a bound camera leaving home can raise the gains of the columns
covering its home points, and those are pushed again with fresh values. The result is a
:class:`argus.planning.model.Selection` of the same model, so it is compared with, and handed
as a starting solution to, the exact solver.
"""

from __future__ import annotations

import heapq

from argus.planning.model import RelocationProblem, Selection

__all__ = ["solve_greedy"]


def solve_greedy(problem: RelocationProblem, budget_krw: float) -> Selection:
    """The greedy selection for ``budget_krw``."""
    p = problem.params
    cols = problem.columns
    w: list[float] = problem.weights[problem.rows].tolist()
    cover = [0] * int(problem.rows.shape[0])
    for rows in problem.home_rows.values():
        for r in rows:
            cover[r] += 1
    columns_at: list[list[int]] = [[] for _ in cover]
    for n, col in enumerate(cols):
        for r in col.rows:
            columns_at[r].append(n)
    free_left = [len(c.free_ids) for c in problem.classes]
    home = [list(c.bound_ids) for c in problem.classes]  # bound cameras still at home
    left = budget_krw
    chosen: list[int] = []
    leaving: list[int] = []

    def cost(n: int) -> float:
        return p.move_cost_krw if cols[n].kind == "move" else p.new_cost_krw

    def evaluate(n: int) -> tuple[float, float, int | None]:
        """(net gain, gain, bound camera to move or None) of column n now; net -inf: impossible."""
        col = cols[n]
        gain = sum(w[r] for r in col.rows if cover[r] == 0)
        if col.kind == "new" or free_left[col.cls] > 0:
            return gain, gain, None
        best: tuple[float, int] | None = None
        for i in home[col.cls]:
            loss = sum(w[r] for r in problem.home_rows[i] if cover[r] == 1 and r not in col.rows)
            if best is None or loss < best[0]:
                best = (loss, i)
        if best is None:
            return float("-inf"), gain, None
        return gain - best[0], gain, best[1]

    heap: list[tuple[float, float, int]] = []

    def push(n: int) -> None:
        if cost(n) > left + 1e-6:
            return
        net, gain, _ = evaluate(n)
        if net > 0:
            heapq.heappush(heap, (-net / cost(n), -gain, n))

    for n in range(len(cols)):
        push(n)
    taken: set[int] = set()
    while heap:
        _, _, n = heapq.heappop(heap)
        if n in taken or cost(n) > left + 1e-6:
            continue
        net, gain, camera = evaluate(n)
        if net <= 0:
            continue
        key = (-net / cost(n), -gain, n)
        if heap and key > heap[0]:
            heapq.heappush(heap, key)  # stale: it fell below the next candidate
            continue
        col = cols[n]
        chosen.append(n)
        taken.add(n)
        left -= cost(n)
        for r in col.rows:
            cover[r] += 1
        if col.kind == "move":
            if camera is None:
                free_left[col.cls] -= 1
            else:
                home[col.cls].remove(camera)
                leaving.append(camera)
                lifted: set[int] = set()
                for r in problem.home_rows[camera]:
                    cover[r] -= 1
                    lifted.update(columns_at[r])
                for m in sorted(lifted - taken):  # their gains may have risen
                    push(m)
    return Selection(tuple(sorted(chosen)), tuple(sorted(leaving)))
