"""How the service map looks and speaks: colours, inline-SVG icons per outlet kind, labels.

Icons are inline SVG drawn into Leaflet ``DivIcon``s: nothing to download, no icon font.
"""

from __future__ import annotations

__all__ = ["KIND_STYLE", "LABELS", "TEXT", "kind_label", "mode_label", "rate_colour",
           "icon_svg", "PROPOSAL_COLOUR", "RATE_STEPS"]

#: kind → (colour, glyph path in a 24×24 box, Chinese name, English name)
KIND_STYLE: dict[str, tuple[str, str, str, str]] = {
    "service_hall": ("#c0392b", "M4 10h16L12 4zM6 11h2v6H6zm5 0h2v6h-2zm5 0h2v6h-2zM4 18h16v2H4z",
                     "政务服务中心", "Government service hall"),
    "township_centre": ("#d35400", "M12 4l8 6v10h-5v-6H9v6H4V10z",
                        "乡镇(街道)便民服务中心", "Township service centre"),
    "community_station": ("#16a085", "M12 3l9 8h-3v9h-4v-6h-4v6H6v-9H3z",
                          "村(社区)便民服务站", "Community service station"),
    "post_office": ("#1e8449", "M3 6h18v12H3zm2 2v.5l7 4.5 7-4.5V8l-7 4.5z",
                    "邮政网点", "Post office"),
    "carrier_shop": ("#2471a3", "M8 3h8a1 1 0 0 1 1 1v16a1 1 0 0 1-1 1H8a1 1 0 0 1-1-1V4a1 1 0 "
                     "0 1 1-1zm1 2v12h6V5zm3 13.2a.9.9 0 1 0 0 .01z",
                     "通信运营商营业厅", "Carrier shop"),
    "bank": ("#7d3c98", "M12 3l9 5v2H3V8zM5 11h2v6H5zm4 0h2v6H9zm4 0h2v6h-2zm4 0h2v6h-2zM3 18h18v3H3z",
             "银行网点", "Bank branch"),
    "other": ("#566573", "M12 4a6 6 0 1 1 0 12 6 6 0 0 1 0-12z", "其他", "Other"),
}

PROPOSAL_COLOUR = "#f1c40f"
#: Coverage-rate class breaks and fill colours (red = few people inside their circle).
RATE_STEPS: list[tuple[float, str]] = [(0.25, "#d73027"), (0.5, "#fc8d59"), (0.75, "#fee08b"),
                                       (0.9, "#d9ef8b"), (1.01, "#1a9850")]

_MODES = {"walk": ("步行", "walk"), "ebike": ("电动自行车", "e-bike"), "drive": ("驾车", "drive")}

#: Every label on the map, in both languages.
TEXT: dict[str, tuple[str, str]] = {
    "title": ("政务服务地图", "Government service map"),
    "outlets": ("服务网点", "Service outlets"),
    "circles": ("服务圈(各网点)", "Service circles (per outlet)"),
    "circles_by_kind": ("服务圈(按类型)", "Service circles (by kind)"),
    "network_circle": ("服务圈合计", "All service circles"),
    "uncovered": ("圈外人口", "People outside their circle"),
    "areas": ("各区域覆盖率", "Coverage rate by area"),
    "proposals": ("建议新增网点", "Proposed new sites"),
    "roads": ("道路", "Roads"),
    "kind": ("类型", "Kind"),
    "address": ("地址", "Address"),
    "phone": ("电话", "Phone"),
    "hours": ("办公时间", "Opening hours"),
    "services": ("可办事项", "Services"),
    "circle": ("服务圈", "Service circle"),
    "population": ("圈内人口", "People inside"),
    "people": ("人", "people"),
    "minutes": ("分钟", "min"),
    "unreachable": ("无法到达", "unreachable"),
    "unreachable_layer": ("无法到达的人口(原因)", "People who cannot reach any outlet (why)"),
    "reason": ("原因", "Reason"),
    "detail": ("说明", "Detail"),
    "snap": ("到道路距离(米)", "Distance to road (m)"),
    "new_items": ("新增事项", "New items"),
    "item_pick": ("按事项查看圈外人口", "People outside the circle, by item"),
    "item_none": ("— 选择事项 —", "— choose an item —"),
    "item_uncovered": ("该事项圈外人口", "Outside the circle for this item"),
    "points": ("个点", "points"),
    "outlets_n": ("个网点可办", "outlets handle it"),
    "nearest": ("到最近网点", "to the nearest outlet"),
    "rate": ("覆盖率", "coverage rate"),
    "search": ("搜索网点名称", "Search outlets by name"),
    "locate": ("我的位置", "Show my location"),
    "fullscreen": ("全屏", "Full screen"),
    "exit_fullscreen": ("退出全屏", "Exit full screen"),
    "legend": ("图例", "Legend"),
    "rank": ("优先级", "Rank"),
    "added": ("新增覆盖人口", "People newly covered"),
    "illustrative": ("示意数据,非官方信息", "Illustrative data, not official"),
    "not_found": ("未找到", "Not found"),
    "proxy": ("人口为估算值(非普查数据)", "Population is a proxy, not census data"),
}

LABELS = TEXT


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def kind_label(kind: str, lang: str = "zh") -> str:
    """The outlet kind as people say it."""
    style = KIND_STYLE.get(kind, KIND_STYLE["other"])
    return style[2] if lang == "zh" else style[3]


def mode_label(mode: str, lang: str = "zh") -> str:
    """A travel mode as people say it."""
    return _pick(_MODES.get(mode, (mode, mode)), lang)


def rate_colour(rate: float) -> str:
    """Fill colour of an area by its coverage rate (grey when it has no people)."""
    if rate != rate:  # NaN
        return "#bdbdbd"
    for upper, colour in RATE_STEPS:
        if rate < upper:
            return colour
    return RATE_STEPS[-1][1]


def icon_svg(kind: str, *, size: int = 28, colour: str | None = None) -> str:
    """A round pin with the kind's glyph, as an inline SVG string."""
    c, path, _, _ = KIND_STYLE.get(kind, KIND_STYLE["other"])
    c = colour or c
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            f'viewBox="0 0 28 28"><circle cx="14" cy="14" r="13" fill="{c}" stroke="#fff" '
            f'stroke-width="2"/><g transform="translate(4 4) scale(.8333)">'
            f'<path d="{path}" fill="#fff"/></g></svg>')
