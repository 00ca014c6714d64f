"""The workbench's words: Chinese first, English with ``?lang=en`` (kept in the session)."""

from __future__ import annotations

from fastapi import Request

__all__ = ["LANGS", "lang_of", "translate", "WORDS"]

LANGS = ("zh", "en")

#: key -> (Chinese, English). Templates call ``t("key")``.
WORDS: dict[str, tuple[str, str]] = {
    "app": ("便民 调度台", "bianmin dispatch"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "user": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误", "Wrong user name or password"),
    "slow_down": ("尝试过多，请 {s} 秒后再试", "Too many attempts: wait {s} s"),
    "board": ("今日看板", "Today's board"),
    "intake": ("登记事项", "New errand"),
    "import": ("导入表格", "Import"),
    "month": ("月度台账", "Month"),
    "planner": ("规划视图", "Planner"),
    "audit": ("操作记录", "Audit"),
    "day": ("日期", "Day"),
    "status": ("状态", "Status"),
    "created": ("待分派", "created"),
    "assigned": ("已分派", "assigned"),
    "picked_up": ("已取件", "picked up"),
    "delivered": ("已送达", "delivered"),
    "failed": ("未办成", "failed"),
    "runners": ("跑腿员", "Runners"),
    "errands": ("事项", "Errands"),
    "plan_day": ("生成今日路线", "Plan the day"),
    "replan": ("立即重新规划", "Re-plan now"),
    "downloads": ("下载", "Downloads"),
    "workbook": ("调度工作簿", "Dispatcher workbook"),
    "sheet": ("路线单", "Route sheet"),
    "export": ("台账导出", "Ledger export"),
    "save": ("保存", "Save"),
    "upload": ("上传并检查", "Upload and check"),
    "problems": ("发现问题，未保存任何数据", "Problems found: nothing was saved"),
    "saved": ("已保存", "Saved"),
    "no_plan": ("尚无路线", "No plan yet"),
    "running": ("正在计算…", "Working…"),
    "done": ("完成", "Done"),
    "error": ("出错", "Error"),
    "name": ("姓名", "Name"),
    "phone": ("电话", "Phone"),
    "address": ("地址", "Address"),
    "kind": ("类型", "Kind"),
    "priority": ("优先级", "Priority"),
    "items": ("事项目录", "Items"),
    "note": ("备注", "Note"),
    "hall": ("办理大厅", "Hall"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "pick_map": ("在地图上点选位置", "Pick the point on the map"),
    "window": ("时间窗", "Window"),
    "file": ("文件", "File"),
    "what": ("内容", "What"),
    "row": ("行", "Row"),
    "column": ("列", "Column"),
    "message": ("说明", "Message"),
    "count": ("件数", "Errands"),
    "on_time": ("准时率", "On time"),
    "rating": ("平均评分", "Mean rating"),
    "by_runner": ("按跑腿员", "By runner"),
    "by_item": ("按事项", "By item"),
    "by_township": ("按乡镇", "By township"),
    "coverage": ("覆盖情况", "Coverage"),
    "planning_map": ("规划地图", "Planning map"),
    "build_map": ("生成规划地图", "Build the planning map"),
    "lang_switch": ("English", "中文"),
    "served": ("已排入", "served"),
    "dropped": ("未排入", "left out"),
}


def lang_of(request: Request) -> str:
    """The request's language (the session's, default Chinese)."""
    lang = request.session.get("lang")
    return lang if lang in LANGS else "zh"


def translate(request: Request, key: str, **kw: object) -> str:
    """The word for ``key`` in the request's language (the key itself when unknown)."""
    pair = WORDS.get(key)
    if pair is None:
        return key
    text = pair[LANGS.index(lang_of(request))]
    return text.format(**kw) if kw else text
