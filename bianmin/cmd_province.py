"""`bianmin province`: a province by county, partitioned on Dask; OUT/province/counties.csv."""

from __future__ import annotations

from pathlib import Path

import typer

from gis.io import write_csv
from gis.items import items_of_region
from gis.partition_dask import dask_partitioned_run
from gis.partition_province import county_table
from gis.region import load_region

from .common import OUT_OPTION, REGION_OPTION, check_out, final_path, out, output, step, user_errors


def register(app: typer.Typer) -> None:
    """Add the `province` command."""

    @app.command()
    def province(
        region: Path = REGION_OPTION,
        out_dir: Path = OUT_OPTION,
        partition_by: str = typer.Option("county", "--partition-by",
                                         help="The areas' field that names the county."),
        workers: int = typer.Option(2, "--workers", min=1, help="Dask worker processes."),
        scheduler: str = typer.Option("local", "--scheduler",
                                      help="'local' or a Dask scheduler, tcp://HOST:PORT."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress."),
    ) -> None:
        """Coverage and item coverage county by county; writes OUT/province/counties.csv."""
        with user_errors():
            check_out(out_dir)
            with output(out_dir, "province") as stage:
                with step("Loading region …", show=not quiet):
                    reg = load_region(region)
                with step("Computing coverage by county …", show=not quiet):
                    cov, items = dask_partitioned_run(reg, partition_by,
                                                      items=items_of_region(reg),
                                                      scheduler=scheduler, workers=workers)
                path = write_csv(county_table(cov, reg.areas, partition_by, items),
                                 stage / "province" / "counties.csv")
        if not quiet:
            out.print(f"wrote {final_path(path, stage, out_dir)}", highlight=False)
