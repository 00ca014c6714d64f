"""Re-planning at noon: done stops kept, on-board deliveries kept with their runner, new
errands served or left out with a reason, the whole day valid; the `routes replan` command."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from test_routing_helpers import synthetic_area
from typer.testing import CliRunner

from gis.errors import InputError
from routing import (
    demo_errands,
    demo_runners,
    errands_from_frame,
    haversine_matrices,
    plan_day,
    runners_from_frame,
)
from routing.io import public_plan
from routing.region_day import plan_region_routes, region_outlets
from routing.replan import read_status, replan_day, replan_region_routes
from routing.solver import SolveParams

DAY = dt.date(2026, 11, 2)  # a Monday
NOON = 12 * 3600
REGION = str(Path(__file__).resolve().parents[1] / "data" / "chengdu")


def noon_status(morning: dict) -> dict[str, str]:
    """First half of each route done (errands wholly in it); two straddling errands on board."""
    status: dict[str, str] = {}
    straddle: list[str] = []
    for r in morning["routes"]:
        stops = r["stops"]
        first = [s["errand_id"] for s in stops[: len(stops) // 2]]
        second = {s["errand_id"] for s in stops[len(stops) // 2:]}
        for e in first:
            if e in second:
                straddle.append(e)
            else:
                status[e] = "done"
    assert len(straddle) >= 2
    for e in straddle[:2]:
        status[e] = "picked_up"
    return status


def check_noon_plan(morning: dict, status: dict[str, str], plan, new_ids: set[str]) -> None:
    """What every noon re-plan must show (independently of the solver)."""
    assert plan.check.ok
    before = {r["runner_id"]: r for r in morning["routes"]}
    for r in plan.routes:
        done = [(s["errand_id"], s["role"]) for s in before.get(r.runner_id, {"stops": []})
                ["stops"] if status.get(s["errand_id"]) == "done"
                or (status.get(s["errand_id"]) == "picked_up" and s["role"] == "pickup")]
        got = [(s.errand_id, s.role) for s in r.stops]
        assert got[: len(done)] == done  # done stops unchanged: same runner, same order
        for s in r.stops[len(done):]:
            assert s.arrival_s >= NOON  # nothing left to do is put before noon
    where = {(s.errand_id, s.role): r.runner_id for r in plan.routes for s in r.stops}
    for e, st in status.items():
        if st == "picked_up":
            carrier = next(r["runner_id"] for r in morning["routes"]
                           if any(s["errand_id"] == e for s in r["stops"]))
            assert where[(e, "delivery")] == carrier == where[(e, "pickup")]
    served = {e for e, _ in where}
    for e in new_ids:
        assert (e in served) != (e in plan.dropped)
        if e in plan.dropped:
            assert plan.reasons[e].zh and plan.reasons[e].en


def _new_rows(outlets, demand, n: int = 5) -> pd.DataFrame:
    df = demo_errands(outlets, demand, n=n, seed=77).copy()
    df["id"] = [f"N{i}" for i in range(1, n + 1)]
    for c in ("pickup_earliest", "delivery_earliest"):
        df[c] = "12:30"
    for c in ("pickup_latest", "delivery_latest"):
        df[c] = "17:30"
    df["skill"] = ""
    return df


@pytest.fixture(scope="module")
def area():
    """Outlets and demand of a synthetic area."""
    return synthetic_area()


def test_replan_synthetic_keeps_done_and_on_board(area) -> None:
    """On a synthetic area: noon re-plan keeps what was done and who carries what."""
    outlets, demand = area
    errands = errands_from_frame(demo_errands(outlets, demand, n=24, seed=2),
                                 hall_ids=outlets["id"])
    runners = runners_from_frame(demo_runners(outlets, n=4, seed=2), base_ids=outlets["id"])
    plan = plan_day(errands, runners, outlets, matrices=haversine_matrices, date=DAY,
                    params=SolveParams(time_limit_s=3))
    morning = public_plan(plan)
    status = noon_status(morning)
    new = errands_from_frame(_new_rows(outlets, demand), hall_ids=outlets["id"])
    status.update({e.id: "new" for e in new})
    again = replan_day(morning, errands, runners, outlets, status=status, new=new, at=NOON,
                       matrices=haversine_matrices, params=SolveParams(time_limit_s=3))
    check_noon_plan(morning, status, again, {e.id for e in new})
    assert again.meta["replan_at"] == "12:00"
    assert set(again.meta["picked_up"]) == {e for e, s in status.items() if s == "picked_up"}


def test_failed_errand_leaves_the_plan(area) -> None:
    """A failed errand is in no route of the re-plan and is listed as failed."""
    outlets, demand = area
    errands = errands_from_frame(demo_errands(outlets, demand, n=10, seed=4),
                                 hall_ids=outlets["id"])
    runners = runners_from_frame(demo_runners(outlets, n=2, seed=4), base_ids=outlets["id"])
    plan = plan_day(errands, runners, outlets, matrices=haversine_matrices, date=DAY,
                    params=SolveParams(time_limit_s=2))
    morning = public_plan(plan)
    victim = morning["routes"][0]["stops"][-1]["errand_id"] if morning["routes"][0]["stops"] \
        else morning["routes"][1]["stops"][-1]["errand_id"]
    again = replan_day(morning, errands, runners, outlets, status={victim: "failed"}, new=[],
                       at=10 * 3600, matrices=haversine_matrices,
                       params=SolveParams(time_limit_s=2))
    assert again.check.ok and again.meta["failed"] == [victim]
    assert victim not in {s.errand_id for r in again.routes for s in r.stops}


def test_contradicting_statuses_are_input_errors(area) -> None:
    """Unknown ids, a home visit 'picked up', a bad status: every problem at once."""
    outlets, demand = area
    errands = errands_from_frame(demo_errands(outlets, demand, n=6, seed=5),
                                 hall_ids=outlets["id"])
    runners = runners_from_frame(demo_runners(outlets, n=2, seed=5), base_ids=outlets["id"])
    morning = {"date": DAY.isoformat(), "routes": [], "dropped": []}
    visit = next(e.id for e in errands if e.kind == "home_visit")
    with pytest.raises(InputError) as exc:
        replan_day(morning, errands, runners, outlets, status={"ZZZ": "done", visit: "done"},
                   new=[], at=NOON, matrices=haversine_matrices)
    text = " ".join(p.message for p in exc.value.problems)
    assert "unknown errand 'ZZZ'" in text and "on nobody's route" in text


def test_read_status_checks_rows(tmp_path: Path) -> None:
    """A status file with an unknown status and a bad new errand names rows and columns."""
    f = tmp_path / "status.csv"
    f.write_text("errand_id,status,kind,pickup_lon,pickup_lat,service_minutes,priority\n"
                 "E1,done,,,,,\nE2,lost,,,,,\nN1,new,home_visit,104.1,30.6,20,7\n",
                 encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_status(str(f))
    got = {(p.row, p.column) for p in exc.value.problems}
    assert (2, "status") in got and any(c == "priority" for _, c in got)


@pytest.mark.slow
def test_replan_default_region_at_noon(chengdu, tmp_path: Path) -> None:
    """data/chengdu: half of each route done, two on board, five new; the CLI writes it."""
    morning = public_plan(plan_region_routes(chengdu, day=DAY, time_limit=8))
    status = noon_status(morning)
    outlets, _ = region_outlets(chengdu)
    new_df = _new_rows(outlets, chengdu.demand)
    rows = [{"errand_id": e, "status": s} for e, s in status.items()]
    new_df = new_df.rename(columns={"id": "errand_id"}).assign(status="new")
    table = pd.concat([pd.DataFrame(rows), new_df], ignore_index=True).fillna("")
    status_csv = tmp_path / "STATUS.csv"
    table.to_csv(status_csv, index=False)
    states, new = read_status(str(status_csv), hall_ids=tuple(outlets["id"]))
    assert len(new) == 5
    plan = replan_region_routes(chengdu, morning, status=states, new=new, at=NOON,
                                time_limit=8)
    check_noon_plan(morning, states, plan, {e.id for e in new})
    # the command does the same from the files
    from bianmin.cli import app

    (tmp_path / "plan.json").write_text(json.dumps(morning, ensure_ascii=False),
                                        encoding="utf-8")
    res = CliRunner().invoke(app, ["routes", "replan", "--plan", str(tmp_path / "plan.json"),
                                   "--status", str(status_csv), "--at", "12:00", "--region",
                                   REGION, "--out", str(tmp_path / "out"), "--time-limit", "8",
                                   "--no-pdf"])
    assert res.exit_code == 0, res.output
    written = json.loads((tmp_path / "out" / "routes" / "plan.json").read_text("utf-8"))
    assert written["plan_check_ok"] and "moved to another runner" in res.output
    bad = CliRunner().invoke(app, ["routes", "replan", "--plan", str(tmp_path / "plan.json"),
                                   "--status", str(status_csv), "--at", "25:99", "--region",
                                   REGION, "--out", str(tmp_path / "o2")])
    assert bad.exit_code == 2 and "--at" in bad.output
