"""`bianmin demo`: the whole day on a bundled region — coverage, siting, map, routes."""

from __future__ import annotations

from pathlib import Path

import typer

from gis.coverage import coverage_of_region
from gis.region import load_region

from .cmd_coverage import print_area_table, write_coverage
from .common import out, step, user_errors


def register(app: typer.Typer) -> None:
    """Add the `demo` command."""

    @app.command()
    def demo(
        region: Path = typer.Option(Path("data/chengdu"), help="Region folder (region.toml)."),
        out_dir: Path = typer.Option(Path("out"), "--out", help="Output folder."),
    ) -> None:
        """Run coverage on the region and write every output under OUT."""
        with user_errors():
            with step("Loading region …"):
                reg = load_region(region)
            with step("Coverage …"):
                cov = coverage_of_region(reg)
                files = write_coverage(cov, reg, out_dir)
        print_area_table(cov, reg)
        for f in files.values():
            out.print(f"wrote {f}", highlight=False)
