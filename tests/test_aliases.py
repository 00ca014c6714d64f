"""Chinese spreadsheets: header and kind aliases, Excel row numbers, the XLSX templates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bianmin.cli import app
from gis.aliases import (
    KIND_ALIASES,
    aliases_markdown,
    canonical_header,
    normalise_table,
    urban_from_code,
)
from gis.coords import wgs84_to_gcj02
from gis.errors import InputError
from gis.region import OUTLET_KINDS, load_demand, load_outlets

ROOT = Path(__file__).resolve().parents[1]

# Three real places in Bazhong, WGS-84 (the truth the loaded outlets must come back to)
WGS = np.array([[106.7476, 31.8672], [106.7612, 31.8571], [106.6935, 31.8869]])


def _outlets_xlsx(path: Path, kinds: list[str]) -> None:
    glon, glat = wgs84_to_gcj02(WGS[:, 0], WGS[:, 1])
    pd.DataFrame({
        "网点编码": ["BZ01", "BZ02", "BZ03"],
        "名称": ["巴州区政务服务中心", "江北街道便民服务中心", "回风邮政所"],
        "类型": kinds,
        "经度": glon, "纬度": glat,
        "地址": ["巴中市巴州区", "", "回风"],
        "联系电话": ["0827-1", "", ""],
        "营业时间": ["09:00-17:00", "", ""],
    }).to_excel(path, index=False)


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    k = 111_320.0
    return np.hypot((lon1 - lon2) * k * np.cos(np.radians(lat1)), (lat1 - lat2) * k)


def test_chinese_outlets_xlsx_loads_as_is(tmp_path):
    """名称/类型/经度/纬度 headers, 政务服务中心-style kinds and Amap coordinates load unchanged."""
    f = tmp_path / "网点.xlsx"
    _outlets_xlsx(f, ["政务服务中心", "便民服务中心", "邮政网点"])
    gdf = load_outlets(f, crs="gcj02")
    assert list(gdf["id"]) == ["BZ01", "BZ02", "BZ03"]
    assert list(gdf["kind"]) == ["service_hall", "township_centre", "post_office"]
    assert gdf["phone"].iloc[0] == "0827-1" and gdf["hours"].iloc[0] == "09:00-17:00"
    # GCJ-02 → WGS-84: back on the true places (the GCJ offset here is ~ 500 m)
    assert _metres(gdf["lon"], gdf["lat"], WGS[:, 0], WGS[:, 1]).max() < 1.0


def test_excel_rows_are_excel_numbers(tmp_path):
    """A bad kind in the 3rd data row is reported as Excel row 4 (header = row 1)."""
    f = tmp_path / "网点.xlsx"
    _outlets_xlsx(f, ["政务服务中心", "便民服务中心", "小卖部"])
    with pytest.raises(InputError) as exc:
        load_outlets(f, crs="gcj02")
    (p,) = exc.value.problems
    assert (p.row, p.column) == (4, "kind") and "小卖部" in p.message
    csv = tmp_path / "o.csv"
    pd.read_excel(f, dtype=str).to_csv(csv, index=False)
    with pytest.raises(InputError) as exc:
        load_outlets(csv, crs="gcj02")
    assert exc.value.problems[0].row == 3  # CSV: data rows (header = row 0), as before


@pytest.mark.parametrize("header, canon", [
    (" 经度 ", "lon"), ("Longitude", "lon"), ("ＬＯＮ", "lon"), ("lng", "lon"), ("纬度", "lat"),
    ("网点名称", "name"), ("联系电话", "phone"), ("可办事项", "services"), ("人口数", "population"),
    ("乡镇", "area_id"), ("城乡分类代码", "urban_code"), ("备注", "备注"),
])
def test_headers(header, canon):
    """Headers map to canonical names after strip, full-width → half-width and case folding."""
    assert canonical_header(header) == canon


def test_kind_aliases_name_known_kinds():
    """Every Chinese kind label maps to a kind code the outlets schema accepts."""
    assert set(KIND_ALIASES.values()) <= set(OUTLET_KINDS)
    assert set(OUTLET_KINDS.values()) <= set(KIND_ALIASES)  # the project's own names too


def test_first_of_two_aliased_columns_wins():
    """Two columns meaning the same thing: the first is used, the second keeps its name."""
    df = normalise_table(pd.DataFrame({"经度": ["1"], "lng": ["2"]}))
    assert list(df.columns) == ["lon", "lng"]


def test_urban_code_becomes_urban_flag(tmp_path):
    """城乡分类代码 111–122 → urban, 210/220 → rural, per demand point."""
    assert [urban_from_code(c) for c in ("111", "122", "210", "220.0", "999")] == \
        ["true", "true", "false", "false", "999"]
    f = tmp_path / "d.csv"
    pd.DataFrame({"编号": ["a", "b"], "人口": [10, 20], "所属区域": ["A", "A"],
                  "经度": [106.7, 106.8], "纬度": [31.8, 31.9],
                  "城乡分类代码": [121, 220]}).to_csv(f, index=False)
    d = load_demand(f)
    assert list(d["urban"]) == [True, False]
    assert list(d["population"]) == [10.0, 20.0]


def test_docs_print_the_alias_table():
    """docs/region-format.md holds exactly the table generated from gis/aliases.py."""
    text = (ROOT / "docs" / "region-format.md").read_text(encoding="utf-8")
    block = text.split("<!-- aliases:begin -->\n", 1)[1].split("\n<!-- aliases:end -->", 1)[0]
    assert block == aliases_markdown()


def test_template_round_trips(tmp_path):
    """`region template` writes XLSX whose example rows load; a non-empty folder is refused."""
    d = tmp_path / "tpl"
    res = CliRunner().invoke(app, ["region", "template", str(d)])
    assert res.exit_code == 0, res.output
    o = load_outlets(d / "outlets.xlsx")
    assert list(o["kind"]) == ["township_centre"] and o["name"].iloc[0].startswith("示例")
    dm = load_demand(d / "demand.xlsx")
    assert dm["population"].iloc[0] == 1250 and not dm["urban"].iloc[0]
    from openpyxl import load_workbook

    ws = load_workbook(d / "outlets.xlsx").active
    (dv,) = ws.data_validations.dataValidation
    assert "邮政网点" in dv.formula1 and str(dv.sqref).startswith("C2")
    res = CliRunner().invoke(app, ["region", "template", str(d)])
    assert res.exit_code == 2 and "not empty" in res.output
    res = CliRunner().invoke(app, ["region", "template", str(d), "--force"])
    assert res.exit_code == 0
