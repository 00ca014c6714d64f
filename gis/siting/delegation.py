"""Delegation (赋权): which items to give to which existing outlets.

A pair (outlet ``o``, item ``j``) is allowed when ``o``'s kind is in ``j``'s ``delegable_to`` and
``o`` does not handle ``j`` yet. Giving it covers, for item ``j``, every demand point within its
circle of ``o`` that was not covered for ``j``. The objective is the request-weighted covered
population ``Σ_j weight_j · covered_population_j``; a pair costs its outlet's
``delegation_cost`` (default 1).

Exact decomposition
-------------------
Without a per-outlet cap the items are independent except for the shared budget. Items with the
same uncovered points and the same allowed outlets form a *group* and share one coverage curve
``f_g(k)`` (the most people ``k`` pairs can add: a max-coverage problem). The budget then is a
multiple-choice knapsack over the items' curves ``weight_j · f_g(k)``, solved exactly by dynamic
programming. The curves are computed lazily: the DP first runs on *upper bounds* (
``f(k) ≤ f(k') + top_{k-k'}`` single gains, ``≤`` the coverable total); each point the DP's
answer uses that is not yet exact is solved (greedy when it meets the bound, else a MIP), and
the DP is rerun until its answer uses exact points only. The DP's value is then a proven upper
bound that the answer attains. With unequal costs or a binding per-outlet cap, one MIP over all
pairs is solved instead (:func:`_full_mip`); with a cap and equal costs the decomposition runs
first, and its proven optimum is kept when it respects the cap (it solves a relaxation).
"""

from __future__ import annotations

import heapq
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver import pywraplp

from gis.errors import BianminError

from .primitives import lazy_greedy, mckp
from .problem import SolverError, merge_rows

__all__ = ["DelegationProblem", "DelegationResult", "solve_delegation", "greedy_delegation"]

log = logging.getLogger(__name__)
_EPS = 1e-9


#: What a solve returns before ranking: pairs, value, bound, status, stats.
_Solved = tuple[list[tuple[int, int]], float, float, str, dict[str, Any]]

@dataclass(frozen=True, eq=False)
class DelegationProblem:
    """Arrays of a delegation problem.

    Parameters
    ----------
    cover
        ``(n_points, n_outlets)`` sparse: outlet ``o`` is within point ``i``'s circle.
    population
        Population of each demand point.
    weight
        Relative demand of each item.
    covered
        ``(n_points, n_items)`` bool: point already covered for the item.
    allowed
        ``(n_outlets, n_items)`` bool: the pair may be delegated.
    cost
        Cost of a pair at each outlet.
    """

    cover: sp.csr_array
    population: np.ndarray
    weight: np.ndarray
    covered: np.ndarray
    allowed: np.ndarray
    cost: np.ndarray

    def __post_init__(self) -> None:
        n, m = self.cover.shape
        if self.covered.shape != (n, len(self.weight)):
            raise ValueError("`covered` must be (n_points, n_items).")
        if self.allowed.shape != (m, len(self.weight)) or len(self.cost) != m:
            raise ValueError("`allowed` must be (n_outlets, n_items), `cost` (n_outlets,).")
        if (np.asarray(self.cost) < 0).any() or (np.asarray(self.weight) < 0).any():
            raise ValueError("costs and weights must be >= 0.")

    def value(self, pairs: list[tuple[int, int]]) -> float:
        """Weighted population added by a set of (outlet, item) pairs."""
        total = 0.0
        by_item: dict[int, list[int]] = {}
        for o, j in pairs:
            by_item.setdefault(j, []).append(o)
        for j, os_ in by_item.items():
            hit = np.asarray(self.cover[:, os_].sum(axis=1)).ravel() > 0
            total += self.weight[j] * float(self.population[hit & ~self.covered[:, j]].sum())
        return total


@dataclass(frozen=True)
class DelegationResult:
    """Chosen pairs in rank order with their marginal gains, and the proof status."""

    pairs: list[tuple[int, int]]
    added_population: np.ndarray
    added_weighted: np.ndarray
    cost: float
    value: float
    bound: float
    status: str
    method: str
    seconds: float
    stats: dict = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """Relative gap between the proven bound and the value."""
        return abs(self.bound - self.value) / max(abs(self.value), 1e-9)


