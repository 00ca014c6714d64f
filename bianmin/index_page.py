"""`OUT/index.html`: one page linking every output of a run, in Chinese and English.

Everything from the run (title, summary lines, file names) is HTML-escaped; links are
percent-encoded.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path
from urllib.parse import quote

from gis.io import atomic_path
from gis.items import ItemCoverage

#: (relative path or glob, 中文, English) in the order a person reads them.
SECTIONS: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("覆盖 Coverage", [
        ("coverage/areas.csv", "各区域覆盖率表", "coverage per area"),
        ("coverage/points.csv", "每个人口点的时间与是否在圈内", "minutes and covered, per demand point"),
        ("coverage/items.csv", "各事项、各区域覆盖率", "coverage per item and area"),
        ("coverage/items_matrix.csv", "区域 × 事项覆盖率矩阵", "areas × items coverage rates"),
        ("coverage/coverage.gpkg", "GeoPackage（点、区域、网点图层）",
         "GeoPackage (points, areas, outlets layers)"),
    ]),
    ("选址 Siting", [
        ("siting/chosen.csv", "建议新增/赋权网点（按新增覆盖人口排序）",
         "proposed sites, ranked by people added"),
        ("siting/curve.csv", "覆盖率—网点数曲线", "coverage against number of new sites"),
        ("siting/areas_after.csv", "各区域前后对比", "coverage per area before and after"),
    ]),
    ("事项赋权 Item delegation", [
        ("delegation/chosen.csv", "建议赋权（网点 × 事项，按新增加权覆盖排序）",
         "proposed delegations (outlet × item), ranked"),
        ("delegation/curve.csv", "加权覆盖率—赋权数曲线", "weighted coverage against pairs"),
        ("delegation/items_after.csv", "各事项前后对比", "coverage per item before and after"),
    ]),
    ("地图 Service map", [
        ("map/public/index.html", "政务服务网点地图（面向群众：事项、办公时间、导航，离线可用）",
         "the citizens' map (items, hours, navigation; works offline)"),
        ("map/planning/index.html", "规划地图（覆盖率、圈外人口、建议新增网点）",
         "the planning map (coverage, people outside their circle, proposals)"),
    ]),
    ("跑手路线 Runner routes", [
        ("routes/routes.xlsx", "调度工作簿（每位跑手一页，状态下拉）",
         "dispatcher's workbook (a sheet per runner, status dropdown)"),
        ("routes/plan.json", "当日计划（不含姓名电话）", "the day's plan (no names or phones)"),
        ("routes/sheets/*.html", "跑手路线单（手机）", "route sheet (phone)"),
        ("routes/sheets/*.pdf", "跑手路线单（打印）", "route sheet (print)"),
    ]),
]


def item_table(items: ItemCoverage | None) -> str:
    """The items, worst covered first: item, outlets, rate, weight (HTML, every text escaped)."""
    if items is None or len(items.items) == 0:
        return ""
    rows = []
    for r in items.worst(len(items.items)).itertuples(index=False):
        rate = "—" if r.coverage_rate != r.coverage_rate else f"{r.coverage_rate:.1%}"
        rows.append(f'<tr data-item-id="{html.escape(str(r.item_id))}">'
                    f"<td>{html.escape(str(r.item_name))}</td><td>{int(r.outlets)}</td>"
                    f"<td>{rate}</td><td>{float(r.weight):g}</td></tr>")
    return ('<h2>事项覆盖 Coverage by item</h2><p class="note">最差的在前 · worst first; '
            f"{html.escape(items.summary())}</p>"
            '<table class="items"><thead><tr><th>事项 Item</th><th>网点数 Outlets</th>'
            "<th>覆盖率 Rate</th><th>权重 Weight</th></tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table>")


def write_index(out_dir: Path, *, title: str, summary_lines: list[str],
                items: ItemCoverage | None = None) -> Path:
    """Write ``out_dir/index.html`` linking every output that exists.

    With ``items`` (a region with a catalogue) the page shows the item coverage table.
    """
    out_dir = Path(out_dir)
    parts = []
    for heading, entries in SECTIONS:
        rows = []
        for pattern, zh, en in entries:
            for f in sorted(out_dir.glob(pattern)):
                rel = f.relative_to(out_dir).as_posix()
                rows.append(f'<li><a href="{html.escape(quote(rel))}">{html.escape(rel)}</a> — '
                            f'{html.escape(zh)} · <span lang="en">{html.escape(en)}</span></li>')
        if rows:
            parts.append(f"<h2>{html.escape(heading)}</h2><ul>{''.join(rows)}</ul>")
    summary = "".join(f"<li>{html.escape(s)}</li>" for s in summary_lines)
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} — bianmin</title>
<style>
body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:56rem;margin:1rem auto;
padding:0 1rem;line-height:1.5;color:#222}} h1{{font-size:1.4rem}} h2{{font-size:1.1rem;
border-bottom:1px solid #ccc}} li{{margin:.2rem 0}}
table.items{{border-collapse:collapse}} table.items td,table.items th{{border:1px solid #ddd;
padding:.15rem .5rem}} table.items td:nth-child(n+2){{text-align:right}} .note{{color:#666;font-size:.9rem}}
</style></head><body>
<h1>便民 bianmin · {html.escape(title)}</h1>
<ul>{summary}</ul>
{item_table(items)}
{''.join(parts)}
<p class="note">生成于 Generated {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} ·
地图数据 Map data © OpenStreetMap contributors, ODbL 1.0 · 人口为代理数据（非普查）
Population is a proxy, not census data · 营业时间、服务事项、跑腿任务为示意 Hours, services and
errands are illustrative.</p>
</body></html>
"""
    target = out_dir / "index.html"
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    os.chmod(target, 0o644)
    return target
