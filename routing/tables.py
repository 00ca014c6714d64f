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
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gis.defaults import MODES
from gis.errors import InputError, InputProblem

__all__ = [
    "KINDS", "MODES", "KNOWN_SKILLS", "ERRAND_COLUMNS", "RUNNER_COLUMNS", "Errand", "Runner",
    "read_table", "read_errands", "read_runners", "errands_from_frame", "runners_from_frame",
    "parse_hhmm", "fmt_hhmm",
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
ERRAND_REQUIRED = ("id", "kind", "pickup_lon", "pickup_lat", "service_minutes", "priority")
RUNNER_COLUMNS = (
    "id", "name", "base_outlet_id", "shift_start", "shift_end", "mode", "skills", "max_errands",
    "break_start", "break_end", "break_minutes",
)
RUNNER_REQUIRED = ("id", "name", "base_outlet_id", "shift_start", "shift_end", "mode")
DAY = 24 * 3600


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


_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::\d{2})?\s*$")


def parse_hhmm(text: str) -> int:
    """``"08:30"`` -> 30600 seconds after midnight; raises ValueError otherwise."""
    m = _HHMM.match(str(text))
    if not m:
        raise ValueError(text)
    h, mi = int(m.group(1)), int(m.group(2))
    if h > 24 or mi > 59 or (h == 24 and mi):
        raise ValueError(text)
    return h * 3600 + mi * 60


