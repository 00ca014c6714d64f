"""The day's plan for people: routes per runner with recomputed times, and errands left out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import asdict, dataclass, field

from .build import DayProblem
from .reasons import Reason, explain_dropped
from .solver import Solution
from .tables import Errand, fmt_hhmm
from .validate import PlanCheck

__all__ = ["PlannedStop", "RunnerRoute", "DayPlan", "make_plan", "mask_phone"]


def mask_phone(phone: str) -> str:
    """Mask the middle of a phone number: ``13812345678`` -> ``138****5678``."""
    digits = "".join(ch for ch in str(phone) if ch.isdigit())
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


@dataclass
class PlannedStop:
    """One stop on a route (times in seconds after midnight)."""

    order: int
    errand_id: str
    kind: str
    role: str  # pickup | delivery | visit
    arrival_s: int  # service start, recomputed by the validator
    window: tuple[int, int]
    service_s: int
    lon: float
    lat: float
    place: str
    items: str
    note: str
    priority: int
    contact_name: str
    contact_phone: str
    illustrative: bool

    @property
    def phone_masked(self) -> str:
        """Partly masked phone number for the sheets."""
        return mask_phone(self.contact_phone)


@dataclass
class RunnerRoute:
    """A runner's route for the day."""

    runner_id: str
    runner_name: str
    mode: str
    base_id: str
    base_name: str
    base_lon: float
    base_lat: float
    shift: tuple[int, int]
    stops: list[PlannedStop]
    return_s: int
    travel_s: int
    break_start_s: int | None
    break_s: int
    illustrative: bool
    #: Road path of each leg (base → stop 1, …, last stop → base) as ``(k, 2)`` lon/lat arrays,
    #: set by :mod:`routing.region_day` from the road network; ``None``: straight lines.
    legs: list | None = field(default=None, repr=False)

    @property
    def n_errands(self) -> int:
        """Errands served (a pair counts once)."""
        return len({s.errand_id for s in self.stops})


@dataclass
class DayPlan:
    """Result of :func:`routing.day.plan_day`."""

    date: dt.date
    region: str
    routes: list[RunnerRoute]
    dropped: dict[str, str]
    check: PlanCheck
    solver_status: str = ""
    time_limit_s: float = 0.0
    illustrative: bool = False
    meta: dict = field(default_factory=dict)
    reasons: dict[str, Reason] = field(default_factory=dict)  # errand id -> cause, zh and en
    #: The errands left out, by id (items and windows for the dispatcher's workbook).
    left_out: dict[str, Errand] = field(default_factory=dict, repr=False)

    @property
    def n_served(self) -> int:
        """Errands served."""
        return sum(r.n_errands for r in self.routes)

    def summary(self) -> str:
        """A few lines for the CLI."""
        used = [r for r in self.routes if r.stops]
        travel = sum(r.travel_s for r in self.routes) / 60
        lines = [
            f"{self.date} {self.region}: {self.n_served} errands served by {len(used)} of "
            f"{len(self.routes)} runners, {len(self.dropped)} left out, "
            f"{travel:.0f} min travel in total; plan check: {self.check.summary()}"
        ]
        reasons: dict[str, int] = {}
        for r in self.dropped.values():
            reasons[r] = reasons.get(r, 0) + 1
        lines += [f"  left out ({why}): {n}" for why, n in sorted(reasons.items())]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready dict without personal data (no names, no phones)."""
        routes = []
        for r in self.routes:
            stops = []
            for s in r.stops:
                d = asdict(s)
                for key in ("contact_name", "contact_phone"):
                    d.pop(key)
                d["arrival"] = fmt_hhmm(s.arrival_s)
                d["window"] = [fmt_hhmm(s.window[0]), fmt_hhmm(s.window[1])]
                stops.append(d)
            routes.append({
                "runner_id": r.runner_id, "mode": r.mode, "base_id": r.base_id,
                "shift": [fmt_hhmm(r.shift[0]), fmt_hhmm(r.shift[1])],
                "return": fmt_hhmm(r.return_s), "travel_min": round(r.travel_s / 60, 1),
                "break_start": None if r.break_start_s is None else fmt_hhmm(r.break_start_s),
                "n_errands": r.n_errands, "stops": stops,
            })
        return {
            "date": self.date.isoformat(), "region": self.region,
            "illustrative": self.illustrative, "solver_status": self.solver_status,
            "time_limit_s": self.time_limit_s, "plan_check_ok": self.check.ok,
            "n_served": self.n_served,
            "dropped": [{"errand_id": k, "reason": v} for k, v in self.dropped.items()],
            "routes": routes, **self.meta,
        }


def make_plan(day: DayProblem, sol: Solution, check: PlanCheck, *, date: dt.date,
              region: str = "", time_limit_s: float = 0.0, untried: Collection[int] = ()
              ) -> DayPlan:
    """Map a validated solution back to runners and errands, using the recomputed times.

    ``untried``: tasks the time limit left untried (their reason says so).
    """
    p = day.problem
    errands = {e.id: e for e in day.errands}
    routes = []
    for k, runner in enumerate(day.runners):
        base = day.stops[int(p.vehicle_start[k])]
        stops = []
        travel = p.travel[runner.mode]
        path = [int(p.vehicle_start[k]), *sol.routes[k], int(p.vehicle_end[k])]
        tsum = sum(int(travel[a, b]) for a, b in zip(path, path[1:], strict=False)) \
            if sol.routes[k] else 0
        for j, node in enumerate(sol.routes[k]):
            st = day.stops[node]
            e = errands[st.errand_id]
            stops.append(PlannedStop(
                order=j + 1, errand_id=e.id, kind=e.kind, role=st.role,
                arrival_s=int(check.starts[k][j]), window=tuple(int(x) for x in p.windows[node]),
                service_s=int(p.service[node]), lon=st.lon, lat=st.lat, place=st.place,
                items=e.items, note=e.note, priority=e.priority, contact_name=e.contact_name,
                contact_phone=e.contact_phone, illustrative=e.illustrative,
            ))
        brk = p.vehicle_breaks[k] if p.vehicle_breaks is not None else None
        routes.append(RunnerRoute(
            runner_id=runner.id, runner_name=runner.name, mode=runner.mode,
            base_id=runner.base_outlet_id, base_name=base.place, base_lon=base.lon,
            base_lat=base.lat, shift=runner.shift, stops=stops,
            return_s=int(check.ends[k]) if sol.routes[k] else runner.shift[0], travel_s=tsum,
            break_start_s=check.breaks[k] if sol.routes[k] else None,
            break_s=0 if brk is None else brk.duration, illustrative=runner.illustrative,
        ))
    reasons = explain_dropped(day, sol, untried)
    dropped = {eid: str(why) for eid, why in reasons.items()}
    illustrative = any(e.illustrative for e in day.errands) or any(
        r.illustrative for r in day.runners)
    return DayPlan(date, region, routes, dropped, check, sol.status, time_limit_s, illustrative,
                   reasons=reasons, left_out={eid: errands[eid] for eid in dropped
                                              if eid in errands})