class _Group:
    """Items sharing uncovered points and allowed outlets: one max-coverage curve."""

    def __init__(self, a: sp.csr_array, w: np.ndarray, cols: np.ndarray,
                 time_limit: float) -> None:
        self.a, self.w, self.cols = a, w, cols  # rows: merged uncovered points; cols: outlets
        self.single = np.asarray(a.T @ w).ravel() if a.shape[1] else np.zeros(0)
        self.top = np.concatenate([[0.0], np.cumsum(np.sort(self.single)[::-1])])
        self.total = float(w.sum())
        self.exact: dict[int, tuple[float, float, list[int]]] = {0: (0.0, 0.0, [])}
        self.time_limit = time_limit
        self.mips = 0
        self._greedy = self._run_greedy()
        self._mip: tuple[Any, list[Any], Any] | None = None  # (solver, x, cardinality row)

    def _run_greedy(self) -> tuple[np.ndarray, list[int]]:
        """Nested (lazy) greedy sets: value after each pick and the pick order."""
        vals, order = lazy_greedy(sp.csc_array(self.a), self.w.copy(), self.single.copy())
        return np.concatenate([[0.0], np.cumsum(vals)]), order

    def greedy_value(self, k: int) -> float:
        vals = self._greedy[0]
        return float(vals[min(k, len(vals) - 1)])

    def upper(self, k: int) -> float:
        """A proven upper bound on ``f(k)`` from the points solved so far."""
        if k in self.exact:
            return self.exact[k][1]
        kk = min(k, len(self.top) - 1)
        ub = min(self.total, self.top[kk])
        for k0, (_, b0, _) in self.exact.items():
            if k0 <= k:
                ub = min(ub, b0 + self.top[min(k - k0, len(self.top) - 1)])
            else:
                ub = min(ub, b0)  # f is non-decreasing
        return max(ub, self.greedy_value(k))

    def is_exact(self, k: int) -> bool:
        return k in self.exact and self.exact[k][1] - self.exact[k][0] <= 1e-7 * max(1, self.total)

    def solve(self, k: int) -> None:
        """Make ``f(k)`` exact: greedy if it meets the bound, else a max-coverage MIP."""
        g = self.greedy_value(k)
        if g >= self.upper(k) - 1e-9 * max(1.0, self.total):
            self.exact[k] = (g, g, list(self._greedy[1][:k]))
            return
        if self._mip is None:
            self._mip = self._build()
        s, x, card = self._mip
        card.SetUb(float(k))
        order = self._greedy[1][:k]
        mp = pywraplp.MPSolverParameters()
        mp.SetDoubleParam(mp.RELATIVE_MIP_GAP, 1e-9)
        status = s.Solve(mp)
        self.mips += 1
        if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
            log.warning("max-coverage MIP stopped without a solution (status %s); "
                        "keeping the greedy set with its bound", status)
            self.exact[k] = (g, self.upper(k), list(order))
            return
        obj = s.Objective().Value()
        bound = obj if status == pywraplp.Solver.OPTIMAL else s.Objective().BestBound()
        chosen = [c for c in range(len(x)) if x[c].solution_value() > 0.5]
        if obj < g:  # the MIP stopped early below the greedy: keep the better set
            obj, chosen = g, list(order)
        self.exact[k] = (obj, max(bound, obj), chosen)

    def _build(self) -> tuple[Any, list[Any], Any]:
        s = pywraplp.Solver.CreateSolver("SCIP")
        if s is None:  # pragma: no cover - depends on the OR-Tools build
            raise SolverError("OR-Tools has no SCIP backend in this build")
        s.SetTimeLimit(int(self.time_limit * 1000))
        x = [s.BoolVar(f"x{c}") for c in range(self.a.shape[1])]
        obj = s.Objective()
        a = sp.csr_array(self.a)
        for r in range(a.shape[0]):
            y = s.NumVar(0.0, 1.0, "")
            ct = s.Constraint(-s.infinity(), 0.0)
            ct.SetCoefficient(y, 1.0)
            for c in a.indices[a.indptr[r]:a.indptr[r + 1]]:
                ct.SetCoefficient(x[c], -1.0)
            obj.SetCoefficient(y, float(self.w[r]))
        obj.SetMaximization()
        card = s.Constraint(0.0, 0.0)
        for v in x:
            card.SetCoefficient(v, 1.0)
        return s, x, card


