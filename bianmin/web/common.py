"""What the dispatcher pages and the API share: the day being worked on, the plan's folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi import HTTPException, Request

from gis.workdays import next_working_day

__all__ = ["day_of", "plan_folder", "plan_folder_of", "latest_folder"]


def day_of(request: Request) -> dt.date:
    """The day: ``?day=YYYY-MM-DD`` (kept in the session), else the session's, else the next
    working day.
    """
    raw = request.query_params.get("day") or request.session.get("day")
    if not raw:
        return next_working_day(dt.date.today())
    try:
        day = dt.date.fromisoformat(str(raw))
    except ValueError:
        raise HTTPException(400, "day: expected YYYY-MM-DD") from None
    request.session["day"] = day.isoformat()
    return day


def plan_folder_of(cache: Path, day: dt.date, plan_pk: int) -> Path:
    """Where a stored plan's sheets and workbook are written (``<cache>/plans/<day>/<pk>``)."""
    return Path(cache) / "plans" / day.isoformat() / str(int(plan_pk))


def plan_folder(request: Request, day: dt.date, plan_pk: int) -> Path:
    """:func:`plan_folder_of` under the app's cache."""
    return plan_folder_of(request.app.state.cache, day, plan_pk)


def latest_folder(request: Request, day: dt.date) -> Path | None:
    """The newest plan folder of the day that has its files, or ``None``."""
    root = Path(request.app.state.cache) / "plans" / day.isoformat()
    if not root.is_dir():
        return None
    done = [p for p in root.iterdir() if p.name.isdigit() and (p / "routes" / "plan.json").exists()]
    return max(done, key=lambda p: int(p.name)) / "routes" if done else None
