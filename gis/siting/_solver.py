"""OR-Tools backends shared by the siting models: a pywraplp MIP wrapper, CP-SAT solve,
integer scaling, and the common result assembly.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from .heuristics import marginal_order
from .problem import (
    SCIP_TUNED,
    Reduced,
    SitingProblem,
    SitingResult,
    SolveParams,
    SolverError,
)

log = logging.getLogger(__name__)

_MIP_NAMES = {"scip": "SCIP", "highs": "HIGHS", "cbc": "CBC"}
_INF = math.inf


# --------------------------------------------------------------------------- backends
class _Mip:
    """Thin wrapper over pywraplp with the parameters applied once."""

    def __init__(self, params: SolveParams):
        self.params = params
        self.s = pywraplp.Solver.CreateSolver(_MIP_NAMES[params.solver])
        if self.s is None:  # pragma: no cover - depends on the OR-Tools build
            raise SolverError(f"OR-Tools has no {params.solver} backend in this build")
        self.s.SetTimeLimit(int(math.ceil(params.time_limit_s * 1000)))
        self.s.SetNumThreads(params.workers)
        text = ""
        if params.solver == "scip":
            text = (f"randomization/randomseedshift = {params.seed}\n"
                    f"randomization/permutationseed = {params.seed}\n")
            text += SCIP_TUNED if params.solver_params is None else ""
        # HiGHS and CBC: deterministic single-threaded; OR-Tools takes no seed string for them
        text += params.solver_params or ""
        if text and not self.s.SetSolverSpecificParametersAsString(text):
            raise SolverError(f"{params.solver} rejected the parameters: {text!r}")

    def solve_timed(self, t0: float, x: list) -> tuple[str, float, float, np.ndarray,
                                                       float, float]:
        """:meth:`solve`, plus the open mask of ``x`` (read at 0.5, never ``> 0``), the build
        time since ``t0`` and the solve time.
        """
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        status, obj, bound = self.solve()
        solve_s = time.perf_counter() - t1
        chosen = np.array([v.solution_value() for v in x]) > 0.5
        return status, obj, bound, chosen, build_s, solve_s

    def solve(self) -> tuple[str, float, float]:
        mp = pywraplp.MPSolverParameters()
        mp.SetDoubleParam(mp.RELATIVE_MIP_GAP, max(self.params.rel_gap, 1e-9))
        status = self.s.Solve(mp)
        if status == pywraplp.Solver.OPTIMAL:
            state = "optimal"
        elif status == pywraplp.Solver.FEASIBLE:
            state = "feasible"
        elif status == pywraplp.Solver.INFEASIBLE:
            raise SolverError("the model is infeasible")
        else:
            raise SolverError(f"{self.params.solver} found no solution within "
                              f"{self.params.time_limit_s:g} s (status {status})")
        obj = self.s.Objective().Value()
        bound = self.s.Objective().BestBound()
        return state, obj, bound


def _cp_solve(model: cp_model.CpModel, params: SolveParams) -> tuple[cp_model.CpSolver, str]:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = params.time_limit_s
    solver.parameters.num_workers = params.workers
    solver.parameters.random_seed = params.seed
    solver.parameters.relative_gap_limit = params.rel_gap
    status = solver.Solve(model)
    if status == cp_model.OPTIMAL:
        return solver, "optimal"
    if status == cp_model.FEASIBLE:
        gap = _gap(solver.ObjectiveValue(), solver.BestObjectiveBound())
        return solver, "optimal" if gap <= params.rel_gap + 1e-12 else "feasible"
    if status == cp_model.INFEASIBLE:
        raise SolverError("the model is infeasible")
    raise SolverError(f"cp-sat found no solution within {params.time_limit_s:g} s "
                      f"({solver.StatusName(status)})")


def _int_scale(values: np.ndarray, *, max_total: float = 2**50) -> float:
    """Factor making ``values`` integers: 1 for integer data, else a 1e-3 resolution."""
    scale = 1.0 if np.allclose(values, np.round(values)) else 1000.0
    if values.sum() * scale > max_total:
        scale = max_total / max(values.sum(), 1.0)
    return scale


def _gap(obj: float, bound: float) -> float:
    return abs(bound - obj) / max(abs(obj), 1e-9)


def _rows(m: sp.csr_array) -> list[list[int]]:
    idx = m.indices.tolist()
    ptr = m.indptr.tolist()
    return [idx[ptr[i]:ptr[i + 1]] for i in range(m.shape[0])]


# --------------------------------------------------------------------------- helpers
def _check_limit(problem: SitingProblem, p: int | None, budget: float | None) -> None:
    if (p is None) == (budget is None):
        raise ValueError("give exactly one of `p` (number of new sites) or `budget`.")
    if p is not None and p < 0:
        raise ValueError(f"`p` must be >= 0, got {p}.")
    if budget is not None and not budget >= 0:
        raise ValueError(f"`budget` must be >= 0, got {budget}.")


def _finish(problem: SitingProblem, model: str, params: SolveParams, status: str,
            objective: float, bound: float, new: np.ndarray, build_s: float, solve_s: float,
            stats: dict, *, assignment: np.ndarray | None = None,
            served: float | None = None) -> SitingResult:
    new = np.sort(np.asarray(new, dtype=np.int64))
    stats = dict(stats)
    if served is None:  # a site that adds nobody is never proposed (issue 12.5)
        kept = _adding(problem, new, assignment)
        if len(kept) < len(new):
            log.info("%s: %d chosen site(s) add nobody and are dropped", model,
                     len(new) - len(kept))
        stats["idle_dropped"] = len(new) - len(kept)
        new = kept
    open_mask = problem.required.copy()
    open_mask[new] = True
    covered = problem.covered_by(open_mask)
    covered_weight = float(problem.weights[covered].sum()) if served is None else served
    return SitingResult(
        model=model, solver=params.solver, status=status, objective=float(objective),
        bound=float(bound), gap=_gap(objective, bound), open=open_mask, new=new,
        covered=covered, covered_weight=covered_weight,
        total_weight=float(problem.weights.sum()), cost=float(problem.costs[new].sum()),
        build_s=build_s, solve_s=solve_s, assignment=assignment, stats=stats)


def _adding(problem: SitingProblem, new: np.ndarray,
            assignment: np.ndarray | None) -> np.ndarray:
    """The new sites that add somebody.

    With an ``assignment`` (p-median): the sites serving some demand point. Otherwise: the
    sites that add covered population in the greedy order of what each adds on top of the kept
    sites; a site adding nothing at its turn covers only people the earlier ones cover, so
    dropping every such site leaves the coverage unchanged.
    """
    if len(new) == 0:
        return new
    if assignment is not None:
        return new[np.isin(new, assignment)]
    order, added = marginal_order(problem.cover, problem.weights, new,
                                  base=np.flatnonzero(problem.required))
    return np.sort(order[added > 0])


def _uncoverable_message(problem: SitingProblem, red: Reduced, need: float) -> str:
    total = problem.weights.sum()
    best = red.pre_covered + red.weights.sum()
    ids = problem.demand_ids[red.uncoverable]
    shown = ", ".join(str(i) for i in ids[:10])
    more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
    lost = problem.weights[red.uncoverable].sum()
    return (f"the target of {100 * need / total:.2f}% cannot be reached: at most "
            f"{100 * best / total:.2f}% of the population can be covered; "
            f"{len(ids)} demand point(s) with {lost:,.0f} people have no allowed candidate "
            f"within their circle: {shown}{more}")
