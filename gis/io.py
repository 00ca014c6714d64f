"""Reading user files at the edge (CSV, XLSX, GeoJSON, GeoPackage, TOML) and writing outputs
atomically.

Every reader reports *all* problems it finds at once as :class:`gis.errors.InputError`; each
problem names the file, the row, the column and what was expected.

Row numbers
    CSV files and GeoJSON/GeoPackage layers: the 1-based data row (the header is row 0, the
    first data row is row 1). XLSX: the row number Excel shows (the header is row 1, the first
    data row is row 2). :func:`read_table` records the first data row's number in
    ``df.attrs["first_row"]`` and :func:`gis.schema.check_table` uses it.

Encodings (CSV and TOML text)
    UTF-8, UTF-8 with BOM, UTF-16 with BOM and GBK/GB18030 (what Chinese Excel saves). Text
    that is not UTF-8 but decodes as GB18030 into mostly *rare* characters (outside GB2312)
    whose bytes read as accented Latin letters inside words in Windows-1252 is Latin-1/cp1252
    text (a European export), not Chinese: it is refused with a hint to save as UTF-8 rather
    than published garbled.

The column schema (:class:`Column`, :func:`check_table`, the time-of-day and lon/lat rules)
lives in :mod:`gis.schema` and is re-exported here.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import InputError, InputProblem
from .safetext import csv_frame, uncsv_frame
from .schema import (
    Column,
    TableCheck,
    check_lonlat,
    check_table,
    format_time_of_day,
    parse_time_of_day,
    validate_table,
)

__all__ = [
    "Column",
    "TableCheck",
    "atomic_path",
    "check_file",
    "check_lonlat",
    "check_table",
    "decode_text",
    "format_time_of_day",
    "parse_time_of_day",
    "read_checked",
    "read_points",
    "read_table",
    "read_toml",
    "validate_table",
    "write_csv",
    "write_gpkg",
]

#: Share of GB18030 characters outside GB2312, and of Windows-1252 high bytes that are Latin
#: letters inside words, above which a non-UTF-8 text is taken for Latin-1/cp1252.
_RARE_SHARE = 0.5
_LATIN_SHARE = 0.5
_SAVE_AS_UTF8 = "save the file as UTF-8 (in Excel: Save As → CSV UTF-8)"


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


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _latin_share(raw: bytes) -> float:
    """Share of high bytes that, read as Windows-1252, are letters inside Latin words."""
    text = raw.decode("cp1252", errors="replace")
    high = good = 0
    for i, ch in enumerate(text):
        if ord(ch) < 128:
            continue
        high += 1
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < len(text) else " "
        letter = unicodedata.category(ch).startswith("L") or ch == "\xa0"
        if letter and ((prev.isascii() and prev.isalpha())
                       or (nxt.isascii() and (nxt.isalpha() or nxt in " ,.;:'\"-\r\n\t"))):
            good += 1
    return good / max(high, 1)


def decode_text(raw: bytes, file: str) -> str:
    """Bytes of a text file → str: UTF-8 (BOM or not), UTF-16 with BOM, GBK/GB18030.

    Raises
    ------
    InputError
        Text in none of these, UTF-16 without a BOM, or Latin-1/cp1252 text that would decode
        as GB18030 into wrong Chinese characters.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        enc = "utf-8-sig"
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16"
    else:
        enc = ""
    if enc:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError as exc:
            raise InputError(InputProblem(file, None, None, f"the text starts with a {enc} "
                                          f"byte-order mark but is not {enc} ({exc.reason} at "
                                          f"byte {exc.start}): {_SAVE_AS_UTF8}")) from None
    if b"\x00" in raw[:4096]:
        raise InputError(InputProblem(file, None, None, "the file holds NUL bytes: binary, or "
                                      f"UTF-16 without a byte-order mark; {_SAVE_AS_UTF8}"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = f"not UTF-8 at byte {exc.start}"
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        raise InputError(InputProblem(file, None, None, f"cannot decode the text ({utf8_error}, "
                                      f"nor GBK/GB18030): {_SAVE_AS_UTF8}")) from None
    high = [ch for ch in text if ord(ch) >= 128]
    rare = sum(not _in_gb2312(ch) for ch in high) / max(len(high), 1)
    if rare >= _RARE_SHARE and _latin_share(raw) >= _LATIN_SHARE:
        sample = raw.decode("cp1252", errors="replace")
        line = next((n for n, t in enumerate(sample.splitlines()) if not t.isascii()), 0)
        words = [w for w in sample.splitlines()[line].replace(",", " ").split() if not w.isascii()]
        raise InputError(InputProblem(file, None, None, "the text looks like Latin-1/Windows-1252 "
                                      f"(e.g. {' '.join(words[:3])!r} on line {line + 1}), which "
                                      f"would be misread as Chinese: {_SAVE_AS_UTF8}"))
    return text


def check_file(path: str | os.PathLike, *, what: str = "file") -> Path:
    """The path names an existing, readable, regular file; else :class:`InputError`."""
    p = Path(path)
    name = str(p)
    if not p.exists():
        raise InputError(InputProblem(name, None, None, f"{what} not found"))
    if p.is_dir():
        raise InputError(InputProblem(name, None, None, f"is a directory: expected a {what}"))
    if not p.is_file():
        raise InputError(InputProblem(name, None, None, f"not a regular file: expected a {what}"))
    try:
        with open(p, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise InputError(InputProblem(name, None, None,
                                      f"cannot read the {what}: {exc.strerror}")) from None
    return p


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(InputProblem(str(path), None, None,
                                      f"cannot read the file: {exc.strerror}")) from None


def read_toml(path: str | os.PathLike, *, what: str = "TOML file") -> dict[str, Any]:
    """Read a TOML file (encodings as CSV); a bad file is an :class:`InputError` naming it."""
    p = check_file(path, what=what)
    text = decode_text(_read_bytes(p), str(p))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(InputProblem(str(p), None, None, f"not valid TOML: {exc}")) from None


def _read_csv(path: Path) -> pd.DataFrame:
    name = str(path)
    text = decode_text(_read_bytes(path), name)
    if not text.strip():
        raise InputError(InputProblem(name, None, None, "empty file: expected a header row and "
                                      "at least one data row"))
    try:
        return uncsv_frame(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                                       skip_blank_lines=True))
    except pd.errors.ParserError as exc:
        msg = str(exc).strip()
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
        if m:  # line counts the header: data row = line - 1
            want, line, saw = (int(g) for g in m.groups())
            raise InputError(InputProblem(name, line - 1, None, f"the row has {saw} fields, the "
                                          f"header {want}: a stray comma, or a value with a "
                                          "comma that needs quotes")) from None
        raise InputError(InputProblem(name, None, None, f"not a readable CSV: {msg}")) from None
    except pd.errors.EmptyDataError:
        raise InputError(InputProblem(name, None, None, "empty file: expected a header row and "
                                      "at least one data row")) from None


_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted workbooks and old .xls files
_SAVE_AS_XLSX = "save it as .xlsx or .csv"


def _read_xlsx(path: Path) -> pd.DataFrame:
    """An XLSX workbook's first sheet as strings; a file that is not one is an InputError."""
    name = str(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(_OLE_MAGIC):
        raise InputError(InputProblem(name, None, None, "cannot read the file: a "
                                      "password-protected (encrypted) workbook or an old Excel "
                                      ".xls file, not an .xlsx: remove the password and "
                                      f"{_SAVE_AS_XLSX}"))
    if not head.startswith(_ZIP_MAGIC):
        raise InputError(InputProblem(name, None, None, "cannot read the file: not an Excel "
                                      ".xlsx file (it does not start like a ZIP/XLSX); "
                                      f"{_SAVE_AS_XLSX}"))
    try:
        return pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # a truncated ZIP, a ZIP that is not a workbook, a broken sheet
        raise InputError(InputProblem(name, None, None, "cannot read the file: a broken Excel "
                                      f".xlsx file ({type(exc).__name__}: {exc}); "
                                      f"{_SAVE_AS_XLSX}")) from None


def read_table(path: str | os.PathLike, *, layer: str | None = None) -> pd.DataFrame:
    """Read a CSV / XLSX / GeoJSON / GeoPackage file as a table of strings (geometry kept).

    CSV files exported from Chinese Excel are often GBK/GB18030: they are detected and read
    (see the module doc for encodings). ``df.attrs["first_row"]`` is the row number of the
    first data row (1, or 2 for XLSX).
    """
    path = check_file(path)
    name = str(path)
    if path.stat().st_size == 0:
        raise InputError(InputProblem(name, None, None, "empty file: expected a header row and "
                                      "at least one data row"))
    suffix = path.suffix.lower()
    first_row = 1
    try:
        if suffix in (".csv", ".txt"):
            df = _read_csv(path)
        elif suffix in (".xlsx", ".xlsm"):
            df = _read_xlsx(path)
            first_row = 2
        elif suffix in (".geojson", ".json", ".gpkg", ".shp"):
            df = gpd.read_file(path, layer=layer, engine="pyogrio")
        else:
            raise InputError(InputProblem(name, None, None,
                                          f"unknown file type {suffix!r}: expected .csv, .xlsx, "
                                          ".geojson or .gpkg"))
    except InputError:
        raise
    except Exception as exc:  # a reader's own error becomes a clear message naming the file
        raise InputError(InputProblem(name, None, None, f"cannot read the file: {exc}")) from exc
    if len(df) == 0:
        raise InputError(InputProblem(name, None, None,
                                      "empty file: no data rows under the header"))
    df.columns = [str(c).strip() for c in df.columns]
    if suffix in (".csv", ".txt", ".xlsx", ".xlsm"):
        df = _drop_unnamed(df, name)
    df.attrs["first_row"] = first_row
    return df


def _drop_unnamed(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Drop header-less columns that hold nothing (a trailing comma); refuse ones that do."""
    for col in [c for c in df.columns if c == "" or c.startswith("Unnamed:")]:
        values = df[col].astype(str).str.strip()
        if (values != "").any():
            i = int(np.flatnonzero((values != "").to_numpy())[0])
            raise InputError(InputProblem(name, None, None, f"data row {i + 1} has a value under "
                                          "a column with no name in the header: expected a "
                                          "name above every column"))
        df = df.drop(columns=col)
    return df


def read_checked(path: str | os.PathLike, columns: list[Column], *,
                 id_column: str | None = "id", datum: str | None = None,
                 bbox: tuple[float, float, float, float] | None = None) -> TableCheck:
    """Read a table and check it against ``columns``: the one way in for a user's table.

    Returns the :class:`TableCheck` (typed frame + problems) so that the caller can add its
    cross-field rules to the same list before raising.
    """
    return check_table(read_table(path), str(path), columns, id_column=id_column, datum=datum,
                       bbox=bbox)


def read_points(path: str | os.PathLike, columns: list[Column], *, datum: str = "wgs84",
                bbox: tuple[float, float, float, float] | None = None,
                id_column: str = "id", crs: str | None = None) -> gpd.GeoDataFrame:
    """Read a point table (CSV/XLSX with lon/lat columns, or GeoJSON/GPKG points).

    ``datum`` says what datum CSV coordinates are in: 'wgs84', 'gcj02' (Amap, Tencent) or
    'bd09' (Baidu); they are converted to WGS-84. A ``crs`` column in the file overrides it
    per row. ``bbox`` (west, south, east, north), when given, rejects points outside the region
    and names swapped lon/lat. ``crs`` is the old name of ``datum``.
    """
    use: str | None = crs if crs is not None else datum
    file = str(path)
    df = read_table(path)
    if isinstance(df, gpd.GeoDataFrame) and "geometry" in df.columns:
        gdf = df
        if gdf.crs is None:
            raise InputError(InputProblem(file, None, "geometry",
                                          "the layer has no CRS; expected EPSG:4326 (WGS-84)"))
        gdf = gdf.to_crs(4326)
        bad = ~(gdf.geometry.geom_type == "Point").to_numpy() | gdf.geometry.is_empty.to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            g = gdf.geometry.iloc[i]
            raise InputError(InputProblem(file, i + 1, "geometry", "expected Point geometries, "
                                          f"found {'none' if g is None else g.geom_type}"))
        df = pd.DataFrame(gdf.drop(columns="geometry"))
        df["lon"] = gdf.geometry.x.astype(str)
        df["lat"] = gdf.geometry.y.astype(str)
        df.attrs["first_row"] = 1
        use = None  # a layer's CRS was honoured above
    cols = [c for c in columns if c.name not in ("lon", "lat")]
    cols.append(Column("lon", "lonlat", lat="lat"))
    check = check_table(df, file, cols, id_column=id_column, datum=use, bbox=bbox)
    check.raise_if_any()
    out = check.frame
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]),
                            crs="EPSG:4326")
