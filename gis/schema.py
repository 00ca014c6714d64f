"""Column schemas for user tables: one rule per kind of value, every problem reported at once.

A table read by :func:`gis.io.read_table` (all cells strings) is checked against a list of
:class:`Column` by :func:`check_table`, which converts each column to its type and collects an
:class:`~gis.errors.InputProblem` (file, row, column, what was expected) for every bad cell.
Rules that tie several columns together (a window's end after its start, a hall that exists)
belong to the caller, which adds them to the same :class:`TableCheck`.

Kinds of column
    ``str``      text, stripped (``choices`` makes it an enumeration, as ``enum``)
    ``id``       text, never blank, unique in the table
    ``enum``     one of ``choices``
    ``float``    a finite number within ``minimum``/``maximum`` (``exclusive_minimum``: > min)
    ``int``      a whole number within the bounds
    ``bool``     true/false, 1/0, yes/no, 是/否 (and urban/rural, 城区/乡村 for area files);
                 anything else is refused, not read as false
    ``time``     a time of day (:func:`parse_time_of_day`), converted to seconds after midnight
    ``lonlat``   a longitude column (``name``) and its latitude column (``lat``), decimal
                 degrees, checked together (range, swapped, outside the region)
    ``list``     ``;``-separated words (also the full-width ``；``), as a frozenset

Row numbers: see :mod:`gis.io` (data rows from 1 for CSV and layers; Excel's own row numbers,
header = row 1, for XLSX).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .aliases import normalise_table
from .coords import to_wgs84
from .errors import InputError, InputProblem
from .hours import parse_hours

__all__ = ["Column", "TableCheck", "check_table", "validate_table", "parse_time_of_day",
           "format_time_of_day", "check_lonlat", "DATUMS", "normalise_datum"]

DAY_S = 24 * 3600
DATUMS = ("wgs84", "gcj02", "bd09")
_KINDS = ("str", "id", "enum", "float", "int", "bool", "time", "lonlat", "list", "hours")
_TRUE = {"true", "1", "yes", "y", "t", "urban", "是", "城区", "城镇"}
_FALSE = {"false", "0", "no", "n", "f", "rural", "否", "乡村", "农村"}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$", re.ASCII)
_LIST_SPLIT = re.compile(r"[;；]")


@dataclass(frozen=True)
class Column:
    """One column of a table schema.

    Parameters
    ----------
    name
        Column name (for ``lonlat``: the longitude column).
    kind
        One of ``str, id, enum, float, int, bool, time, lonlat, list`` (see the module doc).
    required
        The column must be present and, unless ``blank_ok``, every value non-blank.
    blank_ok
        Blank values are allowed in a required column (a rule elsewhere says when).
    minimum, maximum
        Bounds for ``float``/``int`` (inclusive; ``exclusive_minimum`` makes the lower strict).
    choices
        Allowed values for ``enum`` (or ``str``).
    lat
        For ``lonlat``: the latitude column.
    """

    name: str
    kind: str = "str"
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    blank_ok: bool = False
    exclusive_minimum: bool = False
    lat: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"Expected a column kind in {_KINDS}, got {self.kind!r}.")
        if self.kind == "lonlat" and not self.lat:
            raise ValueError("Expected `lat` (the latitude column) for a lonlat column.")
        if self.kind == "enum" and not self.choices:
            raise ValueError("Expected `choices` for an enum column.")

    @property
    def names(self) -> tuple[str, ...]:
        """The file columns this schema column reads."""
        return (self.name, self.lat) if self.kind == "lonlat" else (self.name,)  # type: ignore[return-value]

    def expected(self) -> str:
        """What a good value looks like, for messages."""
        if self.kind in ("float", "int"):
            what = "a whole number" if self.kind == "int" else "a number"
            lo, hi = self.minimum, self.maximum
            if lo is not None and hi is not None and not self.exclusive_minimum:
                return f"[{lo:g}, {hi:g}] ({what})"
            parts = []
            if lo is not None:
                parts.append(f"{'>' if self.exclusive_minimum else '≥'} {lo:g}")
            if hi is not None:
                parts.append(f"≤ {hi:g}")
            return f"{what} {' and '.join(parts)}".strip()
        return {
            "str": "text", "id": "a unique id", "bool": "true or false (1/0, yes/no, 是/否)",
            "time": "HH:MM or HH:MM:SS, a time of day (e.g. 08:30; 24:00 = end of day)",
            "lonlat": "lon and lat in decimal degrees", "list": "words separated by ;",
        }.get(self.kind, f"one of {', '.join(self.choices or ())}")


def parse_time_of_day(text: str) -> int:
    """``"08:30"`` → 30600 seconds after midnight; the one time-of-day rule.

    Accepts ``H:MM``, ``HH:MM`` and ``HH:MM:SS`` (Excel writes time cells with seconds);
    ``24:00`` (or ``24:00:00``) is the end of the day. Full-width digits and colon (``１２：００``,
    typed with a Chinese input method) read as their ASCII forms. Hours above 24, minutes or seconds above
    59, and anything else raise :class:`ValueError`.
    """
    m = _TIME.match(unicodedata.normalize("NFKC", str(text)).strip())
    if not m:
        raise ValueError(f"{text!r} is not a time")
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if h > 24 or mi > 59 or s > 59 or (h == 24 and (mi or s)):
        raise ValueError(f"{text!r} is not a time")
    return h * 3600 + mi * 60 + s


def format_time_of_day(seconds: float) -> str:
    """Seconds after midnight → ``"HH:MM"`` (rounded down)."""
    s = int(seconds)
    return f"{s // 3600:02d}:{(s % 3600) // 60:02d}"


def normalise_datum(text: str) -> str | None:
    """``'WGS-84'`` → ``'wgs84'``; ``None`` when it is not a datum bianmin converts."""
    d = str(text).strip().lower().replace("-", "").replace("_", "")
    return d if d in DATUMS else None


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == ""


@dataclass
class TableCheck:
    """A table checked against a schema: the typed frame and every problem found.

    ``add`` takes a 0-based position in the frame and writes the row number users see.
    """

    file: str
    frame: pd.DataFrame
    first_row: int = 1
    problems: list[InputProblem] = field(default_factory=list)
    bad: set[tuple[int | None, str | None]] = field(default_factory=set)

    def row(self, i: int) -> int:
        """The row number users see for position ``i``."""
        return self.first_row + i

    def add(self, i: int | None, column: str | None, message: str) -> None:
        """Record a problem at position ``i`` (``None``: the whole file) in ``column``."""
        self.bad.add((i, column))
        self.problems.append(InputProblem(self.file, None if i is None else self.row(i),
                                          column, message))

    def ok(self, i: int, *columns: str) -> bool:
        """No problem recorded at position ``i`` in any of ``columns``."""
        return not any((i, c) in self.bad for c in columns)

    def raise_if_any(self) -> None:
        """Raise :class:`InputError` with every problem, in row order."""
        if self.problems:
            raise InputError(sorted(self.problems, key=lambda p: -1 if p.row is None else p.row))


def _number(c: TableCheck, col: Column, i: int, s: str) -> float:
    try:
        x = float(s)
    except ValueError:
        c.add(i, col.name, f"{s!r} is not a number: expected {col.expected()}")
        return np.nan
    if not np.isfinite(x):
        c.add(i, col.name, f"{s!r} is not a finite number: expected {col.expected()}")
        return np.nan
    if col.kind == "int" and x != int(x):
        c.add(i, col.name, f"{s!r} is not a whole number: expected {col.expected()}")
        return np.nan
    lo, hi = col.minimum, col.maximum
    if (lo is not None and (x < lo or (col.exclusive_minimum and x == lo))) or (
            hi is not None and x > hi):
        c.add(i, col.name, f"{s!r} out of range: expected {col.expected()}")
        return np.nan
    return x


def _fast_numbers(col: Column, values: list[object]) -> np.ndarray:
    """Vectorised parse; NaN where a value needs the per-cell path (and its message)."""
    x = pd.to_numeric(pd.Series(values, dtype=object).astype(str).str.strip(),
                      errors="coerce").to_numpy(dtype=float, copy=True)
    bad = ~np.isfinite(x)
    if col.minimum is not None:
        bad |= (x <= col.minimum) if col.exclusive_minimum else (x < col.minimum)
    if col.maximum is not None:
        bad |= x > col.maximum
    if col.kind == "int":
        bad |= x != np.round(x)
    x[bad] = np.nan
    return x


def _convert(c: TableCheck, col: Column, values: list[object]) -> list[object]:
    blank_ok = col.blank_ok or not col.required
    out: list[object] = []
    fast = _fast_numbers(col, values) if col.kind in ("float", "int") else None
    for i, v in enumerate(values):
        if fast is not None and not np.isnan(fast[i]):
            out.append(float(fast[i]))
            continue
        if _blank(v):
            if not blank_ok:
                c.add(i, col.name, f"missing value: expected {col.expected()}")
            out.append(np.nan if col.kind in ("float", "int", "time") else
                       frozenset() if col.kind == "list" else None)
            continue
        s = str(v).strip()
        if col.kind in ("float", "int"):
            out.append(_number(c, col, i, s))
        elif col.kind == "time":
            try:
                out.append(float(parse_time_of_day(s)))
            except ValueError:
                c.add(i, col.name, f"{s!r} is not a time: expected {col.expected()}")
                out.append(np.nan)
        elif col.kind == "bool":
            low = s.lower()
            if low in _TRUE or low in _FALSE:
                out.append(low in _TRUE)
            else:
                c.add(i, col.name, f"{s!r} is not true/false: expected {col.expected()}")
                out.append(None)
        elif col.kind == "list":
            out.append(frozenset(x.strip() for x in _LIST_SPLIT.split(s) if x.strip()))
        elif col.kind == "hours":  # opening hours: checked by the one grammar, text kept
            try:
                parse_hours(s)
            except InputError as exc:
                for prob in exc.problems:
                    c.add(i, col.name, prob.message)
            out.append(s)
        else:  # str, id, enum
            if col.choices is not None and s not in col.choices:
                c.add(i, col.name, f"{s!r} unknown: expected one of {', '.join(col.choices)}")
            out.append(s)
    return out


def check_lonlat(c: TableCheck, lon: np.ndarray, lat: np.ndarray, lon_col: str, lat_col: str,
                 bbox: tuple[float, float, float, float] | None, *,
                 skip: np.ndarray | None = None) -> None:
    """The one lon/lat rule: in range, not swapped, inside ``bbox`` (west, south, east, north).

    Problems about the pair (swapped, outside the region) name the longitude column.
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    fine = np.isnan(lon) | np.isnan(lat)
    if bbox is None:
        fine |= (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    else:
        fine |= (bbox[0] <= lon) & (lon <= bbox[2]) & (bbox[1] <= lat) & (lat <= bbox[3])
    if skip is not None:
        fine |= skip
    for i in np.flatnonzero(~fine).tolist():
        x, y = float(lon[i]), float(lat[i])
        if not (-90 <= y <= 90) and (-90 <= x <= 90) and (-180 <= y <= 180):
            c.add(i, lon_col, f"latitude {y} is out of range [-90, 90]; lon/lat look swapped "
                              "(expected lon then lat, WGS-84 degrees)")
        elif not (-90 <= y <= 90):
            c.add(i, lat_col, f"latitude {y} is out of range [-90, 90] (WGS-84 degrees)")
        elif not (-180 <= x <= 180):
            c.add(i, lon_col, f"longitude {x} is out of range [-180, 180] (WGS-84 degrees)")
        elif bbox is not None:
            w, s, e, n = bbox
            if w <= x <= e and s <= y <= n:
                continue
            if w <= y <= e and s <= x <= n:
                c.add(i, lon_col, f"({x}, {y}) lies outside the region but inside it when "
                                  "swapped: lon and lat look swapped")
            else:
                c.add(i, lon_col, f"({x}, {y}) lies outside the region "
                                  f"(lon {w:.4f}..{e:.4f}, lat {s:.4f}..{n:.4f})")


def _lonlat(c: TableCheck, col: Column, df: pd.DataFrame, datum: str | None,
            bbox: tuple[float, float, float, float] | None) -> tuple[np.ndarray, np.ndarray]:
    lat_col = col.lat or "lat"
    n = len(df)
    raw_lon = df[col.name].tolist() if col.name in df.columns else [None] * n
    raw_lat = df[lat_col].tolist() if lat_col in df.columns else [None] * n
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    blank_ok = col.blank_ok or not col.required
    free = Column("x", "float")
    fast_lon, fast_lat = _fast_numbers(free, raw_lon), _fast_numbers(free, raw_lat)
    done = ~np.isnan(fast_lon) & ~np.isnan(fast_lat)
    lon[done], lat[done] = fast_lon[done], fast_lat[done]
    for i, (a, b) in enumerate(zip(raw_lon, raw_lat, strict=True)):
        if done[i]:
            continue
        if _blank(a) and _blank(b):
            if not blank_ok:
                c.add(i, col.name, f"missing value: expected {col.expected()}")
            continue
        for name, v, dest in ((col.name, a, lon), (lat_col, b, lat)):
            if _blank(v):
                c.add(i, name, f"missing value: expected {col.expected()} (both, not one)")
                continue
            try:
                dest[i] = float(str(v).strip())
            except ValueError:
                c.add(i, name, f"{str(v).strip()!r} is not a number: expected decimal degrees")
                continue
            if not np.isfinite(dest[i]):
                c.add(i, name, f"{str(v).strip()!r} is not a finite number: expected decimal "
                               "degrees")
                dest[i] = np.nan
    if datum is not None:
        per_row = (df["crs"] if "crs" in df.columns else pd.Series([""] * n)).tolist()
        datums = []
        for i, v in enumerate(per_row):
            d = datum if _blank(v) else normalise_datum(str(v))
            if d is None:
                c.add(i, "crs", f"{str(v).strip()!r} unknown: expected wgs84, gcj02 or bd09")
            datums.append(d or "wgs84")
        raw_ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        arr = np.array(datums, dtype=object)
        for d in set(datums) - {"wgs84"}:
            m = (arr == d) & raw_ok
            lon[m], lat[m] = to_wgs84(lon[m], lat[m], d)
    check_lonlat(c, lon, lat, col.name, lat_col, bbox)
    return lon, lat


def _canonical_columns(df: pd.DataFrame, columns: Iterable[Column]) -> pd.DataFrame:
    """Header clean-up before validation: stripped names, then the Chinese/English column
    aliases and kind labels of :mod:`gis.aliases` (名称/经度/邮政网点 … → name/lon/post_office).
    """
    df = df.copy()
    df.columns = [str(h).strip() for h in df.columns]
    return normalise_table(df)


def check_table(df: pd.DataFrame, file: str, columns: Iterable[Column], *,
                id_column: str | None = "id", datum: str | None = None,
                bbox: tuple[float, float, float, float] | None = None,
                first_row: int | None = None) -> TableCheck:
    """Check and convert ``df`` against ``columns``; the typed frame and every problem.

    Parameters
    ----------
    df
        The table as read (strings, or values whose ``str`` is their text).
    file
        Name used in messages.
    columns
        The schema. Columns the schema does not name are kept as they are.
    id_column
        Column whose values must be unique (also every ``id`` column).
    datum
        For ``lonlat`` columns: the datum of the coordinates (a per-row ``crs`` column
        overrides it); converted to WGS-84. ``None``: taken as WGS-84, no ``crs`` column read.
    bbox
        (west, south, east, north): ``lonlat`` values outside are refused (swaps recognised).
    first_row
        Row number of the first data row (default: ``df.attrs['first_row']`` or 1).
    """
    columns = list(columns)
    if first_row is None:
        first_row = int(df.attrs.get("first_row", 1))
    df = _canonical_columns(df, columns)
    c = TableCheck(file, df.copy(), first_row)
    c.frame.attrs["first_row"] = first_row
    for col in columns:
        missing = [n for n in col.names if n not in df.columns]
        for name in missing:
            if col.required:
                c.add(None, name, f"missing column; the file has {list(df.columns)}")
        if len(missing) == len(col.names):
            continue
        if col.kind == "lonlat":
            lon, lat = _lonlat(c, col, df, datum, bbox)
            c.frame[col.name], c.frame[col.lat] = lon, lat
            continue
        conv = _convert(c, col, df[col.name].tolist())
        series = pd.Series(conv, index=df.index, dtype=object)
        c.frame[col.name] = series.astype(float) if col.kind in ("float", "int", "time") \
            else series
    if len(df) == 0:
        c.add(None, None, "empty file: no data rows under the header")
    unique = {col.name for col in columns if col.kind == "id"}
    if id_column:
        unique.add(id_column)
    for name in sorted(u for u in unique if u in df.columns):
        seen: dict[str, int] = {}
        ids = [("" if _blank(v) else str(v).strip()) for v in df[name].tolist()]
        for i, v in enumerate(ids):
            if v == "":
                if (i, name) not in c.bad:
                    c.add(i, name, "missing id")
            elif v in seen:
                c.add(i, name, f"duplicate id {v!r} (first seen in row {c.row(seen[v])})")
            else:
                seen[v] = i
        c.frame[name] = ids
    return c


def validate_table(df: pd.DataFrame, file: str, columns: list[Column], *,
                   id_column: str | None = "id") -> tuple[pd.DataFrame, list[InputProblem]]:
    """Check and convert ``df`` against ``columns``; return the typed frame and every problem."""
    c = check_table(df, file, columns, id_column=id_column)
    return c.frame, c.problems
