"""Write a day's outputs: ``plan.json``, ``routes.xlsx`` and the per-runner sheets.

Who sees what: a runner's own sheet (HTML/PDF) carries the names, masked phones, addresses and
notes of the citizens on that runner's route (the HTML's call links dial the full number without
showing it, see docs/routing.md); the dispatcher's workbook carries them, with full phones, for
every runner. ``plan.json`` is machine-readable and travels further, so it is built from an allow-list
(:data:`PLAN_FIELDS`, :data:`ROUTE_FIELDS`, :data:`STOP_FIELDS`): errand ids, kinds, roles,
times, runner ids and modes, bases. No citizen's name, phone, address, note or items text; hall
stops keep their (public) coordinates, stops at a citizen's home only a 0.01° (about 1 km)
position.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from gis.io import atomic_path

from .plan import DayPlan, PlannedStop
from .sheets import write_sheets
from .xlsx import write_xlsx

__all__ = ["PLAN_FIELDS", "ROUTE_FIELDS", "STOP_FIELDS", "HOME_DECIMALS", "public_plan",
           "write_plan_json", "write_routes"]

log = logging.getLogger(__name__)

#: The only keys ``plan.json`` may carry at the top, per route and per stop.
PLAN_FIELDS = ("date", "region", "illustrative", "solver_status", "time_limit_s",
               "plan_check_ok", "n_served", "dropped", "routes", "build_s", "solve_s")
ROUTE_FIELDS = ("runner_id", "mode", "base_id", "shift", "return", "travel_min", "break_start",
                "n_errands", "stops")
STOP_FIELDS = ("order", "errand_id", "kind", "role", "at_hall", "arrival", "window",
               "service_s", "priority", "lon", "lat", "illustrative")
#: Decimal places kept of a home stop's longitude and latitude (0.01° ≈ 1 km).
HOME_DECIMALS = 2
_HALL_ENDS = {("pickup_to_hall", "delivery"), ("hall_to_home", "pickup")}


def _is_hall(stop: PlannedStop) -> bool:
    """The stop is at a service hall (public place), not at a citizen's door."""
    return (stop.kind, stop.role) in _HALL_ENDS


def public_plan(plan: DayPlan) -> dict:
    """The plan as ``plan.json`` holds it: allow-listed fields only, homes rounded.

    Returns
    -------
    dict
        JSON-ready; keys limited to :data:`PLAN_FIELDS`, :data:`ROUTE_FIELDS` and
        :data:`STOP_FIELDS`.
    """
    full = plan.to_dict()
    routes = []
    for route, r in zip(plan.routes, full["routes"], strict=True):
        stops = []
        for stop, s in zip(route.stops, r["stops"], strict=True):
            hall = _is_hall(stop)
            s = dict(s, at_hall=hall)
            digits = 5 if hall else HOME_DECIMALS
            s["lon"], s["lat"] = round(float(stop.lon), digits), round(float(stop.lat), digits)
            stops.append({k: s[k] for k in STOP_FIELDS if k in s})
        r = dict(r, stops=stops)
        routes.append({k: r[k] for k in ROUTE_FIELDS if k in r})
    full["routes"] = routes
    full["dropped"] = [{"errand_id": d["errand_id"], "reason": d["reason"]}
                       for d in full.get("dropped", [])]
    return {k: full[k] for k in PLAN_FIELDS if k in full}


def write_plan_json(plan: DayPlan, path: str | Path) -> Path:
    """Write ``plan.json`` atomically: :func:`public_plan`, no personal data."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(public_plan(plan), ensure_ascii=False, indent=1),
                       encoding="utf-8")
    return path


def write_routes(plan: DayPlan, folder: str | Path, *, pdf: bool = True,
                 call_links: bool = False) -> dict[str, Path]:
    """Write ``plan.json``, ``routes.xlsx`` and ``sheets/`` into ``folder`` (created).

    Refuses a plan whose independent check failed.
    """
    if not plan.check.ok:
        raise ValueError("refusing to write a plan that failed its check")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {
        "plan": write_plan_json(plan, folder / "plan.json"),
        "xlsx": write_xlsx(plan, folder / "routes.xlsx"),
        "sheets": folder / "sheets",
    }
    write_sheets(plan, folder / "sheets", pdf=pdf, call_links=call_links)
    log.info("wrote routes to %s", folder)
    return out
