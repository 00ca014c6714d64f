"""The guided ejection search (routing/ges.py, routing/_ges.py) against brute force and the check."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from routing import _ges
from routing.ges import _data, minimise_routes, shorten_routes, warm_up
from routing.problem import RoutingProblem
from routing.solver import Solution, SolveParams, solve
from routing.validate import schedule_route, validate_solution


def random_problem(seed: int, n_pairs: int = 6, n_vehicles: int = 3, *, opens: bool = True,
                   skills: bool = True) -> RoutingProblem:
    """Pairs on a 100 × 100 square, two modes, tight-ish windows, halls' hours, skills."""
    rng = np.random.default_rng(seed)
    n = 2 + 2 * n_pairs  # two depots
    xy = rng.uniform(0, 100, (n, 2))
    d = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    travel = {"a": d, "b": d * 2}
    lo = rng.integers(0, 300, n)
    windows = np.stack([lo, lo + rng.integers(60, 400, n)], axis=1).astype(np.int64)
    windows[:2] = [0, 2000]
    service = rng.integers(0, 15, n).astype(np.int64)
    service[:2] = 0
    demand = np.zeros(n, dtype=np.int64)
    tasks = []
    for i in range(n_pairs):
        p, q = 2 + 2 * i, 3 + 2 * i
        windows[q, 1] = max(windows[q, 1], windows[p, 0] + 200)
        demand[p], demand[q] = rng.integers(1, 4), 0
        demand[q] = -demand[p]
        tasks.append((p, q))
    node_open = None
    if opens:  # two stops with a closure in the middle of the day
        node_open = {3: ((0, 150), (250, 2000)), 5: ((100, 2000),)}
    tv = None
    if skills:
        tv = tuple((0,) if i == 0 else None for i in range(n_pairs))
    v = n_vehicles
    return RoutingProblem(
        travel=travel, tasks=tuple(tasks), windows=windows, service=service,
        vehicle_mode=tuple("a" if k % 2 == 0 else "b" for k in range(v)),
        vehicle_start=np.zeros(v, dtype=np.int64), vehicle_end=np.ones(v, dtype=np.int64),
        vehicle_shift=np.tile(np.array([0, 2000], dtype=np.int64), (v, 1)), demand=demand,
        vehicle_capacity=np.full(v, 5, dtype=np.int64), task_vehicles=tv, node_open=node_open)


def _feasible(p: RoutingProblem, k: int, route: tuple[int, ...]) -> bool:
    """The independent check's verdict on one route (schedule and load)."""
    _, _, _, issues = schedule_route(p, k, route)
    load = np.cumsum([int(p.demand_or_zero()[x]) for x in route]) if route else np.zeros(0)
    cap = int(p.vehicle_capacity[k]) if p.vehicle_capacity is not None else 10**9
    return not issues and (load.size == 0 or (load.max() <= cap and load.min() >= 0))


def _route_cost(p: RoutingProblem, k: int, route: tuple[int, ...]) -> int:
    c = p.cost_matrix(p.vehicle_mode[k])
    path = [int(p.vehicle_start[k]), *route, int(p.vehicle_end[k])]
    return int(sum(int(c[a, b]) for a, b in itertools.pairwise(path)))


