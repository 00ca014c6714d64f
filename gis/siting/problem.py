"""Siting problem data, solver parameters, the result object and structural reduction.

A siting problem is a sparse boolean cover matrix (demand × candidate), demand weights
(population), candidate costs, and masks of required (kept) and forbidden candidates. The
reduction here is what makes big instances fast: demand already covered by a required site is
counted once and dropped; demand that no free candidate covers is dropped (and reported);
identical demand rows (same cover set) are merged with their weights summed; candidates that
cover no remaining demand leave the model.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from gis.errors import BianminError

__all__ = [
    "InfeasibleTargetError",
    "SitingProblem",
    "SolveParams",
    "SolverError",
    "SitingResult",
    "Reduced",
    "reduce_cover",
    "merge_rows",
]

log = logging.getLogger(__name__)

SOLVERS = ("scip", "highs", "cbc", "cp-sat")

#: SCIP settings chosen by measurement (docs/siting.md): 3 cut rounds at the root and
#: pseudo-cost branching instead of reliability (strong) branching. On 7 clustered MCLP
#: instances (2,000 × 300, p = 25) CPU time fell from 7–26 s to 2–5 s.
SCIP_TUNED = "separating/maxroundsroot = 3\nbranching/pscost/priority = 100000\n"


class SolverError(BianminError, RuntimeError):
    """The solver returned no usable solution (time limit without incumbent, model error)."""


class InfeasibleTargetError(BianminError, ValueError):
    """A coverage target cannot be met; the message names what cannot be covered."""

    def __init__(self, message: str, uncoverable: np.ndarray | None = None):
        super().__init__(message)
        self.uncoverable = np.zeros(0, np.int64) if uncoverable is None else uncoverable


@dataclass(frozen=True)
class SolveParams:
    """How to solve: backend, time limit, seed, worker count and relative gap.

    The default backend (SCIP through OR-Tools' ``pywraplp``, one thread) was chosen by
    measurement; see ``docs/siting.md``. With one worker, a fixed seed and no time limit hit,
    two runs give the same answer. ``solver_params`` is passed to the MIP backend in its own
    parameter-file syntax; ``None`` uses :data:`SCIP_TUNED` for SCIP and defaults otherwise.
    """

    solver: str = "scip"
    time_limit_s: float = 60.0
    seed: int = 0
    workers: int = 1
    rel_gap: float = 0.0
    solver_params: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.solver not in SOLVERS:
            problems.append(f"`solver` must be one of {', '.join(SOLVERS)}, got {self.solver!r}.")
        if not self.time_limit_s > 0:
            problems.append(f"`time_limit_s` must be > 0, got {self.time_limit_s}.")
        if self.workers < 1:
            problems.append(f"`workers` must be >= 1, got {self.workers}.")
        if not 0 <= self.rel_gap < 1:
            problems.append(f"`rel_gap` must be in [0, 1), got {self.rel_gap}.")
        if self.seed < 0:
            problems.append(f"`seed` must be >= 0, got {self.seed}.")
        if problems:
            raise ValueError(" ".join(problems))

    @classmethod
    def from_file(cls, path: str | Path) -> SolveParams:
        """Read the ``[siting.solve]`` table (or the top level) of a TOML file."""
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        data = data.get("siting", {}).get("solve", data)
        return cls(**data)


def _as_mask(x: np.ndarray | None, n: int, name: str, problems: list[str]) -> np.ndarray:
    if x is None:
        return np.zeros(n, dtype=bool)
    x = np.asarray(x)
    if x.dtype != bool:
        problems.append(f"`{name}` must be a boolean mask, got dtype {x.dtype}.")
        return np.zeros(n, dtype=bool)
    if x.shape != (n,):
        problems.append(f"`{name}` must have shape ({n},), got {x.shape}.")
        return np.zeros(n, dtype=bool)
    return x


@dataclass(frozen=True)
class SitingProblem:
    """A location problem on a sparse cover matrix.

    Parameters
    ----------
    cover
        ``(n_demand, n_candidate)`` sparse matrix; every stored entry is a covering pair.
    weights
        Demand weight (population), ``>= 0``.
    costs
        Cost per candidate (default 1 each, so budgets count sites).
    required
        Candidates that are kept open (existing outlets); cost nothing extra.
    forbidden
        Candidates that may not be chosen.
    capacity
        Per-candidate capacity in units of ``load`` (``inf`` = none). Optional.
    load
        Per-demand load against capacity (default: the weights).
    demand_ids, candidate_ids
        Labels used in messages and reports.
    """

    cover: sp.csr_array
    weights: np.ndarray
    costs: np.ndarray | None = None
    required: np.ndarray | None = None
    forbidden: np.ndarray | None = None
    capacity: np.ndarray | None = None
    load: np.ndarray | None = None
    demand_ids: np.ndarray | None = None
    candidate_ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        cover = sp.csr_array(self.cover)
        cover.sum_duplicates()
        cover.sort_indices()
        n_d, n_c = cover.shape
        w = np.asarray(self.weights, dtype=float)
        if w.shape != (n_d,):
            problems.append(f"`weights` must have shape ({n_d},), got {w.shape}.")
        elif not np.all(np.isfinite(w) & (w >= 0)):
            problems.append("`weights` must be finite and >= 0.")
        costs = np.ones(n_c) if self.costs is None else np.asarray(self.costs, dtype=float)
        if costs.shape != (n_c,):
            problems.append(f"`costs` must have shape ({n_c},), got {costs.shape}.")
        elif not np.all(np.isfinite(costs) & (costs >= 0)):
            problems.append("`costs` must be finite and >= 0.")
        req = _as_mask(self.required, n_c, "required", problems)
        forb = _as_mask(self.forbidden, n_c, "forbidden", problems)
        if np.any(req & forb):
            bad = np.flatnonzero(req & forb)[:5].tolist()
            problems.append(f"candidates {bad} are both `required` and `forbidden`.")
        cap = (np.full(n_c, np.inf) if self.capacity is None
               else np.asarray(self.capacity, dtype=float))
        if cap.shape != (n_c,) or np.any(np.isnan(cap) | (cap < 0)):
            problems.append(f"`capacity` must have shape ({n_c},) and be >= 0 (inf = none).")
        load = w if self.load is None else np.asarray(self.load, dtype=float)
        if load.shape != (n_d,) or not np.all(np.isfinite(load) & (load >= 0)):
            problems.append(f"`load` must have shape ({n_d},), finite and >= 0.")
        if problems:
            raise ValueError(" ".join(problems))
        d_ids = np.arange(n_d) if self.demand_ids is None else np.asarray(self.demand_ids)
        c_ids = np.arange(n_c) if self.candidate_ids is None else np.asarray(self.candidate_ids)
        for name, value in (("cover", cover), ("weights", w), ("costs", costs), ("required", req),
                            ("forbidden", forb), ("capacity", cap), ("load", load),
                            ("demand_ids", d_ids), ("candidate_ids", c_ids)):
            object.__setattr__(self, name, value)

    @property
    def n_demand(self) -> int:
        """Number of demand points."""
        return self.cover.shape[0]

    @property
    def n_candidates(self) -> int:
        """Number of candidates."""
        return self.cover.shape[1]

    @property
    def capacitated(self) -> bool:
        """Whether any candidate has a finite capacity."""
        return bool(np.isfinite(self.capacity).any())

    def covered_by(self, open_mask: np.ndarray) -> np.ndarray:
        """Boolean per demand point: covered by at least one open candidate."""
        c = self.cover
        pattern = sp.csr_array((np.ones(c.nnz, np.int32), c.indices, c.indptr), shape=c.shape)
        return (pattern @ np.asarray(open_mask, dtype=np.int32)) > 0


_HASH_SEED = 20_240_611


def merge_rows(m: sp.csr_array) -> tuple[np.ndarray, np.ndarray]:
    """Group identical rows (same columns and values) of a CSR matrix.

    Rows are keyed by two independent 64-bit random sums over their entries plus their length
    (a collision needs two 64-bit coincidences at once).

    Returns
    -------
    group_of : ndarray
        Group index of each row.
    first : ndarray
        One representative row per group.
    """
    n_rows, n_cols = m.shape
    if n_rows == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rng = np.random.default_rng(_HASH_SEED)
    r1 = rng.integers(1, 2**63, n_cols, dtype=np.uint64)
    r2 = rng.integers(1, 2**63, n_cols, dtype=np.uint64)
    vals = np.asarray(m.data, dtype=np.float64)
    q = (np.round(vals * 1000.0).astype(np.int64).view(np.uint64)
         * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1))
    lens = np.diff(m.indptr)
    keys = np.zeros((n_rows, 3), dtype=np.uint64)
    keys[:, 2] = lens.astype(np.uint64)
    nz = lens > 0
    if m.nnz:
        starts = m.indptr[:-1][nz]
        with np.errstate(over="ignore"):
            keys[nz, 0] = np.add.reduceat(r1[m.indices] * q, starts)
            keys[nz, 1] = np.add.reduceat(r2[m.indices] ^ q, starts)
    _, first, group_of = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return group_of.reshape(-1), first


@dataclass(frozen=True)
class Reduced:
    """A cover problem after reduction.

    Attributes
    ----------
    free
        Original indices of the candidates left in the model (not required, not forbidden,
        covering some remaining demand).
    cover
        Boolean CSR ``(n_groups, len(free))`` of merged demand rows.
    weights
        Summed weight per group.
    group_of
        Group of each original demand point, ``-1`` if dropped.
    pre_covered
        Weight already covered by required sites.
    uncoverable
        Indices of demand points with weight that neither a required nor an allowed candidate
        covers.
    """

    free: np.ndarray
    cover: sp.csr_array
    weights: np.ndarray
    group_of: np.ndarray
    pre_covered: float
    uncoverable: np.ndarray
    stats: dict = field(default_factory=dict)


def dominated_columns(cover: sp.csr_array, costs: np.ndarray | None) -> np.ndarray:
    """Boolean mask of candidates dominated by another one.

    ``k`` dominates ``j`` when ``j``'s cover set is a subset of ``k``'s and ``k`` costs no
    more (``costs=None``: costs do not matter, as when counting sites); ties are broken by a
    strict order (bigger set, then cheaper, then lower index), so every removed candidate has
    a kept one that dominates it and any optimum survives the removal.
    """
    n = cover.shape[1]
    if n < 2:
        return np.zeros(n, dtype=bool)
    c = sp.csc_array((np.ones(cover.nnz, np.int32), cover.indices, cover.indptr),
                     shape=cover.shape[::-1]).T  # columns of `cover` as rows of c.T
    size = np.asarray(c.sum(axis=0)).ravel()
    inter = sp.coo_array(c.T @ c)
    j, k, v = inter.row, inter.col, inter.data
    cost = np.zeros(n) if costs is None else np.asarray(costs, dtype=float)
    subset = (v == size[j]) & (j != k) & (cost[k] <= cost[j])
    strict = ((size[k] > size[j]) | (cost[k] < cost[j]) | (k < j))
    dom = np.zeros(n, dtype=bool)
    dom[j[subset & strict]] = True
    return dom


def reduce_cover(problem: SitingProblem, *, use_costs: bool = True) -> Reduced:
    """Drop pre-covered and uncoverable demand, merge identical rows, drop idle candidates.

    Candidates dominated by another (see :func:`dominated_columns`) leave the model as well;
    ``use_costs=False`` when only the number of sites counts.
    """
    cover = problem.cover
    w = problem.weights
    req = problem.required
    allowed = ~problem.forbidden & ~req
    pre = problem.covered_by(req)
    free_all = np.flatnonzero(allowed)
    sub = sp.csr_array(cover[:, free_all])
    n_free = np.diff(sub.indptr)
    keep = ~pre & (n_free > 0) & (w > 0)
    uncoverable = np.flatnonzero(~pre & (n_free == 0) & (w > 0))
    rows = np.flatnonzero(keep)
    sub = sp.csr_array(sub[rows])
    used = np.zeros(len(free_all), dtype=bool)
    used[sub.indices] = True
    sub = sp.csr_array(sub[:, np.flatnonzero(used)])
    free = free_all[used]
    dom = dominated_columns(sub, problem.costs[free] if use_costs else None)
    sub = sp.csr_array(sub[:, np.flatnonzero(~dom)])
    free = free[~dom]
    group_rows, first = merge_rows(sub)
    g_w = np.bincount(group_rows, weights=w[rows], minlength=len(first))
    g_cover = sp.csr_array(sub[first])
    g_cover.data = np.ones(g_cover.nnz, dtype=bool)
    group_of = np.full(problem.n_demand, -1, dtype=np.int64)
    group_of[rows] = group_rows
    stats = {"demand": problem.n_demand, "kept": len(rows), "groups": len(first),
             "candidates": problem.n_candidates, "free": len(free), "dominated": int(dom.sum()),
             "pairs": int(g_cover.nnz)}
    log.debug("reduction: %s", stats)
    return Reduced(free, g_cover, g_w, group_of, float(w[pre].sum()), uncoverable, stats)


@dataclass(frozen=True)
class SitingResult:
    """What a siting model returns.

    Attributes
    ----------
    model
        ``"mclp"``, ``"setcover"`` or ``"pmedian"``.
    solver
        Backend used.
    status
        ``"optimal"`` (proven within ``rel_gap``) or ``"feasible"`` (time limit hit).
    objective, bound, gap
        Objective in original units (covered population, cost, or population-weighted
        seconds), the solver's best bound in the same units, and the relative gap.
    open
        Boolean mask of open candidates (required + new).
    new
        Indices of newly chosen candidates, ascending.
    covered
        Boolean per demand point: inside its circle of some open candidate.
    covered_weight, total_weight
        Population covered, total population.
    cost
        Cost of the new sites.
    build_s, solve_s
        Seconds to reduce and build the model, and to solve it.
    assignment
        p-median only: candidate serving each demand point (``-1`` = none/penalty).
    stats
        Reduction sizes (demand kept, groups, free candidates, pairs).
    """

    model: str
    solver: str
    status: str
    objective: float
    bound: float
    gap: float
    open: np.ndarray
    new: np.ndarray
    covered: np.ndarray
    covered_weight: float
    total_weight: float
    cost: float
    build_s: float
    solve_s: float
    assignment: np.ndarray | None = None
    stats: dict = field(default_factory=dict)

    @property
    def coverage_rate(self) -> float:
        """Share of the population covered."""
        return self.covered_weight / self.total_weight if self.total_weight > 0 else 1.0

    @property
    def is_optimal(self) -> bool:
        """Whether optimality was proven (within the requested gap)."""
        return self.status == "optimal"

    def summary(self) -> str:
        """A few lines for people: model, status, sites, coverage, cost, gap, times."""
        lines = [
            f"{self.model} ({self.solver}): {self.status}, objective {self.objective:,.1f}, "
            f"bound {self.bound:,.1f}, gap {100 * self.gap:.3f}%",
            f"sites: {len(self.new)} new (cost {self.cost:,.2f}), "
            f"{int(self.open.sum()) - len(self.new)} kept",
            f"coverage: {self.covered_weight:,.0f} of {self.total_weight:,.0f} people "
            f"({100 * self.coverage_rate:.2f}%)",
            f"time: build {self.build_s:.2f} s, solve {self.solve_s:.2f} s",
        ]
        return "\n".join(lines)
