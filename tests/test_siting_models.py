"""Siting models: optima against brute force and PySAL spopt, masks, budgets, messages."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from gis.siting import (
    InfeasibleTargetError,
    SitingProblem,
    SolveParams,
    solve_mclp,
    solve_pmedian,
    solve_set_cover,
)
from gis.siting.instances import clustered_instance
from gis.siting.problem import merge_rows, reduce_cover

SOLVERS = ["scip", "cp-sat", "highs"]


def random_problem(seed: int, n_d: int = 14, n_c: int = 8, density: float = 0.25,
                   masks: bool = True) -> SitingProblem:
    rng = np.random.default_rng(seed)
    cover = sp.csr_array(rng.random((n_d, n_c)) < density)
    weights = rng.integers(0, 50, n_d).astype(float)
    costs = rng.integers(1, 5, n_c).astype(float)
    req = np.zeros(n_c, bool)
    forb = np.zeros(n_c, bool)
    if masks:
        req[rng.choice(n_c, 1)] = True
        forb[rng.choice(np.flatnonzero(~req), 1)] = True
    return SitingProblem(cover, weights, costs, required=req, forbidden=forb)


def covered_weight(problem: SitingProblem, chosen) -> float:
    m = problem.required.copy()
    m[list(chosen)] = True
    return float(problem.weights[problem.covered_by(m)].sum())


def free_sites(problem: SitingProblem) -> list[int]:
    return np.flatnonzero(~problem.required & ~problem.forbidden).tolist()


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", range(6))
def test_mclp_count_matches_brute_force(seed, solver):
    """MCLP with p new sites reaches the brute-force optimum; required stay, forbidden don't."""
    pr = random_problem(seed)
    for p in (1, 2, 3):
        best = max(covered_weight(pr, c) for c in itertools.combinations(free_sites(pr), p))
        res = solve_mclp(pr, p=p, params=SolveParams(solver=solver))
        assert res.is_optimal
        assert res.covered_weight == pytest.approx(best)
        assert res.objective == pytest.approx(best)
        assert len(res.new) <= p
        assert res.open[pr.required].all()
        assert not res.open[pr.forbidden].any()


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", range(6))
def test_mclp_budget_matches_brute_force_and_is_never_exceeded(seed, solver):
    """MCLP with per-site costs: brute-force optimum, and the cost stays within the budget."""
    pr = random_problem(seed + 100)
    free = free_sites(pr)
    for budget in (2.0, 4.5, 7.0):
        best = max(covered_weight(pr, c) for r in range(len(free) + 1)
                   for c in itertools.combinations(free, r) if pr.costs[list(c)].sum() <= budget)
        res = solve_mclp(pr, budget=budget, params=SolveParams(solver=solver))
        assert res.covered_weight == pytest.approx(best)
        assert res.cost <= budget + 1e-9


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("target", [1.0, 0.9, 0.6])
def test_set_cover_least_cost_matches_brute_force(target, solver):
    """Set cover reaches the target share at the brute-force least cost."""
    for seed in range(4):
        pr = random_problem(seed + 200, density=0.35, masks=False)
        free = free_sites(pr)
        need = target * pr.weights.sum()
        feasible = [pr.costs[list(c)].sum() for r in range(len(free) + 1)
                    for c in itertools.combinations(free, r)
                    if covered_weight(pr, c) >= need - 1e-9]
        if not feasible:
            with pytest.raises(InfeasibleTargetError):
                solve_set_cover(pr, target=target, params=SolveParams(solver=solver))
            continue
        res = solve_set_cover(pr, target=target, params=SolveParams(solver=solver))
        assert res.cost == pytest.approx(min(feasible))
        assert res.covered_weight >= need - 1e-9


def test_infeasible_target_names_what_cannot_be_covered():
    """100% coverage with a demand point no allowed candidate reaches: a clear message."""
    cover = sp.csr_array(np.array([[1, 0], [0, 1], [0, 0], [0, 1]], dtype=bool))
    pr = SitingProblem(cover, np.array([10.0, 20.0, 5.0, 1.0]),
                       demand_ids=np.array(["D1", "D2", "D3", "D4"]),
                       forbidden=np.array([False, True]))
    with pytest.raises(InfeasibleTargetError, match=r"D2, D3, D4") as info:
        solve_set_cover(pr, target=1.0)
    assert "at most 27.78%" in str(info.value)
    assert sorted(info.value.uncoverable.tolist()) == [1, 2, 3]
    assert solve_set_cover(pr, target=0.25).covered_weight == 10.0


