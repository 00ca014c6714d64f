"""`bianmin region template DIR`: blank XLSX templates with Chinese headers."""

from __future__ import annotations

from pathlib import Path

import typer

from gis.template import write_templates

from .cmd_region import region_app
from .common import out, user_errors


def template(
    out_dir: Path = typer.Argument(..., help="Folder to write the templates into."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty folder."),
) -> None:
    """Write blank outlets/demand/census XLSX templates (Chinese headers, kind drop-down)."""
    with user_errors():
        paths = write_templates(out_dir, force=force)
    for p in paths:
        out.print(f"wrote {p}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `region template` to the `region` group (registered by cmd_region)."""
    region_app.command("template")(template)
