"""Why was a task left out? Independent checks, from the hardest reason to the softest.

Two levels. :func:`drop_reasons` works on a bare :class:`~routing.problem.RoutingProblem` and
returns short codes:

1. ``outside every shift``: no allowed vehicle's shift overlaps the task's windows.
2. ``unreachable``: for every allowed vehicle some leg of base -> stops -> base has no path.
3. ``not enough time``: no allowed vehicle could serve the task even alone (out from its base and
   back, windows, halls' hours, shift and break respected), recomputed by
   :func:`routing.validate.schedule_route`.
4. ``runners at their most errands``: every vehicle that could serve it alone already has its
   most tasks in the plan.
5. ``runners fully booked``: some vehicle could serve it alone, but not on top of its plan,
   and no swap with a planned errand of no higher priority made room (see :mod:`routing.repair`).
6. ``time limit reached``: the run's deadline came before the task was tried (given by the
   caller, who knows which tasks the repair did not reach; never inferred here).

("no runner with the skill" is found before solving, in :mod:`routing.build`.)

:func:`explain_dropped` works on a day (runners and errands by name) and gives each errand left
out a :class:`Reason` in Chinese and English that names the cause, found by checking each runner
*alone* (ignoring skills, then with them):

- ``hall_closed``: the hall is closed all day (left out before solving, :mod:`routing.halls`) or
  during the errand's window (no runner could serve it alone with the hall's hours, but one
  could without them);
- ``skill``: a runner without the skill could serve it, but the runners with the skill cannot
  (named, each with why: full, at most errands, window, shift); or nobody has the skill;
- ``unreachable``: from no base can any allowed runner reach the stops within their windows;
- ``shift``: the window lies outside every shift, or the runners reach it but cannot finish and
  be back (break included) by the end of their shift;
- ``capacity``: some allowed runner could serve it alone, but every such runner's day is full;
- ``time_limit``: the time limit came before the errand could be planned (before the matrices
  were done, or before the greedy insertion reached it).

Each errand's runners are screened at once, as arrays (:func:`_alone_all`: the same earliest
schedule as :func:`routing.validate.schedule_route` for the errand alone, the break tried in
every gap), so explaining a thousand errands left out takes well under a second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .problem import UNREACHABLE, RoutingProblem

if TYPE_CHECKING:  # the day and the solution are handed in; these modules import this one
    from .build import DayProblem
    from .solver import Solution
    from .tables import Errand

__all__ = ["drop_reasons", "explain_dropped", "Reason", "hall_closed_reason", "OUTSIDE_SHIFT",
           "UNREACHABLE_REASON", "NOT_ENOUGH_TIME", "BOOKED", "AT_MOST", "TIME_LIMIT", "CAUSES",
           "missing_skill_reason", "time_limit_reason"]

OUTSIDE_SHIFT = "outside every shift"
UNREACHABLE_REASON = "unreachable"
NOT_ENOUGH_TIME = "not enough time"
BOOKED = "runners fully booked"
AT_MOST = "runners at their most errands"
TIME_LIMIT = "time limit reached"

# runner status codes for an errand served alone (ranked: lower is closer to "can do it")
_OK, _LOAD, _SHIFT_END, _HALL, _LATE, _NO_PATH, _OUTSIDE = range(7)
_STATUS = ("ok", "load", "shift_end", "hall", "late", "no_path", "outside_shift")


def _gather(p: RoutingProblem, ks: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Travel time a[i] -> b[i] on vehicle ks[i]'s mode."""
    out = np.empty(len(ks), dtype=np.int64)
    modes = np.asarray(p.vehicle_mode, dtype=object)[ks]
    for mode in set(modes.tolist()):
        sel = modes == mode
        out[sel] = p.travel[mode][a[sel], b[sel]]
    return out


