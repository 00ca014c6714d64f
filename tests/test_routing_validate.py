"""The independent plan check catches broken plans the solver might return."""

from __future__ import annotations

import numpy as np
import pytest
from test_routing_helpers import Break, tiny

from routing.solver import Solution
from routing.validate import validate_solution

XY = [[0, 0], [10, 0], [20, 0], [30, 0]]


def _sol(p, routes, dropped=()) -> Solution:
    cost = 0
    for k, r in enumerate(routes):
        if r:
            cm = p.cost_matrix(p.vehicle_mode[k])
            path = [int(p.vehicle_start[k]), *r, int(p.vehicle_end[k])]
            cost += sum(int(cm[a, b]) for a, b in zip(path, path[1:], strict=False))
    return Solution(tuple(tuple(r) for r in routes), tuple(dropped),
                    cost)


def test_valid_plan_passes() -> None:
    """A correct route has no problems and the recomputed times are the earliest ones."""
    p = tiny(XY, [(1, 2), (3,)], np.tile([0, 100], (4, 1)))
    check = validate_solution(p, _sol(p, [(1, 2, 3)]))
    assert check.ok, check.problems
    assert check.starts[0] == [10, 20, 30] and check.ends[0] == 60


def test_catches_late_arrival() -> None:
    """Node 3 must start by 25 but the route reaches it at 30."""
    w = np.tile([0, 100], (4, 1))
    w[3] = [0, 25]
    p = tiny(XY, [(1, 2), (3,)], w)
    check = validate_solution(p, _sol(p, [(1, 2, 3)]))
    assert not check.ok
    assert any("late at node 3" in m for m in check.problems)


def test_catches_delivery_before_pickup() -> None:
    """A route visiting the delivery first is rejected."""
    p = tiny(XY, [(1, 2)], np.tile([0, 100], (4, 1)))
    check = validate_solution(p, _sol(p, [(2, 1)]))
    assert any("delivery before its pickup" in m for m in check.problems)


def test_catches_pair_split_over_vehicles() -> None:
    """Pickup on one vehicle and delivery on another is rejected."""
    p = tiny(XY, [(1, 2)], np.tile([0, 100], (4, 1)), vehicles=2)
    check = validate_solution(p, _sol(p, [(1,), (2,)]))
    assert any("pickup on vehicle 0, delivery on 1" in m for m in check.problems)


def test_catches_shift_overrun_and_break_that_does_not_fit() -> None:
    """Back after shift end, and a break that cannot start in its window."""
    p = tiny(XY, [(1, 2), (3,)], np.tile([0, 100], (4, 1)), shift=(0, 50),
             breaks=[Break(0, 5, 40)])
    check = validate_solution(p, _sol(p, [(1, 2, 3)]))
    assert any("after shift end" in m for m in check.problems)


@pytest.mark.parametrize("setup, routes, dropped, expect", [
    ({"allowed": [(1,), None]}, [(1, 2), ()], (), "not allowed to serve task 0"),
    ({"max_tasks": [1, 1]}, [(1, 2, 3), ()], (), "tasks > most"),
    ({}, [(1, 2), ()], (), "task 1: mandatory but not served"),
    ({"penalty": [5, 5]}, [(1, 2), ()], (), "neither served nor listed as dropped"),
    ({"penalty": [5, 5]}, [(1, 2, 3), ()], (1,), "served but listed as dropped"),
    ({}, [(1, 2, 3, 1), ()], (), "visited twice"),
])
def test_catches_other_violations(setup: dict, routes, dropped, expect: str) -> None:
    """Skills, most tasks, missing tasks, dropped-list mismatch and double visits."""
    p = tiny(XY, [(1, 2), (3,)], np.tile([0, 1000], (4, 1)), vehicles=2, **setup)
    check = validate_solution(p, _sol(p, routes, dropped))
    assert any(expect in m for m in check.problems), check.problems


def test_catches_wrong_reported_cost() -> None:
    """A cost that does not match the routes is reported."""
    p = tiny(XY, [(1, 2)], np.tile([0, 100], (4, 1)))
    s = _sol(p, [(1, 2)])
    bad = Solution(s.routes, s.dropped, s.cost - 1)
    assert any("recomputed" in m for m in validate_solution(p, bad).problems)


def test_catches_capacity() -> None:
    """Load above capacity is reported."""
    p = tiny(XY, [(1, 2), (3,)], np.tile([0, 100], (4, 1)))
    from dataclasses import replace

    p = replace(p, demand=np.array([0, 5, -5, 7]), vehicle_capacity=np.array([6]))
    check = validate_solution(p, _sol(p, [(1, 2, 3)]))
    assert any("load out of" in m for m in check.problems)