@pytest.mark.parametrize("seed", range(12))
def test_cheapest_insertion_equals_brute_force(seed: int) -> None:
    """The O(1)-per-place insertion check finds exactly the brute-force cheapest feasible place."""
    p = random_problem(seed)
    data = _data(p)
    (t3, c3, vmode, vstart, vend, shift, vcap, _vmaxt, svc, dem, wlo, whi, has_open, optr,
     olo, ohi, *_rest) = data.args
    for k in range(p.n_vehicles):
        # a feasible base route: greedily add pairs in order while the check accepts them
        route: tuple[int, ...] = ()
        for pick, drop in p.tasks[1:4]:
            trial = (*route, pick, drop)
            if _feasible(p, k, trial):
                route = trial
        for pick, drop in p.tasks:
            if pick in route:
                continue
            # brute force over every (pickup place, delivery place)
            best = None
            m = len(route)
            for i in range(m + 1):
                for j in range(i, m + 1):
                    r = list(route)
                    r.insert(j, drop)
                    r.insert(i, pick)
                    r_t = tuple(r)
                    if _feasible(p, k, r_t):
                        delta = _route_cost(p, k, r_t) - _route_cost(p, k, route)
                        best = delta if best is None else min(best, delta)
            S = np.array([vstart[k], *route, vend[k]], dtype=np.int64)
            F, Z, LD = (np.empty(len(S), dtype=np.int64) for _ in range(3))
            md = vmode[k]
            assert _ges.prep(S, m, k, t3[md], svc, dem, wlo, whi, has_open, optr, olo, ohi,
                             shift, F, Z, LD)
            delta, i, j = _ges.best_insert(S, m, F, Z, LD, pick, drop, c3[md], t3[md], svc, dem,
                                           wlo, whi, has_open, optr, olo, ohi, vcap[k], False,
                                           0.0)
            any_d, ai, aj = _ges.best_insert(S, m, F, Z, LD, pick, drop, c3[md], t3[md], svc,
                                             dem, wlo, whi, has_open, optr, olo, ohi, vcap[k],
                                             False, -1.0)
            assert (any_d >= _ges.INF) == (best is None)  # "first feasible" finds one iff any
            if best is not None:
                r = list(route)
                r.insert(aj, drop)
                r.insert(ai, pick)
                assert _feasible(p, k, tuple(r))
            if best is None:
                assert delta >= _ges.INF
            else:
                assert delta == best
                # the place returned is itself feasible, and costs what it says
                R = np.zeros((1, m + 2), dtype=np.int64)
                R[0, :m] = route
                L = np.array([m], dtype=np.int64)
                _ges.apply_insert(R, L, 0, pick, drop, i, j)
                got = tuple(int(x) for x in R[0, :L[0]])
                assert _feasible(p, k, got)
                assert _route_cost(p, k, got) - _route_cost(p, k, route) == best


