"""Route elimination (routing/fleet.py) on hand-made instances whose least fleet is known."""

from __future__ import annotations

import numpy as np
import pytest
from test_routing_helpers import euclid, tiny

from routing.fleet import FleetStats, eliminate_routes, fleet_lower_bound, slice_seconds
from routing.problem import RoutingProblem
from routing.solver import Solution, SolveParams, solve
from routing.validate import validate_solution

# depot 0 at the origin; pair A (1 -> 2) 100 east and pair B (3 -> 4) 100 west, both to be
# served in [100, 130]: one vehicle cannot do both (A's delivery at >= 110, then 200 to B's
# pickup). Pair C (5 -> 6) north, any time, fits after either. So the least fleet is 2.
XY = [[0, 0], [100, 0], [100, 10], [-100, 0], [-100, 10], [0, 50], [0, 60]]
TASKS = [(1, 2), (3, 4), (5, 6)]


def _windows() -> np.ndarray:
    w = np.tile([0, 1000], (7, 1))
    w[1:5] = [100, 130]
    return w


def _problem(vehicles: int = 3, fixed_cost: int = 0) -> RoutingProblem:
    p = tiny(XY, TASKS, _windows(), vehicles=vehicles)
    if fixed_cost:
        from dataclasses import replace

        p = replace(p, vehicle_fixed_cost=fixed_cost)
    return p


def _cost(p: RoutingProblem, routes: tuple[tuple[int, ...], ...]) -> int:
    m = euclid(np.asarray(XY, dtype=float))
    total = 0
    for r in routes:
        if r:
            path = [0, *r, 0]
            total += sum(int(m[a, b]) for a, b in zip(path, path[1:], strict=False))
    return total


def _one_route_per_task(p: RoutingProblem) -> Solution:
    routes = ((1, 2), (3, 4), (5, 6))
    return Solution(routes, (), _cost(p, routes), "hand")


def test_hand_start_is_valid_and_a_and_b_conflict() -> None:
    """The 3-route start passes the validator; A and B on one route does not (the bound is 2)."""
    p = _problem()
    assert validate_solution(p, _one_route_per_task(p)).ok
    both = ((1, 2, 3, 4), (), (5, 6))
    assert not validate_solution(p, Solution(both, (), _cost(p, both))).ok


def test_elimination_reaches_one_vehicle_fewer_and_passes_the_check() -> None:
    """From one route per task, the stage ends with 2 vehicles (the least), valid, all served."""
    p = _problem()
    start = _one_route_per_task(p)
    stats = FleetStats()
    sol = eliminate_routes(p, SolveParams(time_limit_s=4.0), start, 4.0, stats=stats)
    assert start.n_used == 3 and sol.n_used == 2
    assert sol.dropped == ()
    assert validate_solution(p, sol).ok
    assert stats.eliminated == 1 and stats.end_vehicles == 2
    # C went onto A's or B's route; A and B stay apart
    with_c = [r for r in sol.routes if 5 in r]
    assert len(with_c) == 1 and len(with_c[0]) == 4


def test_elimination_stops_at_the_lower_bound() -> None:
    """Load over capacity bounds the fleet: 3 pickups of 2 on vehicles of capacity 2 need 3."""
    p = _problem()
    demand = np.array([0, 2, -2, 2, -2, 2, -2])
    from dataclasses import replace

    p = replace(p, demand=demand, vehicle_capacity=np.full(3, 2))
    assert fleet_lower_bound(p) == 3
    start = _one_route_per_task(p)
    stats = FleetStats()
    sol = eliminate_routes(p, SolveParams(time_limit_s=2.0), start, 2.0, stats=stats)
    assert sol.n_used == 3 and stats.slices == 0  # nothing tried: already at the bound


def test_fixed_cost_day_goes_through_the_fleet_stage() -> None:
    """A problem whose vehicles carry a fixed cost gets route elimination after the plain search."""
    p = _problem(fixed_cost=10_000)
    sol = solve(p, SolveParams(time_limit_s=2.0))
    assert sol.status == "fleet"
    assert sol.n_used == 2 and not sol.dropped
    assert validate_solution(p, sol).ok


def test_staged_search_with_pool_matches_classic_fleet() -> None:
    """Vehicles first: both elimination variants end at the least fleet of 2, valid."""
    p = _problem()
    for fleet in ("pool", "classic"):
        sol = solve(p, SolveParams(time_limit_s=2.0, minimize_vehicles=True, fleet=fleet))
        assert sol.n_used == 2 and not sol.dropped, fleet
        assert validate_solution(p, sol).ok


@pytest.mark.parametrize("bad", [{"fleet_share": 0.0}, {"fleet_share": 1.0},
                                 {"fleet_share": float("nan")}, {"fleet": "ejection"}])
def test_solve_params_check_the_fleet_settings(bad: dict) -> None:
    """fleet_share outside (0, 1) and unknown fleet variants are refused."""
    with pytest.raises(ValueError):
        SolveParams(**bad)


def test_slice_grows_with_the_budget_within_bounds() -> None:
    """Slices are 12 % of the budget, at least 0.5 s and at most 8 s."""
    assert slice_seconds(1.0) == 0.5
    assert slice_seconds(30.0) == pytest.approx(3.6)
    assert slice_seconds(600.0) == 8.0
