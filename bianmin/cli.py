"""The command-line front door: `bianmin coverage|site|map|routes|demo|region`.

The only place that wires the packages together. Exit codes: 0 success, 1 failure,
2 bad input (with a one-line reason naming the file, row and column).
"""

from __future__ import annotations

import importlib
import logging

import typer

from .common import setup_logging

app = typer.Typer(
    name="bianmin",
    help="便民 bianmin — 15/30-minute government service circles: coverage, siting, the "
    "published service map and runners' route sheets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

#: Command modules; each has ``register(app)``.
COMMANDS = ("cmd_coverage", "cmd_region", "cmd_site", "cmd_map", "cmd_routes", "cmd_demo",
            "cmd_template", "cmd_population", "cmd_delegate", "cmd_province", "cmd_ledger",
            "cmd_serve")


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Show what each step does (log INFO)."),
         quiet: bool = typer.Option(False, "--quiet", "-q", help="Errors only.")) -> None:
    """bianmin: plan, publish and dispatch a government service network."""
    setup_logging(verbose, quiet)


for _name in COMMANDS:
    try:
        _mod = importlib.import_module(f"bianmin.{_name}")
    except ModuleNotFoundError as _exc:  # a command whose module is not written yet
        if _exc.name != f"bianmin.{_name}":
            raise
        logging.getLogger(__name__).debug("command module %s not present", _name)
        continue
    _mod.register(app)
