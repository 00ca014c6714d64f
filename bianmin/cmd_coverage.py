"""`bianmin coverage`: who lives inside their 15/30-minute service circle."""

from __future__ import annotations

from pathlib import Path

import typer

from gis.coverage import coverage_of_region
from gis.items import item_coverage_of_region, items_of_region
from gis.partition_dask import dask_partitioned_run
from gis.region import load_region
from gis.writers import write_coverage

from .common import (
    OUT_OPTION,
    REGION_OPTION,
    SCHEDULER_OPTION,
    WORKERS_OPTION,
    check_out,
    check_scheduler,
    final_path,
    out,
    output,
    step,
    user_errors,
)
from .display import print_area_table, print_worst_items


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
        partition_by: str | None = typer.Option(
            None, "--partition-by", help="Run partition by partition: the areas' field "
            "(e.g. county, or id for one per area); same tables as the whole run."),
        workers: int = WORKERS_OPTION,
        scheduler: str = SCHEDULER_OPTION,
    ) -> None:
        """Time from every resident to the nearest outlet; who is inside their circle.

        Writes OUT/coverage/points.csv, areas.csv and coverage.gpkg (and items.csv,
        items_matrix.csv when the region has a service-item catalogue).
        """
        with user_errors():
            check_out(out_dir)
            check_scheduler(scheduler)
            with output(out_dir, "coverage") as stage:
                with step("Loading region …", show=not quiet):
                    reg = load_region(region, demand_path=population)
                with step("Computing coverage …", show=not quiet):
                    if partition_by is None:
                        result = coverage_of_region(reg)
                        items = item_coverage_of_region(reg, base=result)  # None: no catalogue
                    else:  # the pieces compute the item points too
                        result, items = dask_partitioned_run(
                            reg, partition_by, items=items_of_region(reg), scheduler=scheduler,
                            workers=workers)
                files = write_coverage(result, reg, stage / "coverage", items=items)
        if not quiet:
            print_area_table(result, reg)
            if items is not None:
                print_worst_items(items)
            for f in files.values():
                out.print(f"wrote {final_path(f, stage, out_dir)}", highlight=False)
