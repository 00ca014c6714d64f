"""Tables as people read them in a terminal (only the CLI prints)."""

from __future__ import annotations

from rich.table import Table

from gis.coverage import CoverageResult
from gis.items import ItemCoverage
from gis.region import Region

from .common import out


def print_area_table(result: CoverageResult, region: Region) -> None:
    """The per-area coverage table, the proxy warning and the summary."""
    t = Table(title=f"服务圈覆盖 Service-circle coverage — {region.name}")
    t.add_column("区域\nArea", no_wrap=True, overflow="ellipsis", max_width=18)
    t.add_column("城乡\nU/R", no_wrap=True)
    for col in ("人口\nPop.", "圈内\nCovered", "覆盖率\nRate", "中位分钟\nMedian",
                "P90\nmin"):
        t.add_column(col, justify="right", no_wrap=True)
    for r in result.areas.itertuples():
        t.add_row(str(r.name), "城" if r.urban else "乡", f"{r.population:,.0f}",
                  f"{r.covered_population:,.0f}",
                  "—" if r.population == 0 else f"{r.coverage_rate:.1%}",
                  "unreachable" if r.median_minutes != r.median_minutes and r.population else
                  ("—" if r.median_minutes != r.median_minutes else f"{r.median_minutes:.1f}"),
                  "—" if r.p90_minutes != r.p90_minutes else f"{r.p90_minutes:.1f}")
    out.print(t)
    if region.settings.population_is_proxy:
        out.print("[yellow]Population is a PROXY built from OSM, not census data.[/yellow] "
                  f"{region.settings.population_note}", highlight=False)
    out.print(result.summary(), highlight=False)


def print_worst_items(items: ItemCoverage) -> None:
    """The ten worst-covered items and the request-weighted figure."""
    t = Table(title="覆盖最差的事项 Worst-covered items")
    t.add_column("事项\nItem", no_wrap=True, overflow="ellipsis", max_width=22)
    for col in ("网点\nOutlets", "覆盖率\nRate", "权重\nWeight"):
        t.add_column(col, justify="right", no_wrap=True)
    for r in items.worst(10).itertuples():
        t.add_row(f"{r.item_id} {r.item_name}", str(r.outlets), f"{r.coverage_rate:.1%}",
                  f"{r.weight:g}")
    out.print(t)
    out.print(items.summary(), highlight=False)
