"""Errands and runners: read CSV/XLSX, validate at the edge, report every problem at once.

Errand columns
    ``id, kind, pickup_lon, pickup_lat, delivery_lon, delivery_lat, hall_id, pickup_earliest,
    pickup_latest, delivery_earliest, delivery_latest, service_minutes, skill, priority,
    contact_name, contact_phone, address, note, items`` (+ optional ``illustrative``).

    ``kind`` is one of ``pickup_delivery`` (both ends are coordinates), ``pickup_to_hall``
    (collect from a citizen, deliver to a hall: the delivery end is the outlet in ``hall_id`` if
    given, else ``delivery_lon/lat``), ``hall_to_home`` (collect at the hall in ``hall_id``, else
    ``pickup_lon/lat``; deliver to the citizen) and ``home_visit`` (one visit at
    ``pickup_lon/lat`` in the pickup window; delivery columns left empty). Times are ``HH:MM``;
    an empty window means the whole day.

Runner columns
    ``id, name, base_outlet_id, shift_start, shift_end, mode, skills, max_errands, break_start,
    break_end, break_minutes`` (+ optional ``illustrative``). ``skills`` is ``;``-separated;
    ``max_errands`` empty means no limit; the break is optional (all three or none): a break of
    ``break_minutes`` starting between ``break_start`` and ``break_end - break_minutes``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gis.defaults import MODES
from gis.io import Column, TableCheck, check_table, format_time_of_day, parse_time_of_day
from gis.io import read_table as read_table

__all__ = [
    "KINDS", "MODES", "KNOWN_SKILLS", "ERRAND_COLUMNS", "RUNNER_COLUMNS", "ERRAND_SCHEMA",
    "Errand", "Runner", "read_table", "read_errands", "read_runners", "errands_from_frame",
    "runners_from_frame", "runner_schema", "parse_hhmm", "fmt_hhmm",
]

log = logging.getLogger(__name__)

KINDS = ("pickup_delivery", "pickup_to_hall", "hall_to_home", "home_visit")
#: Skill vocabulary (帮办代办 service lines); callers may extend it.
KNOWN_SKILLS = frozenset({
    "工程建设", "不动产", "社保", "医保", "户籍", "公积金", "民政", "税务", "市场监管", "残联",
    "养老", "退役军人",
})
ERRAND_COLUMNS = (
    "id", "kind", "pickup_lon", "pickup_lat", "delivery_lon", "delivery_lat", "hall_id",
    "pickup_earliest", "pickup_latest", "delivery_earliest", "delivery_latest",
    "service_minutes", "skill", "priority", "contact_name", "contact_phone", "address", "note",
    "items",
)
RUNNER_COLUMNS = (
    "id", "name", "base_outlet_id", "shift_start", "shift_end", "mode", "skills", "max_errands",
    "break_start", "break_end", "break_minutes",
)
DAY = 24 * 3600

#: The errands table (cross-field rules, in :func:`errands_from_frame`, add to its problems).
ERRAND_SCHEMA = (
    Column("id", "id"),
    Column("kind", "enum", choices=KINDS),
    Column("pickup_lon", "lonlat", lat="pickup_lat", blank_ok=True),
    Column("delivery_lon", "lonlat", lat="delivery_lat", required=False),
    Column("hall_id", required=False),
    *(Column(t, "time", required=False) for t in (
        "pickup_earliest", "pickup_latest", "delivery_earliest", "delivery_latest")),
    Column("service_minutes", "float", minimum=0, maximum=480),
    Column("skill", required=False),
    Column("priority", "int", minimum=1, maximum=3),
    *(Column(t, required=False) for t in ("contact_name", "contact_phone", "address", "note",
                                           "items")),
    Column("illustrative", "bool", required=False),
)


def runner_schema(modes: Iterable[str] = MODES) -> tuple[Column, ...]:
    """The runners table, with the travel modes the region has."""
    return (
        Column("id", "id"), Column("name"), Column("base_outlet_id"),
        Column("shift_start", "time"), Column("shift_end", "time"),
        Column("mode", "enum", choices=tuple(modes)),
        Column("skills", "list", required=False),
        Column("max_errands", "int", required=False, minimum=1, maximum=1000),
        Column("break_start", "time", required=False), Column("break_end", "time", required=False),
        Column("break_minutes", "float", required=False, minimum=1, maximum=240),
        Column("illustrative", "bool", required=False),
    )


#: Distance in metres from each point to the nearest road of a mode: ``f(lon, lat, mode)``.
RoadDistance = Callable[[np.ndarray, np.ndarray, str], np.ndarray]


@dataclass(frozen=True)
class Errand:
    """One errand; times in seconds after midnight, ``None`` ends resolved from ``hall_id``."""

    id: str
    kind: str
    pickup: tuple[float, float] | None
    delivery: tuple[float, float] | None
    hall_id: str
    pickup_window: tuple[int, int]
    delivery_window: tuple[int, int]
    service_s: int
    skill: str
    priority: int
    contact_name: str = ""
    contact_phone: str = ""
    address: str = ""
    note: str = ""
    items: str = ""
    illustrative: bool = False

    @property
    def is_pair(self) -> bool:
        """True for errands with a pickup and a delivery stop."""
        return self.kind != "home_visit"


@dataclass(frozen=True)
class Runner:
    """One runner on shift; times in seconds after midnight."""

    id: str
    name: str
    base_outlet_id: str
    shift: tuple[int, int]
    mode: str
    skills: frozenset[str]
    max_errands: int | None
    lunch: tuple[int, int, int] | None  # (window start, window end, duration) seconds
    illustrative: bool = False


#: The one time-of-day rule lives in :mod:`gis.schema`; these are its old names here.
parse_hhmm = parse_time_of_day
fmt_hhmm = format_time_of_day


def _val(frame: pd.DataFrame, col: str, i: int) -> object:
    return frame[col].iat[i] if col in frame.columns else None


def _num(frame: pd.DataFrame, col: str, i: int) -> float | None:
    v = _val(frame, col, i)
    return None if v is None or pd.isna(v) else float(v)  # type: ignore[arg-type]


def _text(frame: pd.DataFrame, col: str, i: int) -> str:
    v = _val(frame, col, i)
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _texts(frame: pd.DataFrame, col: str) -> list[str]:
    """A whole column as text (``""`` for blanks or a missing column): one pass, no per-cell
    pandas indexing.
    """
    if col not in frame.columns:
        return [""] * len(frame)
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            for v in frame[col].tolist()]


def _nums(frame: pd.DataFrame, col: str) -> np.ndarray:
    """A converted number/time column as floats (NaN for blanks or a missing column)."""
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    return np.asarray(frame[col].to_numpy(dtype=float, na_value=np.nan), dtype=float)


def _windows(c: TableCheck, c0: str, c1: str) -> tuple[np.ndarray, np.ndarray]:
    """Window columns → (start, end) seconds (whole day where blank); an end before its start
    is a problem on the end column.
    """
    a, b = _nums(c.frame, c0), _nums(c.frame, c1)
    for i in np.flatnonzero(b < a).tolist():  # NaN compares False: only given pairs
        c.add(i, c1, f"window ends ({fmt_hhmm(b[i])}) before it starts ({fmt_hhmm(a[i])})")
    return (np.where(np.isnan(a), 0, a).astype(np.int64),
            np.where(np.isnan(b), DAY, b).astype(np.int64))


def _points(c: TableCheck, prefix: str, need: np.ndarray) -> list[tuple[float, float] | None]:
    """The ``prefix`` end of every row; a missing end where ``need`` is a problem (unless the
    coordinate cells already have one).
    """
    clon, clat = f"{prefix}_lon", f"{prefix}_lat"
    lon, lat = _nums(c.frame, clon), _nums(c.frame, clat)
    have = ~np.isnan(lon) & ~np.isnan(lat)
    for i in np.flatnonzero(need & ~have).tolist():
        if c.ok(i, clon, clat):
            c.add(i, clon, f"missing {prefix} coordinates: expected lon and lat")
    return [(x, y) if h else None
            for x, y, h in zip(lon.tolist(), lat.tolist(), have.tolist(), strict=True)]


def _check_near_roads(c: TableCheck, ends: dict[str, list[tuple[float, float] | None]],
                      distance_m: RoadDistance, modes: Iterable[str], max_snap_m: float) -> None:
    """Refuse errand ends further than ``max_snap_m`` from the roads of every mode runners use
    (no runner could reach them; like outlets beyond ``max_snap_m``).
    """
    modes = sorted(set(modes))
    for prefix, points in ends.items():
        rows = [i for i, p in enumerate(points) if p is not None]
        if not rows or not modes:
            continue
        xy = np.array([points[i] for i in rows], dtype=float)
        d = np.min([np.asarray(distance_m(xy[:, 0], xy[:, 1], m), dtype=float) for m in modes],
                   axis=0)
        for k in np.flatnonzero(d > max_snap_m):
            i = rows[int(k)]
            c.add(i, f"{prefix}_lon", f"errand {c.frame['id'].iat[i]!r}: the {prefix} is "
                                      f"{d[k]:,.0f} m from the nearest road any runner uses "
                                      f"({', '.join(modes)}); expected within "
                                      f"{max_snap_m:,.0f} m (network.max_snap_m)")


def errands_from_frame(df: pd.DataFrame, *, file: str = "errands", hall_ids: Iterable[str] = (),
                       skills: Iterable[str] = KNOWN_SKILLS,
                       bbox: tuple[float, float, float, float] | None = None,
                       road_distance: RoadDistance | None = None,
                       road_modes: Iterable[str] = (),
                       max_snap_m: float = 1000.0) -> list[Errand]:
    """Validate an errands table and build :class:`Errand` records.

    The columns are checked by :data:`ERRAND_SCHEMA` (:mod:`gis.schema`); the rules here tie
    columns together: which ends a kind needs, windows, halls that exist, skills, distance to
    a road.

    Parameters
    ----------
    df
        The table (as read by :func:`gis.io.read_table`, or built in memory).
    file
        Name used in problem messages.
    hall_ids
        Outlet ids an errand may name in ``hall_id``.
    skills
        Skill vocabulary.
    bbox
        ``(lon_min, lat_min, lon_max, lat_max)``: points outside are errors (and swapped
        lon/lat are recognised).
    road_distance, road_modes, max_snap_m
        When given: ``road_distance(lon, lat, mode)`` metres from each point to the nearest road
        of ``mode``; an errand end further than ``max_snap_m`` from the road of any of
        ``road_modes`` (the modes the day's runners use) is refused, as outlets are.

    Raises
    ------
    InputError
        With every problem found.
    """
    c = check_table(df, file, ERRAND_SCHEMA, bbox=bbox)
    if any(p.row is None for p in c.problems):  # missing columns or no rows
        c.raise_if_any()
    halls, vocab = set(map(str, hall_ids)), set(skills)
    f = c.frame
    n = len(f)
    # Column by column, in the order a row's problems are listed (the sort in raise_if_any is
    # stable, so each row keeps that order): hall, pickup end, delivery end, windows, skill.
    kinds, hall_col, skill_col = _texts(f, "kind"), _texts(f, "hall_id"), _texts(f, "skill")
    kind = np.array(kinds, dtype=object)
    has_hall = np.array([h != "" for h in hall_col], dtype=bool)
    kind_ok = np.array([c.ok(i, "kind") for i in range(n)], dtype=bool)
    for i in np.flatnonzero(kind_ok & has_hall).tolist():
        if hall_col[i] not in halls:
            c.add(i, "hall_id", f"unknown hall outlet {hall_col[i]!r}")
    visit, to_home = kind == "home_visit", kind == "hall_to_home"
    need_p = kind_ok & ~(to_home & has_hall)
    need_d = kind_ok & ((kind == "pickup_delivery") | to_home
                        | ((kind == "pickup_to_hall") & ~has_hall))
    picks = _points(c, "pickup", need_p)
    delivs = _points(c, "delivery", need_d & ~visit)
    no_pick = ~kind_ok | (to_home & has_hall)
    no_deliv = ~kind_ok | visit | ((kind == "pickup_to_hall") & has_hall)
    picks = [None if x else p for p, x in zip(picks, no_pick.tolist(), strict=True)]
    delivs = [None if x else d for d, x in zip(delivs, no_deliv.tolist(), strict=True)]
    p0, p1 = _windows(c, "pickup_earliest", "pickup_latest")
    d0, d1 = _windows(c, "delivery_earliest", "delivery_latest")
    for i in np.flatnonzero(~visit & (d1 < p0)).tolist():
        c.add(i, "delivery_latest", "delivery window ends before the pickup window opens")
    for i, skill in enumerate(skill_col):
        if skill and skill not in vocab:
            c.add(i, "skill",
                  f"unknown skill {skill!r}: expected one of {', '.join(sorted(vocab))}")
    if road_distance is not None:
        _check_near_roads(c, {"pickup": picks, "delivery": delivs}, road_distance, road_modes,
                          max_snap_m)
    c.raise_if_any()
    service_s = np.round(_nums(f, "service_minutes") * 60).astype(np.int64).tolist()
    priority = _nums(f, "priority").astype(np.int64).tolist()
    illustrative = ([v is True for v in f["illustrative"].tolist()]
                    if "illustrative" in f.columns else [False] * n)
    ids, names, phones, addresses, notes, items = (_texts(f, col) for col in (
        "id", "contact_name", "contact_phone", "address", "note", "items"))
    pw = list(zip(p0.tolist(), p1.tolist(), strict=True))
    dw = list(zip(d0.tolist(), d1.tolist(), strict=True))
    return [Errand(
        id=ids[i], kind=kinds[i], pickup=picks[i], delivery=delivs[i], hall_id=hall_col[i],
        pickup_window=pw[i], delivery_window=dw[i], service_s=service_s[i], skill=skill_col[i],
        priority=priority[i], contact_name=names[i], contact_phone=phones[i],
        address=addresses[i], note=notes[i], items=items[i], illustrative=illustrative[i],
    ) for i in range(n)]


def runners_from_frame(df: pd.DataFrame, *, file: str = "runners", base_ids: Iterable[str] = (),
                       skills: Iterable[str] = KNOWN_SKILLS,
                       modes: Iterable[str] = MODES) -> list[Runner]:
    """Validate a runners table and build :class:`Runner` records.

    The columns are checked by :func:`runner_schema`; the rules here tie columns together:
    bases that exist, the shift, the break, skills.

    Parameters
    ----------
    df
        The table.
    file
        Name used in problem messages.
    base_ids
        Outlet ids a runner may be based at.
    skills
        Skill vocabulary.
    modes
        Travel modes available in the region.

    Raises
    ------
    InputError
        With every problem found.
    """
    c = check_table(df, file, runner_schema(modes))
    if any(p.row is None for p in c.problems):
        c.raise_if_any()
    bases, vocab = set(map(str, base_ids)), set(skills)
    f = c.frame
    out: list[Runner] = []
    for i in range(len(f)):
        base = _text(f, "base_outlet_id", i)
        if base not in bases:
            c.add(i, "base_outlet_id", f"unknown runner base {base!r}: expected an outlet id")
        s0, s1 = _num(f, "shift_start", i), _num(f, "shift_end", i)
        if s0 is not None and s1 is not None and s1 <= s0:
            c.add(i, "shift_end", f"shift ends ({fmt_hhmm(s1)}) before it starts "
                                  f"({fmt_hhmm(s0)})")
        sk = f["skills"].iat[i] if "skills" in f.columns else frozenset()
        for s in sorted(sk - vocab):
            c.add(i, "skills", f"unknown skill {s!r}: expected one of {', '.join(sorted(vocab))}")
        brk = ("break_start", "break_end", "break_minutes")
        b0, b1, bm = (_num(f, b, i) for b in brk)
        given = [v is not None or not c.ok(i, b) for v, b in zip((b0, b1, bm), brk, strict=True)]
        lunch = None
        if any(given) and not all(given):
            c.add(i, "break_minutes", "break needs break_start, break_end and break_minutes")
        elif b0 is not None and b1 is not None and bm is not None:
            if b1 - b0 < bm * 60:
                c.add(i, "break_end", f"break of {bm:g} min does not fit between "
                                      f"{fmt_hhmm(b0)} and {fmt_hhmm(b1)}")
            elif s0 is not None and s1 is not None and not (s0 <= b0 and b1 <= s1):
                c.add(i, "break_start", "break window must lie inside the shift")
            else:
                lunch = (int(b0), int(b1), int(bm * 60))
        me = _num(f, "max_errands", i)
        out.append(Runner(
            id=_text(f, "id", i), name=_text(f, "name", i), base_outlet_id=base,
            shift=(int(s0 or 0), int(s1 or 0)), mode=_text(f, "mode", i), skills=sk,
            max_errands=None if me is None else int(me), lunch=lunch,
            illustrative=_val(f, "illustrative", i) is True,
        ))
    c.raise_if_any()
    return out


def read_errands(path: str | Path, **kw: Any) -> list[Errand]:
    """Read and validate an errands CSV/XLSX (keywords as :func:`errands_from_frame`)."""
    return errands_from_frame(read_table(path), file=str(path), **kw)


def read_runners(path: str | Path, **kw: Any) -> list[Runner]:
    """Read and validate a runners CSV/XLSX (keywords as :func:`runners_from_frame`)."""
    return runners_from_frame(read_table(path), file=str(path), **kw)
