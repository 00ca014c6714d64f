"""The OR-Tools model on tiny instances whose optimum is known by brute force."""

from __future__ import annotations

import numpy as np
import pytest
from test_routing_helpers import Break, brute_force_single, tiny

from routing.ges import warm_up
from routing.problem import UNREACHABLE, RoutingProblem
from routing.reasons import (
    AT_MOST,
    BOOKED,
    NOT_ENOUGH_TIME,
    OUTSIDE_SHIFT,
    UNREACHABLE_REASON,
    drop_reasons,
)
from routing.solver import SolveParams, solve
from routing.validate import validate_solution

FAST = SolveParams(time_limit_s=0.4)


def _random_instance(seed: int) -> RoutingProblem:
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 100, size=(6, 2))
    w = np.tile([0, 1000], (6, 1))
    # node 1 -> 2 and 3 -> 4 are pairs, 5 a single visit; some windows bite
    w[2] = [rng.integers(50, 150), 400]
    w[5] = [0, rng.integers(150, 300)]
    return tiny(xy, [(1, 2), (3, 4), (5,)], w, service=np.array([0, 5, 5, 5, 5, 5]))


@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force_optimum(seed: int) -> None:
    """One vehicle, two pairs and a visit: the solver finds the enumerated optimum."""
    p = _random_instance(seed)
    best = brute_force_single(p)
    sol = solve(p, FAST)
    assert validate_solution(p, sol).ok
    if best is None:
        assert sol.dropped  # pragma: no cover - every seed above is feasible
    else:
        assert not sol.dropped
        assert sol.cost == best


def test_staged_matches_brute_force() -> None:
    """The staged (vehicles first) search also reaches the optimum and uses one vehicle."""
    p = _random_instance(3)
    p2 = tiny(np.array([[0, 0], [10, 0], [20, 0], [30, 0], [40, 0], [50, 0]]),
              p.tasks, np.tile([0, 1000], (6, 1)), vehicles=3)
    warm_up()  # the staged search's compiled stage, compiled before the 1-s clock starts
    sol = solve(p2, SolveParams(time_limit_s=1.0, minimize_vehicles=True))
    assert validate_solution(p2, sol).ok
    assert sol.n_used == 1 and sol.cost == 100


def test_pickup_before_delivery_even_when_reverse_is_shorter() -> None:
    """Delivery sits on the way out, pickup far away: the route still picks up first."""
    xy = [[0, 0], [100, 0], [10, 0]]
    p = tiny(xy, [(1, 2)], np.tile([0, 1000], (3, 1)))
    sol = solve(p, FAST)
    assert sol.routes[0] == (1, 2)
    assert sol.cost == 100 + 90 + 10


def test_skills_route_to_the_allowed_vehicle() -> None:
    """A task allowed only for vehicle 1 is served by vehicle 1."""
    xy = [[0, 0], [10, 0], [20, 0]]
    p = tiny(xy, [(1, 2)], np.tile([0, 1000], (3, 1)), vehicles=2, allowed=[(1,)],
             penalty=[10_000])
    sol = solve(p, FAST)
    assert sol.routes[1] == (1, 2) and sol.routes[0] == ()
    assert validate_solution(p, sol).ok


def test_modes_use_their_own_matrix() -> None:
    """The faster mode's vehicle takes the far task when only it can make the window."""
    xy = np.array([[0, 0], [100, 0]])
    walk = np.array([[0, 100], [100, 0]])
    drive = np.array([[0, 20], [20, 0]])
    p = tiny(xy, [(1,)], [[0, 1000], [0, 30]], vehicles=2, modes=("walk", "drive"),
             matrices={"walk": walk, "drive": drive}, penalty=[10_000])
    sol = solve(p, FAST)
    assert sol.routes[1] == (1,) and validate_solution(p, sol).ok


def test_break_is_taken_inside_its_window() -> None:
    """A 50-unit break in [100, 150] is fitted and the validator finds a placement for it."""
    xy = [[0, 0], [10, 0], [20, 0], [30, 0]]
    w = [[0, 1000], [90, 110], [140, 300], [0, 1000]]
    p = tiny(xy, [(1, 2), (3,)], w, breaks=[Break(100, 150, 50)], shift=(0, 400))
    sol = solve(p, FAST)
    check = validate_solution(p, sol)
    assert check.ok and not sol.dropped
    assert 100 <= check.breaks[0] <= 150


def test_break_on_unused_vehicle_does_not_break_the_model() -> None:
    """Vehicles with breaks that get no work still give a solution (or-tools #1243/#1730)."""
    xy = [[0, 0], [10, 0]]
    p = tiny(xy, [(1,)], np.tile([0, 1000], (2, 1)), vehicles=3,
             breaks=[Break(100, 200, 60)] * 3, penalty=[10_000])
    sol = solve(p, FAST)
    assert sol.n_used == 1 and validate_solution(p, sol).ok


def test_max_tasks_drops_and_reason_is_booked() -> None:
    """One vehicle allowed one task: the cheaper-to-lose task is dropped, 'fully booked';
    with the routes given, the reason says the runner is at its most errands."""
    xy = [[0, 0], [10, 0], [0, 10]]
    p = tiny(xy, [(1,), (2,)], np.tile([0, 1000], (3, 1)), max_tasks=[1],
             penalty=[10_000, 5_000])
    sol = solve(p, FAST)
    assert sol.dropped == (1,)
    assert drop_reasons(p, sol.dropped) == {1: BOOKED}
    assert drop_reasons(p, sol.dropped, sol.routes) == {1: AT_MOST}
    assert validate_solution(p, sol).ok


