"""What every command shares: logging set-up, progress display, error handling, exit codes."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from gis.errors import BianminError, InputError, InputProblem
from gis.outdir import LOCK_WAIT_S, check_out_dir, staged_output
from gis.workdays import next_working_day

#: Exit codes scripts can rely on.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

#: The options every command shares (one definition: same default, same help everywhere).
REGION_OPTION = typer.Option(Path("data/chengdu"), "--region", help="Region folder (region.toml).")
OUT_OPTION = typer.Option(Path("out"), "--out", help="Output folder.")
#: Dask options of the partitioned commands (coverage --partition-by, province).
WORKERS_OPTION = typer.Option(2, "--workers", min=1,
                              help="Dask worker processes (for a partitioned run).")
SCHEDULER_OPTION = typer.Option("local", "--scheduler",
                                help="'local' or a Dask scheduler, tcp://HOST:PORT.")

#: Environment variable: seconds a run waits for another run's lock on its output folder.
LOCK_WAIT_ENV = "BIANMIN_LOCK_WAIT"

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


def lock_wait_s() -> float:
    """Seconds to wait for another run's lock on ``--out`` (``$BIANMIN_LOCK_WAIT``)."""
    raw = os.environ.get(LOCK_WAIT_ENV)
    if raw is None:
        return LOCK_WAIT_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise InputError(InputProblem(LOCK_WAIT_ENV, None, None,
                                      f"{raw!r}: expected seconds >= 0"))
    return value


def check_seconds(value: float, flag: str) -> float:
    """A time limit: a finite number of seconds > 0, else exit 2 naming the flag."""
    if not (math.isfinite(value) and value > 0):
        raise InputError(InputProblem(flag, None, None,
                                      f"{value}: expected a finite number of seconds > 0"))
    return value


def check_count(value: int, flag: str, *, low: int = 0) -> int:
    """A count of things: a whole number >= ``low``, else exit 2 naming the flag."""
    if value < low:
        raise InputError(InputProblem(flag, None, None, f"{value}: expected a whole number "
                                      f">= {low}"))
    return value


def check_out(path: Path) -> Path:
    """``--out`` is, or can become, a writable folder (checked before any work)."""
    try:
        return check_out_dir(path)
    except InputError as exc:
        raise InputError([InputProblem("--out", None, None, str(p)) for p in exc.problems]
                         ) from None


@contextlib.contextmanager
def output(out_dir: Path, command: str) -> Iterator[Path]:
    """Lock ``--out`` for the whole command and yield its staging folder (see gis.outdir)."""
    with staged_output(out_dir, command, wait_s=lock_wait_s()) as stage:
        yield stage


def final_path(path: Path, stage: Path, out_dir: Path) -> Path:
    """Where a file written into the staging folder ends up."""
    return out_dir / Path(path).relative_to(stage)


def parse_at(at: str) -> int:
    """A re-plan's ``--at HH:MM`` as seconds after midnight (the one time-of-day rule).

    ``24:00`` is a time of day elsewhere (the end of a shift) but a re-plan at the end of the
    day has nothing left to plan: it is refused, as is anything that is not a time (exit 2).
    """
    from gis.io import parse_time_of_day

    try:
        at_s = int(parse_time_of_day(at))
    except (ValueError, TypeError):
        raise InputError(InputProblem("--at", None, None, f"{at!r}: expected HH:MM")) from None
    if at_s >= 24 * 3600:
        raise InputError(InputProblem("--at", None, None, f"{at!r}: the day is over at 24:00; "
                                      "expected a time before the end of the runners' shifts"))
    return at_s


def parse_date(date: str | None) -> dt.date:
    """``--date`` as a date (default the next working day); exit 2 on anything else."""
    try:
        return dt.date.fromisoformat(date) if date else next_working_day(dt.date.today())
    except ValueError:
        raise InputError(InputProblem("--date", None, None,
                                      f"{date!r} is not a date: expected YYYY-MM-DD")) from None


def check_scheduler(value: str) -> str:
    """``--scheduler``: ``local`` or a Dask scheduler address ``tcp://HOST:PORT`` (or tls://)."""
    import re

    if value == "local" or re.fullmatch(r"(tcp|tls)://[^\s:/]+:\d{1,5}", value):
        return value
    raise InputError(InputProblem("--scheduler", None, None, f"{value!r}: expected 'local' or "
                                  "a Dask scheduler address tcp://HOST:PORT"))


def check_partitioned(add: int | None, unit: str, takes: str, given: dict[str, bool]) -> None:
    """A partitioned `site`/`delegate` needs --add K (>= 1 ``unit``) and refuses the flags ``given``.

    ``given`` maps each other option's name to whether the user set it; ``takes`` is what the
    province split does take (named in the message).
    """
    problems = []
    if add is None or add < 1:
        problems.append(InputProblem("--add", None, None, "--partition-by needs --add K "
                                     f"(a whole number >= 1 of {unit} for the province)"))
    for name, is_set in given.items():
        if is_set:
            flag = "--" + name.replace("_", "-")
            problems.append(InputProblem(flag, None, None, f"{flag} does not go with "
                                         f"--partition-by (the province split takes {takes})"))
    if problems:
        raise InputError(problems)


def print_written(summary: str, files: dict[str, Path], stage: Path, out_dir: Path,
                  quiet: bool) -> None:
    """The summary line and one ``wrote …`` line per file (final paths), unless ``quiet``."""
    if not quiet:
        out.print(summary, highlight=False)
        for f in files.values():
            out.print(f"wrote {final_path(f, stage, out_dir)}", highlight=False)
