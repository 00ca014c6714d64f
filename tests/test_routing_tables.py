"""Errand and runner files: read CSV (UTF-8/GBK) and XLSX, report every problem at once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gis.errors import InputError
from routing.tables import (
    ERRAND_COLUMNS,
    RUNNER_COLUMNS,
    errands_from_frame,
    read_errands,
    read_runners,
    runners_from_frame,
)

BBOX = (104.0, 30.6, 104.2, 30.8)
HALLS = ["H1", "H2"]


def _errand(**kw) -> dict:
    row = dict.fromkeys(ERRAND_COLUMNS, "")
    row.update(id="E1", kind="pickup_to_hall", pickup_lon="104.05", pickup_lat="30.70",
               hall_id="H1", pickup_earliest="09:00", pickup_latest="11:00",
               delivery_earliest="09:30", delivery_latest="16:00", service_minutes="10",
               priority="2", contact_name="张三", contact_phone="13812345678", items="材料")
    row.update(kw)
    return row


def _runner(**kw) -> dict:
    row = dict.fromkeys(RUNNER_COLUMNS, "")
    row.update(id="R1", name="李四", base_outlet_id="H1", shift_start="08:30",
               shift_end="17:30", mode="ebike", skills="不动产;社保", max_errands="10",
               break_start="11:30", break_end="13:30", break_minutes="45")
    row.update(kw)
    return row


def _errands(*rows) -> list:
    return errands_from_frame(pd.DataFrame(list(rows)), file="errands.csv", hall_ids=HALLS,
                              bbox=BBOX)


def test_good_rows_parse() -> None:
    """Every kind parses; the hall end of pickup_to_hall comes from hall_id."""
    es = _errands(
        _errand(),
        _errand(id="E2", kind="hall_to_home", pickup_lon="", pickup_lat="",
                delivery_lon="104.06", delivery_lat="30.71"),
        _errand(id="E3", kind="pickup_delivery", hall_id="", delivery_lon="104.07",
                delivery_lat="30.72", skill="不动产"),
        _errand(id="E4", kind="home_visit", hall_id="", delivery_earliest="",
                delivery_latest=""),
    )
    assert [e.kind for e in es] == ["pickup_to_hall", "hall_to_home", "pickup_delivery",
                                    "home_visit"]
    assert es[0].delivery is None and es[0].hall_id == "H1"
    assert es[0].pickup_window == (9 * 3600, 11 * 3600) and es[0].service_s == 600
    assert es[1].pickup is None and es[2].skill == "不动产"


@pytest.mark.parametrize("kw, column, match", [
    ({"pickup_latest": "08:00"}, "pickup_latest", "window ends .08:00. before it starts"),
    ({"skill": "炼金术"}, "skill", "unknown skill '炼金术'"),
    ({"pickup_lon": "30.70", "pickup_lat": "104.05"}, "pickup_lon", "look swapped"),
    ({"pickup_lon": "120.0"}, "pickup_lon", "outside the region"),
    ({"pickup_lon": "abc"}, "pickup_lon", "not a number"),
    ({"kind": "teleport"}, "kind", "unknown: expected one of"),
    ({"hall_id": "H9"}, "hall_id", "unknown hall outlet 'H9'"),
    ({"priority": "7"}, "priority", r"expected \[1, 3\]"),
    ({"pickup_earliest": "9h"}, "pickup_earliest", "expected HH:MM"),
    ({"kind": "pickup_delivery", "hall_id": ""}, "delivery_lon", "missing delivery"),
])
def test_bad_errand_is_named(kw: dict, column: str, match: str) -> None:
    """Each bad value is reported with file, row 1, the column and what was expected."""
    with pytest.raises(InputError, match=match) as err:
        _errands(_errand(**kw))
    p = err.value.problems[0]
    assert (p.file, p.row, p.column) == ("errands.csv", 1, column)


def test_every_problem_reported_at_once() -> None:
    """Three bad rows plus a duplicate id give four problems in one error."""
    with pytest.raises(InputError) as err:
        _errands(_errand(), _errand(id="E1"), _errand(id="E3", skill="炼金术"),
                 _errand(id="E4", pickup_latest="07:00"))
    rows = sorted((p.row, p.column) for p in err.value.problems)
    assert rows == [(2, "id"), (3, "skill"), (4, "pickup_latest")]
    assert "duplicate id 'E1' (first seen in row 1)" in str(err.value)


def test_missing_columns_and_empty_table() -> None:
    """Missing required columns are each named; an empty table says so."""
    with pytest.raises(InputError) as err:
        errands_from_frame(pd.DataFrame([{"id": "E1", "kind": "home_visit"}]), file="e.csv")
    cols = {p.column for p in err.value.problems}
    assert {"pickup_lon", "pickup_lat", "service_minutes", "priority"} <= cols
    with pytest.raises(InputError, match="empty file"):
        errands_from_frame(pd.DataFrame(columns=list(ERRAND_COLUMNS)), file="e.csv")


@pytest.mark.parametrize("kw, column, match", [
    ({"base_outlet_id": "X"}, "base_outlet_id", "unknown runner base 'X'"),
    ({"skills": "不动产;魔法"}, "skills", "unknown skill '魔法'"),
    ({"mode": "horse"}, "mode", "'horse' unknown"),
    ({"shift_end": "08:00"}, "shift_end", "shift ends"),
    ({"break_minutes": ""}, "break_minutes", "break needs"),
    ({"break_minutes": "150"}, "break_end", "does not fit"),
    ({"max_errands": "0"}, "max_errands", "out of range"),
])
def test_bad_runner_is_named(kw: dict, column: str, match: str) -> None:
    """Unknown base, unknown skill, bad mode, shift and break problems name the column."""
    with pytest.raises(InputError, match=match) as err:
        runners_from_frame(pd.DataFrame([_runner(**kw)]), file="runners.csv", base_ids=HALLS)
    assert err.value.problems[0].column == column


def test_gbk_csv_and_xlsx(tmp_path: Path) -> None:
    """A GBK-encoded CSV and an XLSX both read, Chinese intact."""
    gbk = tmp_path / "runners.csv"
    pd.DataFrame([_runner()]).to_csv(gbk, index=False, encoding="gbk")
    rs = read_runners(gbk, base_ids=HALLS)
    assert rs[0].name == "李四" and rs[0].skills == frozenset({"不动产", "社保"})
    assert rs[0].lunch == (11 * 3600 + 1800, 13 * 3600 + 1800, 45 * 60)
    xl = tmp_path / "errands.xlsx"
    pd.DataFrame([_errand()]).to_excel(xl, index=False)
    es = read_errands(xl, hall_ids=HALLS, bbox=BBOX)
    assert es[0].contact_name == "张三"


def test_empty_and_missing_files(tmp_path: Path) -> None:
    """An empty file and a missing file are clear input errors."""
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty file"):
        read_errands(empty)
    with pytest.raises(InputError, match="file not found"):
        read_errands(tmp_path / "nope.csv")
