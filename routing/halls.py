"""Halls' opening hours in a day's routing.

An errand's hall end (the delivery of a ``pickup_to_hall`` errand, the pickup of a
``hall_to_home`` errand, when ``hall_id`` names the outlet) is a stop at a hall: its service must
start and end inside one open interval of the hall on the plan's date (weekly hours from
:mod:`gis.hours`, public holidays and make-up working days from :mod:`gis.workdays`). So each
such node may start its service in ``[open, close - service]`` of some interval, intersected with
its window: :func:`hall_start_intervals`. Errands whose hall is closed all day, or closed for the
whole of their window, are left out before solving (:func:`screen_errands`); the others carry
their intervals in ``RoutingProblem.node_open``, which the OR-Tools model
(:func:`constrain_hall_stops`) and the independent check (:mod:`routing.validate`) both obey.
A hall with blank hours is unconstrained (hours unknown, not closed).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from gis.errors import InputError
from gis.hours import HolidayCalendar, parse_hours_column
from gis.workdays import MainlandCalendar

from .problem import RoutingProblem
from .reasons import Reason, hall_closed_reason, missing_skill_reason
from .tables import Errand, fmt_hhmm

if TYPE_CHECKING:  # routing.build is above this module (it is handed a DayProblem, not imports it)
    from .build import DayProblem

__all__ = ["hall_day_intervals", "hall_roles", "hall_start_intervals", "screen_errands",
           "attach_hall_intervals", "constrain_hall_stops"]

log = logging.getLogger(__name__)

Intervals = tuple[tuple[int, int], ...]


def hall_day_intervals(outlets: pd.DataFrame, day: dt.date, *,
                       calendar: HolidayCalendar | None = None,
                       file: str = "outlets") -> dict[str, Intervals | None]:
    """Open intervals (seconds after midnight) of every outlet on ``day``.

    Parameters
    ----------
    outlets
        Table with ``id`` and, optionally, ``hours`` (texts in the grammar of
        :mod:`gis.hours`). Without an ``hours`` column every hall is unconstrained.
    day
        The plan's date.
    calendar
        Holidays and make-up working days (default: mainland China, lenient).
    file
        Name used in problem messages.

    Returns
    -------
    dict
        Outlet id -> intervals (empty when closed all day), or ``None`` when its hours are blank.

    Raises
    ------
    InputError
        An hours text that cannot be read (naming its row).
    """
    if "hours" not in outlets.columns:
        return {}
    cal = calendar if calendar is not None else MainlandCalendar(strict=False)
    scheds, problems = parse_hours_column(outlets["hours"].tolist(), file=file)
    if problems:
        raise InputError(problems)
    out: dict[str, Intervals | None] = {}
    for oid, s in zip(outlets["id"].astype(str), scheds, strict=True):
        out[oid] = None if s is None else tuple(
            (a * 60, b * 60) for a, b in s.open_intervals(day, cal))
    return out


def hall_roles(e: Errand) -> tuple[str, ...]:
    """The roles (``pickup``/``delivery``) of an errand's stops that are at its hall."""
    if not e.hall_id:
        return ()
    if e.kind == "pickup_to_hall" and e.delivery is None:
        return ("delivery",)
    if e.kind == "hall_to_home" and e.pickup is None:
        return ("pickup",)
    return ()


def _role_service_window(e: Errand, role: str) -> tuple[int, tuple[int, int]]:
    half = e.service_s // 2  # as routing.build splits the service over both ends
    if role == "pickup":
        return half, e.pickup_window
    return e.service_s - half, e.delivery_window


def hall_start_intervals(open_s: Intervals, window: tuple[int, int], service: int) -> Intervals:
    """Service-start intervals: ``[open, close - service]`` of each opening, inside ``window``."""
    out = []
    for a, b in open_s:
        lo, hi = max(a, window[0]), min(b - service, window[1])
        if lo <= hi:
            out.append((int(lo), int(hi)))
    return tuple(out)


