"""Text that a spreadsheet would run as a formula, written as plain text instead.

A cell whose text starts with ``=``, ``+``, ``-`` or ``@`` is read as a formula by Excel and
LibreOffice when a CSV is opened (and ``=`` also by openpyxl when a workbook is written); a
leading tab or carriage return is the OWASP "CSV injection" list's way around a trimmed ``=``.
The full-width forms ``＝ ＋ － ＠`` are not formulas in Excel or LibreOffice Calc when read from
a file (only the Chinese/Japanese IME turns a *typed* ``＝`` into ``=``), but a clerk's copy and
paste can carry them across, so they are treated the same way: a visible quote costs nothing.

* CSV outputs meant for Excel: such text gets a leading ``'`` (OWASP advice); the reader strips
  it again (:func:`from_csv_cell`), so bianmin's own files round-trip.
* XLSX: every text value becomes an explicit string cell (openpyxl data
  type ``"s"``, :func:`set_text_cell`), never a formula, whatever it starts with.

Numbers stay numbers: only ``str`` values are touched, so ``-3.5`` in a numeric column is left
alone, while the *text* ``"-3.5"`` in a text column is quoted (a spreadsheet would compute it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FORMULA_STARTS", "is_formula_like", "csv_cell", "from_csv_cell", "csv_frame",
           "uncsv_frame", "set_text_cell"]

#: First characters that make a spreadsheet read a cell as a formula (half- and full-width).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_STARTS_PATTERN = "^[=+\\-@\\t\\r＝＋－＠]"


def is_formula_like(text: object) -> bool:
    """True for a ``str`` a spreadsheet would treat as a formula (see :data:`FORMULA_STARTS`)."""
    return isinstance(text, str) and text.startswith(FORMULA_STARTS)


def _needs_quote(value: object) -> bool:
    # text already starting with quotes before a formula character gets one more, so that
    # from_csv_cell gives back exactly what was written
    return isinstance(value, str) and value.lstrip("'").startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """A value for a CSV meant for Excel: formula-like text gets a leading ``'``."""
    return "'" + value if _needs_quote(value) else value


def from_csv_cell(value: Any) -> Any:
    """Undo :func:`csv_cell`: ``'=x`` read from a CSV is the text ``=x``."""
    if isinstance(value, str) and value.startswith("'") and _needs_quote(value[1:]):
        return value[1:]
    return value


def _text_columns(df: pd.DataFrame) -> list:
    return [c for c in df.columns
            if df[c].dtype == object or pd.api.types.is_string_dtype(df[c].dtype)]


def _matches(s: pd.Series, pattern: str) -> np.ndarray:
    is_str = s.map(type).eq(str).to_numpy() if s.dtype == object else s.notna().to_numpy()
    return is_str & s.astype("string").str.contains(pattern, regex=True, na=False).to_numpy(
        dtype=bool, na_value=False)


def csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its formula-like text cells quoted by :func:`csv_cell` (a copy if any).

    Only object/string columns are looked at (vectorised); numeric columns are left as they are.
    """
    out = pd.DataFrame(df)
    copied = False
    for col in _text_columns(out):
        hit = _matches(out[col], "^'*" + _STARTS_PATTERN[1:])
        if hit.any():
            if not copied:
                out, copied = out.copy(), True
            vals = out[col].astype(object).to_numpy(copy=True)
            vals[hit] = np.array(["'" + v for v in vals[hit]], dtype=object)
            out[col] = vals
    return out


def uncsv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`csv_frame` on a table read as text, in place; returns it."""
    for col in _text_columns(df):
        hit = _matches(df[col], "^'+" + _STARTS_PATTERN[1:])
        if hit.any():
            vals = df[col].astype(object).to_numpy(copy=True)
            vals[hit] = np.array([v[1:] for v in vals[hit]], dtype=object)
            df[col] = vals
    return df


def set_text_cell(cell: Any, value: str) -> None:
    """Store ``value`` in an openpyxl cell as a string cell, never a formula."""
    cell.value = value
    cell.data_type = "s"
