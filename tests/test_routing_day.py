"""plan_day end to end on a synthetic area; the demo generator; the `routes` command."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from test_routing_helpers import synthetic_area
from typer.testing import CliRunner

from routing import (
    SolveParams,
    demo_errands,
    demo_runners,
    errands_from_frame,
    haversine_matrices,
    plan_day,
    runners_from_frame,
)
from routing.reasons import BOOKED

DAY = dt.date(2026, 11, 26)
REGION = str(Path(__file__).resolve().parents[1] / "data" / "chengdu")


@pytest.fixture(scope="module")
def area():
    """Outlets and demand of a synthetic area."""
    return synthetic_area()


def _records(area, n_e: int, n_r: int, seed: int = 1):
    outlets, demand = area
    e = errands_from_frame(demo_errands(outlets, demand, n=n_e, seed=seed),
                           hall_ids=outlets["id"])
    r = runners_from_frame(demo_runners(outlets, n=n_r, seed=seed), base_ids=outlets["id"])
    return e, r


def test_demo_is_reproducible_and_labelled(area) -> None:
    """Same seed, same tables; every row says illustrative."""
    outlets, demand = area
    a = demo_errands(outlets, demand, n=20, seed=5)
    b = demo_errands(outlets, demand, n=20, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(demo_errands(outlets, demand, n=20, seed=6))
    assert (a["illustrative"] == "yes").all()
    assert (demo_runners(outlets, n=3, seed=5)["illustrative"] == "yes").all()


def test_plan_day_serves_everything_feasible(area) -> None:
    """30 errands, 5 runners: a valid plan, each errand served or left out with a reason."""
    errands, runners = _records(area, 30, 5)
    plan = plan_day(errands, runners, area[0], matrices=haversine_matrices, date=DAY,
                    params=SolveParams(time_limit_s=2.0))
    assert plan.check.ok
    served = {s.errand_id for r in plan.routes for s in r.stops}
    assert served | set(plan.dropped) == {e.id for e in errands}
    assert not served & set(plan.dropped)
    assert BOOKED not in {r.basis for r in plan.reasons.values()}
    assert plan.illustrative
    for r in plan.routes:  # lunch breaks recomputed inside their windows
        lunch = next(x for x in runners if x.id == r.runner_id).lunch
        if r.stops and lunch:
            assert lunch[0] <= r.break_start_s <= lunch[1] - lunch[2]


def test_skill_nobody_has_is_dropped_up_front(area) -> None:
    """An errand needing a skill no runner has is left out as 'no runner with the skill'."""
    errands, runners = _records(area, 6, 2)
    from dataclasses import replace

    errands[0] = replace(errands[0], skill="退役军人")
    runners = [replace(r, skills=frozenset({"不动产"})) for r in runners]
    plan = plan_day(errands, runners, area[0], matrices=haversine_matrices, date=DAY,
                    params=SolveParams(time_limit_s=1.0))
    why = plan.reasons[errands[0].id]
    assert why.code == "skill" and why.basis == "no runner with the skill" and "退役军人" in why.en


def test_routes_command_writes_everything(tmp_path: Path) -> None:
    """`bianmin routes` on the bundled region writes plan.json, routes.xlsx and sheets."""
    from bianmin.cli import app

    res = CliRunner().invoke(app, [
        "routes", "--region", REGION, "--out", str(tmp_path), "--time-limit", "1",
        "--date", "2026-11-26",
        "--demo-errands", "8", "--demo-runners", "2", "--no-pdf", "--quiet"])
    assert res.exit_code == 0, res.output
    d = tmp_path / "routes"
    plan = json.loads((d / "plan.json").read_text(encoding="utf-8"))
    assert plan["plan_check_ok"] and plan["illustrative"] and plan["date"] == "2026-11-26"
    assert (d / "routes.xlsx").exists() and (d / "sheets" / "R01.html").exists()
    text = (d / "plan.json").read_text(encoding="utf-8")
    assert "示例居民" not in text and "contact_phone" not in text  # personal data only on sheets


def test_routes_command_bad_input_exits_2(tmp_path: Path) -> None:
    """A bad errands file gives exit code 2 and a one-line reason naming file, row, column."""
    from bianmin.cli import app

    bad = tmp_path / "errands.csv"
    bad.write_text("id,kind,pickup_lon,pickup_lat,service_minutes,priority,pickup_earliest,"
                   "pickup_latest\nE1,home_visit,104.07,30.68,10,2,11:00,09:00\n",
                   encoding="utf-8")
    res = CliRunner().invoke(app, ["routes", "--region", REGION, "--errands", str(bad),
                                   "--out", str(tmp_path), "--time-limit", "1", "--no-pdf",
                                   "--quiet"])
    assert res.exit_code == 2
    assert "row 1" in res.output and "pickup_latest" in res.output
