"""`bianmin region init`: make a region folder from a raw OSM extract."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from gis.errors import InputError, InputProblem
from gis.items import items_of_region
from gis.netcheck import check_region_network
from gis.osm_extract import build_region
from gis.outdir import is_empty_folder, staged_folder
from gis.region import load_region

from .common import check_out, lock_wait_s, out, step, user_errors

region_app = typer.Typer(help="Create and check region folders.", no_args_is_help=True)


@region_app.command("init")
def init(
    osm: Path = typer.Option(..., help="OSM extract: .osm, .osm.bz2 or .osm.pbf."),
    out_dir: Path = typer.Option(..., "--out", help="The region folder to create."),
    name: str | None = typer.Option(None, help="Display name of the region."),
    total_population: float | None = typer.Option(
        None, help="Stated regional total the population proxy is scaled to."),
    urban_mode: str = typer.Option("walk", help="Mode of the 15-minute urban circle."),
    rural_mode: str = typer.Option("ebike", help="Mode of the 30-minute rural circle."),
    force: bool = typer.Option(False, "--force", help="Replace a folder that is not empty "
                               "(its files, hand-edited outlets included, are lost)."),
) -> None:
    """Extract outlets, approximate areas and a population proxy from OSM into a region."""
    with user_errors():
        check_out(out_dir)
        if not osm.is_file():
            raise InputError(InputProblem(str(osm), None, None, "no such file"))
        if not force and not is_empty_folder(out_dir):
            raise InputError(InputProblem("--out", None, None,
                                          f"{out_dir} is not empty: choose a new folder, or pass "
                                          "--force to replace it and every file in it"))
        with staged_folder(out_dir, force=force, wait_s=lock_wait_s(),
                           what="region folder") as stage, step(f"Reading {osm} …"):
            build_region(osm, stage, name=name or out_dir.absolute().name,
                         total_population=total_population, urban_mode=urban_mode,
                         rural_mode=rural_mode)
        path = out_dir
        n_outlets = len(pd.read_csv(path / "outlets.csv", dtype=str))
        if n_outlets:
            out.print(load_region(path).summary(), highlight=False)
    out.print(f"wrote {path}/region.toml — edit it, and replace demand.csv with real "
              "population figures if you have them", highlight=False)
    if not n_outlets:
        out.print(f"[yellow]No outlets found in the OSM extract:[/yellow] add yours to "
                  f"{path / 'outlets.csv'} (id, name, kind, lon, lat, …; see "
                  "docs/region-format.md) before running coverage.", highlight=False)


@region_app.command("check")
def check(region: Path = typer.Argument(Path("data/chengdu"), help="Region folder.")) -> None:
    """Validate every file of a region; report road islands holding people, the largest snap
    distances and long detours, each with what would fix it (exit 0 with the report)."""
    with user_errors():
        reg = load_region(region)
        items_of_region(reg)  # the catalogue and who handles what: checked like every file
        report = check_region_network(reg)
    out.print(reg.summary(), highlight=False)
    out.print(report.summary(), highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add the `region` command group."""
    app.add_typer(region_app, name="region")
