"""What the citizens' map ships: outlets, items, search keys, schedules, holidays, the grid.

Only public facts: each outlet's name, kind, address, office phone, hours and the items it
handles; the catalogue's item names and categories; the holiday calendar; and the precomputed
nearest outlet per grid cell (:mod:`gis.itemgrid`). No population, no coverage, no proposals.
Everything is plain JSON data for ``assets/public.js``, which builds the page with DOM calls.

Pinyin keys (full pinyin and initials, ``社保卡`` → ``shebaoka`` / ``sbk``) are made here with
``pypinyin`` at build time; the page needs nothing at run time.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import pandas as pd
from pypinyin import Style, lazy_pinyin

from gis.coords import gcj02_to_bd09, wgs84_to_gcj02
from gis.hours import WeeklySchedule, parse_hours
from gis.itemgrid import ItemGrid
from gis.items import ItemTable
from gis.region import Region
from gis.workdays import MainlandCalendar

__all__ = ["pinyin_keys", "public_data", "service_tokens", "schedule_json", "holiday_lists",
           "grid_json"]

_SEP = re.compile(r"[;；]")
_NOTE = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


def pinyin_keys(text: str) -> tuple[str, str]:
    """Full pinyin and initials of a text, lower case, no spaces: ``社保卡`` → ``shebaoka, sbk``.

    Letters and digits in the text are kept as they are (lower-cased).
    """
    s = str(text)
    full = "".join(lazy_pinyin(s, errors=lambda x: x)).lower()
    ini = "".join(lazy_pinyin(s, style=Style.FIRST_LETTER, errors=lambda x: x)).lower()
    return re.sub(r"\s+", "", full), re.sub(r"\s+", "", ini)


def service_tokens(services: pd.Series) -> tuple[list[str], np.ndarray]:
    """Without a catalogue: the distinct ``services`` entries and ``(n_outlets, n_tokens)``.

    ``社保卡代办;缴费 (illustrative)`` → ``社保卡代办``, ``缴费`` (a trailing note is dropped).
    """
    per: list[list[str]] = []
    for v in services.fillna("").astype(str):
        toks = [_NOTE.sub("", t).strip() for t in _SEP.split(v)]
        per.append([t for t in toks if t])
    names = sorted({t for toks in per for t in toks})
    pos = {t: j for j, t in enumerate(names)}
    m = np.zeros((len(per), len(names)), dtype=bool)
    for i, toks in enumerate(per):
        for t in toks:
            m[i, pos[t]] = True
    return names, m


def _groups(handles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct outlet sets of the columns: ``(masks (n_outlets, n_groups), group per item)``."""
    if handles.shape[1] == 0:
        return np.zeros((handles.shape[0], 0), bool), np.zeros(0, np.int64)
    keys = np.packbits(np.ascontiguousarray(handles.T), axis=1)
    _, first, inv = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return handles[:, first], inv.ravel().astype(np.int64)


def schedule_json(s: WeeklySchedule) -> dict[str, Any]:
    """A schedule as ``{"d": 7 lists of [start, end] minutes, "h": holiday list or null}``."""
    return {"d": [[list(iv) for iv in day] for day in s.days],
            "h": None if s.holiday is None else [list(iv) for iv in s.holiday]}


def holiday_lists(start: dt.date, days: int = 400) -> dict[str, Any]:
    """Public holidays and make-up working days from ``start`` for ``days`` days (ISO dates)."""
    cal = MainlandCalendar(strict=False)
    hol, work = [], []
    unknown: set[int] = set()
    for k in range(days):
        d = start + dt.timedelta(days=k)
        if not cal.published(d):
            unknown.add(d.year)
            continue
        if cal.is_holiday(d):
            hol.append(d.isoformat())
        elif cal.is_makeup_workday(d):
            work.append(d.isoformat())
    return {"from": start.isoformat(), "to": (start + dt.timedelta(days=days - 1)).isoformat(),
            "holidays": hol, "workdays": work, "unpublished": sorted(unknown)}


def grid_json(grid: ItemGrid) -> dict[str, Any]:
    """The grid as compact JSON: cells delta-encoded, per group outlet positions and minutes."""
    cells = grid.cells.astype(np.int64)
    delta = np.diff(cells, prepend=0).tolist()
    m = np.where(np.isfinite(grid.minutes), np.ceil(grid.minutes), -1).astype(np.int64)
    return {"lon0": round(grid.lon0, 7), "lat0": round(grid.lat0, 7),
            "dlon": round(grid.dlon, 9), "dlat": round(grid.dlat, 9), "nx": grid.nx,
            "ny": grid.ny, "cells": delta,
            "o": [grid.nearest[:, g].astype(int).tolist() for g in range(grid.n_groups)],
            "m": [m[:, g].tolist() for g in range(grid.n_groups)],
            "mode": [str(x) for x in grid.mode.tolist()] if len(set(grid.mode.tolist())) > 1
            else str(grid.mode[0]) if len(grid.mode) else "walk"}


