"""`bianmin coverage`: who lives inside their 15/30-minute service circle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from gis.coverage import CoverageResult, coverage_of_region
from gis.io import write_csv, write_gpkg
from gis.items import ItemCoverage, item_coverage_of_region, write_item_coverage
from gis.region import Region, load_region

from .common import OUT_OPTION, REGION_OPTION, out, step, user_errors

POINT_COLUMNS = ["demand_id", "area_id", "population", "mode", "minutes", "threshold_minutes",
                 "covered", "reachable", "outlet_id"]


def _extra(pts) -> list[str]:
    return ["weighted_coverage"] if "weighted_coverage" in pts else []


def write_coverage(result: CoverageResult, region: Region, out_dir: Path) -> dict[str, Path]:
    """Write points.csv, areas.csv and coverage.gpkg under ``out_dir/coverage``."""
    d = out_dir / "coverage"
    pts = result.points
    files = {
        "points": write_csv(pts[POINT_COLUMNS + _extra(pts)], d / "points.csv"),
        "areas": write_csv(result.areas, d / "areas.csv"),
    }
    areas = region.areas[["id", "name", "urban", "geometry"]].merge(
        result.areas.drop(columns=["name", "urban"]), left_on="id", right_on="area_id")
    files["gpkg"] = write_gpkg({"points": pts[POINT_COLUMNS + ["geometry"]],
                                "areas": areas, "outlets": region.outlets}, d / "coverage.gpkg")
    return files


def print_area_table(result: CoverageResult, region: Region) -> None:
    """The per-area table as people read it."""
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


def register(app: typer.Typer) -> None:
    """Add the `coverage` command."""

    @app.command()
    def coverage(
        region: Path = REGION_OPTION,
        out_dir: Path = OUT_OPTION,
        population: Path | None = typer.Option(
            None, help="Your own population table (id, lon, lat, population, area_id); "
            "replaces the region's proxy."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No table, no progress."),
    ) -> None:
        """Time from every resident to the nearest outlet; who is inside their circle.

        Writes OUT/coverage/points.csv, areas.csv and coverage.gpkg.
        """
        with user_errors():
            with step("Loading region …", show=not quiet):
                reg = load_region(region, demand_path=population)
            with step("Computing coverage …", show=not quiet):
                result = coverage_of_region(reg)
            items = item_coverage_of_region(reg, base=result)  # None without a catalogue
            if items is not None:
                result.points["weighted_coverage"] = np.round(items.point_weighted, 4)
            files = write_coverage(result, reg, out_dir)
            if items is not None:
                files.update(write_item_coverage(items, reg.areas, out_dir))
        if not quiet:
            print_area_table(result, reg)
            if items is not None:
                print_worst_items(items)
            for f in files.values():
                out.print(f"wrote {f}", highlight=False)