def _alone_all(p: RoutingProblem, nodes: tuple[int, ...], *, ignore_hours: bool = False
               ) -> np.ndarray:
    """Status code per vehicle serving the task alone, skills ignored (all vehicles at once).

    The same walk as :func:`routing.validate.schedule_route` (earliest schedule, wait when
    early, halls' hours, the break tried in every gap, the issues of the first placement when
    none works), on arrays over the vehicles.
    """
    v = p.n_vehicles
    ks = np.arange(v)
    lo_k = np.asarray(p.vehicle_shift[:, 0], dtype=np.int64)
    hi_k = np.asarray(p.vehicle_shift[:, 1], dtype=np.int64)
    w = p.windows[list(nodes)]
    status = np.full(v, _OK, dtype=np.int64)
    outside = (w[:, 0].max() > hi_k) | (w[:, 1].min() < lo_k)
    starts = np.asarray(p.vehicle_start, dtype=np.int64)
    ends = np.asarray(p.vehicle_end, dtype=np.int64)
    path = [starts, *[np.full(v, x, dtype=np.int64) for x in nodes], ends]
    legs = [_gather(p, ks, path[i], path[i + 1]) for i in range(len(path) - 1)]
    no_path = np.zeros(v, dtype=bool)
    for leg in legs:
        no_path |= leg >= UNREACHABLE
    load = np.zeros(v, dtype=bool)
    if p.demand is not None and p.vehicle_capacity is not None:
        load = int(np.asarray(p.demand)[nodes[0]]) > np.asarray(p.vehicle_capacity)
    brks = p.vehicle_breaks or (None,) * v
    b_lo = np.array([0 if b is None else b.earliest for b in brks], dtype=np.int64)
    b_hi = np.array([np.iinfo(np.int64).max if b is None else b.latest for b in brks],
                    dtype=np.int64)
    b_dur = np.array([0 if b is None else b.duration for b in brks], dtype=np.int64)
    opens = {} if ignore_hours else (p.node_open or {})
    ok_any = np.zeros(v, dtype=bool)
    first: np.ndarray | None = None
    for gap in range(len(nodes) + 1):  # a zero break in any gap is the walk without one
        t = lo_k.copy()
        hall = np.zeros(v, dtype=bool)
        late = np.zeros(v, dtype=bool)
        shift_end = np.zeros(v, dtype=bool)
        for i, leg in enumerate(legs):
            f = t
            arrive = f + leg
            if gap == i:
                bstart = np.maximum(b_lo, f)
                shift_end |= bstart > b_hi
                arrive = np.maximum(arrive, bstart) + b_dur
            if i + 1 < len(legs):
                x = nodes[i]
                s = np.maximum(arrive, int(p.windows[x, 0]))
                if x in opens:
                    los = np.array([lo for lo, _ in opens[x]], dtype=np.int64)
                    his = np.array([hi for _, hi in opens[x]], dtype=np.int64)
                    j = np.searchsorted(his, s, side="left")
                    found = j < len(his)
                    s_open = np.maximum(s, los[np.minimum(j, len(los) - 1)])
                    bad = ~found | (s_open > int(p.windows[x, 1]))
                    hall |= bad
                    s = np.where(bad, s, s_open)
                late |= s > int(p.windows[x, 1])
                t = s + int(p.service[x])
            else:
                t = arrive
        shift_end |= t > hi_k
        clean = ~(hall | late | shift_end)
        ok_any |= clean
        if first is None:
            first = np.select([hall, late, shift_end], [_HALL, _LATE, _SHIFT_END], _OK)
    assert first is not None  # the gap loop runs at least once
    status = np.where(ok_any, _OK, first)
    status = np.where(load, _LOAD, status)
    status = np.where(no_path, _NO_PATH, status)
    return np.where(outside, _OUTSIDE, status)


def _basis(p: RoutingProblem, t: int, st: np.ndarray, counts: list[int] | None) -> str:
    """The :func:`drop_reasons` code from the statuses of every vehicle."""
    allowed = np.asarray(p.allowed(t), dtype=np.int64)
    sa = st[allowed]
    if (sa == _OUTSIDE).all():
        return OUTSIDE_SHIFT
    if ((sa == _OUTSIDE) | (sa == _NO_PATH)).all():
        return UNREACHABLE_REASON
    alone = allowed[sa == _OK]
    if not len(alone):
        return NOT_ENOUGH_TIME
    if counts is not None and p.vehicle_max_tasks is not None and all(
            counts[k] >= int(p.vehicle_max_tasks[k]) for k in alone):
        return AT_MOST
    return BOOKED


def drop_reasons(p: RoutingProblem, dropped: list[int] | tuple[int, ...],
                 routes: tuple[tuple[int, ...], ...] | None = None) -> dict[int, str]:
    """Reason per dropped task index (see the module docstring for the order of checks).

    Parameters
    ----------
    p
        The problem.
    dropped
        Task indices left out.
    routes
        The plan's routes (per vehicle, nodes), to tell "at their most errands" apart.
    """
    counts = None
    if routes is not None:
        counts = _counts(p, routes)
    return {t: _basis(p, t, _alone_all(p, tuple(p.tasks[t])), counts) for t in dropped}


def _counts(p: RoutingProblem, routes: Sequence[Sequence[int]]) -> list[int]:
    """Tasks per route (a pair counts once)."""
    first = {nodes[0] for nodes in p.tasks}
    return [sum(1 for x in r if x in first) for r in routes]


# --- reasons for people: the cause, named, in Chinese and English -------------------------

#: The causes :func:`explain_dropped` tells apart.
CAUSES = ("hall_closed", "skill", "unreachable", "shift", "capacity", "time_limit")
_WEEKDAY_ZH = "一二三四五六日"


