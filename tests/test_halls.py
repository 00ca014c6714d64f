"""Halls' opening hours in routing: the model, the independent check, the date's calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
from test_routing_helpers import tiny

from gis.hours import parse_hours
from gis.workdays import MainlandCalendar
from routing.halls import hall_start_intervals
from routing.solver import Solution, SolveParams, solve
from routing.validate import validate_solution

H = 3600
OPEN = ((9 * H, 12 * H), (13 * H + 1800, 17 * H + 1800))  # 09:00-12:00, 13:30-17:30
REGION = str(Path(__file__).resolve().parents[1] / "data" / "chengdu")


def _hall_problem(window: tuple[int, int], service: int = 600):
    """Depot 0, a hall at node 1 thirty minutes away; the shift starts at 12:00."""
    xy = [[0, 0], [1800, 0]]
    p = tiny(xy, [(1,)], [[0, 24 * H], list(window)], service=[0, service],
             shift=(12 * H, 20 * H), penalty=[10**6])
    return replace(p, node_open={1: hall_start_intervals(OPEN, window, service)})


def test_start_intervals_leave_room_for_the_service() -> None:
    """10 min of service: starts in 09:00–11:50 and 13:30–17:20, cut to the window."""
    assert hall_start_intervals(OPEN, (0, 24 * H), 600) == ((9 * H, 11 * H + 3000),
                                                            (13 * H + 1800, 17 * H + 1200))
    assert hall_start_intervals(OPEN, (11 * H + 3300, 13 * H), 600) == ()


def test_validator_rejects_when_the_window_ends_in_the_closure() -> None:
    """Window 11:40–13:00 (starts left: 11:40–11:50); arriving 12:30 is rejected."""
    p = _hall_problem((11 * H + 2400, 13 * H))
    assert p.node_open == {1: ((11 * H + 2400, 11 * H + 3000),)}
    check = validate_solution(p, Solution(((1,),), (), 3600))
    assert any("hall closed at node 1" in m for m in check.problems)


def test_validator_waits_for_the_afternoon_opening() -> None:
    """Arriving at 12:30 with a wide window, the recomputed start is 13:30: valid."""
    p = _hall_problem((0, 24 * H))
    check = validate_solution(p, Solution(((1,),), (), 3600))
    assert check.ok, check.problems
    assert check.starts[0] == [13 * H + 1800]


def test_solver_keeps_the_hall_stop_out_of_the_closure() -> None:
    """OR-Tools' time cumul skips the removed 11:50–13:30 gap: service in the afternoon."""
    p = _hall_problem((0, 24 * H))
    sol = solve(p, SolveParams(time_limit_s=1.0, solution_limit=20))
    assert sol.routes == ((1,),)
    check = validate_solution(p, sol)
    assert check.ok, check.problems
    assert 13 * H + 1800 <= check.starts[0][0] <= 17 * H + 1200


@pytest.fixture(scope="module")
def chengdu():
    """The bundled default region, demo errands and runners as `bianmin routes` makes them."""
    from gis.region import load_region
    from routing import demo_errands, demo_runners, errands_from_frame, runners_from_frame

    reg = load_region(REGION)
    outlets = reg.outlets[["id", "name", "kind", "lon", "lat", "hours"]].copy()
    outlets["id"] = outlets["id"].astype(str)
    errands = errands_from_frame(demo_errands(outlets, reg.demand, n=36, seed=0),
                                 hall_ids=outlets["id"])
    runners = runners_from_frame(demo_runners(outlets, n=6, seed=0, modes=reg.network.modes),
                                 base_ids=outlets["id"], modes=tuple(reg.network.modes))
    return reg, outlets, errands, runners


def _plan(chengdu, day: dt.date):
    from routing import network_matrices, plan_day

    reg, outlets, errands, runners = chengdu
    return plan_day(errands, runners, outlets, matrices=partial(network_matrices, reg.network),
                    date=day, params=SolveParams(time_limit_s=3.0, solution_limit=300))


def _hall_stops(plan):
    return [s for r in plan.routes for s in r.stops
            if (s.kind, s.role) in (("pickup_to_hall", "delivery"), ("hall_to_home", "pickup"))]


@pytest.mark.slow
def test_monday_plan_on_chengdu_keeps_every_hall_stop_in_hours(chengdu) -> None:
    """Monday 2026-12-07: the plan passes the check; each hall service fits an open interval."""
    plan = _plan(chengdu, dt.date(2026, 12, 7))
    assert plan.check.ok, plan.check.problems
    stops = _hall_stops(plan)
    assert stops, "the demo day has hall stops"
    sched = parse_hours(chengdu[1]["hours"].iloc[0])  # every bundled outlet has these hours
    opened = [(a * 60, b * 60) for a, b in sched.open_intervals(plan.date, MainlandCalendar())]
    for s in stops:
        assert any(a <= s.arrival_s and s.arrival_s + s.service_s <= b for a, b in opened), s
    assert not any(r.code == "hall_closed" and "all day" in r.en for r in plan.reasons.values())


@pytest.mark.slow
def test_sunday_plan_leaves_hall_errands_out_as_hall_closed(chengdu) -> None:
    """Sunday 2026-12-06: every errand with a hall end is left out, hall closed all day."""
    _, _, errands, _ = chengdu
    plan = _plan(chengdu, dt.date(2026, 12, 6))
    assert plan.check.ok
    hall = {e.id for e in errands if e.kind in ("pickup_to_hall", "hall_to_home")}
    assert hall and not _hall_stops(plan)
    for eid in hall:
        why = plan.reasons[eid]
        assert why.code == "hall_closed" and "closed all day on 2026-12-06 (Sunday)" in why.en
        assert "全天不开放" in plan.dropped[eid]
    assert any(s.kind in ("home_visit", "pickup_delivery") for r in plan.routes for s in r.stops)
    assert "hall closed" in plan.summary()


def test_holiday_closes_and_makeup_day_opens_halls() -> None:
    """National Day 2026-10-01 closes a weekday hall; make-up Saturday 2026-10-10 opens it."""
    import pandas as pd

    from routing.halls import hall_day_intervals

    outlets = pd.DataFrame({"id": ["H1", "H2"], "hours": ["周一至周五 09:00-12:00, 13:30-17:30",
                                                          ""]})
    assert hall_day_intervals(outlets, dt.date(2026, 10, 1)) == {"H1": (), "H2": None}
    assert hall_day_intervals(outlets, dt.date(2026, 10, 10))["H1"] == OPEN
    assert hall_day_intervals(outlets, dt.date(2026, 10, 11))["H1"] == ()  # plain Sunday


def test_model_removes_the_closed_gap_from_the_time_cumul() -> None:
    """The hall node's cumul domain: 09:00–11:50 and 13:30–17:20, nothing in the gap."""
    from routing.solver import _build

    m = _build(_hall_problem((0, 24 * H)))
    cumul = m.time.CumulVar(m.manager.NodeToIndex(1))
    assert cumul.Min() == 9 * H and cumul.Max() == 17 * H + 1200
    for t in (9 * H, 11 * H + 3000, 13 * H + 1800, 17 * H + 1200):
        assert cumul.Contains(t)
    for t in (11 * H + 3001, 12 * H + 1800, 13 * H + 1799, 17 * H + 1201):
        assert not cumul.Contains(t)
