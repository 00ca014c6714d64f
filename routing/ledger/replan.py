"""Re-planning from the ledger: its latest plan, its statuses, its new errands."""

from __future__ import annotations

import datetime as dt

from ..plan import DayPlan
from ..replan import replan_region_routes
from .db import LedgerError
from .store import Ledger

__all__ = ["ledger_status", "ledger_replan"]

#: Ledger status -> re-plan status (assigned and created errands are still to do).
_AS = {"delivered": "done", "picked_up": "picked_up", "failed": "failed"}


def ledger_status(ledger: Ledger, day: dt.date, morning: dict) -> dict[str, str]:
    """The re-plan statuses from the ledger: done, picked_up, failed, and new (errands the
    stored plan neither routed nor left out).
    """
    known = {s["errand_id"] for r in morning["routes"] for s in r["stops"]}
    known |= {d["errand_id"] for d in morning.get("dropped", [])}
    out: dict[str, str] = {}
    for ref, (status, _) in ledger.statuses(day).items():
        if status in _AS:
            out[ref] = _AS[status]
        elif ref not in known:
            out[ref] = "new"
    return out


def ledger_replan(ledger: Ledger, reg: object, day: dt.date, at: int, *,
                  time_limit: float = 20.0) -> tuple[DayPlan, int]:
    """Re-plan the day's latest stored plan at ``at``; store the new plan.

    Returns
    -------
    tuple
        The new plan and its key in the ledger.
    """
    morning = ledger.latest_plan(day)
    if morning is None:
        raise LedgerError(f"no plan stored for {day}: run `bianmin ledger plan` first")
    status = ledger_status(ledger, day, morning)
    errands = ledger.errands(day)
    new = [e for e in errands if status.get(e.id) == "new"]
    old = [e for e in errands if status.get(e.id) != "new"]
    plan = replan_region_routes(reg, morning, status=status, new=new, at=at, errands=old,
                                runners=ledger.runners(), time_limit=time_limit)
    return plan, ledger.save_plan(plan, kind="replan", at_s=at)
