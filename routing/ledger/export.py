"""The month's 台账 (ledger book): every errand with its events, and the figures per runner,
item and township: errands, delivered, failed, on-time share, mean rating (好差评).

An errand is on time when it was delivered on its day no later than the end of its delivery
window (a home visit: its visit window). The 台账 carries errand ids, items and townships, not
the citizens' names, phones or addresses (those stay in the day's dispatcher workbook).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select

from gis.errors import InputError, InputProblem
from gis.io import atomic_path
from gis.safetext import set_text_cell

from ..tables import fmt_hhmm
from .models import ErrandRow, EventRow
from .store import Ledger

__all__ = ["month_tables", "write_month_workbook", "parse_month", "SHEETS"]

log = logging.getLogger(__name__)

#: Sheet names of the workbook, in order.
SHEETS = {"errands": "台账 Errands", "events": "事件 Events", "runner": "按跑腿员 By runner",
          "item": "按事项 By item", "township": "按乡镇 By township"}
_ITEM_SPLIT = re.compile(r"[;；,，、/]")
NO_TOWNSHIP = "(区域外 outside the areas)"


def parse_month(text: str) -> tuple[dt.date, dt.date]:
    """``YYYY-MM`` -> first day of the month and first day of the next."""
    try:
        first = dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise InputError(InputProblem("--month", None, None,
                                      f"{text!r}: expected a month as YYYY-MM")) from None
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt


def _townships(rows: list[ErrandRow], areas: object | None) -> list[str]:
    if areas is None or not rows:
        return [""] * len(rows)
    import geopandas as gpd

    lon, lat = [], []
    for r in rows:  # the citizen's end: the delivery of hall-to-home and door-to-door errands
        home = r.kind in ("hall_to_home", "pickup_delivery") and r.delivery_lon is not None
        lon.append(r.delivery_lon if home else r.pickup_lon)
        lat.append(r.delivery_lat if home else r.pickup_lat)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(
        np.array(lon, dtype=float), np.array(lat, dtype=float)), crs="EPSG:4326")
    a = areas.to_crs(4326)  # type: ignore[attr-defined]
    hit = gpd.sjoin(pts, a[["name", "geometry"]], how="left", predicate="within")
    first = hit[~hit.index.duplicated()]["name"]
    return [NO_TOWNSHIP if pd.isna(v) else str(v) for v in first.reindex(range(len(rows)))]


def month_tables(ledger: Ledger, month: str, *, areas: object | None = None
                 ) -> dict[str, pd.DataFrame]:
    """The month's tables, keyed as :data:`SHEETS`.

    Parameters
    ----------
    ledger
        The ledger.
    month
        ``YYYY-MM``.
    areas
        The region's areas (townships, a GeoDataFrame with ``name``); without them the
        township table has one row, "".
    """
    first, nxt = parse_month(month)
    with ledger.session() as s:
        rows = list(s.scalars(select(ErrandRow).where(ErrandRow.day >= first,
                                                      ErrandRow.day < nxt)
                              .order_by(ErrandRow.day, ErrandRow.pk)))
        evs = list(s.execute(select(EventRow.errand_pk, EventRow.seq, EventRow.kind,
                                    EventRow.at, EventRow.runner_id, EventRow.reason,
                                    EventRow.rating, EventRow.comment)
                             .join(ErrandRow, ErrandRow.pk == EventRow.errand_pk)
                             .where(ErrandRow.day >= first, ErrandRow.day < nxt)
                             .order_by(EventRow.errand_pk, EventRow.seq)).tuples())
    towns = _townships(rows, areas)
    by_errand: dict[int, list[tuple]] = {}
    for ev in evs:
        by_errand.setdefault(ev[0], []).append(ev)
    errand_rows, event_rows = [], []
    for r, town in zip(rows, towns, strict=True):
        mine = by_errand.get(r.pk, [])
        last = {k: ev for ev in mine for k in (ev[2],)}  # the last event of each kind
        done = last.get("delivered")
        latest = r.pickup_latest_s if r.kind == "home_visit" else r.delivery_latest_s
        on_time = None
        if done is not None:
            t = done[3]
            on_time = bool(t.date() == r.day and
                           t.hour * 3600 + t.minute * 60 + t.second <= latest)
        rated = last.get("rated")
        runner = (done or last.get("failed") or last.get("picked_up") or last.get("assigned")
                  or (None, None, None, None, None))[4]
        errand_rows.append({
            "day": r.day.isoformat(), "errand_id": r.ref, "kind": r.kind, "items": r.items,
            "township": town, "channel": r.channel, "status": r.status,
            "runner_id": runner or "", "window_end": fmt_hhmm(latest),
            **{f"{k}_at": "" if k not in last else last[k][3].isoformat(sep=" ")
               for k in ("created", "assigned", "picked_up", "delivered", "failed")},
            "failed_reason": "" if "failed" not in last else last["failed"][5] or "",
            "on_time": "" if on_time is None else ("yes" if on_time else "no"),
            "rating": None if rated is None else rated[6],
            "comment": "" if rated is None else rated[7] or "",
            "_on_time": on_time, "_items": [i.strip() for i in _ITEM_SPLIT.split(r.items)
                                            if i.strip()] or ["(无 none)"],
        })
        for ev in mine:
            event_rows.append({"day": r.day.isoformat(), "errand_id": r.ref, "seq": ev[1],
                               "event": ev[2], "at": ev[3].isoformat(sep=" "),
                               "runner_id": ev[4] or "", "reason": ev[5] or "",
                               "rating": ev[6], "comment": ev[7] or ""})
    err = pd.DataFrame(errand_rows)
    out = {"errands": err.drop(columns=["_on_time", "_items"], errors="ignore"),
           "events": pd.DataFrame(event_rows)}
    for key, col, name in (("runner", "runner_id", "runner_id"), ("item", "_items", "item"),
                           ("township", "township", "township")):
        out[key] = _figures(err, col, name)
    log.info("ledger: %s: %d errand(s), %d event(s)", month, len(err), len(event_rows))
    return out


def _figures(err: pd.DataFrame, col: str, name: str) -> pd.DataFrame:
    cols = [name, "errands", "delivered", "failed", "on_time", "on_time_share", "ratings",
            "mean_rating"]
    if err.empty:
        return pd.DataFrame(columns=cols)
    df = err.explode(col) if col == "_items" else err
    rows = []
    for key, g in df.groupby(col, sort=True):
        delivered = int((g["status"] == "delivered").sum())
        on_time = int((g["_on_time"] == True).sum())  # noqa: E712 - None stays out
        ratings = g["rating"].dropna().astype(float)
        rows.append({name: key, "errands": len(g), "delivered": delivered,
                     "failed": int((g["status"] == "failed").sum()), "on_time": on_time,
                     "on_time_share": round(on_time / delivered, 3) if delivered else None,
                     "ratings": len(ratings),
                     "mean_rating": round(float(ratings.mean()), 2) if len(ratings) else None})
    return pd.DataFrame(rows, columns=cols)


def write_month_workbook(tables: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """Write the 台账 workbook (text as string cells, never formulas; headers frozen)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for key, title in SHEETS.items():
        df = tables[key]
        ws = wb.create_sheet(title)
        ws.append(list(df.columns))
        for c in ws[1]:
            c.font = Font(bold=True)
        for i, rec in enumerate(df.itertuples(index=False), start=2):
            for j, v in enumerate(rec, start=1):
                cell = ws.cell(row=i, column=j)
                if isinstance(v, str):
                    set_text_cell(cell, v)
                elif v is not None and not (isinstance(v, float) and np.isnan(v)):
                    cell.value = v.item() if hasattr(v, "item") else v
        ws.freeze_panes = "A2"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path
