"""Blank XLSX templates with Chinese headers a planner fills in (`bianmin region template`).

Each workbook has one sheet: a header row of Chinese column names (all accepted by
:mod:`gis.aliases`), one example row that loads as it is, and, for outlets, a drop-down list of
the kind labels (Excel data validation).
"""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from .errors import InputError, InputProblem
from .io import atomic_path

__all__ = ["TEMPLATES", "KIND_LABELS", "write_templates"]

#: The kind labels offered in the drop-down (each an alias of one kind code).
KIND_LABELS = ("政务服务中心", "便民服务中心", "便民服务站", "邮政网点", "营业厅", "银行网点", "其他")

#: file name → (Chinese headers, example row, note). The example is a place in Bazhong (巴中),
#: coordinates as Amap (GCJ-02) shows them; 坐标系 says so per row.
TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[object, ...], str]] = {
    "outlets.xlsx": (
        ("编号", "名称", "类型", "经度", "纬度", "坐标系", "地址", "联系电话", "办公时间",
         "可办事项"),
        ("BZ001", "示例镇便民服务中心", "便民服务中心", 106.7474, 31.8676, "高德",
         "巴中市巴州区示例路1号", "0827-0000000", "周一至周五 09:00-17:00", "社保;医保;户籍"),
        "网点 outlets: one row per outlet; 类型 from the drop-down; 坐标系 高德/百度/GPS",
    ),
    "demand.xlsx": (
        ("编号", "人口", "所属区域", "经度", "纬度", "坐标系", "城乡分类代码"),
        ("P001", 1250, "A01", 106.7474, 31.8676, "高德", 220),
        "人口点 demand points: 所属区域 = an area id; 城乡分类代码 111–122 urban, 210/220 rural",
    ),
    "census.xlsx": (
        ("所属区域", "名称", "人口"),
        ("A01", "示例村", 1250),
        "普查表 census: population per area (所属区域 = area id) or per village/community (名称); "
        "for `bianmin population --census`",
    ),
}


def write_templates(out_dir: str | os.PathLike, *, force: bool = False) -> list[Path]:
    """Write the blank templates into ``out_dir``; refuse a non-empty folder unless ``force``."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(InputProblem(str(out_dir), None, None, "exists and is not a folder"))
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise InputError(InputProblem(str(out_dir), None, None,
                                      "the folder is not empty; use --force to write into it"))
    written = []
    for name, (headers, example, note) in TEMPLATES.items():
        wb = Workbook()
        ws = wb.active
        ws.title = name.split(".")[0]
        ws.append(list(headers))
        ws.append(list(example))
        bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
            ws.column_dimensions[cell.column_letter].width = max(10, 2.2 * len(str(cell.value)))
        ws.freeze_panes = "A2"
        if "类型" in headers:
            col = ws.cell(row=1, column=headers.index("类型") + 1).column_letter
            dv = DataValidation(type="list", formula1='"' + ",".join(KIND_LABELS) + '"',
                                allow_blank=False, showErrorMessage=True,
                                errorTitle="类型", error="请从下拉列表选择 choose a kind")
            ws.add_data_validation(dv)
            dv.add(f"{col}2:{col}5000")
        notes = wb.create_sheet("说明 notes")
        notes.append([note])
        notes.append(["See docs/region-format.md for every accepted header and kind label."])
        with atomic_path(out_dir / name) as tmp:
            wb.save(tmp)
        written.append(out_dir / name)
    return written