@pytest.mark.parametrize(("kwargs", "match"), [
    ({}, "exactly one of"),
    ({"p": 1, "budget": 2.0}, "exactly one of"),
    ({"p": -1}, "`p` must be >= 0"),
    ({"budget": -1.0}, "`budget` must be >= 0"),
])
def test_mclp_bad_arguments(kwargs, match):
    """Wrong limits are named in the message."""
    with pytest.raises(ValueError, match=match):
        solve_mclp(random_problem(0), **kwargs)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"weights": np.ones(3)}, r"`weights` must have shape \(4,\)"),
    ({"required": np.array([True, False]), "forbidden": np.array([True, False])},
     "both `required` and `forbidden`"),
    ({"costs": np.array([1.0, -1.0])}, "`costs` must be finite and >= 0"),
])
def test_problem_validation_reports_everything(kwargs, match):
    """A bad problem is rejected with a message naming the argument."""
    base = {"cover": sp.csr_array(np.eye(4, 2, dtype=bool)), "weights": np.ones(4)}
    with pytest.raises(ValueError, match=match):
        SitingProblem(**{**base, **kwargs})


def test_solution_read_with_threshold_not_positive():
    """Solutions are read with > 0.5: tiny LP values never open a site (spopt's 1e-14 bug)."""
    import gis.siting.allocation as allocation
    import gis.siting.models as models

    for mod in (models, allocation):
        src = open(mod.__file__, encoding="utf-8").read()
        assert "> 0.5" in src and "solution_value() > 0\n" not in src


def test_reduction_merges_rows_and_drops_covered_demand():
    """Pre-covered rows leave, identical rows merge with summed weights, dominated columns go."""
    cover = sp.csr_array(np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1], [0, 0, 0]],
                                  dtype=bool))
    pr = SitingProblem(cover, np.array([1.0, 2.0, 4.0, 8.0, 16.0]),
                       required=np.array([False, False, True]))
    red = reduce_cover(pr)
    assert red.pre_covered == 12.0
    assert red.uncoverable.tolist() == [4]
    assert red.weights.tolist() == [3.0]
    assert red.group_of.tolist() == [0, 0, -1, -1, -1]
    g, first = merge_rows(sp.csr_array(np.array([[1, 0], [1, 0], [0, 1]], dtype=float)))
    assert g[0] == g[1] != g[2] and len(first) == 2


@pytest.mark.parametrize("seed", range(4))
def test_pmedian_matches_brute_force(seed):
    """p-median with a penalty for unreached demand equals the brute-force optimum."""
    rng = np.random.default_rng(seed + 300)
    n_d, n_c = 12, 7
    t = rng.uniform(0, 100, (n_d, n_c))
    t[rng.random((n_d, n_c)) < 0.5] = np.inf
    t[0, 0] = 0.0  # explicit zero: a covering pair
    rows, cols = np.nonzero(np.isfinite(t))
    times = sp.csr_array((t[rows, cols], (rows, cols)), shape=(n_d, n_c))
    w = rng.integers(1, 20, n_d).astype(float)
    req = np.zeros(n_c, bool)
    req[3] = True
    pr = SitingProblem(times, w, required=req)
    pen = 150.0

    def cost(open_):
        m = np.where(np.isfinite(t[:, open_]), t[:, open_], pen).min(axis=1)
        return float((w * np.minimum(m, pen)).sum())

    free = [j for j in range(n_c) if not req[j]]
    for p in (1, 2):
        best = min(cost([3, *c]) for c in itertools.combinations(free, p))
        res = solve_pmedian(pr, p=p, penalty_s=pen)
        assert res.objective == pytest.approx(best)
        assert 3 in np.flatnonzero(res.open)
        served = res.assignment >= 0
        assert res.open[res.assignment[served]].all()