def fmt_hhmm(seconds: float) -> str:
    """Seconds after midnight -> ``"HH:MM"`` (rounded down)."""
    s = int(seconds)
    return f"{s // 3600:02d}:{(s % 3600) // 60:02d}"


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (UTF-8, else GB18030/GBK) or XLSX file as strings, blanks as ``""``.

    Raises
    ------
    InputError
        Missing file, unreadable encoding, unknown extension or no data rows.
    """
    p = Path(path)
    name = str(p)
    if not p.exists():
        raise InputError(InputProblem(name, None, None, "file not found"))
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        df = pd.read_excel(p, dtype=str, keep_default_na=False)
    elif suffix in (".csv", ".txt"):
        df = None
        for enc in ("utf-8-sig", "gb18030"):
            try:
                df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding=enc)
                break
            except UnicodeDecodeError:
                continue
            except pd.errors.EmptyDataError:
                raise InputError(InputProblem(name, None, None, "empty file: expected a header "
                                                           "row and data rows")) from None
        if df is None:
            raise InputError(InputProblem(name, None, None, "cannot decode: expected UTF-8 or GBK"))
    else:
        raise InputError(InputProblem(name, None, None, f"unknown file type {suffix!r}: expected "
                                                   ".csv or .xlsx"))
    df.columns = [str(c).strip() for c in df.columns]
    df = df.map(lambda x: str(x).strip() if x is not None else "")
    if df.empty:
        raise InputError(InputProblem(name, None, None, "empty file: no data rows"))
    return df


class _Collector:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[InputProblem] = []

    def add(self, row: int | None, col: str | None, msg: str) -> None:
        self.problems.append(InputProblem(self.file, row, col, msg))

    def num(self, row: int, rec: dict, col: str, *, lo: float, hi: float,
            required: bool = True, integer: bool = False) -> float | None:
        raw = rec.get(col, "")
        if raw == "":
            if required:
                self.add(row, col, f"missing value: expected a number in [{lo:g}, {hi:g}]")
            return None
        try:
            val = float(raw)
        except ValueError:
            self.add(row, col, f"{raw!r} is not a number: expected a number in [{lo:g}, {hi:g}]")
            return None
        if integer and val != int(val):
            self.add(row, col, f"{raw!r} is not a whole number")
            return None
        if not lo <= val <= hi:
            self.add(row, col, f"{raw!r} out of range: expected [{lo:g}, {hi:g}]")
            return None
        return val

    def time(self, row: int, rec: dict, col: str, *, required: bool = False) -> int | None:
        raw = rec.get(col, "")
        if raw == "":
            if required:
                self.add(row, col, "missing value: expected a time HH:MM")
            return None
        try:
            return parse_hhmm(raw)
        except ValueError:
            self.add(row, col, f"{raw!r} is not a time: expected HH:MM (e.g. 08:30)")
            return None

    def window(self, row: int, rec: dict, c0: str, c1: str) -> tuple[int, int]:
        a, b = self.time(row, rec, c0), self.time(row, rec, c1)
        a = 0 if a is None else a
        b = DAY if b is None else b
        if b < a:
            self.add(row, c1, f"window ends ({fmt_hhmm(b)}) before it starts ({fmt_hhmm(a)})")
        return a, b

    def point(self, row: int, rec: dict, prefix: str, bbox: tuple | None,
              required: bool) -> tuple[float, float] | None:
        clon, clat = f"{prefix}_lon", f"{prefix}_lat"
        rlon, rlat = rec.get(clon, ""), rec.get(clat, "")
        if rlon == "" and rlat == "":
            if required:
                self.add(row, clon, f"missing {prefix} coordinates: expected lon and lat")
            return None
        try:
            lon, lat = float(rlon), float(rlat)
        except ValueError:
            self.add(row, clon, f"{prefix} lon/lat ({rlon!r}, {rlat!r}) are not numbers")
            return None
        if bbox is not None:
            x0, y0, x1, y1 = bbox
            inside = x0 <= lon <= x1 and y0 <= lat <= y1
            if not inside and x0 <= lat <= x1 and y0 <= lon <= y1:
                self.add(row, clon, f"lon/lat look swapped ({lon}, {lat}): expected lon in "
                                    f"[{x0:.2f}, {x1:.2f}], lat in [{y0:.2f}, {y1:.2f}]")
                return None
            if not inside:
                self.add(row, clon, f"({lon}, {lat}) is outside the region: expected lon in "
                                    f"[{x0:.2f}, {x1:.2f}], lat in [{y0:.2f}, {y1:.2f}]")
                return None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            if -90 <= lon <= 90 and -180 <= lat <= 180:
                self.add(row, clon, f"lon/lat look swapped ({lon}, {lat}): expected lon first")
            else:
                self.add(row, clon, f"({lon}, {lat}) is not a valid lon/lat")
            return None
        return lon, lat


def _check_frame(c: _Collector, df: pd.DataFrame, required: Iterable[str]) -> bool:
    missing = [col for col in required if col not in df.columns]
    for col in missing:
        c.add(None, col, "missing column")
    if df.empty:
        c.add(None, None, "empty file: no data rows")
    ids = df["id"] if "id" in df.columns else pd.Series([], dtype=str)
    seen: dict[str, int] = {}
    for i, v in enumerate(ids, start=1):
        if v == "":
            c.add(i, "id", "missing id")
        elif v in seen:
            c.add(i, "id", f"duplicate id {v!r} (first on row {seen[v]})")
        else:
            seen[v] = i
    return not missing and not df.empty


def _truthy(s: str) -> bool:
    return s.strip().lower() in ("1", "true", "yes", "y", "是")


def errands_from_frame(df: pd.DataFrame, *, file: str = "errands", hall_ids: Iterable[str] = (),
                       skills: Iterable[str] = KNOWN_SKILLS,
                       bbox: tuple[float, float, float, float] | None = None) -> list[Errand]:
    """Validate an errands table (all columns strings) and build :class:`Errand` records.

    Parameters
    ----------
    df
        The table.
    file
        Name used in problem messages.
    hall_ids
        Outlet ids an errand may name in ``hall_id``.
    skills
        Skill vocabulary.
    bbox
        ``(lon_min, lat_min, lon_max, lat_max)``: points outside are errors (and swapped
        lon/lat are recognised).

    Raises
    ------
    InputError
        With every problem found.
    """
    c = _Collector(file)
    df = df.astype(str)
    if not _check_frame(c, df, ERRAND_REQUIRED):
        raise InputError(c.problems)
    halls, vocab = set(map(str, hall_ids)), set(skills)
    out: list[Errand] = []
    for i, rec in enumerate(df.to_dict("records"), start=1):
        n0 = len(c.problems)
        kind = rec.get("kind", "")
        if kind not in KINDS:
            c.add(i, "kind", f"{kind!r} unknown: expected one of {', '.join(KINDS)}")
            continue
        hall = rec.get("hall_id", "")
        if hall and hall not in halls:
            c.add(i, "hall_id", f"unknown hall outlet {hall!r}")
        need_p = not (kind == "hall_to_home" and hall)
        need_d = kind == "pickup_delivery" or kind == "hall_to_home" or (
            kind == "pickup_to_hall" and not hall)
        pick = c.point(i, rec, "pickup", bbox, need_p)
        deliv = c.point(i, rec, "delivery", bbox, need_d) if kind != "home_visit" else None
        if kind in ("pickup_to_hall", "hall_to_home") and hall:
            if kind == "pickup_to_hall":
                deliv = None
            else:
                pick = None
        pw = c.window(i, rec, "pickup_earliest", "pickup_latest")
        dw = c.window(i, rec, "delivery_earliest", "delivery_latest")
        if kind != "home_visit" and dw[1] < pw[0]:
            c.add(i, "delivery_latest", "delivery window ends before the pickup window opens")
        svc = c.num(i, rec, "service_minutes", lo=0, hi=480)
        pri = c.num(i, rec, "priority", lo=1, hi=3, integer=True)
        skill = rec.get("skill", "")
        if skill and skill not in vocab:
            c.add(i, "skill",
                  f"unknown skill {skill!r}: expected one of {', '.join(sorted(vocab))}")
        if len(c.problems) > n0:
            continue
        out.append(Errand(
            id=rec["id"], kind=kind, pickup=pick, delivery=deliv, hall_id=hall,
            pickup_window=pw, delivery_window=dw, service_s=int(round(float(svc) * 60)),
            skill=skill, priority=int(pri),  # type: ignore[arg-type]
            contact_name=rec.get("contact_name", ""), contact_phone=rec.get("contact_phone", ""),
            address=rec.get("address", ""), note=rec.get("note", ""), items=rec.get("items", ""),
            illustrative=_truthy(rec.get("illustrative", "")),
        ))
    if c.problems:
        raise InputError(c.problems)
    return out


def runners_from_frame(df: pd.DataFrame, *, file: str = "runners", base_ids: Iterable[str] = (),
                       skills: Iterable[str] = KNOWN_SKILLS,
                       modes: Iterable[str] = MODES) -> list[Runner]:
    """Validate a runners table and build :class:`Runner` records.

    Parameters
    ----------
    df
        The table (strings).
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
    c = _Collector(file)
    df = df.astype(str)
    if not _check_frame(c, df, RUNNER_REQUIRED):
        raise InputError(c.problems)
    bases, vocab, mode_ok = set(map(str, base_ids)), set(skills), tuple(modes)
    out: list[Runner] = []
    for i, rec in enumerate(df.to_dict("records"), start=1):
        n0 = len(c.problems)
        base = rec.get("base_outlet_id", "")
        if base not in bases:
            c.add(i, "base_outlet_id", f"unknown runner base {base!r}: expected an outlet id")
        s0 = c.time(i, rec, "shift_start", required=True)
        s1 = c.time(i, rec, "shift_end", required=True)
        if s0 is not None and s1 is not None and s1 <= s0:
            c.add(i, "shift_end", f"shift ends ({fmt_hhmm(s1)}) before it starts "
                                  f"({fmt_hhmm(s0)})")
        mode = rec.get("mode", "")
        if mode not in mode_ok:
            c.add(i, "mode", f"{mode!r} unknown: expected one of {', '.join(mode_ok)}")
        sk = frozenset(x.strip() for x in re.split(r"[;；]", rec.get("skills", "")) if x.strip())
        for s in sorted(sk - vocab):
            c.add(i, "skills", f"unknown skill {s!r}: expected one of {', '.join(sorted(vocab))}")
        me = c.num(i, rec, "max_errands", lo=1, hi=1000, required=False, integer=True)
        b0, b1 = c.time(i, rec, "break_start"), c.time(i, rec, "break_end")
        bm = c.num(i, rec, "break_minutes", lo=1, hi=240, required=False)
        lunch = None
        given = [x is not None for x in (b0, b1, bm)]
        if any(given) and not all(given):
            c.add(i, "break_minutes", "break needs break_start, break_end and break_minutes")
        elif all(given):
            if b1 - b0 < bm * 60:  # type: ignore[operator]
                c.add(i, "break_end", f"break of {bm:g} min does not fit between "
                                      f"{fmt_hhmm(b0)} and {fmt_hhmm(b1)}")
            elif s0 is not None and s1 is not None and not (s0 <= b0 and b1 <= s1):
                c.add(i, "break_start", "break window must lie inside the shift")
            else:
                lunch = (b0, b1, int(bm * 60))  # type: ignore[operator]
        if len(c.problems) > n0:
            continue
        out.append(Runner(
            id=rec["id"], name=rec["name"], base_outlet_id=base, shift=(s0, s1),  # type: ignore
            mode=mode, skills=sk, max_errands=None if me is None else int(me), lunch=lunch,
            illustrative=_truthy(rec.get("illustrative", "")),
        ))
    if c.problems:
        raise InputError(c.problems)
    return out


def read_errands(path: str | Path, **kw) -> list[Errand]:
    """Read and validate an errands CSV/XLSX (keywords as :func:`errands_from_frame`)."""
    return errands_from_frame(read_table(path), file=str(path), **kw)


def read_runners(path: str | Path, **kw) -> list[Runner]:
    """Read and validate a runners CSV/XLSX (keywords as :func:`runners_from_frame`)."""
    return runners_from_frame(read_table(path), file=str(path), **kw)