def screen_errands(errands: list[Errand], hall_open: dict[str, Intervals | None], *,
                   day: dt.date | None = None, hall_names: dict[str, str] | None = None
                   ) -> tuple[list[Errand], dict[str, Reason]]:
    """Errands whose hall can serve them on the day, and the others with a hall-closed reason.

    Parameters
    ----------
    errands
        The day's errands.
    hall_open
        From :func:`hall_day_intervals`.
    day
        The date (named in reasons).
    hall_names
        Outlet id -> name (named in reasons).

    Returns
    -------
    tuple
        Kept errands (in order) and errand id -> :class:`~routing.reasons.Reason`.
    """
    names = hall_names or {}
    kept, dropped = [], {}
    for e in errands:
        why = None
        for role in hall_roles(e):
            ivs = hall_open.get(e.hall_id)
            if ivs is None:
                continue
            svc, win = _role_service_window(e, role)
            name = names.get(e.hall_id, e.hall_id)
            if not ivs:
                why = hall_closed_reason(name, day=day, all_day=True)
            elif not hall_start_intervals(ivs, win, svc):
                why = hall_closed_reason(name, day=day, all_day=False, window=win, hours=ivs,
                                         service=svc)
        if why is None:
            kept.append(e)
        else:
            dropped[e.id] = why
    if dropped:
        log.info("%d errand(s) left out before solving: hall closed", len(dropped))
    return kept, dropped


def attach_hall_intervals(day: DayProblem, hall_open: dict[str, Intervals | None], *,
                          closed: dict[str, Reason] | None = None,
                          errands: list[Errand] | None = None) -> DayProblem:
    """Set ``node_open`` on a :class:`routing.build.DayProblem`'s problem for its hall stops.

    Errands must have passed :func:`screen_errands` (every hall stop has a start left). The
    errands it left out (``closed``) join ``day.pre_dropped``, and the builder's "no runner with
    the skill" becomes a :class:`~routing.reasons.Reason` naming the skill (``errands``: all of
    the day's errands).
    """
    skills = {e.id: e.skill for e in errands or ()}
    day.pre_dropped = {**{k: missing_skill_reason(skills[k]) if k in skills and
                          isinstance(v, str) else v for k, v in day.pre_dropped.items()},
                       **(closed or {})}
    p: RoutingProblem = day.problem
    by_id = {e.id: e for e in day.errands}
    node_open: dict[int, Intervals] = {}
    for st in day.stops:
        e = by_id.get(st.errand_id)
        if e is None or st.role not in hall_roles(e):
            continue
        ivs = hall_open.get(e.hall_id)
        if ivs is None:
            continue
        w0, w1 = p.windows[st.node]
        starts = hall_start_intervals(ivs, (int(w0), int(w1)), int(p.service[st.node]))
        if not starts:  # pragma: no cover - screen_errands leaves these out
            raise ValueError(f"errand {e.id}: hall stop with no opening left; screen it first")
        node_open[st.node] = starts
    if not node_open:
        return day
    day.problem = replace(p, node_open=node_open)
    log.info("%d hall stop(s) restricted to their hall's hours: %s", len(node_open),
             ", ".join(f"{fmt_hhmm(a)}-{fmt_hhmm(b)}" for a, b in next(iter(node_open.values()))))
    return day


def constrain_hall_stops(p: RoutingProblem, manager: Any, tdim: Any) -> None:
    """Restrict the time cumul of each hall stop to its service-start intervals.

    The cumul's range becomes the span of the intervals (inside the window already set), and
    each closed gap between two intervals is removed with ``RemoveInterval``.
    """
    for node, ivs in (p.node_open or {}).items():
        if not ivs:
            continue
        cumul = tdim.CumulVar(manager.NodeToIndex(int(node)))
        lo = max(int(ivs[0][0]), int(p.windows[node, 0]))
        hi = min(int(ivs[-1][1]), int(p.windows[node, 1]))
        cumul.SetRange(lo, hi)
        for (_, b), (a, _) in itertools.pairwise(ivs):
            if a - 1 >= b + 1:
                cumul.RemoveInterval(int(b) + 1, int(a) - 1)