def _served_lp(pr: SitingProblem, sites, cap) -> float:
    """Most population sites can serve within capacity (a small transportation LP)."""
    from scipy.optimize import linprog

    a = pr.cover.toarray()[:, list(sites)]
    rows, cols = np.nonzero(a)
    if len(rows) == 0:
        return 0.0
    w = pr.weights
    n_d, n_s = a.shape
    a_ub = np.zeros((n_d + n_s, len(rows)))
    a_ub[rows, np.arange(len(rows))] = 1.0
    a_ub[n_d + cols, np.arange(len(rows))] = w[rows]
    b_ub = np.concatenate([np.ones(n_d), cap[list(sites)]])
    res = linprog(-w[rows], A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs")
    return -res.fun


def test_capacitated_mclp_matches_brute_force():
    """With capacities, the served population equals the best over all site pairs (LP each)."""
    rng = np.random.default_rng(7)
    pr0 = random_problem(7, masks=False, density=0.4)
    cap = rng.uniform(20, 80, pr0.n_candidates)
    pr = SitingProblem(pr0.cover, pr0.weights, capacity=cap)
    res = solve_mclp(pr, p=2)
    assert res.model == "mclp-capacitated"
    best = max(_served_lp(pr, c, cap) for c in itertools.combinations(range(pr.n_candidates), 2))
    assert res.covered_weight == pytest.approx(best)
    assert res.covered_weight <= cap[res.new].sum() + 1e-6


@pytest.mark.parametrize("solver", ["scip", "cp-sat"])
def test_same_answer_twice(solver):
    """A fixed seed and one worker give the same sites twice."""
    inst = clustered_instance(400, 60, seed=3)
    pr = SitingProblem(inst.cover, inst.weights, inst.costs)
    params = SolveParams(solver=solver, seed=5, workers=1, time_limit_s=30)
    a = solve_mclp(pr, p=6, params=params)
    b = solve_mclp(pr, p=6, params=params)
    assert a.new.tolist() == b.new.tolist() and a.objective == b.objective


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pulp 3 -> 4 notices
def test_same_objective_as_spopt():
    """On a mid-sized instance, the MCLP optimum equals PySAL spopt's (pulp + CBC)."""
    pulp = pytest.importorskip("pulp")
    spopt_locate = pytest.importorskip("spopt.locate")
    inst = clustered_instance(300, 50, seed=11, per_demand=6)
    d = np.hypot(*(inst.demand_xy[:, None, :] - inst.candidate_xy[None, :, :]).transpose(2, 0, 1))
    m = spopt_locate.MCLP.from_cost_matrix(d, inst.weights.astype(float), inst.radius, 5)
    m = m.solve(pulp.PULP_CBC_CMD(msg=False))
    theirs = pulp.value(m.problem.objective)
    ours = solve_mclp(SitingProblem(inst.cover, inst.weights), p=5)
    assert ours.is_optimal
    assert ours.objective == pytest.approx(theirs)
    assert ours.covered_weight == pytest.approx(theirs)


def test_summary_names_status_gap_and_coverage():
    """summary() says status, objective, bound, gap and coverage."""
    res = solve_mclp(random_problem(1), p=2)
    text = res.summary()
    for word in ("optimal", "bound", "gap", "coverage", "new"):
        assert word in text


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"solver": "gurobi"}, "`solver` must be one of"),
    ({"time_limit_s": 0}, "`time_limit_s` must be > 0"),
    ({"workers": 0}, "`workers` must be >= 1"),
    ({"rel_gap": 1.5}, r"`rel_gap` must be in \[0, 1\)"),
])
def test_solve_params_check_themselves(kwargs, match):
    """Bad solver parameters are named."""
    with pytest.raises(ValueError, match=match):
        SolveParams(**kwargs)


def test_solve_params_from_toml(tmp_path):
    """[siting.solve] in a TOML file gives the parameters."""
    f = tmp_path / "p.toml"
    f.write_text('[siting.solve]\nsolver = "cbc"\ntime_limit_s = 5\nseed = 3\n', encoding="utf-8")
    p = SolveParams.from_file(f)
    assert (p.solver, p.time_limit_s, p.seed) == ("cbc", 5, 3)
