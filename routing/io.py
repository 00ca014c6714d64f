"""Write a day's outputs: ``plan.json``, ``routes.xlsx`` and the per-runner sheets."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from gis.io import atomic_path

from .plan import DayPlan
from .sheets import write_sheets
from .xlsx import write_xlsx

__all__ = ["write_plan_json", "write_routes"]

log = logging.getLogger(__name__)


def write_plan_json(plan: DayPlan, path: str | Path) -> Path:
    """Write ``plan.json`` atomically (no names or phone numbers in it)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(plan.to_dict(), ensure_ascii=False, indent=1),
                       encoding="utf-8")
    return path


def write_routes(plan: DayPlan, folder: str | Path, *, pdf: bool = True) -> dict[str, Path]:
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
    write_sheets(plan, folder / "sheets", pdf=pdf)
    log.info("wrote routes to %s", folder)
    return out
