"""Reading user tables at the edge (CSV in UTF-8 or GBK, XLSX, GeoJSON, GeoPackage) and
writing outputs atomically.

Every reader reports *all* problems it finds at once as :class:`gis.errors.InputError`, each
naming the file, the row (1-based data row; the header is row 0) and the column.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .aliases import excel_rows, normalise_table
from .coords import to_wgs84
from .errors import InputError, InputProblem
from .hours import parse_hours
from .safetext import csv_frame, uncsv_frame

__all__ = [
    "Column",
    "atomic_path",
    "read_table",
    "validate_table",
    "read_points",
    "write_csv",
    "write_gpkg",
]

_ENCODINGS = ("utf-8-sig", "gb18030")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A failure leaves neither a half-written file nor the temporary file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp" + path.suffix,
                               dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # writers such as GDAL want to create the file themselves
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a CSV (UTF-8 with BOM, so Excel in China opens it right) atomically.

    Text a spreadsheet would run as a formula gets a leading ``'`` (:mod:`gis.safetext`); the
    readers here take it off again.
    """
    with atomic_path(path) as tmp:
        csv_frame(df).to_csv(tmp, index=False, encoding="utf-8-sig")
    return Path(path)


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], path: str | os.PathLike) -> Path:
    """Write several layers into one GeoPackage atomically."""
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    return Path(path)


def _read_csv(path: Path) -> pd.DataFrame:
    last: Exception | None = None
    for enc in _ENCODINGS:
        try:
            return uncsv_frame(pd.read_csv(path, encoding=enc, dtype=str, keep_default_na=False))
        except UnicodeDecodeError as exc:
            last = exc
        except pd.errors.EmptyDataError as exc:
            raise InputError(InputProblem(str(path), None, None, "the file is empty: expected a "
                                     "header row and at least one data row")) from exc
        except pd.errors.ParserError as exc:
            raise InputError(InputProblem(str(path), None, None, f"not a readable CSV: {exc}")) from exc
    raise InputError(InputProblem(str(path), None, None,
                             f"cannot decode the text as UTF-8 or GBK/GB18030 ({last})"))