def _groups(p: DelegationProblem, items: np.ndarray,
            time_limit: float) -> tuple[list[_Group], np.ndarray]:
    """Group the items; return (groups, group of each item) over ``items``."""
    keys: dict[bytes, int] = {}
    groups: list[_Group] = []
    of = np.empty(len(items), np.int64)
    cover = sp.csr_array(p.cover, dtype=float)
    for n, j in enumerate(items):
        key = np.packbits(p.covered[:, j]).tobytes() + b"|" + np.packbits(p.allowed[:, j]).tobytes()
        if key not in keys:
            cols = np.flatnonzero(p.allowed[:, j])
            rows = np.flatnonzero(~p.covered[:, j] & (p.population > 0))
            sub = cover[rows][:, cols] if len(rows) and len(cols) else sp.csr_array(
                (0, len(cols)))
            keep = np.diff(sub.indptr) > 0
            sub, wts = sp.csr_array(sub[keep]), p.population[rows][keep]
            if sub.shape[0]:
                grp, first = merge_rows(sub)
                wts = np.bincount(grp, weights=wts, minlength=len(first))
                sub = sp.csr_array(sub[first])
            keys[key] = len(groups)
            groups.append(_Group(sub, wts.astype(float), cols, time_limit))
        of[n] = keys[key]
    return groups, of


def _rank(p: DelegationProblem, pairs: list[tuple[int, int]]
          ) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray]:
    """Order chosen pairs by marginal weighted gain (largest first), with the gains."""
    left = list(pairs)
    cov = {j: p.covered[:, j].copy() for _, j in pairs}
    order, add_pop, add_w = [], [], []
    cover = sp.csc_array(p.cover)
    while left:
        gains = []
        for o, j in left:
            r = cover.indices[cover.indptr[o]:cover.indptr[o + 1]]
            g = float(p.population[r][~cov[j][r]].sum())
            gains.append((p.weight[j] * g, g))
        t = int(np.argmax([g[0] for g in gains]))
        o, j = left.pop(t)
        r = cover.indices[cover.indptr[o]:cover.indptr[o + 1]]
        cov[j][r] = True
        order.append((o, j))
        add_w.append(gains[t][0])
        add_pop.append(gains[t][1])
    return order, np.array(add_pop), np.array(add_w)


def solve_delegation(p: DelegationProblem, *, budget: float | None = None,
                     add: int | None = None, target: float | None = None,
                     items: np.ndarray | None = None, max_new_per_outlet: int | None = None,
                     time_limit_s: float = 60.0) -> DelegationResult:
    """Choose pairs: most weighted population for ``add`` pairs or a ``budget``, or the fewest
    pairs (least cost) reaching ``target`` (a share of all weighted population).

    ``items`` restricts the items that may be delegated (indices). Exact; the result says
    whether it is proven optimal or the gap.
    """
    if sum(x is not None for x in (budget, add, target)) != 1:
        raise ValueError("give exactly one of `budget`, `add` or `target`.")
    t0 = time.perf_counter()
    items = np.arange(len(p.weight)) if items is None else np.asarray(items, np.int64)
    allowed = p.allowed.copy()
    mask = np.zeros(allowed.shape[1], bool)
    mask[items] = True
    allowed[:, ~mask] = False
    p = DelegationProblem(p.cover, p.population, p.weight, p.covered, allowed, p.cost)
    base = float(sum(p.weight[j] * p.population[p.covered[:, j]].sum()
                     for j in range(len(p.weight))))
    need = None
    if target is not None:
        need = target * float(p.population.sum() * p.weight.sum()) - base
    costs = p.cost[np.any(allowed, axis=1)]
    uniform = len(costs) == 0 or np.allclose(costs, costs[0])
    unit = float(costs[0]) if len(costs) else 1.0
    if uniform and unit > 0:
        res = _decomposed(p, items, budget=budget, add=add, need=need, unit=unit,
                          time_limit=time_limit_s)
        # without the cap the problem is a relaxation of the capped one: its proven optimum
        # is also optimal with the cap when it happens to respect it
        if res is not None and (max_new_per_outlet is None or (
                res[3] == "optimal" and _within_cap(res[0], max_new_per_outlet))):
            return _result(p, res, "mckp", t0)
    res = _full_mip(p, items, budget=budget, add=add, need=need, cap=max_new_per_outlet,
                    time_limit=time_limit_s)
    return _result(p, res, "mip", t0)