def test_drop_reasons_by_independent_checks() -> None:
    """Outside every shift, unreachable and not enough time are told apart."""
    xy = [[0, 0], [10, 0], [20, 0], [30, 0], [500, 0]]
    m = {"walk": np.array([[0, 10, 20, 30, 500], [10, 0, 10, 20, 490], [20, 10, 0, 10, 480],
                           [30, 20, 10, 0, UNREACHABLE], [500, 490, 480, UNREACHABLE, 0]])}
    w = [[0, 1000], [0, 1000], [2000, 3000], [0, 1000], [0, 100]]
    p = tiny(xy, [(1,), (2,), (3,), (4,)], w, matrices=m, penalty=[1000] * 4, shift=(0, 1000))
    m["walk"][0, 3] = UNREACHABLE
    m["walk"][3, 0] = UNREACHABLE
    sol = solve(p, FAST)
    assert validate_solution(p, sol).ok
    assert set(sol.dropped) == {1, 2, 3}
    assert drop_reasons(p, sol.dropped) == {1: OUTSIDE_SHIFT, 2: UNREACHABLE_REASON,
                                             3: NOT_ENOUGH_TIME}


def test_problem_rejects_depot_as_task_node() -> None:
    """A depot that is also a visit is refused with a clear message (or-tools #1587)."""
    with pytest.raises(ValueError, match="both a depot and a task node"):
        tiny([[0, 0], [1, 0]], [(0,)], np.tile([0, 10], (2, 1)))


def test_problem_rejects_empty_allowed_list() -> None:
    """An empty allowed-vehicle list is refused (or-tools #4644)."""
    with pytest.raises(ValueError, match="empty allowed-vehicle list"):
        tiny([[0, 0], [1, 0]], [(1,)], np.tile([0, 10], (2, 1)), allowed=[()])


@pytest.mark.parametrize("kw, msg", [
    ({"time_limit_s": 0}, "time_limit_s"),
    ({"first_solution": "NOPE"}, "first_solution"),
    ({"workers": 3}, "workers"),
])
def test_params_check_themselves(kw: dict, msg: str) -> None:
    """Bad search settings raise ValueError naming the setting."""
    with pytest.raises(ValueError, match=msg):
        SolveParams(**kw)


def test_two_workers_return_a_valid_plan() -> None:
    """With a second search process the result is still a valid, complete plan."""
    p = _random_instance(1)
    sol = solve(p, SolveParams(time_limit_s=0.5, workers=2))
    assert validate_solution(p, sol).ok and not sol.dropped
    assert sol.cost == brute_force_single(p)


def test_solution_limit_makes_runs_repeatable() -> None:
    """With a solution limit that binds before the time limit, two runs give the same plan."""
    rng = np.random.default_rng(7)
    n = 21
    xy = rng.integers(0, 100, size=(n, 2))
    tasks = [(i, i + 1) for i in range(1, n - 1, 2)]
    p = tiny(xy, tasks, np.tile([0, 5000], (n, 1)), vehicles=3, penalty=[10_000] * len(tasks))
    params = SolveParams(time_limit_s=20.0, solution_limit=100)
    a, b = solve(p, params), solve(p, params)
    assert a.routes == b.routes and a.cost == b.cost
    assert validate_solution(p, a).ok


def test_repair_inserts_a_task_the_search_left_out() -> None:
    """A plan that leaves out a task which fits gets it inserted, and stays valid."""
    from routing.repair import insert_dropped
    from routing.solver import Solution

    p = tiny([[0, 0], [10, 0], [20, 0], [30, 0]], [(1, 2), (3,)], np.tile([0, 1000], (4, 1)),
             penalty=[100, 100])
    partial = Solution(((1, 2),), (1,), 40)
    fixed = insert_dropped(p, partial)
    assert fixed.dropped == () and 3 in fixed.routes[0] and fixed.cost == 60
    assert validate_solution(p, fixed).ok
    late = tiny([[0, 0], [10, 0], [20, 0], [30, 0]], [(1, 2), (3,)],
                [[0, 1000], [0, 1000], [0, 1000], [0, 5]], penalty=[100, 100])
    assert insert_dropped(late, Solution(((1, 2),), (1,), 40)).dropped == (1,)


def test_repair_swaps_a_task_onto_another_runner() -> None:
    """B fits only runner 0, who is at its most errands with A; A can move to runner 1."""
    from routing.repair import insert_dropped
    from routing.solver import Solution

    xy = [[0, 0], [10, 0], [20, 0]]
    w = np.tile([0, 1000], (3, 1))
    kw = dict(vehicles=2, allowed=[(0, 1), (0,)], max_tasks=[1, 1])
    p = tiny(xy, [(1,), (2,)], w, penalty=[100, 100], **kw)
    partial = Solution(((1,), ()), (1,), 20)
    fixed = insert_dropped(p, partial)
    assert fixed.dropped == () and fixed.routes == ((2,), (1,))
    assert validate_solution(p, fixed).ok
    # a more urgent errand is never moved aside for a less urgent one
    urgent = tiny(xy, [(1,), (2,)], w, penalty=[500, 100], **kw)
    assert insert_dropped(urgent, partial).dropped == (1,)
    # no budget for the swap step: left out
    assert insert_dropped(p, partial, swap_checks=0).dropped == (1,)
