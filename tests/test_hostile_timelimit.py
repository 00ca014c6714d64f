"""The time limit bounds the whole routes run; sizes and arguments are refused up front."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from typer.testing import CliRunner

from bianmin.cli import app
from gis.errors import InputError
from gis.region import load_region
from routing import build as build_mod
from routing import haversine_matrices, plan_day
from routing.deadline import Deadline
from routing.demo import demo_errands, demo_runners
from routing.region_day import plan_region_routes
from routing.tables import errands_from_frame, runners_from_frame
from tests.conftest import DATA

#: Seconds over the limit allowed on the shared 2-core test machine (measured overhead is a few
#: seconds: the model build that OR-Tools does before its clock starts, the final check).
OVERHEAD_S = 12.0


def test_routes_with_a_small_limit_finish_within_limit_plus_overhead():
    """300 errands, 30 runners, 4 s: planning ends within 4 s + overhead with a valid plan."""
    reg = load_region(DATA / "chengdu")
    t0 = time.monotonic()
    plan = plan_region_routes(reg, day=dt.date(2026, 12, 1), time_limit=4.0, n_errands=300,
                              n_runners=30)
    wall = time.monotonic() - t0
    assert plan.check.ok
    assert plan.n_served + len(plan.dropped) == 300
    assert wall <= 4.0 + OVERHEAD_S, plan.meta


def test_a_few_hundred_errands_with_a_small_limit_serve_errands():
    """300 errands, 30 runners, 8 s on the real network: errands are served, within limit + overhead."""
    reg = load_region(DATA / "chengdu")
    t0 = time.monotonic()
    plan = plan_region_routes(reg, day=dt.date(2026, 12, 1), time_limit=8.0, n_errands=300,
                              n_runners=30, seed=2)
    wall = time.monotonic() - t0
    assert plan.check.ok
    assert plan.n_served >= 50, (plan.n_served, plan.meta)
    assert wall <= 8.0 + OVERHEAD_S, plan.meta


def test_matrices_past_the_deadline_leave_every_errand_out_with_the_time_limit_reason():
    """A matrix function that hits the deadline: a plan with nobody moving, reason 时限已到."""
    from routing.deadline import TimeLimitReached

    outlets = _outlets()
    errs = errands_from_frame(demo_errands(outlets, _demand(), n=12, seed=1),
                              hall_ids=outlets["id"])
    runs = runners_from_frame(demo_runners(outlets, n=2, seed=1), base_ids=outlets["id"])

    def too_slow(lonlat, modes):
        assert Deadline.current().limit_s == 7.0  # the run's deadline is the active one
        raise TimeLimitReached("time limit of 7 s reached during the walk travel-time matrix")

    plan = plan_day(errs, runs, outlets, matrices=too_slow, date=dt.date(2026, 12, 1),
                    deadline=Deadline.after(7.0))
    assert plan.n_served == 0 and len(plan.routes) == 2
    assert set(plan.dropped) == {e.id for e in errs}
    assert {r.code for r in plan.reasons.values()} == {"time_limit"}
    assert all("时限已到" in v and "time limit reached" in v for v in plan.dropped.values())


def test_repair_reports_the_tasks_the_deadline_left_untried():
    """An expired deadline: every left-out task is untried, and its reason is the time limit."""
    from routing.plan import make_plan
    from routing.repair import repair
    from routing.solver import Solution
    from routing.validate import validate_solution

    outlets = _outlets()
    errs = errands_from_frame(demo_errands(outlets, _demand(), n=10, seed=3),
                              hall_ids=outlets["id"])
    runs = runners_from_frame(demo_runners(outlets, n=2, seed=3), base_ids=outlets["id"])
    day = build_mod.build_day_problem(errs, runs, outlets, haversine_matrices)
    n = len(day.problem.tasks)
    empty = Solution(tuple(() for _ in runs), tuple(range(n)), 0, "x")
    out = repair(day.problem, empty, deadline=Deadline(time.monotonic() - 1, 1.0))
    assert out.untried == frozenset(range(n))
    plan = make_plan(day, out.solution, validate_solution(day.problem, out.solution),
                     date=dt.date(2026, 12, 1), untried=out.untried)
    assert {r.code for r in plan.reasons.values()} <= {"time_limit", "skill"}
    assert sum(r.code == "time_limit" for r in plan.reasons.values()) == n


def test_repair_stops_at_an_expired_deadline():
    """With the deadline already passed the repair inserts nothing and returns at once."""
    from routing.repair import insert_dropped
    from routing.solver import Solution

    outlets = _outlets()
    errs = errands_from_frame(demo_errands(outlets, _demand(), n=20, seed=1),
                              hall_ids=outlets["id"])
    runs = runners_from_frame(demo_runners(outlets, n=3, seed=1), base_ids=outlets["id"])
    day = build_mod.build_day_problem(errs, runs, outlets, haversine_matrices)
    empty = Solution(tuple(() for _ in runs), tuple(range(len(day.problem.tasks))), 0, "x")
    gone = Deadline(time.monotonic() - 1, 1.0)
    t0 = time.monotonic()
    out = insert_dropped(day.problem, empty, deadline=gone)
    assert time.monotonic() - t0 < 1.0
    assert out.dropped == empty.dropped
    filled = insert_dropped(day.problem, empty, deadline=Deadline.never())
    assert len(filled.dropped) < len(empty.dropped)


def test_day_too_large_for_memory_is_refused_with_the_numbers(monkeypatch):
    """When the matrices would not fit, plan_day refuses before computing them, with sizes."""
    monkeypatch.setattr(build_mod, "available_bytes", lambda: 1000)
    outlets = _outlets()
    errs = errands_from_frame(demo_errands(outlets, _demand(), n=10, seed=1),
                              hall_ids=outlets["id"])
    runs = runners_from_frame(demo_runners(outlets, n=2, seed=1), base_ids=outlets["id"])

    def never(*_a, **_k):
        raise AssertionError("matrices computed although the day was refused")

    with pytest.raises(InputError,
                       match=r"\d+ errands make \d+ stops.*need about [\d.]+ MiB.*available"):
        plan_day(errs, runs, outlets, matrices=never, date=dt.date(2026, 12, 1))


def test_matrix_estimate_refuses_ten_thousand_errands_on_this_machine():
    """10,000 errands (~18,000 stops, 3 modes) need more than 23 GiB: refused, not attempted."""
    need = build_mod.matrix_bytes(18_000, 3)
    assert need > 30 * 2**30
    assert build_mod.matrix_bytes(3_600, 3) < 2 * 2**30  # 2,000 errands fit


@pytest.mark.parametrize(("args", "flag"), [
    (["routes", "--time-limit", "nan"], "--time-limit"),
    (["routes", "--time-limit", "inf"], "--time-limit"),
    (["routes", "--time-limit", "-1"], "--time-limit"),
    (["routes", "--time-limit", "0"], "--time-limit"),
    (["routes", "--demo-runners", "0"], "--demo-runners"),
    (["routes", "--seed", "-3"], "--seed"),
    (["routes", "--date", "2026-13-01"], "--date"),
    (["demo", "--time-limit", "nan"], "--time-limit"),
    (["demo", "--add", "0"], "--add"),
    (["site", "--add", "2", "--grid", "0"], "--grid"),
    (["site", "--add", "2", "--time-limit", "inf"], "--time-limit"),
])
def test_bad_arguments_exit_2_before_any_work(tmp_path, args, flag):
    """Bad arguments: exit 2 naming the flag, before the region is even read."""
    t0 = time.monotonic()
    res = CliRunner().invoke(app, [*args, "--region", str(tmp_path / "no-region"), "--out",
                                   str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert flag in res.output
    assert "Traceback" not in res.output
    assert time.monotonic() - t0 < 5
    assert not (tmp_path / "out").exists()


def _outlets():
    import pandas as pd

    return pd.DataFrame({"id": ["O1", "O2", "O3"], "name": ["甲", "乙", "丙"],
                         "kind": "service_hall", "lon": [104.05, 104.10, 104.15],
                         "lat": [30.65, 30.70, 30.66]})


def _demand():
    import pandas as pd

    return pd.DataFrame({"id": [f"D{i}" for i in range(5)],
                         "lon": [104.06, 104.08, 104.11, 104.13, 104.14],
                         "lat": [30.66, 30.68, 30.69, 30.67, 30.65],
                         "population": [100, 200, 300, 400, 500]})
