"""`bianmin population`: a region's demand table from a census table or a population raster."""

from __future__ import annotations

from pathlib import Path

import typer

from gis.population import population_of_region, write_population

from .common import (
    OUT_OPTION,
    REGION_OPTION,
    check_count,
    check_out,
    console,
    final_path,
    out,
    output,
    step,
    user_errors,
)


def population(
    region: Path = REGION_OPTION,
    census: Path | None = typer.Option(None, help="Census table (CSV/XLSX): population per "
                                       "area id, per name, or per village point (lon/lat)."),
    by: str = typer.Option("area", help="Join the census to the areas by 'area' (id) or 'name'."),
    raster: Path | None = typer.Option(None, help="Population GeoTIFF (WorldPop, GHS-POP; any CRS)."),
    aggregate: int = typer.Option(1, help="Raster: sum N × N cells into one demand point."),
    out_dir: Path = OUT_OPTION,
) -> None:
    """Write OUT/population/demand.csv (and areas.csv with the per-area totals)."""
    with user_errors():
        check_out(out_dir)
        check_count(aggregate, "--aggregate", low=1)
        with output(out_dir, "population") as stage:
            with step("Placing people …"):
                result = population_of_region(region, census=census, by=by, raster=raster,
                                              aggregate=aggregate)
            files = {k: final_path(v, stage, out_dir)
                     for k, v in write_population(result, stage).items()}
    for p in result.problems:
        console.print(f"not used: {p}", highlight=False, markup=False)
    out.print(result.summary(), highlight=False)
    out.print(f"wrote {files['demand']} — point region.toml's [files] demand at it and set "
              f"[population] proxy = false, source = \"{result.source}\"", highlight=False,
              markup=False)


def register(app: typer.Typer) -> None:
    """Add the `population` command."""
    app.command("population")(population)
