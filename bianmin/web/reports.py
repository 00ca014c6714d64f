"""Downloads, the ledger export, the month's 台账 figures, the planner view, the audit."""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import FileResponse
from markupsafe import Markup, escape

from .accounts import User, audit, audit_rows
from .app import get_region, render
from .common import latest_folder
from .security import require_admin, require_user

__all__ = ["router", "bar_chart"]

router = APIRouter(prefix="/dispatch")
UserDep = Annotated[User, Depends(require_user)]
_TYPES = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          ".html": "text/html; charset=utf-8", ".pdf": "application/pdf"}


@router.get("/download/{day}/{name:path}")
def download(request: Request, user: UserDep, day: str, name: str) -> Response:
    """A file of the day's newest plan: ``routes.xlsx`` or ``sheets/<runner>.{html,pdf}``."""
    try:
        d = dt.date.fromisoformat(day)
    except ValueError:
        raise HTTPException(404, "no such day") from None
    folder = latest_folder(request, d)
    if folder is None:
        raise HTTPException(404, "no plan for this day")
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents or path.suffix not in _TYPES or not path.is_file():
        raise HTTPException(404, "no such file")
    audit(request.app.state.ledger, user.name, "download", day=d, detail=name[:200])
    return FileResponse(path, media_type=_TYPES[path.suffix], filename=path.name,
                        content_disposition_type="inline" if path.suffix == ".html"
                        else "attachment")


def _month_of(request: Request) -> str:
    from routing.ledger.export import parse_month

    month = request.query_params.get("month") or dt.date.today().strftime("%Y-%m")
    try:
        parse_month(month)
    except Exception:
        raise HTTPException(400, "month: expected YYYY-MM") from None
    return month


def _tables(request: Request, month: str) -> dict:
    from routing.ledger.export import month_tables

    areas = get_region(request.app).areas  # type: ignore[attr-defined]
    return month_tables(request.app.state.ledger, month, areas=areas)


@router.get("/export")
async def export(request: Request, user: UserDep) -> Response:
    """The month's 台账 workbook (errand ids, items, townships; no citizens' details)."""
    from routing.ledger.export import write_month_workbook

    month = _month_of(request)
    tables = await asyncio.to_thread(_tables, request, month)
    tmp = Path(tempfile.mkdtemp(prefix="bianmin-export-", dir=request.app.state.cache))
    path = write_month_workbook(tables, tmp / f"taizhang-{month}.xlsx")
    audit(request.app.state.ledger, user.name, "export", detail=month)
    return FileResponse(path, media_type=_TYPES[".xlsx"], filename=path.name)


def bar_chart(labels: list[str], values: list[float], *, vmax: float | None = None,
              fmt: str = "{:g}") -> Markup:
    """A horizontal bar chart as inline SVG (labels escaped)."""
    n = len(labels)
    if not n:
        return Markup("")
    top = vmax or max([*values, 1e-9])
    row, left, width = 22, 130, 460
    parts = [f'<svg class="chart" viewBox="0 0 {left + width + 70} {n * row + 8}" '
             f'role="img" xmlns="http://www.w3.org/2000/svg">']
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        y = 4 + i * row
        w = max(0.0, width * (v / top)) if top else 0.0
        parts.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
                     f'{escape(str(lab)[:18])}</text><rect x="{left}" y="{y + 3}" '
                     f'width="{w:.1f}" height="{row - 8}" fill="#1f4e79"/><text x="'
                     f'{left + w + 4:.1f}" y="{y + 15}" font-size="12">'
                     f'{escape(fmt.format(v))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _records(df: object) -> list[dict]:
    import pandas as pd

    frame = pd.DataFrame(df)
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@router.get("/month")
async def month_view(request: Request, user: UserDep) -> Response:
    """The month's figures per runner, item and township, with charts."""
    month = _month_of(request)
    tables = await asyncio.to_thread(_tables, request, month)
    groups = {}
    charts = {}
    for key, name in (("runner", "runner_id"), ("item", "item"), ("township", "township")):
        recs = _records(tables[key])
        groups[key] = (name, recs)
        charts[key] = bar_chart([str(r[name]) for r in recs],
                                [float(r["errands"]) for r in recs])
    rec_r = groups["runner"][1]
    on_time = bar_chart([str(r["runner_id"]) for r in rec_r if r["on_time_share"] is not None],
                        [100 * float(r["on_time_share"]) for r in rec_r
                         if r["on_time_share"] is not None], vmax=100, fmt="{:.0f}%")
    return render(request, "month.html", {"month": month, "groups": groups, "charts": charts,
                                          "on_time_chart": on_time,
                                          "n_errands": len(tables["errands"])})


def _planner_data(app: object) -> dict:
    from .planner_map import coverage_and_items

    st = app.state  # type: ignore[attr-defined]
    cached = getattr(st, "planner_cache", None)
    if cached is not None:
        return cached
    cov, ic = coverage_and_items(app)
    areas = _records(cov.areas.drop(columns=[c for c in cov.areas.columns
                                             if c == "geometry"]))
    data: dict = {"summary": cov.summary(), "areas": areas,
                  "area_cols": [c for c in cov.areas.columns if c != "geometry"]}
    items = getattr(ic, "items", None)
    if items is not None:
        data["items"] = _records(items)
        data["item_cols"] = list(items.columns)
    elif ic is None:  # no catalogue, or one that cannot be read: shown, not fatal
        data["items_error"] = "no items"
    st.planner_cache = data
    return data


@router.get("/planner")
async def planner(request: Request, user: UserDep) -> Response:
    """The region's coverage and per-item tables (read-only), linking the planning map."""
    data = await asyncio.to_thread(_planner_data, request.app)
    return render(request, "planner.html", data)


@router.get("/audit")
def audit_page(request: Request, user: Annotated[User, Depends(require_admin)]) -> Response:
    """Who changed what (admins)."""
    return render(request, "audit.html", {"rows": audit_rows(request.app.state.ledger)})
