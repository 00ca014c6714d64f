"""``routes.xlsx`` for the dispatcher: a summary sheet and a sheet per runner with a status
dropdown (openpyxl DataValidation).
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from gis.io import atomic_path

from .plan import DayPlan
from .sheets import MODE_LABEL, ROLE_LABEL
from .tables import fmt_hhmm

__all__ = ["write_xlsx", "STATUS_CHOICES"]

STATUS_CHOICES = ("待办 pending", "已完成 done", "未遇到 not met", "改期 rescheduled")
_HEAD = PatternFill("solid", fgColor="DDE4FF")
_STOP_COLS = ("序号 No.", "事项 Errand", "到达 Arrival", "时间窗 Window", "取/送 Pickup/delivery",
              "携带 What to carry", "联系人 Contact", "电话 Phone", "地址 Address", "状态 Status",
              "签字 Signature")


def _sheet_title(name: str, used: set[str]) -> str:
    bad = '[]:*?/\\'
    t = "".join("_" if ch in bad else ch for ch in name)[:31] or "runner"
    base, k = t, 1
    while t in used:
        k += 1
        t = f"{base[:28]}~{k}"
    used.add(t)
    return t


def write_xlsx(plan: DayPlan, path: str | Path) -> Path:
    """Write the workbook atomically and return its path."""
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总 Summary"
    ws.append(["日期 Date", plan.date.isoformat(), "区域 Region", plan.region])
    if plan.illustrative:
        ws.append(["示例数据 Illustrative data"])
    ws.append([])
    head = ["跑手 Runner ID", "姓名 Name", "方式 Mode", "驻点 Base", "事项 Errands",
            "站点 Stops", "路上分钟 Travel min", "返回 Back", "班次 Shift"]
    ws.append(head)
    for c in ws[ws.max_row]:
        c.font, c.fill = Font(bold=True), _HEAD
    for r in plan.routes:
        ws.append([r.runner_id, r.runner_name, MODE_LABEL.get(r.mode, r.mode), r.base_name,
                   r.n_errands, len(r.stops), round(r.travel_s / 60),
                   fmt_hhmm(r.return_s) if r.stops else "",
                   f"{fmt_hhmm(r.shift[0])}-{fmt_hhmm(r.shift[1])}"])
    ws.append([])
    ws.append(["未安排 Left out", "原因 Reason"])
    for c in ws[ws.max_row]:
        c.font, c.fill = Font(bold=True), _HEAD
    for eid, why in plan.dropped.items():
        ws.append([eid, why])
    for col, w in zip("ABCDEFGHI", (14, 14, 14, 22, 10, 10, 14, 10, 14), strict=True):
        ws.column_dimensions[col].width = w

    used = {ws.title}
    for r in plan.routes:
        sh = wb.create_sheet(_sheet_title(r.runner_id, used))
        sh.append(["日期 Date", plan.date.isoformat(), "跑手 Runner", f"{r.runner_name} "
                   f"({r.runner_id})", "方式 Mode", MODE_LABEL.get(r.mode, r.mode)])
        sh.append(["驻点 Base", r.base_name, "事项 Errands", r.n_errands, "路上分钟 Travel min",
                   round(r.travel_s / 60)])
        if plan.illustrative or r.illustrative:
            sh.append(["示例数据 Illustrative data"])
        sh.append([])
        sh.append(list(_STOP_COLS))
        hdr = sh.max_row
        for c in sh[hdr]:
            c.font, c.fill = Font(bold=True), _HEAD
            c.alignment = Alignment(wrap_text=True)
        for s in r.stops:
            sh.append([s.order, s.errand_id, fmt_hhmm(s.arrival_s),
                       f"{fmt_hhmm(s.window[0])}-{fmt_hhmm(s.window[1])}", ROLE_LABEL[s.role],
                       s.items, s.contact_name, s.phone_masked, s.place, STATUS_CHOICES[0], ""])
        dv = DataValidation(type="list", formula1='"' + ",".join(STATUS_CHOICES) + '"',
                            allow_blank=True, showDropDown=False)
        dv.error, dv.errorTitle = "请从列表选择 Choose from the list", "状态 Status"
        sh.add_data_validation(dv)
        status_col = "J"
        last = max(hdr + len(r.stops), hdr + 1)
        dv.add(f"{status_col}{hdr + 1}:{status_col}{last}")
        for col, w in zip("ABCDEFGHIJK", (6, 10, 9, 13, 16, 30, 12, 14, 30, 16, 14), strict=True):
            sh.column_dimensions[col].width = w
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path
