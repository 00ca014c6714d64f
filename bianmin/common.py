"""What every command shares: logging set-up, progress display, error handling, exit codes."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from gis.errors import BianminError, InputError

#: Exit codes scripts can rely on.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

#: The options every command shares (one definition: same default, same help everywhere).
REGION_OPTION = typer.Option(Path("data/chengdu"), "--region", help="Region folder (region.toml).")
OUT_OPTION = typer.Option(Path("out"), "--out", help="Output folder.")

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def setup_logging(verbose: bool, quiet: bool) -> None:
    """Attach one handler to the root logger (only the CLI does this)."""
    level = logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr, force=True)
    for noisy in ("pyogrio", "fontTools", "weasyprint", "matplotlib", "PIL", "numexpr"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn a user's mistake into a one-line reason and exit code 2, never a traceback."""
    try:
        yield
    except InputError as exc:
        # soft_wrap: the reason stays on one line whatever the terminal width (scripts read it)
        console.print(f"[red]error:[/red] {escape(exc.one_line())}", highlight=False,
                      soft_wrap=True)
        if len(exc.problems) > 1:
            for p in exc.problems[1:20]:
                console.print(f"  - {p}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except BianminError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_FAILURE) from None


@contextlib.contextmanager
def step(message: str, *, show: bool = True) -> Iterator[None]:
    """A spinner while a long step runs (off with --quiet or when not a terminal)."""
    if show and console.is_terminal:
        with console.status(message):
            yield
    else:
        if show:
            console.print(message, highlight=False)
        yield