def public_data(region: Region, items: ItemTable | None, grid: ItemGrid | None, *,
                gcj02: bool, today: dt.date | None = None) -> dict[str, Any]:
    """Everything the citizens' page needs, as JSON-ready data.

    Parameters
    ----------
    region
        The region (outlets and their details).
    items
        The catalogue's item table (rows of ``handles`` follow ``region.outlets``); ``None``:
        the outlets' ``services`` entries are the items.
    grid
        Nearest outlet per cell and item group (:func:`gis.itemgrid.item_grid_of_region`,
        with the same ``items``); ``None``: no network minutes on the page.
    gcj02
        Draw in GCJ-02 (Amap tiles).
    today
        First day of the holiday list (default today).
    """
    o = pd.DataFrame(region.outlets.drop(columns="geometry"))
    n = len(o)
    lon, lat = o["lon"].to_numpy(float), o["lat"].to_numpy(float)
    glon, glat = wgs84_to_gcj02(lon, lat)
    blon, blat = gcj02_to_bd09(glon, glat)
    if items is not None:
        cat = items.catalogue
        names = cat["name"].astype(str).tolist()
        cats = (cat["category"].fillna("").astype(str).tolist() if "category" in cat
                else [""] * len(names))
        handles = items.handles
    else:
        names, handles = service_tokens(o["services"] if "services" in o
                                        else pd.Series([""] * n))
        cats = [""] * len(names)
    masks, item_group = _groups(handles)
    grid_group = None
    if grid is not None and items is not None:
        grid_group = grid.item_group
    elif grid is not None and grid.n_groups == 1:
        grid_group = np.zeros(len(names), np.int64)
    item_rows = []
    for j, name in enumerate(names):
        full, ini = pinyin_keys(name)
        cfull, cini = pinyin_keys(cats[j]) if cats[j] else ("", "")
        row: dict[str, Any] = {"n": name, "c": cats[j], "p": full, "i": ini,
                               "cp": cfull, "ci": cini, "g": int(item_group[j])}
        if grid_group is not None:
            row["gg"] = int(grid_group[j])
        item_rows.append(row)
    sched: list[dict[str, Any]] = []
    sched_pos: dict[str, int] = {}

    def col(c: str) -> list[str]:
        return o[c].fillna("").astype(str).tolist() if c in o else [""] * n

    hours = col("hours")
    outs = []
    for i, (oid, name, kind, addr, phone) in enumerate(zip(
            col("id"), col("name"), col("kind"), col("address"), col("phone"), strict=True)):
        s_idx = -1
        h = hours[i]
        if h.strip():
            if h not in sched_pos:
                parsed = parse_hours(h, file="outlets", row=i + 1)
                sched_pos[h] = len(sched) if parsed is not None else -1
                if parsed is not None:
                    sched.append(schedule_json(parsed))
            s_idx = sched_pos[h]
        full, ini = pinyin_keys(name)
        x, y = (glon[i], glat[i]) if gcj02 else (lon[i], lat[i])
        outs.append({"id": oid, "n": name, "k": kind, "a": addr, "t": phone, "h": h,
                     "s": s_idx, "p": full, "i": ini,
                     "ll": [round(float(lon[i]), 6), round(float(lat[i]), 6)],
                     "xy": [round(float(x), 6), round(float(y), 6)],
                     "gl": [round(float(glon[i]), 6), round(float(glat[i]), 6)],
                     "bl": [round(float(blon[i]), 6), round(float(blat[i]), 6)]})
    groups = [np.flatnonzero(masks[:, g]).tolist() for g in range(masks.shape[1])]
    w, s_, e, n_ = region.bbox()
    cx, cy = (w + e) / 2, (s_ + n_) / 2
    gx, gy = wgs84_to_gcj02(np.array([cx]), np.array([cy]))
    shift = [float(gx[0] - cx), float(gy[0] - cy)] if gcj02 else [0.0, 0.0]
    data: dict[str, Any] = {
        "outlets": outs, "items": item_rows, "groups": groups, "schedules": sched,
        "calendar": holiday_lists(today or dt.date.today()),
        "catalogue": items is not None, "shift": shift,
    }
    if grid is not None:
        data["grid"] = grid_json(grid)
    return data