@dataclass(frozen=True)
class Reason:
    """Why an errand was left out.

    Attributes
    ----------
    code
        One of :data:`CAUSES`.
    zh, en
        The explanation in Chinese and in English.
    basis
        The low-level check behind it (a :func:`drop_reasons` code, ``"no runner with the
        skill"`` or ``"hall closed"``).
    """

    code: str
    zh: str
    en: str
    basis: str = ""

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


def _hm(s: int) -> str:
    return f"{int(s) // 3600:02d}:{(int(s) % 3600) // 60:02d}"


def _span(w: Sequence[int]) -> str:
    return f"{_hm(w[0])}–{_hm(w[1])}"


def hall_closed_reason(hall: str, *, day: dt.date | None, all_day: bool,
                       window: tuple[int, int] | None = None,
                       hours: tuple[tuple[int, int], ...] = (), service: int = 0) -> Reason:
    """The hall-closed reason: closed all day on ``day``, or during ``window``."""
    if all_day:
        d_zh = "" if day is None else f"{day.isoformat()}（周{_WEEKDAY_ZH[day.weekday()]}）"
        d_en = "" if day is None else f" on {day.isoformat()} ({day.strftime('%A')})"
        return Reason("hall_closed", f"办事大厅「{hall}」{d_zh}全天不开放",
                      f"hall closed: {hall} is closed all day{d_en}", "hall closed")
    opens = "、".join(_span(h) for h in hours)
    win = "" if window is None else _span(window)
    return Reason("hall_closed",
                  f"办事大厅「{hall}」在时间窗 {win} 内不开放（开放 {opens}，"
                  f"办理需 {service // 60} 分钟）",
                  f"hall closed in the window: {hall} is not open for {service // 60} min within "
                  f"{win} (open {', '.join(_span(h) for h in hours)})", "hall closed")


def missing_skill_reason(skill: str) -> Reason:
    """Nobody on shift has the errand's skill."""
    return Reason("skill", f"缺少技能：没有当班跑手具备「{skill}」技能",
                  f"missing skill: no runner on shift has the {skill} skill",
                  "no runner with the skill")


_RANK = {"ok": 0, "load": 1, "shift_end": 2, "hall": 3, "late": 4, "no_path": 5,
         "outside_shift": 6}
_WHY = {  # runner status -> (zh, en) of why it cannot take the errand
    "late": ("无法在时间窗内赶到", "cannot reach it within its window"),
    "no_path": ("无路可达", "has no road to it"),
    "outside_shift": ("班次不在时间窗内", "works outside the window"),
    "shift_end": ("班次太短，来不及办完返回", "has too short a shift to serve it and return"),
    "hall": ("赶到时大厅不开放", "reaches the hall only while it is closed"),
    "load": ("载量不足", "has too little capacity"),
}


def time_limit_reason(before: str = "") -> Reason:
    """The time limit came before the errand was planned (``before``: the step it came in)."""
    zh = {"matrices": "（路网行程时间尚未算完）"}.get(before, "")
    en = {"matrices": " (before the travel times were computed)"}.get(before, "")
    return Reason("time_limit", f"时限已到：规划时间用完，未能安排此件{zh}",
                  f"time limit reached: the planning time ran out before this errand could be "
                  f"planned{en}", TIME_LIMIT)


def _full(runner: str, count: int, most: int | None) -> tuple[str, str]:
    if most is not None and count >= most:
        return (f"{runner} 已满（{count}/{most} 件）", f"{runner} is full ({count} of {most} errands)")
    return (f"{runner} 当天已排满", f"{runner} is fully booked (no room left in its day)")


def _has_room(count: int, most: int | None) -> bool:
    return most is None or count < most


