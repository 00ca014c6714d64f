"""Reasons that name the cause, one hand case per cause, in Chinese and English."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from routing import SolveParams, haversine_matrices, plan_day
from routing.tables import Errand, Runner

H = 3600
MONDAY = dt.date(2026, 12, 7)
BASE = (104.07, 30.67)
OUTLETS = pd.DataFrame({"id": ["O1"], "name": ["成华区政务服务中心"], "kind": ["service_hall"],
                        "lon": [BASE[0]], "lat": [BASE[1]],
                        "hours": ["周一至周五 09:00-12:00, 13:30-17:30"]})


def _visit(eid: str, *, lon: float = 104.072, window=(9 * H, 17 * H), service_min: int = 10,
           skill: str = "") -> Errand:
    return Errand(eid, "home_visit", (lon, 30.671), None, "", window, (0, 24 * H),
                  service_min * 60, skill, 2)


def _runner(rid: str, *, skills=(), shift=(9 * H, 17 * H), most=None) -> Runner:
    return Runner(rid, rid, "O1", shift, "ebike", frozenset(skills), most, None)


def _plan(errands, runners):
    return plan_day(errands, runners, OUTLETS, matrices=haversine_matrices, date=MONDAY,
                    params=SolveParams(time_limit_s=1.0, solution_limit=50))


def test_skill_only_r07_has_it_and_r07_is_full() -> None:
    """Only R07 has 工程建设 and takes one errand (its most); R05 is idle: the skill is named."""
    errands = [_visit("E1", skill="工程建设"), _visit("E2", skill="工程建设", lon=104.073)]
    plan = _plan(errands, [_runner("R05", skills={"社保"}), _runner("R07", skills={"工程建设"},
                                                                     most=1)])
    assert plan.check.ok
    (eid,) = plan.dropped
    why = plan.reasons[eid]
    assert why.code == "skill"
    assert "only R07 has the 工程建设 skill and R07 is full (1 of 1 errands)" in why.en
    assert "R05 could take it but lack the skill" in why.en
    assert "只有 R07 具备「工程建设」技能" in why.zh and "R07 已满（1/1 件）" in why.zh
    assert plan.dropped[eid] == f"{why.zh} / {why.en}"


def test_window_unreachable_from_every_base() -> None:
    """A visit 10 km out whose window closes 10 minutes after the shift starts."""
    plan = _plan([_visit("E1", lon=104.17, window=(9 * H, 9 * H + 600))], [_runner("R01")])
    why = plan.reasons["E1"]
    assert why.code == "unreachable" and "window unreachable from every base" in why.en
    assert "09:00–09:10" in why.en and "时间窗无法到达" in why.zh


def test_hall_closed_in_the_window() -> None:
    """Delivery to a hall due 12:00–13:20 while it closes 12:00–13:30 for lunch."""
    e = Errand("E1", "pickup_to_hall", (104.072, 30.671), None, "O1", (10 * H, 12 * H),
               (12 * H, 13 * H + 1200), 600, "", 2)
    plan = _plan([e, _visit("E2")], [_runner("R01")])
    why = plan.reasons["E1"]
    assert why.code == "hall_closed" and "hall closed in the window" in why.en
    assert "12:00–13:20" in why.en and "成华区政务服务中心" in why.zh
    assert "E2" not in plan.dropped


def test_shift_too_short() -> None:
    """Two hours of service in a one-hour shift: reachable, but it cannot be finished."""
    plan = _plan([_visit("E1", service_min=120, window=(9 * H, 10 * H))],
                 [_runner("R01", shift=(9 * H, 10 * H))])
    why = plan.reasons["E1"]
    assert why.code == "shift" and "shift too short" in why.en and "R01 10:00" in why.en
    assert "班次太短" in why.zh


def test_capacity() -> None:
    """One runner allowed one errand, two errands: the other is left out for capacity."""
    plan = _plan([_visit("E1"), _visit("E2", lon=104.073)], [_runner("R01", most=1)])
    (eid,) = plan.dropped
    why = plan.reasons[eid]
    assert why.code == "capacity" and "R01" in why.en and "most errands" in why.en
    assert "运力不足" in why.zh


@pytest.mark.parametrize("day", [dt.date(2026, 12, 6), dt.date(2026, 10, 1)])
def test_hall_closed_all_day_on_sunday_and_holiday(day: dt.date) -> None:
    """On a Sunday and on National Day the hall errand is left out, closed all day."""
    e = Errand("E1", "pickup_to_hall", (104.072, 30.671), None, "O1", (9 * H, 12 * H),
               (9 * H, 17 * H), 600, "", 2)
    plan = plan_day([e], [_runner("R01")], OUTLETS, matrices=haversine_matrices, date=day,
                    params=SolveParams(time_limit_s=1.0))
    why = plan.reasons["E1"]
    assert why.code == "hall_closed" and f"closed all day on {day.isoformat()}" in why.en