def test_eliminates_to_one_route_and_stays_valid() -> None:
    """Six loose pairs one per vehicle: the search serves them all with one vehicle, validly."""
    n_pairs, v = 6, 6
    xy = np.array([[0, 0], [0, 0]] + [[10 * (i % 3), 10 * (i // 3)] for i in range(2 * n_pairs)])
    d = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    n = len(xy)
    tasks = tuple((2 + 2 * i, 3 + 2 * i) for i in range(n_pairs))
    p = RoutingProblem(
        travel={"a": d}, tasks=tasks,
        windows=np.tile(np.array([0, 10_000], dtype=np.int64), (n, 1)),
        service=np.zeros(n, dtype=np.int64), vehicle_mode=("a",) * v,
        vehicle_start=np.zeros(v, dtype=np.int64), vehicle_end=np.ones(v, dtype=np.int64),
        vehicle_shift=np.tile(np.array([0, 10_000], dtype=np.int64), (v, 1)))
    start = Solution(tuple(t for t in tasks), (), 0)
    # a step budget, not the clock, bounds it (the first call in a fresh checkout compiles)
    sol = minimise_routes(p, start, 300.0, max_steps=5000)
    assert sol.n_used == 1
    assert validate_solution(p, sol).ok


@pytest.mark.parametrize("seed", range(6))
def test_random_problems_complete_valid_and_never_worse(seed: int) -> None:
    """From an empty plan: every task placed, halls' hours, skills and loads respected."""
    p = random_problem(seed, n_pairs=8, n_vehicles=8)
    start = Solution(((),) * p.n_vehicles, tuple(range(len(p.tasks))), 0, "empty")
    sol = minimise_routes(p, start, 300.0, required=np.ones(len(p.tasks), dtype=bool),
                          max_steps=3000)
    check = validate_solution(p, sol)
    if sol.dropped:  # only when some task fits in no vehicle at all
        for t in sol.dropped:
            pick, drop = p.tasks[t]
            assert not any(_feasible(p, k, (pick, drop)) for k in p.allowed(t))
    else:
        assert check.ok, check.problems
    again = minimise_routes(p, sol, 300.0, max_steps=500) if not sol.dropped else sol
    assert again.n_used <= sol.n_used
    assert validate_solution(p, again).ok or again.dropped


def _two_far_pairs() -> RoutingProblem:
    """Two pairs 100 apart, both due in [50, 60]: no vehicle can serve both (two routes least)."""
    xy = np.array([[0, 0], [0, 0], [50, 0], [51, 0], [-50, 0], [-51, 0]], dtype=float)
    d = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    n, v = len(xy), 3
    windows = np.tile(np.array([0, 1000], dtype=np.int64), (n, 1))
    windows[2:] = [50, 60]  # reachable from the depot in time, not from the other pair
    return RoutingProblem(
        travel={"a": d}, tasks=((2, 3), (4, 5)), windows=windows,
        service=np.zeros(n, dtype=np.int64), vehicle_mode=("a",) * v,
        vehicle_start=np.zeros(v, dtype=np.int64), vehicle_end=np.ones(v, dtype=np.int64),
        vehicle_shift=np.tile(np.array([0, 1000], dtype=np.int64), (v, 1)))


@pytest.mark.parametrize(("restart", "expected"), [(0, 0), (5, 5)])
def test_removal_attempts_restart_with_doubling_budgets(monkeypatch: pytest.MonkeyPatch,
                                                        restart: int, expected: int) -> None:
    """An impossible removal restarts after 5, 10, 20, 40, 80 steps (155 of 200); the plan stays.

    The 6th attempt (160 steps) is cut by the 200-step budget, so 5 restarts; without restarts
    (0) one attempt runs out the budget. Either way both pairs stay served on two routes.
    """
    import routing.ges as ges

    monkeypatch.setattr(ges, "RESTART_STEPS", restart)
    p = _two_far_pairs()
    start = Solution(((2, 3), (4, 5), ()), (), 204)  # 50 + 1 + 51 a route
    assert validate_solution(p, start).ok
    stats = ges.GesStats()
    sol = minimise_routes(p, start, 300.0, max_steps=200, stats=stats)
    assert stats.restarts == expected
    assert stats.steps == 200
    assert sol.n_used == 2 and not sol.dropped
    assert sorted(r for r in sol.routes if r) == [(2, 3), (4, 5)]
    assert validate_solution(p, sol).ok


def test_repeatable_with_a_step_budget() -> None:
    """The same seed and step budget give the same plan."""
    p = random_problem(3, n_pairs=8, n_vehicles=8, opens=False, skills=False)
    start = Solution(((),) * p.n_vehicles, tuple(range(len(p.tasks))), 0, "empty")
    every = np.ones(len(p.tasks), dtype=bool)
    a = minimise_routes(p, start, 30.0, seed=7, required=every, max_steps=400)
    b = minimise_routes(p, start, 30.0, seed=7, required=every, max_steps=400)
    assert a.routes == b.routes


def test_staged_solve_uses_it_on_a_benchmark_shape() -> None:
    """``fleet="ges"`` in the staged solve (halls' hours, skills): a complete, valid plan."""
    p = random_problem(5, n_pairs=10, n_vehicles=10, opens=True, skills=True)
    warm_up()  # compiled before the solver's clock starts (a fresh checkout compiles once)
    sol = solve(p, SolveParams(time_limit_s=2.0, minimize_vehicles=True, fleet="ges"))
    assert validate_solution(p, sol).ok
    assert not sol.dropped


def _one_vehicle_problem(seed: int, n_pairs: int = 4) -> RoutingProblem:
    """One vehicle, ``n_pairs`` pairs with loose windows (a brute force can list every order)."""
    rng = np.random.default_rng(seed)
    n = 2 + 2 * n_pairs
    xy = rng.uniform(0, 100, (n, 2))
    d = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    windows = np.tile(np.array([0, 5000], dtype=np.int64), (n, 1))
    demand = np.zeros(n, dtype=np.int64)
    for i in range(n_pairs):
        demand[2 + 2 * i], demand[3 + 2 * i] = 1, -1
    return RoutingProblem(
        travel={"a": d}, tasks=tuple((2 + 2 * i, 3 + 2 * i) for i in range(n_pairs)),
        windows=windows, service=np.full(n, 5, dtype=np.int64), vehicle_mode=("a",),
        vehicle_start=np.zeros(1, dtype=np.int64), vehicle_end=np.ones(1, dtype=np.int64),
        vehicle_shift=np.array([[0, 5000]], dtype=np.int64), demand=demand,
        vehicle_capacity=np.array([2], dtype=np.int64))


@pytest.mark.parametrize("seed", range(10))
def test_ruin_and_recreate_reaches_the_brute_force_optimum(seed: int) -> None:
    """One vehicle, four pairs, capacity 2: the annealed search finds the cheapest order."""
    p = _one_vehicle_problem(seed)
    nodes = [x for t in p.tasks for x in t]
    best = None
    for order in itertools.permutations(nodes):
        pos = {x: i for i, x in enumerate(order)}
        if any(pos[a] > pos[b] for a, b in p.tasks):
            continue
        if _feasible(p, 0, order):
            c = _route_cost(p, 0, order)
            best = c if best is None else min(best, c)
    start_route = tuple(nodes)  # pick, drop, pick, drop, ... (load never above 1)
    assert _feasible(p, 0, start_route)
    start = Solution((start_route,), (), _route_cost(p, 0, start_route))
    sol = shorten_routes(p, start, 300.0, seed=seed, max_iters=3000)
    assert validate_solution(p, sol).ok
    assert sol.cost == best


@pytest.mark.parametrize("seed", range(4))
def test_ruin_and_recreate_never_worse_and_valid(seed: int) -> None:
    """On random problems with hours and skills: valid, no extra vehicle, no dearer."""
    p = random_problem(seed, n_pairs=10, n_vehicles=10)
    start = minimise_routes(p, Solution(((),) * p.n_vehicles, tuple(range(len(p.tasks))), 0),
                            300.0, required=np.ones(len(p.tasks), dtype=bool), max_steps=3000)
    assert not start.dropped  # every pair fits some vehicle alone on these instances
    sol = shorten_routes(p, start, 300.0, seed=seed, max_iters=500)
    assert validate_solution(p, sol).ok
    assert sol.cost <= start.cost
    assert sol.n_used <= start.n_used


def test_out_of_steps_returns_the_plan_as_far_as_it_got() -> None:
    """A completion cut short keeps what it placed (every route feasible), the rest dropped."""
    p = random_problem(2, n_pairs=8, n_vehicles=8, opens=False, skills=False)
    start = Solution(((),) * p.n_vehicles, tuple(range(len(p.tasks))), 0, "empty")
    sol = minimise_routes(p, start, 300.0, required=np.ones(len(p.tasks), dtype=bool),
                          max_steps=3)
    assert sol.status == "ges-partial"
    served = [t for t in range(len(p.tasks)) if t not in sol.dropped]
    assert 1 <= len(served) <= 3 and len(sol.dropped) == len(p.tasks) - len(served)
    assert all(_feasible(p, k, r) for k, r in enumerate(sol.routes))
    assert sorted(x for r in sol.routes for x in r) == sorted(
        x for t in served for x in p.tasks[t])


@pytest.mark.parametrize("seed", range(40))
def test_string_ruin_takes_one_string_per_route(seed: int) -> None:
    """The string ruin removes ``s0`` and, per route it touches, exactly one run of stops."""
    from routing._ges_search import _string_ruin

    rng = np.random.default_rng(seed)
    n_tasks, n_routes = 12, 3
    tfirst = np.arange(n_tasks, dtype=np.int64) * 2 + 2
    tsecond = tfirst + 1
    node_task = np.full(2 + 2 * n_tasks, -1, dtype=np.int64)
    node_task[tfirst], node_task[tsecond] = np.arange(n_tasks), np.arange(n_tasks)
    # each task's pickup and delivery in one route, pickups before deliveries, shuffled
    where = rng.integers(0, n_routes, n_tasks).astype(np.int64)
    R = np.zeros((n_routes, 2 * n_tasks), dtype=np.int64)
    L = np.zeros(n_routes, dtype=np.int64)
    for k in range(n_routes):
        mine = rng.permutation(np.flatnonzero(where == k))
        seq = [int(tfirst[t]) for t in mine] + [int(tsecond[t]) for t in rng.permutation(mine)]
        R[k, :len(seq)], L[k] = seq, len(seq)
    near = np.array([rng.permutation([u for u in range(n_tasks) if u != t])
                     for t in range(n_tasks)], dtype=np.int64)
    mark = np.zeros(n_tasks, dtype=np.bool_)
    ruined = np.zeros(n_routes, dtype=np.bool_)
    removed = np.empty(6, dtype=np.int64)
    s0, q = int(rng.integers(n_tasks)), int(rng.integers(1, 6))
    _ges.seed(seed)
    nr = _string_ruin(s0, q, R, L, where, near, node_task, tfirst, mark, ruined, removed)
    got = set(removed[:nr].tolist())
    assert s0 in got and len(got) == nr <= 6
    assert not mark.any() and not ruined.any()
    for k in range(n_routes):
        route = R[k, :L[k]].tolist()
        mine = got & set(np.flatnonzero(where == k).tolist())
        if not mine:
            continue
        # some run route[a:b] whose tasks are all removed holds a stop of every removed task of
        # the route, and no other run is needed (one string per route)
        ok = any(set(node_task[route[a:b]].tolist()) <= mine
                 and all(any(x in (tfirst[t], tsecond[t]) for x in route[a:b]) for t in mine)
                 for a in range(len(route)) for b in range(a + 1, len(route) + 1))
        assert ok, (k, route, sorted(mine))