def read_table(path: str | os.PathLike, *, layer: str | None = None) -> pd.DataFrame:
    """Read a CSV / XLSX / GeoJSON / GeoPackage file as a table of strings (geometry kept).

    CSV files exported from Chinese Excel are often GBK/GB18030: they are detected and read.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(InputProblem(str(path), None, None, "file not found"))
    if path.stat().st_size == 0:
        raise InputError(InputProblem(str(path), None, None, "the file is empty"))
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            df = _read_csv(path)
        elif suffix in (".xlsx", ".xlsm"):
            df = pd.read_excel(path, dtype=str, keep_default_na=False)
        elif suffix in (".geojson", ".json", ".gpkg", ".shp"):
            df = gpd.read_file(path, layer=layer, engine="pyogrio")
        else:
            raise InputError(InputProblem(str(path), None, None,
                                     f"unknown file type {suffix!r}: expected .csv, .xlsx, "
                                     ".geojson or .gpkg"))
    except InputError:
        raise
    except Exception as exc:  # a reader's own error becomes a clear message naming the file
        raise InputError(InputProblem(str(path), None, None, f"cannot read the file: {exc}")) from exc
    if len(df) == 0:
        raise InputError(InputProblem(str(path), None, None, "the file has no data rows"))
    df.columns = [str(c).strip() for c in df.columns]
    return df


@dataclass(frozen=True)
class Column:
    """A column of a table schema: its kind is 'str', 'float', 'int', 'bool', 'time' or 'hours'
    (opening hours, checked by :func:`gis.hours.parse_hours`; the text is kept)."""

    name: str
    kind: str = "str"
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None


_TRUE = {"true", "1", "yes", "y", "t", "urban", "是", "城区", "城镇"}
_FALSE = {"false", "0", "no", "n", "f", "rural", "否", "乡村", "农村"}


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == ""


def validate_table(df: pd.DataFrame, file: str, columns: list[Column], *,
                   id_column: str | None = "id") -> tuple[pd.DataFrame, list[InputProblem]]:
    """Check and convert ``df`` against ``columns``; return the typed frame and every problem."""
    problems: list[InputProblem] = []
    out = df.copy()
    for col in columns:
        if col.name not in df.columns:
            if col.required:
                problems.append(InputProblem(file, None, col.name,
                                        f"missing column; the file has {list(df.columns)}"))
            continue
        values = df[col.name].tolist()
        conv: list[object] = []
        for i, v in enumerate(values, start=1):
            if _blank(v):
                if col.required:
                    problems.append(InputProblem(file, i, col.name, f"empty; expected a {col.kind}"))
                conv.append(None if col.kind in ("str", "time", "hours") else np.nan)
                continue
            s = str(v).strip()
            if col.kind == "str":
                if col.choices is not None and s not in col.choices:
                    problems.append(InputProblem(file, i, col.name,
                                            f"{s!r} is not one of {', '.join(col.choices)}"))
                conv.append(s)
            elif col.kind in ("float", "int"):
                try:
                    x = float(s)
                    if not np.isfinite(x):
                        raise ValueError
                except ValueError:
                    problems.append(InputProblem(file, i, col.name, f"{s!r} is not a number"))
                    conv.append(np.nan)
                    continue
                if col.kind == "int" and x != int(x):
                    problems.append(InputProblem(file, i, col.name, f"{s!r} is not a whole number"))
                if col.minimum is not None and x < col.minimum:
                    problems.append(InputProblem(file, i, col.name, f"{s} is below {col.minimum}"))
                if col.maximum is not None and x > col.maximum:
                    problems.append(InputProblem(file, i, col.name, f"{s} is above {col.maximum}"))
                conv.append(x)
            elif col.kind == "bool":
                low = s.lower()
                if low in _TRUE:
                    conv.append(True)
                elif low in _FALSE:
                    conv.append(False)
                else:
                    problems.append(InputProblem(file, i, col.name, f"{s!r} is not true/false"))
                    conv.append(None)
            elif col.kind == "time":
                parts = s.split(":")
                ok = len(parts) == 2 and all(p.isdigit() for p in parts)
                if ok and int(parts[0]) < 24 and int(parts[1]) < 60:
                    conv.append(f"{int(parts[0]):02d}:{int(parts[1]):02d}")
                else:
                    problems.append(InputProblem(file, i, col.name, f"{s!r} is not a time HH:MM"))
                    conv.append(None)
            elif col.kind == "hours":
                try:
                    parse_hours(s, file=file, row=i, column=col.name)
                except InputError as exc:
                    problems += exc.problems
                conv.append(s)
            else:  # pragma: no cover - schema authors' mistake
                raise ValueError(f"unknown column kind {col.kind!r}")
        out[col.name] = pd.Series(conv, index=df.index, dtype=object)
        if col.kind in ("float", "int"):
            out[col.name] = out[col.name].astype(float)
    if id_column and id_column in df.columns:
        ids = df[id_column].astype(str).str.strip()
        dup = ids.duplicated(keep="first")
        for i in np.flatnonzero(dup.to_numpy()):
            first = int(np.flatnonzero((ids == ids.iloc[i]).to_numpy())[0]) + 1
            problems.append(InputProblem(file, int(i) + 1, id_column,
                                    f"duplicate id {ids.iloc[i]!r} (first seen in row {first})"))
        out[id_column] = ids
    return out, problems


def _check_lonlat(lon: np.ndarray, lat: np.ndarray, file: str, bbox: tuple | None,
                  lon_col: str, lat_col: str) -> list[InputProblem]:
    problems: list[InputProblem] = []
    for i in range(len(lon)):
        x, y = lon[i], lat[i]
        if np.isnan(x) or np.isnan(y):
            continue
        if not (-90 <= y <= 90) and (-90 <= x <= 90) and (-180 <= y <= 180):
            problems.append(InputProblem(file, i + 1, lat_col,
                                    f"latitude {y} is out of range [-90, 90]; lon/lat look "
                                    "swapped (expected lon then lat, WGS-84 degrees)"))
        elif not (-90 <= y <= 90):
            problems.append(InputProblem(file, i + 1, lat_col,
                                    f"latitude {y} is out of range [-90, 90] (WGS-84 degrees)"))
        elif not (-180 <= x <= 180):
            problems.append(InputProblem(file, i + 1, lon_col,
                                    f"longitude {x} is out of range [-180, 180] (WGS-84 degrees)"))
        elif bbox is not None:
            w, s, e, n = bbox
            inside = w <= x <= e and s <= y <= n
            swapped = w <= y <= e and s <= x <= n
            if not inside and swapped:
                problems.append(InputProblem(file, i + 1, f"{lon_col}/{lat_col}",
                                        f"({x}, {y}) lies outside the region but inside it when "
                                        "swapped: lon and lat look swapped"))
            elif not inside:
                problems.append(InputProblem(file, i + 1, f"{lon_col}/{lat_col}",
                                        f"({x}, {y}) lies outside the region "
                                        f"(lon {w:.4f}..{e:.4f}, lat {s:.4f}..{n:.4f})"))
    return problems


def read_points(path: str | os.PathLike, columns: list[Column], *, crs: str = "wgs84",
                bbox: tuple[float, float, float, float] | None = None,
                id_column: str = "id") -> gpd.GeoDataFrame:
    """Read a point table (CSV/XLSX with lon/lat columns, or GeoJSON/GPKG points).

    ``crs`` says what datum CSV coordinates are in: 'wgs84', 'gcj02' (Amap, Tencent) or
    'bd09' (Baidu); they are converted to WGS-84. A ``crs`` column in the file overrides it
    per row. ``bbox`` (west, south, east, north), when given, rejects points outside the region
    and names swapped lon/lat.
    """
    file = str(path)
    df = normalise_table(read_table(path))  # 名称/经度/邮政网点 … → name/lon/post_office
    if isinstance(df, gpd.GeoDataFrame) and "geometry" in df.columns:
        gdf = df
        if gdf.crs is None:
            raise InputError(InputProblem(file, None, "geometry",
                                     "the layer has no CRS; expected EPSG:4326 (WGS-84)"))
        gdf = gdf.to_crs(4326)
        bad = ~(gdf.geometry.geom_type == "Point")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0]) + 1
            raise InputError(InputProblem(file, i, "geometry",
                                     f"expected Point geometries, found {gdf.geometry.iloc[i-1].geom_type}"))
        df = pd.DataFrame(gdf.drop(columns="geometry"))
        df["lon"] = gdf.geometry.x.astype(str)
        df["lat"] = gdf.geometry.y.astype(str)
    cols = list(columns)
    names = {c.name for c in cols}
    if "lon" not in names:
        cols.append(Column("lon", "float"))
    if "lat" not in names:
        cols.append(Column("lat", "float"))
    out, problems = validate_table(df, file, cols, id_column=id_column)
    lon = out["lon"].to_numpy(dtype=float) if "lon" in out else np.array([])
    lat = out["lat"].to_numpy(dtype=float) if "lat" in out else np.array([])
    if "lon" in out and "lat" in out:
        row_crs = (df["crs"].astype(str).str.strip().str.lower().replace("", crs)
                   if "crs" in df.columns else pd.Series([crs] * len(df)))
        for i, c in enumerate(row_crs):
            if c.replace("-", "") not in ("wgs84", "gcj02", "bd09"):
                problems.append(InputProblem(file, i + 1, "crs",
                                        f"{c!r}: expected wgs84, gcj02 or bd09"))
        lon_w = lon.copy()
        lat_w = lat.copy()
        raw_ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        for c in set(row_crs) - {"wgs84"}:
            if c.replace("-", "") not in ("gcj02", "bd09"):
                continue
            m = (row_crs == c).to_numpy() & raw_ok
            lon_w[m], lat_w[m] = to_wgs84(lon[m], lat[m], c)
        problems += _check_lonlat(lon_w, lat_w, file, bbox, "lon", "lat")
        out["lon"], out["lat"] = lon_w, lat_w
    if problems:
        raise InputError(excel_rows(problems, path))  # XLSX: rows as Excel numbers them
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]),
                            crs="EPSG:4326")
