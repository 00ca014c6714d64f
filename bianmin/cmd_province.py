"""`bianmin province`: a province by county, partitioned on Dask; OUT/province/counties.csv."""

from __future__ import annotations

from pathlib import Path

import typer

from gis.io import write_csv
from gis.partition_dask import dask_province
from gis.partition_province import county_shapes, county_table
from gis.region import load_region
from maps.province import write_province_map

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


def register(app: typer.Typer) -> None:
    """Add the `province` command."""

    @app.command()
    def province(
        region: Path = REGION_OPTION,
        out_dir: Path = OUT_OPTION,
        partition_by: str = typer.Option("county", "--partition-by",
                                         help="The areas' field that names the county."),
        workers: int = WORKERS_OPTION,
        scheduler: str = SCHEDULER_OPTION,
        sites: int = typer.Option(0, "--sites", min=0,
                                  help="Province budget of new sites, split across counties."),
        delegations: int = typer.Option(0, "--delegations", min=0,
                                        help="Province budget of item delegations (pairs)."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress."),
    ) -> None:
        """Coverage and item coverage county by county; writes OUT/province/counties.csv and
            OUT/province/map/index.html (counties shaded by coverage rate).

            With --sites/--delegations, each county's siting / delegation curve runs on its
            own piece and the province budget is split across counties exactly
            (sites.csv, curve.csv, delegations.csv, delegation_curve.csv).
            """
        with user_errors():
            check_scheduler(scheduler)
            check_out(out_dir)
            with output(out_dir, "province") as stage:
                with step("Loading region …", show=not quiet):
                    reg = load_region(region)
                with step("Computing coverage by county …", show=not quiet):
                    cov, items, plan = dask_province(reg, partition_by, sites=sites,
                                                     delegations=delegations,
                                                     scheduler=scheduler, workers=workers)
                table = county_table(cov, reg.areas, partition_by, items)
                path = write_csv(table, stage / "province" / "counties.csv")
                write_province_map(county_shapes(reg.areas, partition_by, table),
                                   stage / "province" / "map", title=reg.name)
                if plan is not None:
                    plan.write(stage / "province")
        if not quiet:
            out.print(f"wrote {final_path(path, stage, out_dir)}", highlight=False)
