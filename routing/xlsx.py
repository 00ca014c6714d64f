"""``routes.xlsx``, the dispatcher's workbook: a summary, a ledger of every errand, and a sheet
per runner with a status dropdown (openpyxl DataValidation).

The workbook is the dispatcher's own, so it carries the citizens' full phone numbers (the
runners' sheets mask them). Every sheet keeps its header rows frozen and prints landscape on A4,
fitted to the page width, with the header row repeated on each page.

Every text cell is written as a string cell (:func:`gis.safetext.set_text_cell`), never as a
formula, whatever the errand or runner text starts with; numbers stay numbers. Sheet names come
from :func:`routing.sheets.sheet_names`, like the sheet files, and the summary names each
runner's file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from gis.io import atomic_path
from gis.safetext import set_text_cell

from .plan import DayPlan, PlannedStop
from .sheets import LEDGER_TITLE, MODE_LABEL, RESERVED_TITLES, ROLE_LABEL, sheet_names
from .tables import Errand, fmt_hhmm

__all__ = ["write_xlsx", "STATUS_CHOICES", "LEDGER_COLS", "STOP_COLS", "LEFT_OUT_COLS"]

STATUS_CHOICES = ("待办 pending", "已完成 done", "未遇到 not met", "改期 rescheduled")
_HEAD = PatternFill("solid", fgColor="DDE4FF")
#: Columns of a runner's sheet.
STOP_COLS = ("序号 No.", "事项 Errand", "到达 Arrival", "时间窗 Window", "取/送 Pickup/delivery",
             "携带 What to carry", "联系人 Contact", "电话 Phone", "地址 Address", "备注 Note",
             "状态 Status", "签字 Signature")
_STOP_WIDTHS = (6, 12, 9, 13, 16, 28, 12, 15, 30, 24, 16, 14)
_STATUS_COL = "K"
#: Columns of the ledger: every errand of the day, planned or left out.
LEDGER_COLS = ("事项 Errand", "类型 Kind", "状态 Status", "跑手 Runner ID", "跑手姓名 Runner",
               "取件序号 Pickup No.", "取件到达 Pickup at", "送达序号 Delivery No.",
               "送达到达 Delivery at", "时间窗 Window", "携带 What to carry",
               "联系人 Contact", "电话 Phone", "地点 Places", "原因 Reason",
               "Reason (English)", "依据 Check")
_LEDGER_WIDTHS = (12, 16, 12, 12, 12, 9, 9, 9, 9, 24, 26, 12, 15, 30, 40, 40, 22)
#: Columns of the summary's list of errands left out.
LEFT_OUT_COLS = ("未安排 Left out", "原因 Reason", "Reason (English)", "依据 Check",
                 "携带 What to carry", "时间窗 Window", "类型 Kind")
_PLANNED, _LEFT_OUT = "已安排 planned", "未安排 left out"


def _text_cells(wb: Workbook) -> None:
    """Make every text value a string cell (openpyxl makes text starting with ``=`` a formula)."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    set_text_cell(cell, cell.value)


def _header(ws: Worksheet, values: Sequence[str]) -> int:
    """Append a bold, shaded, wrapped header row; return its row number."""
    ws.append(list(values))
    row = ws.max_row
    for c in ws[row]:
        c.font, c.fill = Font(bold=True), _HEAD
        c.alignment = Alignment(wrap_text=True, vertical="top")
    return row


def _print_setup(ws: Worksheet, header_row: int, widths: Sequence[float]) -> None:
    """Frozen header rows, column widths, landscape A4 fitted to width, header on every page."""
    from openpyxl.utils import get_column_letter

    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = f"A{header_row + 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.gridLines = True
    ws.page_margins.left = ws.page_margins.right = 0.4


def _windows(e: Errand) -> str:
    """The errand's window(s): one for a home visit, pickup / delivery for a pair."""
    first = f"{fmt_hhmm(e.pickup_window[0])}-{fmt_hhmm(e.pickup_window[1])}"
    if not e.is_pair:
        return first
    return f"取 {first} / 送 {fmt_hhmm(e.delivery_window[0])}-{fmt_hhmm(e.delivery_window[1])}"


