"""`bianmin map`: the published service map (政务服务地图) as an offline folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from gis.circles import circles_of_region
from gis.coverage import coverage_of_region
from gis.errors import InputError, InputProblem
from gis.itemgrid import item_grid_of_region
from gis.items import item_coverage_of_region, items_of_region
from gis.region import Region, load_region
from gis.siting.maptables import read_delegation, read_proposals
from maps import MapOptions, write_map
from maps.public import write_public_map

from .common import OUT_OPTION, REGION_OPTION, check_out, out, output, step, user_errors

AUDIENCES = ("public", "planning", "both")


def write_public(reg: Region, stage: Path, options: MapOptions) -> Path:
    """The citizens' map of a region into ``stage/map/public`` (catalogue and grid if any)."""
    items = items_of_region(reg)
    grid = item_grid_of_region(reg, items)
    return write_public_map(reg, stage, items=items, grid=grid, options=options).path or stage


def keep_other_audience(out_dir: Path, stage: Path, audience: str) -> None:
    """Carry the other audience's existing folder into the stage (the swap replaces ``map``)."""
    for other in ("public", "planning"):
        if other == audience or audience == "both":
            continue
        old = out_dir / "map" / other
        if old.is_dir():
            shutil.copytree(old, stage / "map" / other)


def register(app: typer.Typer) -> None:
    """Add the `map` command."""

    @app.command("map")
    def map_(
        region: Path = REGION_OPTION,
        out_dir: Path = OUT_OPTION,
        lang: str = typer.Option("zh", help="Labels: zh (Chinese) or en (English)."),
        tiles: str = typer.Option(
            "osm", help="Base map: osm, tianditu (needs a key), amap (GCJ-02) or none "
            "(the region's own roads; works with no tile server)."),
        tianditu_key: str | None = typer.Option(
            None, "--tianditu-key", help="Tianditu browser key (or set TIANDITU_KEY)."),
        population: Path | None = typer.Option(
            None, help="Your own population table (id, lon, lat, population, area_id)."),
        proposals: Path | None = typer.Option(
            None, help="Proposed sites to show on the planning map (site_id, name, kind, lon, "
            "lat, added_population, rank), e.g. from `bianmin site`."),
        delegation: Path | None = typer.Option(
            None, help="Item delegations to show on the planning map (chosen.csv of "
            "`bianmin delegate`): outlets that get new items carry a badge."),
        audience: str = typer.Option(
            "public", help="public: the citizens' map (outlets, items, hours, navigation; "
            "no planning data) in OUT/map/public; planning: coverage, gaps and proposals in "
            "OUT/map/planning; both."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress."),
    ) -> None:
        """Publish the service map: OUT/map/public/ (citizens) or OUT/map/planning/.

        Each folder works offline (open index.html from disk); only the chosen tile server is
        called.
        """
        with user_errors():
            check_out(out_dir)
            if audience not in AUDIENCES:
                raise InputError(InputProblem("--audience", None, None,
                                              f"expected public, planning or both, got "
                                              f"{audience!r}"))
            options = MapOptions(lang=lang, tiles=tiles, tianditu_key=tianditu_key)
            props = read_proposals(proposals) if proposals is not None else None
            deleg = read_delegation(delegation) if delegation is not None else None
            with output(out_dir, "map") as stage:
                keep_other_audience(out_dir, stage, audience)
                with step("Loading region …", show=not quiet):
                    reg = load_region(region, demand_path=population)
                lines = []
                if audience in ("public", "both"):
                    with step("Writing the citizens' map …", show=not quiet):
                        write_public(reg, stage, options)
                    lines.append(f"wrote {out_dir / 'map' / 'public'}")
                if audience in ("planning", "both"):
                    with step("Computing coverage …", show=not quiet):
                        cov = coverage_of_region(reg)
                        items = item_coverage_of_region(reg, base=cov)
                    with step("Drawing service circles …", show=not quiet):
                        circles = circles_of_region(reg)
                    with step("Writing the planning map …", show=not quiet):
                        sm = write_map(reg, cov, circles, stage, proposals=props,
                                       options=options, items=items, delegation=deleg)
                    lines.append(sm.summary().split(" → ")[0])
                    lines.append(f"wrote {out_dir / 'map' / 'planning'}")
        if not quiet:
            for line in lines:
                out.print(line, highlight=False)