def _explain_task(day: DayProblem, t: int, counts: list[int], e: Errand, ids: list[str],
                  most: list[int | None]) -> Reason:
    p: RoutingProblem = day.problem
    nodes = tuple(p.tasks[t])
    allowed = set(p.allowed(t))
    codes = _alone_all(p, nodes)
    st = {k: _STATUS[int(c)] for k, c in enumerate(codes)}
    basis = _basis(p, t, codes, counts)
    others_ok = [k for k in range(p.n_vehicles) if k not in allowed and st[k] == "ok"
                 and _has_room(counts[k], most[k])]
    if e.skill and others_ok:
        holders = sorted(allowed)
        parts = [_full(ids[k], counts[k], most[k]) if st[k] == "ok" else
                 (f"{ids[k]} {_WHY[st[k]][0]}", f"{ids[k]} {_WHY[st[k]][1]}") for k in holders]
        who = "、".join(ids[k] for k in holders)
        who_en = ", ".join(ids[k] for k in holders)
        free = ", ".join(ids[k] for k in others_ok[:3])
        return Reason("skill",
                      f"缺少技能：只有 {who} 具备「{e.skill}」技能，"
                      + "；".join(z for z, _ in parts) + f"（{'、'.join(ids[k] for k in others_ok[:3])}"
                      f" 有空但无此技能）",
                      f"missing skill: only {who_en} {'has' if len(holders) == 1 else 'have'} the "
                      f"{e.skill} skill and " + "; ".join(x for _, x in parts)
                      + f" ({free} could take it but lack the skill)", basis)
    best = min((st[k] for k in allowed), key=lambda s: _RANK[s])
    names = ", ".join(ids[k] for k in sorted(allowed))
    if best == "ok":
        ok = [k for k in sorted(allowed) if st[k] == "ok"]
        at_most = not any(_has_room(counts[k], most[k]) for k in ok)
        who = ", ".join(ids[k] for k in ok)
        if at_most:
            return Reason("capacity", f"运力不足：能办的跑手（{who}）都已达到当日件数上限",
                          f"capacity: every runner who could take it ({who}) is at their most "
                          "errands", basis)
        return Reason("capacity", f"运力不足：能办的跑手（{who}）当天都已排满",
                      f"capacity: every runner who could take it ({who}) is fully booked", basis)
    if best == "load":
        return Reason("capacity", "运力不足：跑手载量不足",
                      f"capacity: too heavy for every runner ({names})", basis)
    hall_nodes = [x for x in nodes if p.node_open and x in p.node_open]
    if best in ("hall", "late") and hall_nodes:
        relaxed = _alone_all(p, nodes, ignore_hours=True)
        if any(int(relaxed[k]) == _OK for k in allowed):
            hall = day.outlet_names.get(e.hall_id, e.hall_id)
            w = tuple(int(x) for x in p.windows[hall_nodes[0]])
            return Reason("hall_closed",
                          f"办事大厅「{hall}」在时间窗 {_span(w)} 内无人能赶在开放时办理",
                          f"hall closed in the window: no runner can be at {hall} while it is "
                          f"open within {_span(w)}", basis)
    if best == "shift_end":
        ends = ", ".join(f"{ids[k]} {_hm(int(p.vehicle_shift[k, 1]))}" for k in sorted(allowed))
        return Reason("shift", f"班次太短：跑手能赶到，但无法在下班前办完并返回（{ends}）",
                      f"shift too short: runners reach it but cannot serve it and be back "
                      f"by the end of their shift ({ends})", basis)
    if best == "outside_shift":
        return Reason("shift", f"时间窗 {_span(tuple(p.windows[nodes[0]]))} 不在任何跑手的班次内",
                      f"shift: the window {_span(tuple(p.windows[nodes[0]]))} lies outside "
                      f"every runner's shift ({names})", basis)
    first = nodes[0]
    arrive = [int(p.vehicle_shift[k, 0]) + int(p.travel[p.vehicle_mode[k]][
        int(p.vehicle_start[k]), first]) for k in allowed
        if p.travel[p.vehicle_mode[k]][int(p.vehicle_start[k]), first] < UNREACHABLE]
    w = tuple(int(x) for x in p.windows[first])
    if arrive:
        return Reason("unreachable",
                      f"时间窗无法到达：从各跑手基地最早 {_hm(min(arrive))} 才能到，时间窗为 {_span(w)}",
                      f"window unreachable from every base: the earliest arrival is "
                      f"{_hm(min(arrive))}, the window {_span(w)}", basis)
    return Reason("unreachable", "无法到达：没有跑手的基地有路通往该地点",
                  f"unreachable: no road from any runner's base ({names})", basis)


def explain_dropped(day: DayProblem, sol: Solution,
                    untried: Collection[int] = ()) -> dict[str, Reason]:
    """A :class:`Reason` per errand left out of a day's plan (see the module docstring).

    Parameters
    ----------
    day
        The :class:`routing.build.DayProblem` (its ``pre_dropped`` values are a Reason or
        ``"no runner with the skill"``).
    sol
        The final :class:`routing.solver.Solution`.
    untried
        Tasks the time limit left untried (:class:`routing.repair.Repaired`): the reason
        "time limit reached".
    """
    p: RoutingProblem = day.problem
    out: dict[str, Reason] = {}
    for eid, why in day.pre_dropped.items():
        if isinstance(why, Reason):
            out[eid] = why
            continue
        out[eid] = Reason("skill", "缺少技能：没有跑手具备所需技能",
                          "missing skill: no runner on shift has the skill", str(why))
    counts = _counts(p, sol.routes)
    errands = {e.id: e for e in day.errands}
    ids = [r.id for r in day.runners]
    most = [None if p.vehicle_max_tasks is None else int(p.vehicle_max_tasks[k])
            for k in range(p.n_vehicles)]
    late = set(untried)
    for t in sol.dropped:
        eid = day.task_errand[t]
        out[eid] = (time_limit_reason() if t in late
                    else _explain_task(day, t, counts, errands[eid], ids, most))
    return out