def _summary(ws: Worksheet, plan: DayPlan, names: dict) -> None:
    ws.append(["日期 Date", plan.date.isoformat(), "区域 Region", plan.region])
    if plan.illustrative:
        ws.append(["示例数据 Illustrative data"])
    ws.append([])
    hdr = _header(ws, ["跑手 Runner ID", "姓名 Name", "方式 Mode", "驻点 Base", "事项 Errands",
                       "站点 Stops", "路上分钟 Travel min", "返回 Back", "班次 Shift",
                       "工作表 Sheet", "路线单 Sheet file"])
    for r in plan.routes:
        ws.append([r.runner_id, r.runner_name, MODE_LABEL.get(r.mode, r.mode), r.base_name,
                   r.n_errands, len(r.stops), round(r.travel_s / 60),
                   fmt_hhmm(r.return_s) if r.stops else "",
                   f"{fmt_hhmm(r.shift[0])}-{fmt_hhmm(r.shift[1])}", names[r.runner_id].title,
                   f"sheets/{names[r.runner_id].stem}.html"])
    ws.append([])
    _header(ws, LEFT_OUT_COLS)
    for eid, why in plan.dropped.items():
        reason = plan.reasons.get(eid)
        e = plan.left_out.get(eid)
        ws.append([eid, reason.zh if reason else why, reason.en if reason else "",
                   reason.basis if reason else "", e.items if e else "",
                   _windows(e) if e else "", e.kind if e else ""])
    _print_setup(ws, hdr, (14, 30, 30, 22, 20, 24, 14, 10, 14, 16, 24))


def _ledger(ws: Worksheet, plan: DayPlan) -> None:
    hdr = _header(ws, LEDGER_COLS)
    for r in plan.routes:
        by_errand: dict[str, list[PlannedStop]] = {}
        for s in r.stops:
            by_errand.setdefault(s.errand_id, []).append(s)
        for eid, stops in by_errand.items():
            first, last = stops[0], stops[-1]
            pair = len(stops) > 1
            win = " / ".join(f"{fmt_hhmm(s.window[0])}-{fmt_hhmm(s.window[1])}" for s in stops)
            ws.append([eid, first.kind, _PLANNED, r.runner_id, r.runner_name, first.order,
                       fmt_hhmm(first.arrival_s), last.order if pair else None,
                       fmt_hhmm(last.arrival_s) if pair else "", win, first.items,
                       first.contact_name, first.contact_phone,
                       " → ".join(dict.fromkeys(s.place for s in stops if s.place)),
                       "", "", ""])
    for eid, why in plan.dropped.items():
        reason = plan.reasons.get(eid)
        e = plan.left_out.get(eid)
        ws.append([eid, e.kind if e else "", _LEFT_OUT, "", "", None, "", None, "",
                   _windows(e) if e else "", e.items if e else "",
                   e.contact_name if e else "", e.contact_phone if e else "",
                   e.address if e else "", reason.zh if reason else why,
                   reason.en if reason else "", reason.basis if reason else ""])
    ws.auto_filter.ref = f"A{hdr}:{chr(ord('A') + len(LEDGER_COLS) - 1)}{max(ws.max_row, hdr)}"
    _print_setup(ws, hdr, _LEDGER_WIDTHS)


def _runner_sheet(ws: Worksheet, plan: DayPlan, r) -> None:  # noqa: ANN001 - a RunnerRoute
    ws.append(["日期 Date", plan.date.isoformat(), "跑手 Runner", f"{r.runner_name} "
               f"({r.runner_id})", "方式 Mode", MODE_LABEL.get(r.mode, r.mode)])
    ws.append(["驻点 Base", r.base_name, "事项 Errands", r.n_errands, "路上分钟 Travel min",
               round(r.travel_s / 60)])
    if plan.illustrative or r.illustrative:
        ws.append(["示例数据 Illustrative data"])
    ws.append([])
    hdr = _header(ws, STOP_COLS)
    for s in r.stops:
        ws.append([s.order, s.errand_id, fmt_hhmm(s.arrival_s),
                   f"{fmt_hhmm(s.window[0])}-{fmt_hhmm(s.window[1])}", ROLE_LABEL[s.role],
                   s.items, s.contact_name, s.contact_phone, s.place, s.note,
                   STATUS_CHOICES[0], ""])
    dv = DataValidation(type="list", formula1='"' + ",".join(STATUS_CHOICES) + '"',
                        allow_blank=True, showDropDown=False)
    dv.error, dv.errorTitle = "请从列表选择 Choose from the list", "状态 Status"
    ws.add_data_validation(dv)
    last = max(hdr + len(r.stops), hdr + 1)
    dv.add(f"{_STATUS_COL}{hdr + 1}:{_STATUS_COL}{last}")
    _print_setup(ws, hdr, _STOP_WIDTHS)


def write_xlsx(plan: DayPlan, path: str | Path) -> Path:
    """Write the workbook atomically and return its path.

    Sheets: ``汇总 Summary`` (runners, then the errands left out with their reason, items and
    window), ``台账 Ledger`` (every errand: runner, stop numbers, times, status, reason), then
    one per runner (stops with full phone numbers and a status dropdown).
    """
    wb = Workbook()
    ws = wb.active
    ws.title = RESERVED_TITLES[0]
    names = sheet_names([r.runner_id for r in plan.routes])
    _summary(ws, plan, names)
    _ledger(wb.create_sheet(LEDGER_TITLE), plan)
    for r in plan.routes:
        _runner_sheet(wb.create_sheet(names[r.runner_id].title), plan, r)
    _text_cells(wb)
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path