def _within_cap(pairs: list[tuple[int, int]], cap: int) -> bool:
    """Whether no outlet gets more than ``cap`` new items."""
    counts: dict[int, int] = {}
    for o, _ in pairs:
        counts[o] = counts.get(o, 0) + 1
    return max(counts.values(), default=0) <= cap


def _result(p: DelegationProblem, res: _Solved, method: str, t0: float) -> DelegationResult:
    pairs, value, bound, status, stats = res
    order, add_pop, add_w = _rank(p, pairs)
    return DelegationResult(order, add_pop, add_w, float(sum(p.cost[o] for o, _ in order)),
                            float(value), float(max(bound, value)), status, method,
                            time.perf_counter() - t0, stats)


def _decomposed(p: DelegationProblem, items: np.ndarray, *, budget: float | None,
                add: int | None, need: float | None, unit: float,
                time_limit: float) -> _Solved:
    groups, of = _groups(p, items, time_limit)
    w = p.weight[items]
    if need is not None:
        if need <= 0:
            return [], 0.0, 0.0, "optimal", {"groups": len(groups)}
        greedy = greedy_delegation(p, target_gain=need, items=items)
        if greedy[1] < need - 1e-6:
            raise InfeasibleDelegationError(
                "the target cannot be reached: delegating every allowed item to every allowed "
                "outlet adds too little")
        K = len(greedy[0])
    elif budget is not None:
        K = int(np.floor(budget / unit + 1e-9))
    else:
        assert add is not None  # solve_delegation asks for one of add, budget, need
        K = int(add)
    kcap = [min(K, len(g.top) - 1) for g in groups]
    deadline = time.perf_counter() + time_limit
    while True:
        curves = [np.array([g.upper(k) for k in range(kcap[gi] + 1)])
                  for gi, g in enumerate(groups)]
        vals = [w[n] * curves[of[n]] for n in range(len(items))]
        best, picks = mckp(vals, K)
        kb = K
        if need is not None:  # the fewest pairs that reach the target, else all K
            ok = np.asarray(best >= need - 1e-6)
            kb = int(np.argmax(ok)) if ok.any() else K
        pick = picks[kb]
        todo = {(int(of[n]), int(pick[n])) for n in range(len(items))
                if int(pick[n]) not in groups[of[n]].exact}
        if not todo or time.perf_counter() > deadline:
            break
        for gi, k in sorted(todo):
            groups[gi].solve(k)
    pairs = []
    value = 0.0
    for n, j in enumerate(items):
        k = int(pick[n])
        if k == 0:
            continue
        g = groups[of[n]]
        v, _, chosen = g.exact.get(k, (g.greedy_value(k), 0.0, g._greedy[1][:k]))
        value += w[n] * v
        pairs += [(int(g.cols[c]), int(j)) for c in chosen]
    bound = float(best[kb])
    stats = {"groups": len(groups), "mips": sum(g.mips for g in groups), "pairs_limit": K}
    status = "optimal" if bound - value <= 1e-7 * max(1.0, value) else "feasible"
    if need is not None and value < need - 1e-6:
        status = "feasible"
    return pairs, value, bound, status, stats


class InfeasibleDelegationError(BianminError, ValueError):
    """The coverage target cannot be reached by any delegation."""


def greedy_delegation(p: DelegationProblem, *, budget: float | None = None,
                      add: int | None = None, target_gain: float | None = None,
                      items: np.ndarray | None = None) -> tuple[list[tuple[int, int]], float]:
    """One pair at a time, the best weighted gain per cost (AccessMod's scaling-up habit).

    Stops at ``add`` pairs, the ``budget``, or when ``target_gain`` is reached.
    """
    items = np.arange(len(p.weight)) if items is None else np.asarray(items, np.int64)
    cover = sp.csc_array(p.cover)
    cov = {int(j): p.covered[:, j].copy() for j in items}

    def gain(o: int, j: int) -> float:
        r = cover.indices[cover.indptr[o]:cover.indptr[o + 1]]
        return p.weight[j] * float(p.population[r][~cov[j][r]].sum())

    heap: list[tuple[float, int, int]] = []  # (-gain per cost, outlet, item)
    for j0 in items.tolist():
        for o0 in np.flatnonzero(p.allowed[:, j0]).tolist():
            g = gain(o0, j0)
            if g > _EPS:
                heap.append((-g / max(p.cost[o0], 1e-9), o0, j0))
    heapq.heapify(heap)
    pairs: list[tuple[int, int]] = []
    spent, value = 0.0, 0.0
    while heap:
        if add is not None and len(pairs) >= add:
            break
        if target_gain is not None and value >= target_gain - 1e-9:
            break
        _, o, j = heapq.heappop(heap)
        if budget is not None and spent + p.cost[o] > budget + 1e-9:
            continue  # spending only grows: this pair never fits again
        g = gain(o, j)
        ratio = g / max(p.cost[o], 1e-9)
        if g <= _EPS:
            continue
        if heap and ratio < -heap[0][0] - 1e-12:  # stale: put back with its true ratio
            heapq.heappush(heap, (-ratio, o, j))
            continue
        r = cover.indices[cover.indptr[o]:cover.indptr[o + 1]]
        cov[j][r] = True
        pairs.append((o, j))
        spent += p.cost[o]
        value += g
    return pairs, value


def _full_mip(p: DelegationProblem, items: np.ndarray, *, budget: float | None,
              add: int | None, need: float | None, cap: int | None,
              time_limit: float) -> _Solved:
    """One MIP over every allowed pair (unequal costs or a per-outlet cap)."""
    s = pywraplp.Solver.CreateSolver("SCIP")
    if s is None:  # pragma: no cover
        raise SolverError("OR-Tools has no SCIP backend in this build")
    s.SetTimeLimit(int(time_limit * 1000))
    groups, of = _groups(p, items, time_limit)
    x: dict[tuple[int, int], pywraplp.Variable] = {}
    total_expr: list[tuple[Any, float]] = []  # (y variable, weighted population)
    for n, j in enumerate(items):
        g = groups[of[n]]
        xs = [s.BoolVar("") for _ in g.cols]
        for c, v in enumerate(xs):
            x[(int(g.cols[c]), int(j))] = v
        a = sp.csr_array(g.a)
        for r in range(a.shape[0]):
            y = s.NumVar(0.0, 1.0, "")
            ct = s.Constraint(-s.infinity(), 0.0)
            ct.SetCoefficient(y, 1.0)
            for c in a.indices[a.indptr[r]:a.indptr[r + 1]]:
                ct.SetCoefficient(xs[c], -1.0)
            total_expr.append((y, float(p.weight[j] * g.w[r])))
    if need is None:
        gain = s.Objective()
        for y, coef in total_expr:
            gain.SetCoefficient(y, coef)
        gain.SetMaximization()
        limit = add if add is not None else budget
        assert limit is not None  # solve_delegation asks for one of add, budget, need
        lim = s.Constraint(0.0, float(limit))
        for (o, _), v in x.items():
            lim.SetCoefficient(v, 1.0 if add is not None else float(p.cost[o]))
    else:
        ct = s.Constraint(float(need) - 1e-6, s.infinity())
        for y, coef in total_expr:
            ct.SetCoefficient(y, coef)
        obj = s.Objective()
        for (o, _), v in x.items():
            obj.SetCoefficient(v, float(p.cost[o]))
        obj.SetMinimization()
    if cap is not None:
        per: dict[int, list] = {}
        for (o, _), v in x.items():
            per.setdefault(o, []).append(v)
        for vs in per.values():
            ct = s.Constraint(0.0, float(cap))
            for v in vs:
                ct.SetCoefficient(v, 1.0)
    mp = pywraplp.MPSolverParameters()
    mp.SetDoubleParam(mp.RELATIVE_MIP_GAP, 1e-9)
    status = s.Solve(mp)
    if status == pywraplp.Solver.INFEASIBLE:
        raise InfeasibleDelegationError("no delegation within the limits reaches the target")
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        raise SolverError(f"delegation MIP found no solution within {time_limit:g} s")
    pairs = [k for k, v in x.items() if v.solution_value() > 0.5]
    value = p.value(pairs)
    if need is None:
        bound = s.Objective().BestBound() if status == pywraplp.Solver.FEASIBLE else value
        st = "optimal" if status == pywraplp.Solver.OPTIMAL else "feasible"
    else:  # minimising cost: report the value reached; the gap is on the cost
        bound = value
        st = "optimal" if status == pywraplp.Solver.OPTIMAL else "feasible"
    return pairs, value, bound, st, {"groups": len(groups), "variables": s.NumVariables()}
